"""The trainable part of CLAP: two MS-CLAP projection heads and a learnable temperature.

The audio and text encoders are frozen (``clapemo.encoders``), so training only sees their embeddings; this
module maps them into one joint space::

    e1  = Linear(d_in, d_out, bias=False)(x)
    e2  = Dropout(p)(Linear(d_out, d_out, bias=False)(GELU(e1)))
    out = LayerNorm(e1 + e2)

(MS-CLAP 2022, ``Projection``). Similarities are cosines of the L2-normalised projections, scaled by
``exp(logit_scale)``; ``logit_scale`` starts at ``log(1/0.07)`` and is clamped to ``ln(100)`` as in CLIP.

A trained run is used through :class:`TrainedCLAP` (numpy in, numpy out), read from a run folder by
:func:`load_run`; evaluation needs only this module, not the training code (``clapemo.train`` re-exports both
names).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from clapemo import numerics
from clapemo.errors import ConfigError, DataError, ParameterError

__all__ = ["Projection", "CLAPHead", "CLAPProjection", "LOGIT_SCALE_INIT", "LOGIT_SCALE_MAX", "CHECKPOINT_FORMAT",
           "TrainedCLAP", "load_checkpoint", "load_head_weights", "thresholds_from_dict", "load_run"]

#: the ``format`` entry of a run's ``checkpoint.pt``
CHECKPOINT_FORMAT = "clapemo-clap-head/1"

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

    def pair_logits(self, audio_table: torch.Tensor, text_table: torch.Tensor, audio_ids: torch.Tensor,
                    text_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scaled similarities of the pairs ``(audio_table[audio_ids[i]], text_table[text_ids[i]])``.

        The same value as ``forward(audio_table[audio_ids], text_table[text_ids])`` (to float rounding), cheaper:
        each *distinct* clip and text of the batch is projected once and the projections are gathered (prompts
        repeat heavily within a batch: a class-label batch of 128 pairs holds about 8 distinct texts). In training
        mode the duplicates of one row share a dropout mask.

        Parameters
        ----------
        audio_table : Tensor, shape (n_clips, d_audio)
        text_table : Tensor, shape (n_texts, d_text)
        audio_ids, text_ids : Tensor of int, shape (N,)

        Returns
        -------
        logits_per_audio : Tensor, shape (N, N)
        logits_per_text : Tensor, shape (N, N), the transpose.
        """
        if audio_ids.ndim != 1 or audio_ids.shape != text_ids.shape:
            raise ParameterError(f"audio_ids and text_ids must be 1-D of one length, got shapes "
                                 f"{tuple(audio_ids.shape)} and {tuple(text_ids.shape)}")
        audio_rows, audio_pos = torch.unique(audio_ids, return_inverse=True)
        text_rows, text_pos = torch.unique(text_ids, return_inverse=True)
        a = self.project_audio(audio_table[audio_rows])[audio_pos]
        t = self.project_text(text_table[text_rows])[text_pos]
        logits_per_audio = self.scale() * a @ t.T
        return logits_per_audio, logits_per_audio.T


#: the name CONTRIBUTING.md's module table uses
CLAPProjection = CLAPHead


# --------------------------------------------------------------------------------------------------------------
# A trained run
# --------------------------------------------------------------------------------------------------------------


def load_checkpoint(path: str | Path) -> dict:
    """Read a clapemo checkpoint with ``weights_only=True``; a clear DataError when it is damaged or foreign."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several kinds (UnpicklingError, RuntimeError, EOFError ...)
        raise DataError(f"checkpoint {path} cannot be read ({type(err).__name__}: {str(err)[:200]}); it is "
                        "corrupted or truncated (e.g. an interrupted copy): delete it and train again") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise DataError(f"checkpoint {path} is not a clapemo CLAP-head checkpoint (format "
                        f"{ckpt.get('format') if isinstance(ckpt, dict) else type(ckpt).__name__!r}, expected "
                        f"{CHECKPOINT_FORMAT!r})")
    for key in ("state_dict", "epoch", "config", "dims"):
        if key not in ckpt:
            raise DataError(f"checkpoint {path} lacks the entry {key!r}")
    return ckpt


def load_head_weights(head: CLAPHead, state_dict: dict, source: str) -> None:
    """``head.load_state_dict(state_dict, strict=True)``; a ConfigError naming ``source`` when they do not fit."""
    try:
        head.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:
        raise ConfigError(f"weights of {source} do not fit this head (d_audio={head.d_audio}, d_text="
                          f"{head.d_text}, projection_dim={head.projection_dim}): {str(err)[:400]}") from None


def thresholds_from_dict(data: dict | None) -> Any:
    """The checkpoint's ``thresholds`` entry -> its object (:func:`clapemo.prompts.thresholds_from_dict`)."""
    if data is None:
        return None
    from clapemo import prompts

    return prompts.thresholds_from_dict(data)


