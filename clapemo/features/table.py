"""Many clips: :func:`extract_table` measures a manifest (or a list of files, or a folder) and returns the features
table of ``CONTRIBUTING.md``, one row per input, failures recorded in ``error`` rather than raised.

* **Cache**: one JSON file per clip under ``FeaturesConfig.cache_dir`` (:func:`cache_file`), keyed by the sha256
  of the file's bytes, the segment and ``config_hash`` of the features config (:func:`cache_key`), written
  atomically (a temporary file and a rename) by the process that measured the clip, so a repeated run is
  near-instant and an interrupted run resumes where it stopped. A damaged entry, or one of another field set
  (written without ``voice_quality`` for a request with it), is measured again.
* **Parallel**: the clips that need measuring go through :func:`clapemo.executor.map_tasks` (local worker
  processes, ``n_jobs``; one clip per task; results in input order, bitwise those of the serial loop). The
  executor's rules hold: workers die with the parent (SIGKILL or SIGTERM of ``clapemo features`` leaves none),
  Ctrl-C ends them at once (the clips finished so far are cached), workers inherit the numerics pins.
* **Syllables** (``FeaturesConfig.syllables``): ``nuclei`` (default) counts in the measurement;
  ``transcript`` counts the manifest's ``text`` cell (:func:`clapemo.features.syllables.text_syllables`), and a
  row without one (no ``text`` column, an empty cell, a list of files, a folder) is an error row that names the
  rule, never a count of another method; ``asr`` first transcribes the clips left to measure
  (:func:`clapemo.features.asr.transcribe`: batched, cached per clip and model, ``n_jobs`` workers) and counts
  that text. Either way the table gains the column ``syllables_method`` (``schema.SYLLABLES_COLUMN``) before
  ``error``, naming the method; the default table has no such column, and its cache keys and entries are those
  from before the option existed.
* **Bad rows**: a file that cannot be measured (the rules: :mod:`clapemo.features`) gives a row whose ``error``
  is ``"DataError: <message>"``; so does, in a manifest, an empty path cell or a ``start_s``/``end_s`` that is
  not a number. A FIFO is refused before it is opened (hashing it would block). A worker pool that breaks (a
  crash in native code) records its unfinished clips as errors, uncached, so a rerun retries them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from clapemo.audio import regular_file
from clapemo.config import Config, FeaturesConfig, config_hash, section
from clapemo.errors import ClapEmoError, DataError, ParameterError
from clapemo.executor import LOCAL, map_tasks, progress_bar
from clapemo.features.asr import model_identity, transcribe
from clapemo.features.clip import extract
from clapemo.features.properties import EXTRA_FIELDS, EXTRA_TABLE_COLUMNS, PROPERTY_FIELDS, TABLE_COLUMNS
from clapemo.features.syllables import text_rules_identity
from clapemo.files import file_sha256
from clapemo.schema import SYLLABLES_COLUMN

__all__ = ["extract_table", "read_manifest", "cache_key", "cache_file", "AUDIO_SUFFIXES", "ANALYSIS_VERSION"]

#: Bump when the analysis changes in a way that should invalidate cached results.
ANALYSIS_VERSION = "2"
#: Audio file suffixes picked up when a folder is given to :func:`extract_table`.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".mp4", ".m4a", ".aac", ".webm", ".aiff", ".aif")

Job = tuple  # (utterance_id, path, start_s, end_s, error or None, text or None)
Todo = tuple  # (row index, path, start_s, end_s, cache file or None, text or None): a clip to measure


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _record_fields(cfg: FeaturesConfig) -> tuple[str, ...]:
    """The property fields a record (cache entry, table row) of this config holds."""
    return PROPERTY_FIELDS + EXTRA_FIELDS if cfg.voice_quality else PROPERTY_FIELDS


# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------


def _segment_bound(value: Any, column: str, row: int, uid: str) -> tuple[float | None, str | None]:
    """A manifest's start_s / end_s cell as a float (None = missing), or the per-row error message."""
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None, None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"DataError: manifest row {row} ({uid}): {column} = {value!r} is not a number of seconds"
    if math.isnan(number):
        return None, None
    return number, None


