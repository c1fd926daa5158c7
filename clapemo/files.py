"""File I/O every stage shares: atomic writes, content digests and an exclusive lock on a folder.

Written here once because the standard library has the pieces (``os.replace``, ``hashlib``, ``fcntl.flock``)
but not these combinations, and four stages need them identically:

* :func:`atomic_write` / :func:`atomic_write_bytes` / :func:`atomic_write_text`: the content appears at ``path``
  completely or not at all (temporary file in the same folder, ``fsync``-free ``os.replace``); a crash leaves no
  partial file and, on an exception, no temporary file either.
* :func:`file_sha256`: hex digest of a file's bytes, memoised per (path, size, mtime) in the process.
* :class:`FolderLock`: an exclusive, advisory lock (``fcntl.flock``) on ``<folder>/.lock``, released when the
  process dies (so a killed run never leaves a stale lock).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from clapemo.errors import DataError

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "file_sha256", "bytes_sha256",
           "FolderLock"]

_DIGESTS: dict[tuple, str] = {}


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Context manager yielding a temporary path next to ``path``; on success it replaces ``path``.

    >>> with atomic_write("out.pt") as tmp:   # doctest: +SKIP
    ...     torch.save(obj, tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def bytes_sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, memoised per (path, size, mtime) within the process."""
    path = Path(path)
    st = path.stat()  # OSError (e.g. FileNotFoundError) goes to the caller, which names the rule
    memo_key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo_key not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[memo_key] = h.hexdigest()
    return _DIGESTS[memo_key]


class FolderLock:
    """Exclusive lock on a folder (``<folder>/.lock``), for one writer per run folder or cache entry.

    Parameters
    ----------
    folder : the folder to lock (created if missing)
    blocking : wait for the lock (True), or raise :class:`~clapemo.errors.DataError` at once when another
        process holds it (False)
    what : how the error names the folder's owner, e.g. "training run"

    Use as a context manager: ``with FolderLock(run_dir, what="training run"): ...``.
    """

    def __init__(self, folder: str | Path, *, blocking: bool = True, what: str = "folder",
                 on_wait: Callable[[], None] | None = None) -> None:
        self.folder = Path(folder)
        self.blocking = blocking
        self.what = what
        self.on_wait = on_wait
        self._fh = None

    def __enter__(self) -> "FolderLock":
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.folder / ".lock", "a+")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not self.blocking:
                self._fh.close()
                self._fh = None
                raise DataError(f"{self.what} {self.folder} is in use by another process (lock "
                                f"{self.folder / '.lock'}); wait for it to finish") from None
            if self.on_wait is not None:
                self.on_wait()
            fcntl.flock(self._fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
