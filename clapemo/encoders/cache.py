"""The on-disk embedding cache: one self-checking vector file per (encoder, content key).

Layout: ``<cache_dir>/<encoder id>/<key[:2]>/<key>.emb`` plus ``<cache_dir>/<encoder id>/encoder.json`` (the
encoder's identity, for humans). The encoder id (:func:`clapemo.encoders.base.identity_id`) hashes the encoder's
name, weights digest and preprocessing parameters, so changing any of them starts a new cache. Keys:

* audio: ``sha256(sha256(file bytes) | start_s | end_s)`` -- a renamed or moved file still hits, an edited file
  misses;
* text: ``sha256(utf-8 text)``.

Entry format (version 2; the ``.npy`` entries of version 1 are ignored and recomputed once)::

    8 bytes   magic  b"CLAPEMB2"
    32 bytes  sha256 of the payload
    4 * dim   payload: the vector, little-endian float32

A hand-written format because ``.npy`` carries no checksum (a flipped byte or a truncated write of another tool
is read back silently) and ``.npz`` checks its CRC only when the zip member is read through ``zipfile``. Every
read verifies the size (exactly ``40 + 4 * dim`` bytes: a 0-byte or truncated file fails here), the magic, the
digest and that all values are finite; an entry that fails any check is logged (file and reason), counted in
:attr:`EmbeddingCache.n_rejected` and treated as a miss, so the caller recomputes it and :meth:`put` replaces
it. Writes are atomic (:func:`clapemo.files.atomic_write_bytes`), so concurrent writers and interrupted runs
never leave a half-written vector, and a non-finite vector is never stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path

import numpy as np

from clapemo.encoders.base import file_sha256
from clapemo.errors import DataError, ParameterError
from clapemo.files import atomic_write_bytes

__all__ = ["EmbeddingCache", "audio_key", "text_key", "MAGIC", "HEADER_BYTES", "encode_entry", "decode_entry"]

log = logging.getLogger(__name__)

MAGIC = b"CLAPEMB2"
HEADER_BYTES = len(MAGIC) + 32
_DTYPE = np.dtype("<f4")


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


def encode_entry(vector: np.ndarray) -> bytes:
    """The bytes of a cache entry holding ``vector`` (shape (dim,), finite)."""
    payload = np.ascontiguousarray(vector, dtype=_DTYPE).tobytes()
    return MAGIC + hashlib.sha256(payload).digest() + payload


def decode_entry(data: bytes, *, dim: int) -> tuple[np.ndarray | None, str]:
    """``(vector, "")`` for a valid entry of ``dim`` values, else ``(None, reason)``."""
    expected = HEADER_BYTES + 4 * dim
    if len(data) != expected:
        return None, f"size {len(data)} bytes, expected {expected} (dim {dim})"
    if data[:len(MAGIC)] != MAGIC:
        return None, "not a clapemo embedding entry (bad magic)"
    payload = data[HEADER_BYTES:]
    if hashlib.sha256(payload).digest() != data[len(MAGIC):HEADER_BYTES]:
        return None, "payload digest mismatch (corrupted)"
    vector = np.frombuffer(payload, dtype=_DTYPE).astype(np.float32)
    if not np.all(np.isfinite(vector)):
        return None, f"{int(np.sum(~np.isfinite(vector)))} non-finite values"
    return vector, ""


class EmbeddingCache:
    """Vectors of one encoder, keyed by content.

    Parameters
    ----------
    root : path
        ``encoders.cache_dir``.
    encoder_id : str
        Stable id of the encoder (name + 12 hex digits).
    dim : int
        Embedding size; entries of another size are rejected (treated as misses).
    identity : dict, optional
        Written once to ``encoder.json``.

    Attributes
    ----------
    n_rejected : int
        Entries found on disk but rejected by the checks since this object was made.
    """

    def __init__(self, root: str | Path, encoder_id: str, dim: int, *, identity: dict | None = None) -> None:
        self.dir = Path(root) / encoder_id
        self.dim = int(dim)
        self._identity = identity
        self.n_rejected = 0

    def path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.emb"

    def get(self, key: str) -> np.ndarray | None:
        """The cached vector (shape (dim,), float32), or None on a miss or a rejected entry."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            vector, reason = None, f"unreadable ({err.strerror or err})"
        else:
            vector, reason = decode_entry(data, dim=self.dim)
        if vector is None:
            self.n_rejected += 1
            log.warning("embedding cache: %s rejected (%s); recomputing it", path, reason)
        return vector

    def put(self, key: str, vector: np.ndarray) -> None:
        """Store one vector atomically (shape (dim,), all values finite)."""
        vector = np.asarray(vector, dtype=np.float32)
        if vector.shape != (self.dim,):
            raise ParameterError(f"cache entry {key} must have shape ({self.dim},), got {vector.shape}")
        if not np.all(np.isfinite(vector)):
            raise ParameterError(f"cache entry {key}: refusing to store a vector with non-finite values")
        if self._identity is not None and not (self.dir / "encoder.json").exists():
            atomic_write_bytes(self.dir / "encoder.json",
                               json.dumps(self._identity, indent=2, sort_keys=True).encode())
        atomic_write_bytes(self.path(key), encode_entry(vector))