def _text_cell(value: Any) -> str | None:
    """A manifest's ``text`` cell: the text, or None when it is missing or blank."""
    return value if isinstance(value, str) and value.strip() else None


def _jobs_from_input(manifest_or_paths: Any) -> list[Job]:
    """(utterance_id, path, start_s, end_s, error, text) per input row, in order; ``error`` is the message of a
    row that cannot be measured (empty path cell, a segment bound that is not a number), else None; ``text`` the
    manifest's ``text`` cell (None when missing or blank, and for paths and folders)."""
    import pandas as pd

    if isinstance(manifest_or_paths, pd.DataFrame):
        df = manifest_or_paths
        if "path" not in df.columns:
            raise DataError(f"manifest has no 'path' column (columns: {list(df.columns)})")
        ids = df["utterance_id"] if "utterance_id" in df.columns else df["path"]
        starts = df["start_s"] if "start_s" in df.columns else [None] * len(df)
        ends = df["end_s"] if "end_s" in df.columns else [None] * len(df)
        texts = df["text"] if "text" in df.columns else [None] * len(df)
        jobs = []
        for row, (uid, path, s, e, text) in enumerate(zip(ids, df["path"], starts, ends, texts)):
            uid = "" if _is_missing(uid) else str(uid)
            error = None
            if _is_missing(path) or not str(path).strip():
                path, error = "", (f"DataError: manifest row {row} ({uid or 'no utterance_id'}): "
                                   "the path cell is empty")
            start, start_error = _segment_bound(s, "start_s", row, uid)
            end, end_error = _segment_bound(e, "end_s", row, uid)
            jobs.append((uid or str(path), str(path), start, end, error or start_error or end_error,
                         _text_cell(text)))
        return jobs
    if isinstance(manifest_or_paths, (str, os.PathLike)):
        root = Path(manifest_or_paths)
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not files:
                raise DataError(f"{root}: folder holds no audio files (looked for {', '.join(AUDIO_SUFFIXES)})")
            return [(p.relative_to(root).with_suffix("").as_posix(), str(p), None, None, None, None)
                    for p in files]
        return [(str(root), str(root), None, None, None, None)]
    if isinstance(manifest_or_paths, Iterable):
        return [(str(p), str(p), None, None, None, None) for p in manifest_or_paths]
    raise ParameterError(f"manifest_or_paths = {type(manifest_or_paths).__name__} must be a manifest DataFrame, "
                         "a folder, or a list of paths")


def _require_text(jobs: list[Job]) -> list[Job]:
    """``features.syllables = transcript``: a row without text gets its error (never another method's count)."""
    out = []
    for row, (uid, path, start, end, error, text) in enumerate(jobs):
        if error is None and text is None:
            error = (f"DataError: row {row} ({uid}, {path}): features.syllables = transcript needs the manifest's "
                     "text; this clip has none (give a manifest with a 'text' column, or use features.syllables "
                     "= asr to transcribe it)")
        out.append((uid, path, start, end, error, text))
    return out


