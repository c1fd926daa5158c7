"""Search your own audio with text: an index of a folder embedded by a trained run, queried with prompts.

:func:`index` embeds every audio file under a folder with a run's frozen encoder and its audio projection (the
joint space, L2-normalised), measures its acoustic properties (``clapemo.features``) and names their bins in the
run's prompt words (``clapemo.describe``). :func:`search` embeds text queries with the run's text projection and
ranks the clips by cosine similarity: one matrix product for all queries, top-k by ``argpartition``.

The index folder
----------------
``INDEX/index.json`` (format, the run, the folder indexed, the part files) and ``INDEX/parts/<digest>.npz``,
each holding ``embeddings`` (float32, ``(n, projection_dim)``) and ``records`` (the table rows as JSON). Each
part is written atomically (:func:`clapemo.files.atomic_write`) before ``index.json`` names it, so a killed run
leaves a valid index of the chunks it finished, and the next run continues from there; at the end of a run the
parts are merged into one. Files are matched by content (:func:`clapemo.files.file_sha256`): a re-run embeds
only new or changed files (a moved file reuses its embedding), and files gone from the folder leave the index.
A file that cannot be embedded keeps a row with its ``error`` (it is never a search hit); a file that embeds
but cannot be measured keeps its ``features_error`` (it is searchable, its properties are empty). One process
at a time may write an index (:class:`clapemo.files.FolderLock`).

What an index never does: delete or overwrite a file it did not write. ``index.json`` (its ``format``) is the
marker of an index folder, written before any part: ``index`` writes only into a new or empty folder or an
existing index (anything else is refused before any work), and removes from ``parts/`` only the part files it
wrote (named in ``index.json`` with the part-name pattern, or of that pattern and format) and its own stale
temporaries (``.<name>.<8 chars>.tmp``); anything else there is left alone. An index holds one folder: indexing
another folder into it is refused (index into another output, or delete the index first). A damaged index (an
unreadable part, a part of another width, ``index.json`` missing or mangling a field) is a
:class:`~clapemo.errors.DataError` for ``search`` naming the file and the fault; ``index`` repairs it (what a
damaged part held is embedded again). File names that are not UTF-8 (``caf\xe9.wav``) are recorded
backslash-escaped (:func:`clapemo.files.display_path`) and embedded through a UTF-8 alias.

``clapemo index DIR --run NAME -o INDEX`` and ``clapemo search INDEX "high pitch anger" ["low intensity sad"
...] [-k 10] [--json]``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.errors import DataError, ParameterError
from clapemo.schema import PROPERTY_COLUMNS

__all__ = [
    "ENTRY_COLUMNS",
    "HIT_COLUMNS",
    "INDEX_FORMAT",
    "Index",
    "PART_PATTERN",
    "default_folder",
    "embed_files",
    "index",
    "index_cli",
    "index_folder",
    "load_index",
    "project_folder",
    "search",
    "search_cli",
    "show_hits",
    "top_k",
]

log = logging.getLogger(__name__)

#: the ``format`` entry of ``index.json``
INDEX_FORMAT = "clapemo-audio-index/1"
#: columns of :attr:`Index.table`
ENTRY_COLUMNS: tuple[str, ...] = ("utterance_id", "path", "sha256", *PROPERTY_COLUMNS, "pitch", "pitch2",
                                  "intensity", "speech_rate", "articulation_rate", "description",
                                  "features_error", "error")
#: columns of :func:`search`'s result
HIT_COLUMNS: tuple[str, ...] = ("query", "rank", "score", "path", "duration_s", "description", "f0_mean_hz",
                                "intensity_db", "speech_rate_syl_per_s", "articulation_rate_syl_per_s",
                                "utterance_id")

_CHUNK = 64  # files per part: a killed run loses at most this many files' work
#: names of the part files an index writes: 16 hex digits of their sha256, ``.npz``
PART_PATTERN = re.compile(r"[0-9a-f]{16}\.npz")
_PART_MEMBERS = ["embeddings.npy", "records.npy"]
_RECORD_KEYS = ("path", "sha256", "error")


@dataclass
class Index:
    """A loaded index: its table, the embedding matrix, and (loaded on first query) the run.

    Attributes
    ----------
    path : Path
        The index folder.
    meta : dict
        ``index.json``.
    table : DataFrame, one row per file, columns :data:`ENTRY_COLUMNS`
    embeddings : ndarray, float32, shape (len(table), projection_dim)
        L2-normalised joint embeddings; zero rows where ``error`` is set.
    """

    path: Path
    meta: dict
    table: Any
    embeddings: np.ndarray
    _model: Any = field(default=None, repr=False)

    @property
    def searchable(self) -> np.ndarray:
        """Boolean mask (len(table),): rows that were embedded."""
        return self.table["error"].isna().to_numpy()

    def model(self) -> Any:
        """The run the index was built with (:func:`clapemo.train.load_run`), loaded once."""
        if self._model is None:
            from clapemo.train import load_run

            if not self.meta["run_dir"]:
                raise DataError(f"index {self.path} names no run folder (it was built with a model held in "
                                "memory); rebuild it with a trained run ('clapemo index DIR --run NAME -o INDEX')")
            run_dir = Path(self.meta["run_dir"])
            if not run_dir.is_dir():
                raise DataError(f"index {self.path} was built with run {self.meta['run_id']} at {run_dir}, which "
                                "no longer exists; run 'clapemo index' again with that run (it records where the "
                                "run is now), or rebuild the index with an existing run")
            self._model = load_run(run_dir)
        return self._model

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Text queries -> joint embeddings (len(queries), projection_dim) with the index's run."""
        return np.asarray(self.model().embed_texts(list(queries)), dtype=np.float32)

    def search(self, queries: str | Sequence[str], *, k: int = 10) -> pd.DataFrame:  # noqa: F821
        """:func:`search` on this index."""
        return search(self, queries, k=k)


