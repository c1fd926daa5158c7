"""The encoder interface: what every frozen audio or text encoder offers, and the helpers they share.

An encoder is built from an :class:`~clapemo.config.EncodersConfig`; it is frozen (eval mode, no dropout, no
gradients) and deterministic (no random crop: the same waveform gives the same vector). Its ``identity`` is a
plain dict (name, weights digest, preprocessing parameters) whose hash names its embedding cache.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from clapemo import numerics
from clapemo.errors import ConfigError, ParameterError
from clapemo.files import file_sha256  # re-exported: encoders name their weights by digest

__all__ = ["AudioEncoder", "TextEncoder", "file_sha256", "identity_id", "resolve_device", "check_waveforms", "check_texts"]

def identity_id(identity: dict[str, Any]) -> str:
    """``<name>-<12 hex>``: a stable, filesystem-safe id of an encoder identity dict."""
    # fast-mode embeddings are this machine's bits only: they get keys of their own
    canonical = json.dumps({**identity, **numerics.identity_extra()}, sort_keys=True, separators=(",", ":"))
    return f"{identity['name']}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without a GPU is a ConfigError."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config key 'encoders.device' = 'cuda' but no CUDA device is available")
    return device


def check_waveforms(waveforms: Any, *, name: str = "waveforms") -> list[np.ndarray]:
    """Validate a list of mono waveforms: 1-D, non-empty, finite. Returns float32 contiguous copies."""
    if isinstance(waveforms, np.ndarray) and waveforms.ndim == 1:
        raise ParameterError(f"{name} must be a list of 1-D arrays, got a single 1-D array (wrap it in a list)")
    out = []
    for i, wav in enumerate(waveforms):
        wav = np.asarray(wav)
        if wav.ndim != 1:
            raise ParameterError(f"{name}[{i}] has shape {wav.shape}; expected a mono 1-D waveform")
        if wav.size == 0:
            raise ParameterError(f"{name}[{i}] is empty (0 samples)")
        if not np.all(np.isfinite(wav)):
            raise ParameterError(f"{name}[{i}] contains NaN or infinite samples")
        out.append(np.ascontiguousarray(wav, dtype=np.float32))
    return out


class AudioEncoder:
    """A frozen audio encoder: waveforms (mono float32 at ``sample_rate_hz``) -> fixed-size clip embeddings.

    Attributes
    ----------
    name : str
        ``whisper-tiny``, ``resemblyzer`` or ``cnn14``.
    dim : int
        Embedding size.
    sample_rate_hz : int
        Rate the waveforms passed to :meth:`embed` must have.
    identity : dict
        Name, weights digest and preprocessing parameters; ``identity_id(identity)`` keys the cache.
    device : str
    """

    name: str
    dim: int
    sample_rate_hz: int
    identity: dict
    device: str

    def embed(self, waveforms: list[np.ndarray]) -> np.ndarray:
        """Embed clips.

        Parameters
        ----------
        waveforms : list of np.ndarray, each shape (n_samples_i,)
            Mono float32 at ``sample_rate_hz``; any length > 0.

        Returns
        -------
        np.ndarray, shape (len(waveforms), dim), float32
        """
        waves = check_waveforms(waveforms)
        if not waves:
            return np.zeros((0, self.dim), np.float32)
        out = np.asarray(self._embed(waves), dtype=np.float32)
        if out.shape != (len(waves), self.dim):
            raise RuntimeError(f"{self.name}: produced shape {out.shape}, expected {(len(waves), self.dim)}")
        return out

    def _embed(self, waveforms: list[np.ndarray]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def id(self) -> str:
        return identity_id(self.identity)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} dim={self.dim} {self.sample_rate_hz} Hz on {self.device}>"


def check_texts(texts: list[str]) -> list[str]:
    """``texts`` as a list, or ParameterError when it is a bare str or holds a non-str (e.g. a missing prompt)."""
    if isinstance(texts, str):
        raise ParameterError("texts must be a list of strings, got a single str (wrap it in a list)")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ParameterError(f"texts[{i}] = {t!r} is not a str (missing prompts must be dropped first)")
    return texts


class TextEncoder:
    """A frozen text encoder: strings -> fixed-size sentence embeddings (``name``, ``dim``, ``identity``)."""

    name: str
    dim: int
    identity: dict
    device: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts.

        Parameters
        ----------
        texts : list of str

        Returns
        -------
        np.ndarray, shape (len(texts), dim), float32
        """
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._embed(texts), dtype=np.float32)

    def _embed(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def id(self) -> str:
        return identity_id(self.identity)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} dim={self.dim} on {self.device}>"