def read_manifest(path: str | os.PathLike) -> Any:
    """A saved manifest, ready for :func:`extract_table`.

    Parameters
    ----------
    path : str or PathLike
        A ``.parquet``, ``.csv`` or ``.tsv`` file with a ``path`` column; relative clip paths in it are relative
        to the manifest's folder.

    Returns
    -------
    pandas.DataFrame or None
        The manifest with absolute ``path`` cells (an empty cell stays empty: :func:`extract_table` records it as
        that row's error); None when ``path`` has another suffix (an audio file, say).

    Raises
    ------
    DataError
        The file cannot be read, or has no ``path`` column.
    """
    import pandas as pd

    path = Path(path)
    try:
        if path.suffix == ".parquet":
            manifest = pd.read_parquet(path)
        elif path.suffix in (".csv", ".tsv"):
            manifest = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
        else:
            return None
    except Exception as err:  # noqa: BLE001
        raise DataError(f"{path}: cannot read the manifest ({err})") from None
    if "path" not in manifest.columns:
        raise DataError(f"{path}: manifest has no 'path' column (columns: {list(manifest.columns)})")
    base = path.resolve().parent
    manifest["path"] = ["" if _is_missing(p) or not str(p).strip() else str(p) if Path(str(p)).is_absolute()
                        else str(base / str(p)) for p in manifest["path"]]
    return manifest


# --------------------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------------------


def cache_key(file_sha: str, *, start_s: float | None, end_s: float | None, config: FeaturesConfig,
              text: str | None = None) -> str:
    """The cache key of one clip's measurement.

    Parameters
    ----------
    file_sha : str
        sha256 of the file's bytes (hex; :func:`clapemo.files.file_sha256`).
    start_s, end_s : float or None
        The segment, seconds (None = the file's start / end).
    config : FeaturesConfig
        Every hashed field counts (``config_hash``), ``voice_quality`` included, so a run with it never shares a
        key with a run without it; so does :data:`ANALYSIS_VERSION`. ``syllables = transcript`` adds the text
        and the counting rules' identity (:func:`~clapemo.features.syllables.text_rules_identity`), ``asr`` the
        model's (:func:`~clapemo.features.asr.model_identity`) and the rules'; ``nuclei`` (the default) adds
        nothing, so its keys are those from before the option existed.
    text : str, optional
        The clip's text (``syllables = transcript`` only).

    Returns
    -------
    str
        32 hex digits.
    """
    key = f"{file_sha}|{start_s!r}|{end_s!r}|{config_hash(config)}|v{ANALYSIS_VERSION}"
    if config.syllables == "transcript":
        key += f"|text:{hashlib.sha256(str(text).encode()).hexdigest()}|{text_rules_identity()}"
    elif config.syllables == "asr":
        key += f"|asr:{model_identity()}|{text_rules_identity()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def cache_file(key: str, *, config: FeaturesConfig) -> Path:
    """Where the entry of :func:`cache_key` ``key`` lives: ``<config.cache_dir>/<key[:2]>/<key>.json``."""
    return Path(config.cache_dir) / key[:2] / f"{key}.json"


def _read_cache(path: Path, fields: tuple[str, ...] = PROPERTY_FIELDS) -> dict | None:
    """A cache entry holding exactly ``fields`` and ``error`` (an entry of another field set, e.g. one written
    without ``voice_quality`` for a request with it, is recomputed), or None."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or set(record) != set(fields) | {"error"}:
        return None
    # a damaged entry (wrong types, e.g. "abc" where a number belongs) is recomputed, never trusted
    numbers_ok = all(record[name] is None or (isinstance(record[name], (int, float))
                                              and not isinstance(record[name], bool))
                     for name in fields)
    if not numbers_ok or not (record["error"] is None or isinstance(record["error"], str)):
        return None
    if record["error"] is None and not all(isinstance(record[name], (int, float)) for name in fields):
        return None
    return record


def _write_cache(path: Path, record: dict) -> None:
    """Atomic write (temp file + rename), so an interrupted run never leaves a half-written entry."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(record, f)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full cache must not fail the measurement


def _empty_record(error: str, duration_s: float = math.nan, fields: tuple[str, ...] = PROPERTY_FIELDS) -> dict:
    record = {name: math.nan for name in fields}
    record["duration_s"] = duration_s
    record["error"] = error
    return record


# --------------------------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------------------------


