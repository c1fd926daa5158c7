"""The trainable part of CLAP: two MS-CLAP projection heads and a learnable temperature.

The audio and text encoders are frozen (``clapemo.encoders``), so training only sees their embeddings; this
module maps them into one joint space::

    e1  = Linear(d_in, d_out, bias=False)(x)
    e2  = Dropout(p)(Linear(d_out, d_out, bias=False)(GELU(e1)))
    out = LayerNorm(e1 + e2)

(MS-CLAP 2022, ``Projection``). Similarities are cosines of the L2-normalised projections, scaled by
``exp(logit_scale)``; ``logit_scale`` starts at ``log(1/0.07)`` and is clamped to ``ln(100)`` as in CLIP.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from clapemo.errors import ParameterError

__all__ = ["Projection", "CLAPHead", "CLAPProjection", "LOGIT_SCALE_INIT", "LOGIT_SCALE_MAX"]

#: initial value of ``logit_scale`` (temperature 0.07)
LOGIT_SCALE_INIT: float = math.log(1 / 0.07)
#: upper clamp of ``logit_scale`` (scale at most 100)
LOGIT_SCALE_MAX: float = math.log(100.0)


class Projection(nn.Module):
    """MS-CLAP projection: ``LayerNorm(e1 + Dropout(Linear(GELU(e1))))`` with ``e1 = Linear(x)``.

    Parameters
    ----------
    d_in : int
        Width of the frozen encoder's embedding.
    d_out : int
        Width of the joint space (paper: 1024).
    dropout : float
        Dropout probability on the second branch (paper: 0.5).
    """

    def __init__(self, d_in: int, d_out: int = 1024, dropout: float = 0.5) -> None:
        super().__init__()
        if int(d_in) < 1 or int(d_out) < 1:
            raise ParameterError(f"Projection needs d_in >= 1 and d_out >= 1, got d_in={d_in}, d_out={d_out}")
        if not 0.0 <= dropout <= 1.0:
            raise ParameterError(f"dropout = {dropout} must lie in [0, 1]")
        self.linear1 = nn.Linear(d_in, d_out, bias=False)
        self.linear2 = nn.Linear(d_out, d_out, bias=False)
        self.drop = nn.Dropout(dropout)
        self.layer_norm = nn.LayerNorm(d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (N, d_in) -> (N, d_out), not normalised."""
        e1 = self.linear1(x)
        e2 = self.drop(self.linear2(F.gelu(e1)))
        return self.layer_norm(e1 + e2)


class CLAPHead(nn.Module):
    """Audio and text projections plus the learnable logit scale.

    Parameters
    ----------
    d_audio, d_text : int
        Widths of the frozen audio and text embeddings.
    projection_dim : int
        Width of the joint space (paper: 1024).
    dropout : float
        Dropout of both projections (paper: 0.5).
    """

    def __init__(self, d_audio: int, d_text: int, *, projection_dim: int = 1024, dropout: float = 0.5) -> None:
        super().__init__()
        self.d_audio, self.d_text, self.projection_dim = int(d_audio), int(d_text), int(projection_dim)
        self.audio_projection = Projection(d_audio, projection_dim, dropout)
        self.text_projection = Projection(d_text, projection_dim, dropout)
        self.logit_scale = nn.Parameter(torch.tensor(LOGIT_SCALE_INIT, dtype=torch.float32))

    def _check(self, x: torch.Tensor, width: int, name: str) -> None:
        if x.ndim != 2 or x.shape[1] != width:
            raise ParameterError(f"{name} must have shape (N, {width}), got {tuple(x.shape)}")

    def project_audio(self, x: torch.Tensor) -> torch.Tensor:
        """Audio embeddings (N, d_audio) -> L2-normalised joint embeddings (N, projection_dim)."""
        self._check(x, self.d_audio, "audio_emb")
        return F.normalize(self.audio_projection(x), dim=-1)

    def project_text(self, x: torch.Tensor) -> torch.Tensor:
        """Text embeddings (N, d_text) -> L2-normalised joint embeddings (N, projection_dim)."""
        self._check(x, self.d_text, "text_emb")
        return F.normalize(self.text_projection(x), dim=-1)

    def scale(self) -> torch.Tensor:
        """``exp(logit_scale)`` with ``logit_scale`` clamped to ``[0, ln 100]``."""
        return self.logit_scale.clamp(0.0, LOGIT_SCALE_MAX).exp()

    def forward(self, audio_emb: torch.Tensor, text_emb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scaled similarities of a batch of pairs.

        Parameters
        ----------
        audio_emb : Tensor, shape (N, d_audio)
        text_emb : Tensor, shape (M, d_text)

        Returns
        -------
        logits_per_audio : Tensor, shape (N, M)
        logits_per_text : Tensor, shape (M, N), the transpose.
        """
        a = self.project_audio(audio_emb)
        t = self.project_text(text_emb)
        logits_per_audio = self.scale() * a @ t.T
        return logits_per_audio, logits_per_audio.T


#: the name CONTRIBUTING.md's module table uses
CLAPProjection = CLAPHead
