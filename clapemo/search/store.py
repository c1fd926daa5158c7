"""The files of an audio index: its marker ``index.json``, its part files, and the rules that keep them.

``INDEX/index.json`` (format, the run, the folder indexed, the part files) is the marker of an index folder,
written before any part; ``INDEX/parts/<digest>.npz`` each hold ``embeddings`` (float32, ``(n, dim)``) and
``records`` (the table rows as JSON), written atomically (:func:`clapemo.files.atomic_write`) before
``index.json`` names them. What this module never does: read or delete a file outside ``parts/`` because a
damaged ``index.json`` names it, or delete a file in ``parts/`` that the index did not write
(:func:`remove_unlisted_parts`). A damaged part or ``index.json`` is a :class:`~clapemo.errors.DataError` naming
the file and the fault (:func:`read_part`, :func:`meta_problems`); :func:`entries` with ``repair`` skips what it
cannot use, so that ``index`` embeds it again.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.errors import DataError
from clapemo.schema import PROPERTY_COLUMNS

__all__ = ["ENTRY_COLUMNS", "INDEX_FORMAT", "PART_PATTERN", "check_index_folder", "entries", "entry_table",
           "meta_path", "meta_problems", "read_meta", "read_part", "remove_unlisted_parts", "valid_parts",
           "write_meta", "write_part"]

log = logging.getLogger(__name__)

#: the ``format`` entry of ``index.json``
INDEX_FORMAT = "clapemo-audio-index/1"
#: columns of the table of an index (``Index.table``)
ENTRY_COLUMNS: tuple[str, ...] = ("utterance_id", "path", "sha256", *PROPERTY_COLUMNS, "pitch", "pitch2",
                                  "intensity", "speech_rate", "articulation_rate", "description",
                                  "features_error", "error")
#: names of the part files an index writes: 16 hex digits of their sha256, ``.npz``
PART_PATTERN = re.compile(r"[0-9a-f]{16}\.npz")
_PART_MEMBERS = ["embeddings.npy", "records.npy"]
_RECORD_KEYS = ("path", "sha256", "error")


def meta_path(folder: Path) -> Path:
    """``folder/index.json``, the marker of an index folder."""
    return folder / "index.json"


def read_meta(folder: Path) -> dict | None:
    """``index.json`` of ``folder``; None when there is none. A DataError when it exists but is not an index
    clapemo wrote (it writes the file atomically: it is never half-written)."""
    path = meta_path(folder)
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DataError(f"{path} is not an index clapemo wrote (it cannot be read as JSON: {err}); clapemo never "
                        f"overwrites it: move it away or use another index folder than {folder}") from None
    if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise DataError(f"{path} is not a clapemo audio index (format {found!r}, "
                        f"expected {INDEX_FORMAT!r})")
    return meta


def meta_problems(meta: dict) -> list[str]:
    """What is wrong with the fields of an ``index.json`` (empty when nothing)."""
    problems = []
    for key in ("run_id", "run_dir"):
        if not isinstance(meta.get(key), str):
            found = "missing" if key not in meta else repr(meta.get(key))
            problems.append(f"{key!r} is {found} (a text is expected)")
    dim = meta.get("dim")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        problems.append(f"'dim' is {'missing' if 'dim' not in meta else repr(dim)} (a positive integer is "
                        "expected)")
    parts = meta.get("parts")
    if not isinstance(parts, list):
        problems.append(f"'parts' is {'missing' if 'parts' not in meta else repr(parts)} (a list of part file "
                        "names is expected)")
    else:
        bad = [p for p in parts if not isinstance(p, str) or not PART_PATTERN.fullmatch(p)]
        if bad:
            problems.append(f"'parts' names {bad[:3]!r}, not part files (<16 hex digits>.npz)")
    return problems


def valid_parts(meta: dict) -> list[str]:
    """The part names of ``index.json`` that have the part-name pattern (never a path: a damaged index.json
    cannot make clapemo read or delete a file outside ``parts/``)."""
    parts = meta.get("parts")
    if not isinstance(parts, list):
        return []
    return [p for p in parts if isinstance(p, str) and PART_PATTERN.fullmatch(p)]


def write_part(folder: Path, embeddings: np.ndarray, records: list[dict]) -> str:
    """Write one part file of the index ``folder`` atomically; returns its name (for ``index.json``'s ``parts``).

    Parameters
    ----------
    folder : Path
        The index folder; the part goes to ``folder/parts/<16 hex digits of its sha256>.npz``.
    embeddings : ndarray, shape (n, dim)
        Joint embeddings (stored as float32).
    records : list of dict, length n
        The table rows (keys of :data:`ENTRY_COLUMNS`), stored as JSON.

    The part is part of the index only once ``index.json`` names it (:func:`write_meta`).
    """
    from clapemo.files import atomic_write, bytes_sha256

    buf = io.BytesIO()
    text = json.dumps(records, allow_nan=True)
    np.savez(buf, embeddings=np.ascontiguousarray(embeddings, dtype=np.float32), records=np.array(text))
    data = buf.getvalue()
    name = f"{bytes_sha256(data)[:16]}.npz"
    with atomic_write(folder / "parts" / name) as tmp:
        tmp.write_bytes(data)
    return name


def write_meta(folder: Path, meta: dict) -> None:
    """Write ``index.json`` of the index ``folder`` atomically (a reader sees the old or the new one, never a
    mix): ``format`` (:data:`INDEX_FORMAT`), ``run_id``, ``run_dir``, ``dim``, ``root``, ``thresholds`` and
    ``parts`` (the part files, in order: a later row of the same path replaces an earlier one)."""
    from clapemo.files import atomic_write_text

    atomic_write_text(meta_path(folder), json.dumps(meta, indent=1) + "\n")


def read_part(folder: Path, name: str, dim: int) -> tuple[np.ndarray, list[dict]]:
    """One part's embeddings (n, dim) and rows; a DataError naming the part and what is wrong with it."""
    path = folder / "parts" / name
    try:
        with np.load(path, allow_pickle=False) as data:
            emb = np.asarray(data["embeddings"], dtype=np.float32)
            recs = json.loads(str(data["records"]))
    except FileNotFoundError:
        raise DataError(f"index part {path} is missing") from None
    except Exception as err:  # noqa: BLE001 - a truncated zip, a foreign file: BadZipFile, EOFError, ValueError...
        raise DataError(f"index part {path} cannot be read ({type(err).__name__}: {err})") from None
    if emb.ndim != 2 or emb.shape[1] != dim:
        raise DataError(f"index part {path} holds embeddings of shape {emb.shape}; the index's width (dim) is "
                        f"{dim}")
    if not isinstance(recs, list) or len(recs) != len(emb):
        raise DataError(f"index part {path} holds {len(emb)} embeddings for "
                        f"{len(recs) if isinstance(recs, list) else 'no list of'} rows")
    for rec in recs:
        if not isinstance(rec, dict) or not all(k in rec for k in _RECORD_KEYS) \
                or not isinstance(rec["path"], str):
            raise DataError(f"index part {path} holds a row that is not an index entry ({str(rec)[:80]})")
    return emb, recs


def _is_own_part(path: Path) -> bool:
    """A part file this module wrote: the part-name pattern, a regular file, and the npz of exactly
    ``embeddings`` and ``records``."""
    import zipfile

    if not PART_PATTERN.fullmatch(path.name) or path.is_symlink() or not path.is_file():
        return False
    try:
        with zipfile.ZipFile(path) as zf:
            return sorted(zf.namelist()) == _PART_MEMBERS
    except Exception:  # noqa: BLE001 - not a zip (or a damaged one): not provably ours
        return False


def remove_unlisted_parts(folder: Path, keep: Sequence[str], named: Sequence[str] = ()) -> None:
    """Delete the part files that ``index.json`` no longer names (left by a killed run, merged, or damaged), and
    stale temporaries of parts. Only files the index wrote are touched: those named in ``named`` (names of
    ``index.json``, checked against the part-name pattern) or of the part-name pattern and format. Anything else
    in ``parts/`` (a user's file, a sub-folder) is left alone."""
    from clapemo.files import remove_stale_temporaries

    parts = folder / "parts"
    if not parts.is_dir():
        return
    remove_stale_temporaries(parts, pattern=PART_PATTERN)
    named = {n for n in named if PART_PATTERN.fullmatch(n)}
    for p in parts.iterdir():
        if p.name in keep or p.is_symlink() or not p.is_file():
            continue
        if (p.name in named and PART_PATTERN.fullmatch(p.name)) or _is_own_part(p):
            p.unlink(missing_ok=True)
        else:
            log.debug("%s: not a part file of this index; left alone", p)


def entries(folder: Path, meta: dict, *, repair: bool = False) -> tuple[list[dict], np.ndarray, list[str]]:
    """All rows of the index parts in order, a later row of the same path replacing an earlier one; their
    embedding matrix (len(rows), dim); and the parts that could not be used (``repair``: skipped with a warning,
    their files are embedded again; else a DataError names the part and the fault)."""
    by_path: dict[str, int] = {}
    records: list[dict] = []
    vectors: list[np.ndarray] = []
    dim = int(meta["dim"])
    dropped: list[str] = []
    for name in (valid_parts(meta) if repair else meta["parts"]):
        try:
            emb, recs = read_part(folder, name, dim)
        except DataError as err:
            if not repair:
                raise
            log.warning("%s; its files are embedded again", err)
            dropped.append(name)
            continue
        for vector, rec in zip(emb, recs):
            if rec["path"] in by_path:
                i = by_path[rec["path"]]
                records[i], vectors[i] = rec, vector
            else:
                by_path[rec["path"]] = len(records)
                records.append(rec)
                vectors.append(vector)
    matrix = np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32)
    return records, matrix, dropped