def _measure(task: tuple[str, float | None, float | None, FeaturesConfig, str | None, str | None]) -> dict:
    """One clip (path, start_s, end_s, config, cache file or None, text or None) -> record (property fields +
    error), cached. Never raises (an executor task, in a worker or in this process)."""
    path, start, end, cfg, cache_path, text = task
    fields = _record_fields(cfg)
    try:
        props = extract(path, config=cfg, start_s=start, end_s=end, text=text)
        record = {**{name: getattr(props, name) for name in fields}, "error": None}
    except ClapEmoError as err:
        record = _empty_record(f"{type(err).__name__}: {err}", fields=fields)
    except Exception as err:  # noqa: BLE001 - a batch must survive any one file; not cached (may be transient)
        return _empty_record(f"{type(err).__name__}: {err}", fields=fields)
    if cache_path is not None:
        _write_cache(Path(cache_path), record)
    return record


def _cached_or_todo(jobs: list[Job], cfg: FeaturesConfig, *, use_cache: bool) -> tuple[list, list[Todo]]:
    """The records known without measuring (row errors, unreadable files, cache hits; None elsewhere) and the
    clips left to measure."""
    fields = _record_fields(cfg)
    records: list[dict | None] = [None] * len(jobs)
    todo: list[Todo] = []
    for i, (_, path, start, end, error, text) in enumerate(jobs):
        if error is not None:
            records[i] = _empty_record(error, fields=fields)
            continue
        try:
            regular_file(path)  # a FIFO would block the hash forever: refused before anything opens it
            sha = file_sha256(path)
        except DataError as err:
            records[i] = _empty_record(f"DataError: {err}", fields=fields)
            continue
        except FileNotFoundError:
            records[i] = _empty_record(f"DataError: {path}: audio file not found", fields=fields)
            continue
        except IsADirectoryError:
            records[i] = _empty_record(f"DataError: {path}: not a regular file", fields=fields)
            continue
        except OSError as err:
            records[i] = _empty_record(f"DataError: {path}: cannot be read ({err})", fields=fields)
            continue
        cache_path = None
        if use_cache:
            cache_path = cache_file(cache_key(sha, start_s=start, end_s=end, config=cfg, text=text), config=cfg)
        cached = _read_cache(cache_path, fields) if cache_path is not None and cache_path.is_file() else None
        if cached is not None:
            records[i] = cached
        else:
            todo.append((i, path, start, end, None if cache_path is None else str(cache_path), text))
    return records, todo


def _with_transcripts(todo: list[Todo], records: list, cfg: FeaturesConfig, *, use_cache: bool,
                      n_jobs: int) -> list[Todo]:
    """``syllables = asr``: the clips of ``todo`` with Whisper's text in place of the manifest's (batched and
    cached, :func:`clapemo.features.asr.transcribe`); a clip it cannot read gets its error row here."""
    heard = transcribe([(path, start, end) for _, path, start, end, _, _ in todo], config=cfg,
                       use_cache=use_cache, n_jobs=n_jobs)
    out = []
    for (i, path, start, end, cache, _), (text, error) in zip(todo, heard):
        if error is not None:
            records[i] = _empty_record(error, fields=_record_fields(cfg))
        else:
            out.append((i, path, start, end, cache, text))
    return out


def _measure_all(todo: list[Todo], records: list, cfg: FeaturesConfig, *, n_jobs: int, progress: bool) -> None:
    """Measure the clips of ``todo`` into ``records`` (``n_jobs`` local worker processes, or this one)."""
    bar = progress_bar(total=len(todo), desc="features", unit="clip", enabled=progress)

    def finished(k: int, record: dict) -> None:
        records[todo[k][0]] = record
        bar.update(1)

    try:
        # the clips' files are this machine's: local workers, whatever CLAPEMO_SCHEDULER says
        map_tasks(_measure, [(path, start, end, cfg, cache, text) for _, path, start, end, cache, text in todo],
                  n_workers=n_jobs, scheduler=LOCAL, progress=False, on_result=finished)
    except Exception as err:  # noqa: BLE001 - e.g. a worker killed by a crash in native code
        for i, *_ in todo:  # not cached, so a rerun retries them
            if records[i] is None:
                records[i] = _empty_record(f"{type(err).__name__}: worker pool failed before this clip "
                                           f"finished ({err})", fields=_record_fields(cfg))
    finally:
        bar.close()  # Ctrl-C: the executor has ended the workers; finished clips are cached, a rerun resumes