# --------------------------------------------------------------------------------------------------------------
# Files of an index
# --------------------------------------------------------------------------------------------------------------


def _meta_path(folder: Path) -> Path:
    return folder / "index.json"


def _read_meta(folder: Path) -> dict | None:
    """``index.json`` of ``folder``; None when there is none. A DataError when it exists but is not an index
    clapemo wrote (it writes the file atomically: it is never half-written)."""
    path = _meta_path(folder)
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


def _meta_problems(meta: dict) -> list[str]:
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


def _valid_parts(meta: dict) -> list[str]:
    """The part names of ``index.json`` that have the part-name pattern (never a path: a damaged index.json
    cannot make clapemo read or delete a file outside ``parts/``)."""
    parts = meta.get("parts")
    if not isinstance(parts, list):
        return []
    return [p for p in parts if isinstance(p, str) and PART_PATTERN.fullmatch(p)]


def _write_part(folder: Path, embeddings: np.ndarray, records: list[dict]) -> str:
    from clapemo.files import atomic_write, bytes_sha256

    buf = io.BytesIO()
    text = json.dumps(records, allow_nan=True)
    np.savez(buf, embeddings=np.ascontiguousarray(embeddings, dtype=np.float32), records=np.array(text))
    data = buf.getvalue()
    name = f"{bytes_sha256(data)[:16]}.npz"
    with atomic_write(folder / "parts" / name) as tmp:
        tmp.write_bytes(data)
    return name


def _read_part(folder: Path, name: str, dim: int) -> tuple[np.ndarray, list[dict]]:
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


def _write_meta(folder: Path, meta: dict) -> None:
    from clapemo.files import atomic_write_text

    atomic_write_text(_meta_path(folder), json.dumps(meta, indent=1) + "\n")


def _remove_unlisted_parts(folder: Path, keep: Sequence[str], named: Sequence[str] = ()) -> None:
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


def _entries(folder: Path, meta: dict, *, repair: bool = False) -> tuple[list[dict], np.ndarray, list[str]]:
    """All rows of the index parts in order, a later row of the same path replacing an earlier one; and the
    parts that could not be used (``repair``: skipped with a warning, their files are embedded again; else a
    DataError names the part and the fault)."""
    by_path: dict[str, int] = {}
    records: list[dict] = []
    vectors: list[np.ndarray] = []
    dim = int(meta["dim"])
    dropped: list[str] = []
    for name in (_valid_parts(meta) if repair else meta["parts"]):
        try:
            emb, recs = _read_part(folder, name, dim)
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


