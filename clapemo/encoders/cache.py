"""The on-disk embedding cache: one ``.npy`` vector per (encoder, content key).

Layout: ``<cache_dir>/<encoder id>/<key[:2]>/<key>.npy`` plus ``<cache_dir>/<encoder id>/encoder.json`` (the
encoder's identity, for humans). The encoder id (:func:`clapemo.encoders.base.identity_id`) hashes the encoder's
name, weights digest and preprocessing parameters, so changing any of them starts a new cache. Keys:

* audio: ``sha256(sha256(file bytes) | start_s | end_s)`` -- a renamed or moved file still hits, an edited file
  misses;
* text: ``sha256(utf-8 text)``.

Writes are atomic (temporary file + ``os.replace``), so concurrent writers and interrupted runs never leave a
half-written vector; an unreadable or wrong-shaped entry counts as a miss and is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from clapemo.encoders.base import file_sha256
from clapemo.errors import DataError

__all__ = ["EmbeddingCache", "audio_key", "text_key"]


def _bound(value) -> str:
    if value is None:
        return "none"
    value = float(value)
    return "none" if math.isnan(value) else repr(value)


def audio_key(path: str | Path, *, start_s: float | None = None, end_s: float | None = None) -> str:
    """Content key of a clip: its file bytes and segment (``None``/NaN bounds = whole file)."""
    try:
        digest = file_sha256(path)
    except OSError as err:
        raise DataError(f"{path}: cannot read the audio file ({err.strerror or err})") from None
    return hashlib.sha256(f"{digest}|{_bound(start_s)}|{_bound(end_s)}".encode()).hexdigest()


def text_key(text: str) -> str:
    """Content key of a text: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors of one encoder, keyed by content.

    Parameters
    ----------
    root : path
        ``encoders.cache_dir``.
    encoder_id : str
        Stable id of the encoder (name + 12 hex digits).
    dim : int
        Embedding size; entries of another shape are treated as misses.
    identity : dict, optional
        Written once to ``encoder.json``.
    """

    def __init__(self, root: str | Path, encoder_id: str, dim: int, *, identity: dict | None = None) -> None:
        self.dir = Path(root) / encoder_id
        self.dim = int(dim)
        self._identity = identity

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The cached vector (shape (dim,), float32), or None on a miss."""
        try:
            vector = np.load(self.path(key), allow_pickle=False)
        except (OSError, ValueError):
            return None
        if vector.shape != (self.dim,) or vector.dtype != np.float32:
            return None
        return vector

    def put(self, key: str, vector: np.ndarray) -> None:
        """Store one vector atomically."""
        vector = np.asarray(vector, dtype=np.float32)
        if vector.shape != (self.dim,):
            raise ValueError(f"cache entry must have shape ({self.dim},), got {vector.shape}")
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self._identity is not None and not (self.dir / "encoder.json").exists():
            self._write_atomic(self.dir / "encoder.json",
                               json.dumps(self._identity, indent=2, sort_keys=True).encode())
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, vector, allow_pickle=False)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _write_atomic(target: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