def extract_table(manifest_or_paths: Any, *, config: FeaturesConfig | Config | None = None, n_jobs: int = -1,
                  use_cache: bool = True, progress: bool = True) -> "pd.DataFrame":  # noqa: F821
    """Measure many clips: one row per input, in input order, failures recorded rather than raised.

    Parameters
    ----------
    manifest_or_paths : DataFrame, folder, or sequence of paths
        A manifest (``CONTRIBUTING.md`` schema; needs ``path``; uses ``utterance_id``, ``start_s``, ``end_s``
        when present, NaN = whole file; ``text`` with ``config.syllables = "transcript"``), a folder (audio
        files found recursively, sorted; ``utterance_id`` = path relative to the folder without suffix), or paths
        (``utterance_id`` = the path).
    config : FeaturesConfig or Config, optional
        ``None`` uses the defaults. ``cache_dir`` is where results are cached.
    n_jobs : int
        Worker processes (:func:`clapemo.executor.map_tasks`); -1 = all cores, 1 = in this process.
    use_cache : bool
        Read and write the per-clip cache (module docstring).
    progress : bool
        Show a tqdm progress bar over the clips that need measuring.

    Returns
    -------
    pandas.DataFrame, shape (n_inputs, 11), or (n_inputs, 16) with ``voice_quality``
        Columns :data:`~clapemo.features.properties.TABLE_COLUMNS`: ``utterance_id, path``, the
        :class:`~clapemo.features.properties.AcousticProperties` fields (``n_syllables`` as nullable
        ``Int64``), ``error`` (None, or ``"DataError: <message>"``; the property columns are NaN on such rows,
        except ``duration_s`` where it is known). With ``voice_quality``:
        :data:`~clapemo.features.properties.EXTRA_TABLE_COLUMNS` (the voice-quality fields, float64, before
        ``error``). With ``syllables`` other than ``nuclei``: ``syllables_method`` (that method's name) before
        ``error``.
    """
    import pandas as pd

    cfg = section(config, FeaturesConfig)
    fields = _record_fields(cfg)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ParameterError(f"n_jobs = {n_jobs!r} must be a positive int or -1 (all cores)")
    jobs = _jobs_from_input(manifest_or_paths)
    if cfg.syllables == "transcript":
        jobs = _require_text(jobs)
    records, todo = _cached_or_todo(jobs, cfg, use_cache=use_cache)
    if todo and cfg.syllables == "asr":
        todo = _with_transcripts(todo, records, cfg, use_cache=use_cache, n_jobs=n_jobs)
    if todo:
        _measure_all(todo, records, cfg, n_jobs=n_jobs, progress=progress)

    rows = [{"utterance_id": uid, "path": path, **rec} for (uid, path, *_), rec in zip(jobs, records)]
    table = pd.DataFrame(rows, columns=list(EXTRA_TABLE_COLUMNS if cfg.voice_quality else TABLE_COLUMNS))
    for name in fields:
        if name != "n_syllables":
            table[name] = table[name].astype("float64")
    table["n_syllables"] = pd.array([None if _is_missing(v) else int(v) for v in table["n_syllables"]],
                                    dtype="Int64")
    table["error"] = table["error"].astype(object).where(table["error"].notna(), None)
    if cfg.syllables != "nuclei":  # which method counted; absent at the default (its tables stay as they were)
        table.insert(len(table.columns) - 1, SYLLABLES_COLUMN, cfg.syllables)
    return table