@dataclass
class TrainedCLAP:
    """A trained (or untrained, epochs = 0) CLAP head with its config; numpy in, numpy out, on CPU.

    Attributes
    ----------
    config : Config
        The resolved config of the run.
    head : CLAPHead
        In eval mode (no dropout).
    thresholds : clapemo.prompts.Thresholds or None
        Quantile bins fitted on the training split, when ``prompts.binning = "quantile"``.
    run_dir : Path or None
    epoch : int
        Epochs trained.
    """

    config: Any
    head: CLAPHead
    thresholds: Any = None
    run_dir: Path | None = None
    epoch: int = 0
    batch_size: int = field(default=4096, repr=False)

    def _project(self, x: np.ndarray, which: str) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        width = self.head.d_audio if which == "audio" else self.head.d_text
        if x.ndim != 2 or x.shape[1] != width:
            raise ParameterError(f"{which} embeddings must have shape (N, {width}), got {x.shape}")
        fn = self.head.project_audio if which == "audio" else self.head.project_text
        out = []
        with torch.no_grad(), numerics.blas_products():
            for start in range(0, len(x), self.batch_size):
                out.append(fn(torch.from_numpy(x[start:start + self.batch_size])).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.head.projection_dim), np.float32)

    def project_audio(self, audio_emb: np.ndarray) -> np.ndarray:
        """Frozen audio embeddings (N, d_audio) -> L2-normalised joint embeddings (N, projection_dim)."""
        return self._project(audio_emb, "audio")

    def project_text(self, text_emb: np.ndarray) -> np.ndarray:
        """Frozen text embeddings (N, d_text) -> L2-normalised joint embeddings (N, projection_dim)."""
        return self._project(text_emb, "text")

    def embed_manifest(self, manifest: Any) -> np.ndarray:
        """Clips of a manifest -> joint embeddings (N, projection_dim), through the encoders' cache."""
        from clapemo import encoders

        return self.project_audio(encoders.embed_audio(manifest, self.config.encoders))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Prompts -> joint embeddings (N, projection_dim), through the encoders' cache."""
        from clapemo import encoders

        return self.project_text(encoders.embed_texts(list(texts), self.config.encoders))


def load_run(run_dir: str | Path) -> TrainedCLAP:
    """Load a finished run (``checkpoint.pt`` + ``done``) for evaluation; the head is on CPU in eval mode."""
    from clapemo.config import Config, anchored, from_dict

    run_dir = Path(run_dir)
    if not (run_dir / "done").is_file():
        raise DataError(f"{run_dir} is not a finished training run (no 'done' marker); run clapemo.train.fit "
                        "again to resume it")
    ckpt = load_checkpoint(run_dir / "checkpoint.pt")
    # a run stores its paths relative to the project (clapemo.config.stored_dict): anchor them in this one
    config = anchored(from_dict(Config, ckpt["config"]))
    dims = ckpt["dims"]
    head = CLAPHead(dims["d_audio"], dims["d_text"], projection_dim=dims["projection_dim"],
                    dropout=config.train.dropout)
    load_head_weights(head, ckpt["state_dict"], str(run_dir / "checkpoint.pt"))
    head.eval()
    return TrainedCLAP(config=config, head=head, thresholds=thresholds_from_dict(ckpt.get("thresholds")),
                       run_dir=run_dir, epoch=int(ckpt["epoch"]))