def entry_table(records: list[dict]) -> Any:
    """Index rows -> DataFrame with columns :data:`ENTRY_COLUMNS` (properties float64, errors None or text)."""
    import pandas as pd

    table = pd.DataFrame(records, columns=list(ENTRY_COLUMNS))
    for col in PROPERTY_COLUMNS:
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
    for col in ("features_error", "error"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table


def _only_parts(folder: Path) -> bool:
    """``folder`` holds part files of an index and their temporaries only (what a run killed before it wrote
    its first ``index.json`` left, with clapemo versions that wrote a part first)."""
    from clapemo.files import TEMPORARY_PATTERN

    if folder.is_symlink() or not folder.is_dir():
        return False
    for p in folder.iterdir():
        m = TEMPORARY_PATTERN.match(p.name)
        if not (_is_own_part(p) or (m and PART_PATTERN.fullmatch(m["target"]))):
            return False
    return True


def check_index_folder(out: Path, root: Path) -> dict | None:
    """The rules on the output of ``index``, checked before any work (and again under the lock); returns its
    ``index.json`` (None for a new index).

    ``out`` is a new folder, an empty one (our ``.lock`` and temporaries aside) or an index (its ``index.json``
    is the marker); its ``parts`` is a folder; it indexes ``root`` (or none yet: a damaged index.json).

    Raises
    ------
    DataError
        A rule is broken; the message names the folder, what is in the way, and what to do.
    """
    from clapemo.files import TEMPORARY_PATTERN, check_output_folder, display_path

    check_output_folder(out, what="output (-o)")
    if not out.exists():
        return None
    meta = read_meta(out)
    if meta is None:
        foreign = sorted(p.name for p in out.iterdir() if p.name != ".lock" and not (
            (m := TEMPORARY_PATTERN.match(p.name)) and m["target"] in ("index.json", "clapemo-probe")) and not (
            p.name == "parts" and _only_parts(p)))
        if foreign:
            shown = ", ".join(display_path(n) for n in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise DataError(f"output (-o) {display_path(out)} is a folder that is not empty ({shown}) and holds "
                            "no clapemo index (no index.json): clapemo writes an index only into a new or empty "
                            "folder or an existing index, and never deletes or overwrites files it did not write; "
                            "give another output folder")
        return None
    parts = out / "parts"
    if parts.exists() and not parts.is_dir():
        raise DataError(f"index {display_path(out)}: {display_path(parts)} is a file where the index keeps its "
                        "part files (a folder); move it away or give another output folder")
    old_root = meta.get("root")
    if isinstance(old_root, str) and old_root and old_root != str(root):
        n = meta.get("n_files")
        raise DataError(f"index {display_path(out)} is the index of folder {display_path(old_root)}, not "
                        f"{display_path(root)}: indexing {display_path(root)} into it would drop its "
                        f"{n if isinstance(n, int) else 'earlier'} entries. Index {display_path(root)} into "
                        f"another output folder (-o), or delete {display_path(out)} first to rebuild it from "
                        f"{display_path(root)}")
    return meta
