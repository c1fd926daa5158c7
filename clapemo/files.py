"""File I/O every stage shares: atomic writes, content digests, an exclusive lock on a folder, and the rules for
output targets and file names.

Written here once because the standard library has the pieces (``os.replace``, ``hashlib``, ``fcntl.flock``)
but not these combinations, and several stages need them identically:

* :func:`atomic_write` / :func:`atomic_write_bytes` / :func:`atomic_write_text`: the content appears at ``path``
  completely or not at all (temporary file ``.<name>.<8 random chars>.tmp`` in the same folder, ``fsync``-free
  ``os.replace``); a crash leaves no partial file and, on an exception, no temporary file either. The file gets
  the permissions ``0666 & ~umask``, as ``open()`` would give it. A ``path`` that is a symbolic link is written
  through: its target is replaced, the link stays.
* :func:`remove_stale_temporaries`: the temporaries a killed process left (only names of that pattern, and only
  when no living writer holds them: each writer keeps an ``flock`` on its temporary).
* :func:`check_output_file` / :func:`check_output_folder`: an output target checked before the work starts (a
  folder where a file is expected, a file where a folder is expected, a folder that cannot be written: read-only
  or pseudo file systems).
* :func:`display_path`: a path as text that can always be printed and written (a name that is not UTF-8, such as
  ``caf\\xe9.wav``, backslash-escaped); :func:`readable_paths`: such paths as UTF-8 aliases for the libraries
  that cannot take them.
* :func:`file_sha256`: hex digest of a file's bytes, memoised per (path, size, mtime) in the process.
* :class:`FolderLock`: an exclusive, advisory lock (``fcntl.flock``) on ``<folder>/.lock``, released when the
  process dies (so a killed run never leaves a stale lock).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Iterator

from clapemo.errors import DataError

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "file_sha256", "bytes_sha256",
           "FolderLock", "TEMPORARY_PATTERN", "check_output_file", "check_output_folder", "display_path",
           "named_message", "readable_paths", "remove_stale_temporaries", "umask"]

_DIGESTS: dict[tuple, str] = {}

#: names of :func:`atomic_write`'s temporaries: ``.<target name>.<8 chars of tempfile's alphabet>.tmp``
TEMPORARY_PATTERN = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")


def umask() -> int:
    """The process's umask (read without changing it where Linux tells it, ``/proc/self/status``)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _target(path: Path) -> Path:
    """Where a write to ``path`` lands: ``path``, or the final target of a symbolic link (written through)."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if target.is_symlink():  # realpath stops inside a loop
        raise DataError(f"{display_path(path)} is a symbolic link that loops; it cannot be written through")
    return target


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Context manager yielding a temporary path next to ``path``; on success it replaces ``path``.

    ``path`` gets the permissions ``0666 & ~umask``; a ``path`` that is a symbolic link is written through (the
    link's target is replaced, the link stays). The temporary file is locked (``flock``) while it lives, so
    :func:`remove_stale_temporaries` never takes a living writer's file.

    >>> with atomic_write("out.pt") as tmp:   # doctest: +SKIP
    ...     torch.save(obj, tmp)
    """
    import fcntl

    path = _target(Path(path))
    if path.is_dir():
        raise DataError(f"{display_path(path)} is a folder; a file was to be written there")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.fchmod(fd, 0o666 & ~umask())
        yield tmp
        os.replace(tmp, path)
    finally:
        os.close(fd)
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