def _table(records: list[dict]) -> Any:
    import pandas as pd

    table = pd.DataFrame(records, columns=list(ENTRY_COLUMNS))
    for col in PROPERTY_COLUMNS:
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
    for col in ("features_error", "error"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table


def load_index(path: str | os.PathLike) -> Index:
    """Read an index folder written by :func:`index` (table and embedding matrix; the run loads on first query).

    Raises
    ------
    DataError
        The folder holds no index, or a damaged one (the message says to rebuild).
    """
    folder = Path(path)
    for attempt in range(3):
        meta = _read_meta(folder)
        if meta is None:
            raise DataError(f"{folder} holds no audio index (no index.json); build one with 'clapemo index DIR "
                            f"--run NAME -o {folder}'")
        problems = _meta_problems(meta)
        if problems:
            raise DataError(f"{_meta_path(folder)} is damaged: {'; '.join(problems)}; repair the index with "
                            f"'clapemo index {meta.get('root') or 'DIR'} --run NAME -o {folder}' (it embeds what "
                            "is lost again)")
        try:
            records, matrix, _ = _entries(folder, meta)
        except DataError as err:
            if attempt < 2 and _read_meta(folder) != meta:  # an index run replaced the parts meanwhile: read again
                continue
            raise DataError(f"index {_meta_path(folder)}: {err}; repair the index with 'clapemo index "
                            f"{meta.get('root') or 'DIR'} --run {meta['run_id']} -o {folder}' (it embeds what "
                            "the part held again)") from None
        return Index(path=folder, meta=meta, table=_table(records), embeddings=matrix)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------------------


def _project_files(model: Any, paths: list[str]) -> np.ndarray:
    """``model.embed_manifest`` without the encoders' own progress bar (the index has one over all files)."""
    import pandas as pd

    from clapemo import encoders

    # admit_cached: a vector cached before the admission rule (a silent or too short clip) is refused too
    return model.project_audio(encoders.embed_audio(pd.DataFrame({"path": paths}), model.config.encoders,
                                                    progress=False, admit_cached=True))


def embed_files(model: Any, paths: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
    """Joint embeddings of audio files with a run, and the per-file errors (never a failed batch).

    Parameters
    ----------
    model : TrainedCLAP
    paths : sequence of str, length n

    Returns
    -------
    embeddings : ndarray, float32, shape (n, projection_dim); L2-normalised, zero rows where a file failed
    errors : list of (str or None), length n; ``"<ErrorType>: <message>"`` for a file that could not be embedded
        (a file name that is not UTF-8 appears backslash-escaped, :func:`clapemo.files.display_path`)
    """
    from clapemo.files import readable_paths

    paths = [os.fspath(p) for p in paths]
    dim = model.head.projection_dim
    out = np.zeros((len(paths), dim), np.float32)
    errors: list[str | None] = [None] * len(paths)
    if not paths:
        return out, errors
    with readable_paths(paths) as readable:  # names that are not UTF-8: embedded through a UTF-8 alias
        try:
            out[:] = _project_files(model, readable)
            return out, errors
        except Exception as err:  # noqa: BLE001 - one bad file fails the batch; find it by embedding one at a time
            log.debug("batch of %d files failed (%s); embedding them one at a time", len(paths), err)
        for i, p in enumerate(readable):
            try:
                out[i] = _project_files(model, [p])[0]
            except Exception as err:  # noqa: BLE001 - recorded per file, never a crashed batch
                errors[i] = _named(f"{type(err).__name__}: {err}", p, paths[i])
    return out, errors


def _named(message: Any, alias: str, path: Any) -> Any:
    from clapemo.files import named_message

    return named_message(message, alias=alias, path=path)


def _records(model: Any, thresholds: Any, paths: list[Path], digests: list[str | None], rel_ids: list[str],
             n_jobs: int, digest_errors: list[str | None]) -> tuple[np.ndarray, list[dict]]:
    from clapemo import features as F
    from clapemo.describe import WORD_KINDS, bin_words
    from clapemo.files import display_path, readable_paths

    ok = [i for i, e in enumerate(digest_errors) if e is None]
    emb = np.zeros((len(paths), model.head.projection_dim), np.float32)
    errors = list(digest_errors)
    if ok:
        chunk_emb, chunk_err = embed_files(model, [paths[i] for i in ok])
        for j, i in enumerate(ok):
            emb[i], errors[i] = chunk_emb[j], chunk_err[j]
    measured = [i for i in ok if errors[i] is None]
    with readable_paths([paths[i] for i in measured]) as readable:
        feats = (F.extract_table(readable, config=model.config.features, n_jobs=n_jobs, progress=False)
                 if measured else None)
    rows_of = {i: r for r, i in enumerate(measured)}
    records = []
    for i, path in enumerate(paths):
        rec: dict[str, Any] = {"utterance_id": rel_ids[i], "path": display_path(path), "sha256": digests[i]}
        rec.update({c: None for c in PROPERTY_COLUMNS})
        rec.update({k: None for k in (*WORD_KINDS, "description")})
        rec["features_error"], rec["error"] = None, errors[i]
        if i in rows_of:
            row = feats.iloc[rows_of[i]]
            for c in PROPERTY_COLUMNS:
                value = row[c]
                rec[c] = None if value is None or (isinstance(value, float) and np.isnan(value)) or \
                    type(value).__name__ == "NAType" else float(value)
            if row["error"] is None:
                rec.update(bin_words(row, thresholds=thresholds))
            else:
                rec["features_error"] = _named(row["error"], readable[rows_of[i]], path)
        records.append(rec)
    return emb, records


def _digest(path: Path) -> tuple[str | None, str | None]:
    import errno

    from clapemo.files import display_path, file_sha256

    shown = display_path(path)
    try:
        return file_sha256(path), None
    except FileNotFoundError:
        return None, f"DataError: {shown}: audio file not found" + (" (a broken symbolic link)"
                                                                    if path.is_symlink() else "")
    except OSError as err:
        if err.errno == errno.ELOOP:
            return None, f"DataError: {shown}: a symbolic link loop (it never reaches a file)"
        return None, f"DataError: {shown}: cannot be read ({display_path(str(err.strerror or err))})"


def _utterance_id(path: Path, root: Path) -> str:
    """The path below the indexed folder without its suffix (``Session1/a``); the file name for a single file
    (printable: :func:`clapemo.files.display_path`)."""
    from clapemo.files import display_path

    if root.is_dir() and path.is_relative_to(root):
        return display_path(path.relative_to(root).with_suffix("").as_posix())
    return display_path(path.stem)


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


def _check_index_folder(out: Path, root: Path) -> dict | None:
    """The rules on the output of :func:`index`, checked before any work (and again under the lock); returns
    its ``index.json`` (None for a new index).

    ``out`` is a new folder, an empty one (our ``.lock`` and temporaries aside) or an index (its ``index.json``
    is the marker); its ``parts`` is a folder; it indexes ``root`` (or none yet: a damaged index.json)."""
    from clapemo.files import TEMPORARY_PATTERN, check_output_folder, display_path

    check_output_folder(out, what="output (-o)")
    if not out.exists():
        return None
    meta = _read_meta(out)
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


def index(folder: str | os.PathLike, *, run: Any, output: str | os.PathLike,
          runs_dir: str | os.PathLike | None = None, corpus: str | None = None, n_jobs: int = 1,
          progress: bool = True) -> Index:
    """Embed and describe every audio file under ``folder`` into the index ``output`` (created or updated).

    Parameters
    ----------
    folder : path
        Audio files are found recursively (``clapemo.describe.audio_files``); a single file is accepted too.
    run : str, Path or TrainedCLAP
        The trained run (name ``pa``/``cl``/``4d``, id or prefix, or folder; :func:`clapemo.runs.resolve_run`).
    output : path
        The index folder. An existing index must have been built with the same run (else a DataError: choose
        another folder); then only new or changed files are embedded.
    runs_dir : path, optional
        Where run names are looked up (default ``runs``).
    corpus : str, optional
        Run with per-corpus quantile cuts: whose cuts name the bins (:func:`clapemo.describe.run_thresholds`).
    n_jobs : int
        Feature-extraction worker processes per chunk (1: in this process).
    progress : bool
        A progress bar over the files to embed.

    Returns
    -------
    Index, loaded (the run attached).
    """
    from clapemo import runs
    from clapemo.describe import audio_files, run_thresholds
    from clapemo.executor import progress_bar
    from clapemo.files import FolderLock, display_path, remove_stale_temporaries

    root = Path(os.path.realpath(Path(folder).expanduser()))
    if not root.exists():
        raise DataError(f"folder = {display_path(root)}: no such folder (or file) to index")
    out = Path(output)
    _check_index_folder(out, root)  # before any work: a folder clapemo may write, holding this folder's index
    # every file once (the same file named twice, or linked, is one entry); a broken link or a loop is a row
    files = list(dict.fromkeys(Path(os.path.realpath(p)) for p in audio_files(root)))
    model = run if hasattr(run, "head") else runs.load(run, runs_dir=runs_dir)
    thresholds = run_thresholds(model, corpus=corpus)
    run_dir = Path(model.run_dir).resolve() if model.run_dir is not None else None
    run_id = run_dir.name if run_dir is not None else ""
    dim = int(model.head.projection_dim)
    t0 = time.perf_counter()
    with FolderLock(out, blocking=False, what="audio index"):
        meta = _check_index_folder(out, root)  # again: another process may have written it meanwhile
        if meta is not None and isinstance(meta.get("run_id"), str) and meta["run_id"] \
                and meta["run_id"] != run_id:
            raise DataError(f"index {display_path(out)} was built with run {meta.get('run_id')!r}, not "
                            f"{run_id!r}: index into another folder (or delete this one)")
        if meta is None:  # the marker first: from here on the folder is an index
            meta = {"format": INDEX_FORMAT, "run_id": run_id, "run_dir": str(run_dir) if run_dir else "",
                    "dim": dim, "root": str(root), "thresholds": thresholds.to_dict(), "parts": []}
            _write_meta(out, meta)
        remove_stale_temporaries(out, target="index.json")
        named = _valid_parts(meta)  # the part files index.json names (only those of the part-name pattern)
        if meta.get("dim") != dim or _meta_problems(meta):  # a damaged index.json: repaired from here on
            log.warning("%s is damaged (%s); repairing it", _meta_path(out),
                        "; ".join(_meta_problems(meta)) or f"dim {meta.get('dim')!r}, the run's is {dim}")
        same_cuts = meta.get("thresholds") == thresholds.to_dict()
        # the run's current place (a run folder moved or rebuilt elsewhere), the folder, the width, the cuts
        meta.update(run_id=run_id, run_dir=str(run_dir) if run_dir else "", dim=dim, root=str(root),
                    thresholds=thresholds.to_dict(), parts=named)
        records, matrix, dropped = _entries(out, meta, repair=True)
        meta["parts"] = [p for p in named if p not in dropped]
        _write_meta(out, meta)  # repaired before anything is removed: a reader never meets a part it names gone
        _remove_unlisted_parts(out, meta["parts"], named=named)
        known = {(r["path"], r["sha256"]): i for i, r in enumerate(records) if r["sha256"]}
        by_digest = {r["sha256"]: i for i, r in enumerate(records) if r["sha256"] and r["error"] is None}
        if not same_cuts:  # other cuts (e.g. a per-corpus choice): the words change, so every file is redone
            known, by_digest = {}, {}
        wanted = {display_path(p) for p in files}
        todo: list[tuple[Path, str | None, str | None]] = []
        reused_rows: list[int] = []
        reused_records: list[dict] = []
        for path in files:
            sha, err = _digest(path)
            if sha is not None and (display_path(path), sha) in known:
                continue
            if sha is not None and sha in by_digest:  # the same bytes elsewhere (a moved or copied file)
                rec = dict(records[by_digest[sha]])
                rec.update(path=display_path(path), utterance_id=_utterance_id(path, root))
                reused_rows.append(by_digest[sha])
                reused_records.append(rec)
                continue
            todo.append((path, sha, err))
        if reused_records:
            meta["parts"].append(_write_part(out, matrix[reused_rows], reused_records))
            _write_meta(out, meta)
        bar = progress_bar(total=len(todo), desc="index", unit="clip", enabled=progress)
        try:
            for start in range(0, len(todo), _CHUNK):
                chunk = todo[start:start + _CHUNK]
                paths = [p for p, _, _ in chunk]
                rel = [_utterance_id(p, root) for p in paths]
                emb, recs = _records(model, thresholds, paths, [s for _, s, _ in chunk], rel, n_jobs,
                                     [e for _, _, e in chunk])
                meta["parts"].append(_write_part(out, emb, recs))
                _write_meta(out, meta)  # the chunk is in the index from here on
                bar.update(len(chunk))
        finally:
            bar.close()
        # merge the parts into one, keeping only the files that are under the folder now
        written = list(meta["parts"])
        records, matrix, _ = _entries(out, meta)
        keep = [i for i, r in enumerate(records) if r["path"] in wanted]
        records = [records[i] for i in keep]
        matrix = matrix[keep] if len(keep) else np.zeros((0, dim), np.float32)
        meta["parts"] = [_write_part(out, matrix, records)]
        meta["n_files"] = len(records)
        meta["n_errors"] = sum(r["error"] is not None for r in records)
        _write_meta(out, meta)
        _remove_unlisted_parts(out, meta["parts"], named=[*named, *written])
    log.info("indexed %d new/changed files of %d in %.1f s", len(todo), len(files), time.perf_counter() - t0)
    result = Index(path=out, meta=meta, table=_table(records), embeddings=matrix, _model=model)
    result.meta["last_run"] = {"embedded": len(todo), "reused": len(reused_records),
                               "seconds": round(time.perf_counter() - t0, 3)}
    return result


# --------------------------------------------------------------------------------------------------------------
# Querying
# --------------------------------------------------------------------------------------------------------------


def _queries(queries: str | Sequence[str]) -> list[str]:
    """Texts -> queries: each text may hold several separated by ``;`` (the API and the command line alike)."""
    if isinstance(queries, str):
        queries = [queries]
    given = [str(q) for q in queries]
    texts = [part.strip() for q in given for part in q.split(";")]
    texts = [t for t in texts if t]
    if not texts:
        raise ParameterError(f"queries = {given!r} must hold one or more non-empty texts (each may hold several "
                             "separated by ';')")
    return texts


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest scores per row, best first; ties go to the lower index.

    Parameters
    ----------
    scores : ndarray, shape (m, n); -inf marks items that must never be returned
    k : int, >= 1

    Returns
    -------
    idx : int64 (m, min(k, n)); values : same shape
    """
    m, n = scores.shape
    k = min(int(k), n)
    idx = np.zeros((m, k), np.int64)
    if k == 0:
        return idx, np.zeros((m, 0), scores.dtype)
    kth = np.partition(scores, n - k, axis=1)[:, n - k]  # the k-th largest score of each row: O(n)
    for r in range(m):
        candidates = np.flatnonzero(scores[r] >= kth[r])  # k items, more when the k-th score is tied
        order = np.lexsort((candidates, -scores[r, candidates]))[:k]
        idx[r] = candidates[order]
    return idx, np.take_along_axis(scores, idx, axis=1)


def search(index: Index | str | os.PathLike, queries: str | Sequence[str], *, k: int = 10) -> pd.DataFrame:  # noqa: F821
    """Rank the indexed clips for each text query.

    Parameters
    ----------
    index : Index or path of an index folder
    queries : str or sequence of str
        e.g. ``["high pitch anger", "low intensity sad"]``; each text may hold several separated by ``;``
        (``"high pitch anger; low intensity sad"``), on the command line too.
    k : int
        Hits per query (fewer when the index has fewer searchable clips).

    Returns
    -------
    DataFrame, ``k`` rows per query in query order, columns :data:`HIT_COLUMNS`: ``query``, ``rank`` (1 = best),
    ``score`` (cosine similarity in the run's joint space), ``path``, ``duration_s``, ``description`` (the clip's
    own prompt words), its measured properties and ``utterance_id``.

    Raises
    ------
    DataError
        The index is damaged (the message names the file and the fault) or holds no searchable file (every file
        failed, or none is left): an empty answer would read as "nothing matches".
    """
    import pandas as pd

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k = {k!r} must be a positive integer")
    texts = _queries(queries)
    idx = index if isinstance(index, Index) else load_index(index)
    mask = idx.searchable
    if not mask.any():
        n = len(idx.table)
        if n == 0:
            raise DataError(f"index {idx.path} holds no files: nothing to search; index a folder of audio into it "
                            "('clapemo index DIR --run NAME -o INDEX')")
        bad = idx.table[idx.table["error"].notna()].iloc[0]
        raise DataError(f"index {idx.path}: none of its {n} files could be embedded (e.g. {bad['path']}: "
                        f"{bad['error']}): nothing to search; fix or replace the files and run 'clapemo index' "
                        "again")
    q = idx.embed_queries(texts)
    scores = q @ idx.embeddings.T if len(idx.embeddings) else np.zeros((len(texts), 0), np.float32)
    scores = np.where(mask[None, :], scores, -np.inf)
    top, vals = top_k(scores, min(int(k), int(mask.sum())))
    picked = idx.table.iloc[top.ravel()].reset_index(drop=True)
    hits = pd.DataFrame({"query": np.repeat(np.array(texts, dtype=object), top.shape[1]),
                         "rank": np.tile(np.arange(1, top.shape[1] + 1), len(texts)),
                         "score": vals.ravel().astype(np.float64)})
    hits = pd.concat([hits, picked[[c for c in HIT_COLUMNS if c not in hits.columns]]], axis=1)
    return hits[list(HIT_COLUMNS)]


# --------------------------------------------------------------------------------------------------------------
# Notebook helpers
# --------------------------------------------------------------------------------------------------------------


def default_folder(config: Any, folder: str | os.PathLike = "") -> Path:
    """The folder a notebook indexes: ``folder`` when given, else the synthetic IEMOCAP twin of the configured
    profile (``<data.synth_root>/<synth.profile>/synth-iemocap``, generated by ``clapemo synth``)."""
    if folder:
        path = Path(folder).expanduser()
    else:
        path = Path(config.data.synth_root) / config.synth.profile / "synth-iemocap"
    if not path.is_dir():
        raise DataError(f"{path}: no such folder to index" + ("" if folder else
                        " (generate the synthetic benchmark first: clapemo synth, or make synth)"))
    return path


def index_folder(base: str | os.PathLike, *, run: Any, folder: str | os.PathLike,
                 runs_dir: str | os.PathLike | None = None) -> Path:
    """Where a notebook keeps the index of ``folder`` made with ``run``: ``<base>/<run id>-<8 hex of the folder
    path>`` under the project (:func:`project_folder`). An index belongs to one run and one folder (another is
    refused), so a rebuilt run or another folder gets its own index instead of stopping the book."""
    import hashlib

    from clapemo import runs

    run_dir = runs.resolve_run(run, runs_dir=runs_dir) if not hasattr(run, "run_dir") else run.run_dir
    digest = hashlib.sha256(str(Path(folder).expanduser().resolve()).encode("utf-8", "surrogateescape"))
    return project_folder(base) / f"{Path(run_dir).name}-{digest.hexdigest()[:8]}"


def project_folder(path: str | os.PathLike) -> Path:
    """``path`` as the notebooks read paths: absolute as given (``~`` expanded), relative under the project root
    (:func:`clapemo.config.project_root`; the working directory when the package has no project folder)."""
    from clapemo.config import project_root

    path = Path(path).expanduser()
    root = project_root()
    return path if path.is_absolute() or root is None else root / path


class HitsView:
    """The hits of :func:`search` as an HTML table with an audio player per clip (rendered by Jupyter)."""

    def __init__(self, hits: Any, *, columns: Sequence[str]) -> None:
        self.hits = hits
        self.columns = list(columns)

    def _repr_html_(self) -> str:
        import html

        from IPython.display import Audio

        parts = []
        for query, group in self.hits.groupby("query", sort=False):
            head = "".join(f"<th>{html.escape(c)}</th>" for c in ["rank", "score", "audio", *self.columns])
            body = []
            for _, hit in group.iterrows():
                try:
                    player = Audio(filename=hit["path"])._repr_html_()
                except Exception as err:  # noqa: BLE001 - a file gone since indexing: say so in its cell
                    player = html.escape(f"({type(err).__name__}: {err})")
                cells = [str(hit["rank"]), f"{hit['score']:.3f}", player]
                for c in self.columns:
                    v = hit[c]
                    cells.append(html.escape(f"{v:.1f}" if isinstance(v, float) else str(v)))
                body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            parts.append(f"<h4>{html.escape(str(query))}</h4><table><thead><tr>{head}</tr></thead>"
                         f"<tbody>{''.join(body)}</tbody></table>")
        return "\n".join(parts)


def show_hits(hits: Any) -> HitsView:
    """Jupyter display of :func:`search`'s hits: per query a table of rank, score, an audio player
    (``IPython.display.Audio``), the clip's name, its prompt words and measured properties."""
    view = hits.assign(clip=[Path(p).name for p in hits["path"]])
    return HitsView(view, columns=["clip", "description", "duration_s", "f0_mean_hz", "intensity_db",
                                   "speech_rate_syl_per_s", "articulation_rate_syl_per_s"])


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------


def index_cli(argv: Sequence[str]) -> int:
    """``clapemo index DIR --run NAME -o INDEX``."""
    from clapemo.runs import add_run_arguments, run_from_args

    parser = argparse.ArgumentParser(prog="clapemo index", description="Embed every audio file under a folder "
                                     "with a trained run into a searchable index; a re-run adds new or changed "
                                     "files only.")
    parser.add_argument("folder", help="folder of audio files (searched recursively)")
    parser.add_argument("-o", "--output", required=True, help="index folder (created or updated)")
    parser.add_argument("--corpus", default=None, help="run with per-corpus quantile cuts: whose cuts to use")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="feature worker processes (-1: all cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_run_arguments(parser)
    ns = parser.parse_args(list(argv))
    from clapemo.files import display_path

    result = index(ns.folder, run=run_from_args(ns), output=ns.output, corpus=ns.corpus, n_jobs=ns.jobs,
                   progress=not ns.quiet)
    last = result.meta["last_run"]
    n_err = int(result.meta["n_errors"])
    print(f"{display_path(result.path)}: {result.meta['n_files']} files ({last['embedded']} embedded now, "
          f"{last['reused']} "
          f"reused, {n_err} errors) with run {result.meta['run_id']}")
    for _, row in result.table[result.table["error"].notna()].iterrows():
        print(f"  error: {row['path']}: {row['error']}", file=sys.stderr)
    return 0


def search_cli(argv: Sequence[str]) -> int:
    """``clapemo search INDEX "high pitch anger" ["low intensity sad" ...] [-k 10] [--json]``."""
    parser = argparse.ArgumentParser(prog="clapemo search", description="Search an audio index with text queries.")
    parser.add_argument("index", help="index folder written by 'clapemo index'")
    parser.add_argument("queries", nargs="+", help="text queries, e.g. \"high pitch anger\"; one argument may "
                        "hold several separated by ';'")
    parser.add_argument("-k", type=int, default=10, help="hits per query (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of tables")
    ns = parser.parse_args(list(argv))
    hits = search(ns.index, ns.queries, k=ns.k)
    if ns.json:
        print(json.dumps(json.loads(hits.to_json(orient="records")), indent=1))
        return 0
    import pandas as pd

    for query, group in hits.groupby("query", sort=False):
        shown = group[["rank", "score", "path", "duration_s", "description"]].copy()
        shown["score"] = shown["score"].round(3)
        shown["duration_s"] = shown["duration_s"].round(2)
        print(f"== {query}")
        with pd.option_context("display.max_colwidth", 100, "display.width", 250):
            print(shown.to_string(index=False))
    return 0
