"""Building an audio index: embed and describe every audio file under a folder with a trained run.

:func:`index` embeds each file with the run's frozen encoder and its audio projection (:func:`embed_files`: the
joint space, L2-normalised, the admission rule of ``clapemo.audio.admit`` applied), measures its acoustic
properties (``clapemo.features``) and names their bins in the run's prompt words (``clapemo.describe``). It works
in chunks of :data:`CHUNK_FILES` files, each written as a part before ``index.json`` names it, so a killed run
leaves a valid index of the chunks it finished and the next run continues from there; at the end the parts are
merged into one. Files are matched by content (:func:`clapemo.files.file_sha256`): a re-run embeds only new or
changed files (a moved file reuses its embedding), and files gone from the folder leave the index. One process
at a time may write an index (:class:`clapemo.files.FolderLock`); the rules on its folder are
:func:`clapemo.search.store.check_index_folder`'s.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.errors import DataError, ParameterError
from clapemo.schema import PROPERTY_COLUMNS
from clapemo.search.query import Index
from clapemo.search.store import (INDEX_FORMAT, check_index_folder, entries, entry_table, meta_path, meta_problems,
                                  remove_unlisted_parts, valid_parts, write_meta, write_part)

__all__ = ["CHUNK_FILES", "check_index_target", "embed_files", "index"]

log = logging.getLogger(__name__)

#: files per part of an index: a killed run loses at most this many files' work
CHUNK_FILES = 64


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


def _file_records(model: Any, thresholds: Any, paths: list[Path], digests: list[str | None], rel_ids: list[str],
                  n_jobs: int, digest_errors: list[str | None]) -> tuple[np.ndarray, list[dict]]:
    """Embeddings (n, dim) and index rows of one chunk of files (a file whose digest failed is an error row)."""
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


def _open(out: Path, root: Path, model: Any, thresholds: Any) -> tuple[dict, list[dict], np.ndarray, bool, list]:
    """Under the lock: the index ``out`` checked again, its marker written when new, damage repaired (what a
    damaged part held is embedded again). Returns ``index.json``, the usable rows and their embeddings, whether
    the cuts and the syllable method (``features.syllables``, kept in ``index.json`` as ``syllables`` when it is
    not ``nuclei``) are those the rows were described with, and the part names ``index.json`` held."""
    from clapemo.files import display_path, remove_stale_temporaries

    run_dir = Path(model.run_dir).resolve() if model.run_dir is not None else None
    run_id = run_dir.name if run_dir is not None else ""
    dim = int(model.head.projection_dim)
    meta = check_index_folder(out, root)  # again: another process may have written it meanwhile
    if meta is not None and isinstance(meta.get("run_id"), str) and meta["run_id"] and meta["run_id"] != run_id:
        raise DataError(f"index {display_path(out)} was built with run {meta.get('run_id')!r}, not {run_id!r}: "
                        "index into another folder (or delete this one)")
    if meta is None:  # the marker first: from here on the folder is an index
        meta = {"format": INDEX_FORMAT, "run_id": run_id, "run_dir": str(run_dir) if run_dir else "",
                "dim": dim, "root": str(root), "thresholds": thresholds.to_dict(), "parts": []}
        write_meta(out, meta)
    remove_stale_temporaries(out, target="index.json")
    named = valid_parts(meta)  # the part files index.json names (only those of the part-name pattern)
    if meta.get("dim") != dim or meta_problems(meta):  # a damaged index.json: repaired from here on
        log.warning("%s is damaged (%s); repairing it", meta_path(out),
                    "; ".join(meta_problems(meta)) or f"dim {meta.get('dim')!r}, the run's is {dim}")
    # the rows were described with these cuts and this way of counting syllables (absent: nuclei, the default)
    syllables = model.config.features.syllables
    same_cuts = meta.get("thresholds") == thresholds.to_dict() and meta.get("syllables", "nuclei") == syllables
    # the run's current place (a run folder moved or rebuilt elsewhere), the folder, the width, the cuts
    meta.update(run_id=run_id, run_dir=str(run_dir) if run_dir else "", dim=dim, root=str(root),
                thresholds=thresholds.to_dict(), parts=named)
    meta.pop("syllables", None)
    if syllables != "nuclei":
        meta["syllables"] = syllables
    records, matrix, dropped = entries(out, meta, repair=True)
    meta["parts"] = [p for p in named if p not in dropped]
    write_meta(out, meta)  # repaired before anything is removed: a reader never meets a part it names gone
    remove_unlisted_parts(out, meta["parts"], named=named)
    return meta, records, matrix, same_cuts, named


def _plan(files: list[Path], root: Path, records: list[dict], same_cuts: bool
          ) -> tuple[list[tuple[Path, str | None, str | None]], list[int], list[dict]]:
    """What a run must do: the files to embed (path, digest, digest error), and the rows of files whose bytes
    the index holds under another name (a moved or copied file: the row to reuse, and its new record)."""
    from clapemo.files import display_path

    known = {(r["path"], r["sha256"]): i for i, r in enumerate(records) if r["sha256"]}
    by_digest = {r["sha256"]: i for i, r in enumerate(records) if r["sha256"] and r["error"] is None}
    if not same_cuts:  # other cuts or syllable method: the words change, so every file is redone
        known, by_digest = {}, {}
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
    return todo, reused_rows, reused_records


def _embed_chunks(out: Path, meta: dict, todo: list, *, model: Any, thresholds: Any, root: Path, n_jobs: int,
                  chunk_files: int, progress: bool) -> None:
    """Embed and describe ``todo`` chunk by chunk, each chunk a part named in ``index.json`` once written."""
    from clapemo.executor import progress_bar

    bar = progress_bar(total=len(todo), desc="index", unit="clip", enabled=progress)
    try:
        for start in range(0, len(todo), chunk_files):
            chunk = todo[start:start + chunk_files]
            paths = [p for p, _, _ in chunk]
            rel = [_utterance_id(p, root) for p in paths]
            emb, recs = _file_records(model, thresholds, paths, [s for _, s, _ in chunk], rel, n_jobs,
                                      [e for _, _, e in chunk])
            meta["parts"].append(write_part(out, emb, recs))
            write_meta(out, meta)  # the chunk is in the index from here on
            bar.update(len(chunk))
    finally:
        bar.close()


def _merge(out: Path, meta: dict, wanted: set[str], named: list[str]) -> tuple[list[dict], np.ndarray]:
    """Merge the parts into one, keeping only the files that are under the folder now."""
    written = list(meta["parts"])
    records, matrix, _ = entries(out, meta)
    keep = [i for i, r in enumerate(records) if r["path"] in wanted]
    records = [records[i] for i in keep]
    matrix = matrix[keep] if len(keep) else np.zeros((0, int(meta["dim"])), np.float32)
    meta["parts"] = [write_part(out, matrix, records)]
    meta["n_files"] = len(records)
    meta["n_errors"] = sum(r["error"] is not None for r in records)
    write_meta(out, meta)
    remove_unlisted_parts(out, meta["parts"], named=[*named, *written])
    return records, matrix


def check_index_target(folder: str | os.PathLike, output: str | os.PathLike) -> tuple[Path, Path]:
    """The checks :func:`index` makes before any work (the command line makes them before it loads the run):
    ``folder`` exists, and ``output`` is a folder clapemo may write an index of it into
    (:func:`clapemo.search.store.check_index_folder`). Returns the folder (its real path) and the output.

    Raises
    ------
    DataError
        No such folder, or an output that is refused (the message names it, what is in the way and what to do).
    """
    from clapemo.files import display_path

    root = Path(os.path.realpath(Path(folder).expanduser()))
    if not root.exists():
        raise DataError(f"folder = {display_path(root)}: no such folder (or file) to index")
    out = Path(output)
    check_index_folder(out, root)  # a folder clapemo may write, holding this folder's index
    return root, out


def index(folder: str | os.PathLike, *, run: Any, output: str | os.PathLike,
          runs_dir: str | os.PathLike | None = None, corpus: str | None = None, n_jobs: int = 1,
          progress: bool = True, chunk_files: int = CHUNK_FILES) -> Index:
    """Embed and describe every audio file under ``folder`` into the index ``output`` (created or updated).

    Parameters
    ----------
    folder : path
        Audio files are found recursively (``clapemo.describe.audio_files``); a single file is accepted too.
    run : str, Path or TrainedCLAP
        The trained run (name ``pa``/``cl``/``4d``, id or prefix, or folder; :func:`clapemo.runs.resolve_run`),
        or a loaded one (e.g. with settings layered by :func:`clapemo.describe.layered_run`). Its
        ``features.syllables`` counts the syllables: ``nuclei`` or ``asr``; ``transcript`` is refused
        (a ParameterError: the files have no text). An index described one way is described again, every file,
        when asked the other way.
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
    chunk_files : int
        Files per part (default :data:`CHUNK_FILES`): a killed run loses at most this many files' work.

    Returns
    -------
    Index, loaded (the run attached).
    """
    from clapemo import runs
    from clapemo.describe import audio_files, check_syllables, run_thresholds
    from clapemo.files import FolderLock, display_path

    if isinstance(chunk_files, bool) or not isinstance(chunk_files, (int, np.integer)) or chunk_files < 1:
        raise ParameterError(f"chunk_files = {chunk_files!r} must be a positive integer (files per part)")
    root, out = check_index_target(folder, output)
    # every file once (the same file named twice, or linked, is one entry); a broken link or a loop is a row
    files = list(dict.fromkeys(Path(os.path.realpath(p)) for p in audio_files(root)))
    model = run if hasattr(run, "head") else runs.load(run, runs_dir=runs_dir)
    thresholds = run_thresholds(model, corpus=corpus)
    check_syllables(model.config.features, model=model, command="index")  # own audio has no transcript
    t0 = time.perf_counter()
    with FolderLock(out, blocking=False, what="audio index"):
        meta, records, matrix, same_cuts, named = _open(out, root, model, thresholds)
        todo, reused_rows, reused_records = _plan(files, root, records, same_cuts)
        if reused_records:
            meta["parts"].append(write_part(out, matrix[reused_rows], reused_records))
            write_meta(out, meta)
        _embed_chunks(out, meta, todo, model=model, thresholds=thresholds, root=root, n_jobs=n_jobs,
                      chunk_files=int(chunk_files), progress=progress)
        records, matrix = _merge(out, meta, {display_path(p) for p in files}, named)
    log.info("indexed %d new/changed files of %d in %.1f s", len(todo), len(files), time.perf_counter() - t0)
    result = Index(path=out, meta=meta, table=entry_table(records), embeddings=matrix, _model=model)
    result.meta["last_run"] = {"embedded": len(todo), "reused": len(reused_records),
                               "seconds": round(time.perf_counter() - t0, 3)}
    return result