def remove_stale_temporaries(folder: str | Path, *, target: str | None = None,
                             pattern: re.Pattern | None = None) -> list[Path]:
    """Remove the temporaries of :func:`atomic_write` that a killed process left in ``folder``.

    Only files named by :data:`TEMPORARY_PATTERN` are candidates (of one ``target`` file name, or whose target
    name matches ``pattern``, or all), and only those no living writer holds (its ``flock``). Anything else is
    left alone. Returns the files removed.
    """
    import fcntl

    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = TEMPORARY_PATTERN.match(p.name)
        if m is None or (target is not None and m["target"] != target) or \
                (pattern is not None and not pattern.fullmatch(m["target"])):
            continue
        try:
            if p.is_symlink() or not p.is_file():
                continue
            fd = os.open(p, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a living writer holds it
            continue
        else:
            p.unlink(missing_ok=True)
            removed.append(p)
        finally:
            os.close(fd)
    return removed


def _probe_writable(folder: Path, *, what: str) -> None:
    """Create and remove a temporary in ``folder`` (the one sure test: permissions, read-only and pseudo file
    systems, full quotas all answer it)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".clapemo-probe.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise DataError(f"{what}: cannot write in {display_path(folder)} ({err.strerror or err}); choose a "
                        "writable folder") from None
    os.close(fd)
    os.unlink(name)


def _nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and not path.is_symlink() and path != path.parent:
        path = path.parent
    return path


def check_output_file(path: str | Path, *, what: str = "output") -> Path:
    """Check, before any work, that a file can be written at ``path`` (what :func:`atomic_write` will write).

    Rules: ``path`` (or, for a symbolic link, its target) is not a folder; the folder it goes in is a folder
    (or can be created under one) that can be written. Returns where the write lands (the link's target).

    Raises
    ------
    DataError
        naming ``what`` (e.g. ``"-o"``), the path and the rule.
    """
    path = _target(Path(path))
    if path.is_dir():
        raise DataError(f"{what} {display_path(path)} is a folder; give a file name")
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise DataError(f"{what} {display_path(path)}: {display_path(base)} is a file, not a folder")
    _probe_writable(base, what=f"{what} {display_path(path)}")
    return path


def check_output_folder(path: str | Path, *, what: str = "output") -> Path:
    """Check, before any work, that ``path`` is (or can be created as) a folder that can be written.

    Raises
    ------
    DataError
        ``path`` is a file, lies under a file, or its folder cannot be written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DataError(f"{what} {display_path(path)} is a file; a folder is expected there")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise DataError(f"{what} {display_path(path)}: {display_path(base)} is a file, not a folder")
    _probe_writable(base, what=f"{what} {display_path(path)}")
    return path


def display_path(path: str | os.PathLike | bytes) -> str:
    """``path`` as text that can be printed, written as UTF-8 and held by any table: ``str(path)``, or, for a
    name that is not valid UTF-8 (``caf\\xe9.wav`` on disk), its bytes with the undecodable ones
    backslash-escaped (``'caf\\\\xe9.wav'``). Such text names the file for a person; it cannot open it."""
    text = os.fsdecode(path) if isinstance(path, bytes) else str(os.fspath(path))
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")


@contextlib.contextmanager
def readable_paths(paths: Sequence[str | os.PathLike]) -> Iterator[list[str]]:
    """Paths as ``str`` every library can take: a path whose text is not valid UTF-8 is replaced by a symbolic
    link with a UTF-8 name (same suffix) in a temporary folder, pointing at it; the folder is removed on exit.

    Yields the list of paths to open, in order (the others unchanged).
    """
    out = [str(os.fspath(p)) for p in paths]
    folder: Path | None = None
    try:
        for i, text in enumerate(out):
            if display_path(text) == text:
                continue
            if folder is None:
                folder = Path(tempfile.mkdtemp(prefix="clapemo-names-"))
            suffix = Path(text).suffix
            alias = folder / (f"{i}{suffix}" if display_path(suffix) == suffix else str(i))
            os.symlink(os.path.abspath(text), alias)
            out[i] = str(alias)
        yield out
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def named_message(message: object, *, alias: str, path: str | os.PathLike) -> object:
    """An error message about a :func:`readable_paths` ``alias`` that names the original ``path`` instead, as
    printable text (:func:`display_path`); anything that is not a ``str`` (None: no error) passes unchanged."""
    if not isinstance(message, str):
        return message
    original = str(os.fspath(path))
    return display_path(message.replace(alias, display_path(original)) if alias != original else message)


def bytes_sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, memoised per (path, size, mtime) within the process."""
    path = Path(path)
    st = path.stat()  # OSError (e.g. FileNotFoundError) goes to the caller, which names the rule
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the read forever, a device never end
        raise IsADirectoryError(errno.EISDIR, "not a regular file (a FIFO, device or folder); only files are read",
                                str(path))
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

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.folder / ".lock", "a+")
        except OSError as err:
            raise DataError(f"{self.what} {display_path(self.folder)}: cannot create its lock "
                            f"{display_path(self.folder / '.lock')} ({err.strerror or err})") from None
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
