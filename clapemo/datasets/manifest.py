"""The manifest schema shared by every corpus loader, and its validation.

A manifest is a :class:`pandas.DataFrame` with one row per utterance (or per audio-caption pair) and the columns
of :data:`COLUMNS`, in that order; caption sets add ``caption``; loaders may add extra ground-truth columns after
these. Every loader ends with :func:`build_manifest`, which runs :func:`validate_manifest`, so a manifest that
leaves a loader has unique ids, existing files and labels in :data:`clapemo.emotions.EMOTIONS`. Manifests stored
as csv with paths relative to their corpus folder (the synthetic benchmark) are read by :func:`read_manifest_csv`,
which runs the same :func:`validate_manifest` with the corpus root, so a path may not leave that folder.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from clapemo.emotions import EMOTIONS
from clapemo.errors import DataError, ParameterError
from clapemo.schema import CAPTION_COLUMN, MANIFEST_COLUMNS, SEXES, STRING_COLUMNS

__all__ = ["COLUMNS", "CAPTION_COLUMN", "SEXES", "build_manifest", "validate_manifest", "corpus_root",
           "check_missing_option", "split_missing", "read_csv_rows", "read_manifest_csv"]

#: the manifest columns, in order (CONTRIBUTING.md, "The manifest"); :data:`clapemo.schema.MANIFEST_COLUMNS`
COLUMNS: tuple[str, ...] = MANIFEST_COLUMNS
_OBJECT_COLUMNS = STRING_COLUMNS
MISSING_CHOICES = ("error", "skip")


def corpus_root(name: str, root: str | os.PathLike, *, expect: str) -> Path:
    """Resolve a corpus folder, or raise one line naming the corpus and where it looked.

    Parameters
    ----------
    name : corpus name, e.g. ``"ravdess"``.
    root : the folder the user gave.
    expect : what should be inside, e.g. ``"Actor_01/ ... Actor_24/"`` (shown in the message).
    """
    path = Path(root).expanduser().resolve()
    if not path.is_dir():
        raise DataError(f"{name}: corpus folder not found: {path} (expected it to hold {expect}; "
                        f"see data/README.md)")
    return path


def check_missing_option(name: str, missing: str) -> None:
    """Reject a ``missing=`` option other than ``"error"`` / ``"skip"``."""
    if missing not in MISSING_CHOICES:
        raise ParameterError(f"{name}: missing={missing!r} is not one of {list(MISSING_CHOICES)}")


def _isna(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def build_manifest(rows: Sequence[Mapping], *, name: str, caption: bool = False, extra: Iterable[str] = (),
                   allow_unlabelled: bool = False, empty_hint: str = "", skipped: Sequence = (),
                   root: str | os.PathLike | None = None) -> pd.DataFrame:
    """Turn loader rows into a validated manifest.

    Parameters
    ----------
    rows : one mapping per utterance holding every column of :data:`COLUMNS` (plus ``caption`` and ``extra``).
    name : the corpus name (the ``dataset`` column and the id prefix).
    caption : add the ``caption`` column (caption sets).
    extra : names of extra columns, kept after the schema columns in this order.
    allow_unlabelled : let ``label`` be None (caption sets; IEMOCAP with ``keep_unlabelled=True``).
    empty_hint : what the loader looked for; an empty manifest raises a :class:`DataError` naming it.
    skipped : ``(utterance_id, reason)`` pairs the caller left out on request (``missing="skip"``); stored in
        ``df.attrs["skipped"]`` so nothing disappears unrecorded.
    root : the corpus folder; when given, every ``path`` must lie inside it (see :func:`validate_manifest`).

    Returns
    -------
    DataFrame, one row per utterance (or audio-caption pair), validated.
    """
    columns = list(COLUMNS) + ([CAPTION_COLUMN] if caption else []) + list(extra)
    if not rows:
        raise DataError(f"{name}: no utterances found ({empty_hint or 'the corpus folder is empty'})")
    data = {}
    for col in columns:
        values = [row[col] for row in rows]  # KeyError here is a bug in the loader, not bad input
        if col in ("start_s", "end_s"):
            data[col] = np.asarray([np.nan if _isna(v) else float(v) for v in values], dtype=np.float64)
        elif col in _OBJECT_COLUMNS or col == CAPTION_COLUMN:
            data[col] = pd.Series(values, dtype=object)
        else:
            data[col] = values
    df = pd.DataFrame(data, columns=columns)
    df.attrs["skipped"] = [tuple(s) for s in skipped]
    validate_manifest(df, name=name, caption=caption, allow_unlabelled=allow_unlabelled, root=root)
    return df


def _first(items: Iterable, n: int = 3) -> str:
    items = list(items)
    more = f" (and {len(items) - n} more)" if len(items) > n else ""
    return ", ".join(repr(i) for i in items[:n]) + more


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([root, path]) == root
    except ValueError:  # different drives (Windows)
        return False


def validate_manifest(df: pd.DataFrame, *, name: str | None = None, caption: bool | None = None,
                      allow_unlabelled: bool = False, check_files: bool = True,
                      root: str | os.PathLike | None = None, source: str | os.PathLike | None = None,
                      expect_splits: Sequence[str] = ()) -> pd.DataFrame:
    """Check a manifest against the schema; raise :class:`DataError` naming the first rows that break a rule.

    Rules: at least one row; the columns of :data:`COLUMNS` are all present and come first, in order;
    ``utterance_id`` is present, unique and starts with ``"<dataset>/"``; ``path`` is a non-empty absolute path,
    inside ``root`` when given (no ``..`` escape; compared after :func:`os.path.normpath`) and an existing file
    when ``check_files``; ``label`` is in :data:`~clapemo.emotions.EMOTIONS` (None only for caption sets or when
    ``allow_unlabelled``); ``sex`` is ``"male"``, ``"female"`` or missing; ``start_s``/``end_s`` are numbers (or
    missing) and either both NaN (whole file) or ``0 <= start_s < end_s``; ``split`` is a non-empty string and
    every value of ``expect_splits`` has at least one row; caption sets have a non-empty ``caption``.

    Parameters
    ----------
    df : the manifest.
    name : expected ``dataset`` value (default: whatever the rows say, which must be one value per row prefix).
    caption : whether this is a caption set (default: whether a ``caption`` column is present).
    allow_unlabelled : accept missing labels in an emotion corpus.
    check_files : check that every ``path`` exists (one ``stat`` per distinct file).
    root : the corpus folder every ``path`` must lie in (``None``: not checked).
    source : the manifest file the rows were read from, named in every message.
    expect_splits : split values that must each have at least one row (e.g. ``("train", "test")``).

    Returns
    -------
    The same DataFrame, for chaining.
    """
    where = name or "manifest"
    if source is not None:
        where = f"{where}: {source}"
    caption = _check_columns(df, caption=caption, where=where)
    ids = df["utterance_id"]
    _check_ids(df, ids, name=name, where=where)
    _check_paths(ids, df["path"], root=root, check_files=check_files, where=where)
    _check_labels(df, caption=caption, allow_unlabelled=allow_unlabelled, where=where)
    bad = [v for v in dict.fromkeys(df["sex"]) if not _isna(v) and v not in SEXES]
    if bad:
        raise DataError(f"{where}: sex must be 'male', 'female' or None; got {_first(bad)}")
    _check_segments(df, ids, where)
    _check_splits(df, expect_splits=expect_splits, where=where)
    return df


def _check_columns(df: pd.DataFrame, *, caption: bool | None, where: str) -> bool:
    """The schema columns first and in order, at least one row, and ``caption`` for a caption set; returns
    whether this is a caption set (``caption``, default: whether the column is present)."""
    cols = list(df.columns)
    absent = [c for c in COLUMNS if c not in cols]
    if absent:
        raise DataError(f"{where}: the manifest lacks the schema column(s) {absent}; a manifest has "
                        f"{list(COLUMNS)} first")
    if cols[: len(COLUMNS)] != list(COLUMNS):
        raise DataError(f"{where}: manifest columns must start with {list(COLUMNS)}, got {cols[:len(COLUMNS)]}")
    if len(df) == 0:
        raise DataError(f"{where}: the manifest has no rows (a corpus needs at least one utterance)")
    caption = CAPTION_COLUMN in df.columns if caption is None else caption
    if caption and CAPTION_COLUMN not in df.columns:
        raise DataError(f"{where}: a caption-set manifest needs a '{CAPTION_COLUMN}' column")
    return caption


def _check_ids(df: pd.DataFrame, ids: pd.Series, *, name: str | None, where: str) -> None:
    """``utterance_id`` present, unique and starting with ``"<dataset>/"``; ``dataset`` is ``name`` if given."""
    no_id = [i for i, u in enumerate(ids) if _isna(u) or not str(u)]
    if no_id:
        raise DataError(f"{where}: utterance_id is missing in {len(no_id)} rows (row numbers from 0: "
                        f"{_first(no_id)})")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise DataError(f"{where}: utterance_id must be unique; repeated: {_first(dict.fromkeys(dup))}")
    if name is not None:
        bad = df.loc[df["dataset"] != name, "utterance_id"]
        if len(bad):
            raise DataError(f"{where}: dataset must be {name!r} in every row; rows {_first(bad)} differ")
    prefix_ok = [str(u).startswith(f"{d}/") for u, d in zip(ids, df["dataset"])]
    if not all(prefix_ok):
        raise DataError(f"{where}: utterance_id must start with '<dataset>/'; rows "
                        f"{_first(ids[[not ok for ok in prefix_ok]])} do not")


def _check_paths(ids: pd.Series, paths: pd.Series, *, root: str | os.PathLike | None, check_files: bool,
                 where: str) -> None:
    """``path`` non-empty and absolute, inside ``root`` when given, an existing file when ``check_files``."""
    empty = [u for u, p in zip(ids, paths) if _isna(p) or not str(p).strip()]
    if empty:
        raise DataError(f"{where}: path is empty in rows {_first(empty)}")
    not_abs = [f"{u} ({p})" for u, p in zip(ids, paths) if not os.path.isabs(str(p))]
    if not_abs:
        raise DataError(f"{where}: path must be an absolute path; rows {_first(not_abs)}")
    if root is not None:
        base = os.path.normpath(os.path.abspath(root))
        outside = [f"{u} ({p})" for u, p in zip(ids, paths) if not _inside(os.path.normpath(str(p)), base)]
        if outside:
            raise DataError(f"{where}: path must stay inside the corpus folder {base}; rows {_first(outside)} "
                            f"lie outside it")
    if check_files:
        exists = {p: os.path.isfile(p) for p in dict.fromkeys(paths)}
        missing = [f"{u} ({p})" for u, p in zip(ids, paths) if not exists[p]]
        if missing:
            n_files = sum(not ok for ok in exists.values())
            raise DataError(f"{where}: {n_files} audio file(s) listed in the manifest do not exist: rows "
                            f"{_first(missing)}")


def _check_labels(df: pd.DataFrame, *, caption: bool, allow_unlabelled: bool, where: str) -> None:
    """Caption sets: no label and a non-empty caption; emotion corpora: labels in the vocabulary (or missing
    when ``allow_unlabelled``)."""
    labels = df["label"]
    if caption:
        bad = [v for v in labels if not _isna(v)]
        if bad:
            raise DataError(f"{where}: caption sets have no emotion label; got {_first(bad)}")
        caps = df[CAPTION_COLUMN]
        empty = df.loc[[_isna(c) or not str(c).strip() for c in caps], "utterance_id"]
        if len(empty):
            raise DataError(f"{where}: empty caption in rows {_first(empty)}")
    else:
        bad = [v for v in dict.fromkeys(labels) if (not _isna(v) and v not in EMOTIONS)
               or (_isna(v) and not allow_unlabelled)]
        if bad:
            raise DataError(f"{where}: labels {_first(bad)} are not in the canonical vocabulary {list(EMOTIONS)}")


def _check_splits(df: pd.DataFrame, *, expect_splits: Sequence[str], where: str) -> None:
    """``split`` non-empty in every row, and each of ``expect_splits`` with at least one row."""
    bad = df.loc[[_isna(s) or not str(s) for s in df["split"]], "utterance_id"]
    if len(bad):
        raise DataError(f"{where}: split is empty in rows {_first(bad)}")
    present = set(df["split"])
    empty_splits = [s for s in expect_splits if s not in present]
    if empty_splits:
        raise DataError(f"{where}: split(s) {empty_splits} have no rows; expected rows in each of "
                        f"{list(expect_splits)}, found {sorted(map(str, present))}")


def _check_segments(df: pd.DataFrame, ids: pd.Series, where: str) -> None:
    """``start_s``/``end_s``: numbers or missing; both NaN (whole file) or ``0 <= start_s < end_s``."""
    raw = {c: df[c].tolist() for c in ("start_s", "end_s")}
    num = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float) for c in raw}
    not_numbers = [f"{u} ({c}={v!r})" for c in raw for u, v, x in zip(ids, raw[c], num[c])
                   if np.isnan(x) and not _isna(v) and not (isinstance(v, str) and not v.strip())]
    if not_numbers:
        raise DataError(f"{where}: start_s/end_s must be numbers of seconds (or empty for the whole file); rows "
                        f"{_first(not_numbers)}")
    start, end = num["start_s"], num["end_s"]
    whole = np.isnan(start) & np.isnan(end)
    seg_ok = ~np.isnan(start) & ~np.isnan(end) & (start >= 0) & (end > start)
    bad_seg = ~(whole | seg_ok)
    if bad_seg.any():
        def why(s: float, e: float) -> str:
            if np.isnan(s) or np.isnan(e):
                return "only one bound"
            return "negative" if s < 0 or e < 0 else "start_s >= end_s"
        rows = [f"{u} [{s}, {e}]: {why(s, e)}" for u, s, e in zip(ids[bad_seg], start[bad_seg], end[bad_seg])]
        raise DataError(f"{where}: start_s/end_s must both be NaN (whole file) or satisfy 0 <= start_s < end_s; "
                        f"rows {_first(rows)}")


def read_manifest_csv(path: str | os.PathLike, *, name: str, root: str | os.PathLike | None = None,
                      string_columns: Iterable[str] = (), caption: bool | None = None,
                      allow_unlabelled: bool = False, expect_splits: Sequence[str] = ()) -> pd.DataFrame:
    """Read a manifest stored as csv with paths relative to its corpus folder, and validate it.

    Paths are joined to ``root`` and normalised; :func:`validate_manifest` then runs with ``root`` (a path such as
    ``../../etc/hostname`` is rejected) and ``source=path``, so every message names the file.

    Parameters
    ----------
    path : the csv file (columns :data:`COLUMNS` first, then extras).
    name : the corpus name (the expected ``dataset``).
    root : the corpus folder (default: the csv's folder).
    string_columns : extra columns read as str-or-None (the schema's :data:`~clapemo.schema.STRING_COLUMNS`
        always are).
    caption, allow_unlabelled, expect_splits : as in :func:`validate_manifest`.

    Returns
    -------
    DataFrame, one row per utterance, ``path`` absolute, ``start_s``/``end_s`` float (NaN = whole file).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{name}: manifest file not found: {path}")
    base = Path(root).resolve() if root is not None else path.resolve().parent
    strings = list(dict.fromkeys([*STRING_COLUMNS, *string_columns]))
    try:
        frame = pd.read_csv(path, dtype={c: "string" for c in strings}, keep_default_na=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{name}: {path}: not a readable csv manifest ({err})") from err
    for col in frame.columns:
        if col in strings:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    if "path" in frame.columns:
        frame["path"] = [p if _isna(p) or not str(p).strip() else os.path.normpath(os.path.join(base, str(p)))
                         for p in frame["path"]]
    validate_manifest(frame, name=name, caption=caption, allow_unlabelled=allow_unlabelled, root=base,
                      source=path, expect_splits=expect_splits)
    for col in ("start_s", "end_s"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(np.float64)
    return frame


def split_missing(rows: Sequence[Mapping], *, name: str, missing: str) -> tuple[list, list]:
    """Separate rows whose ``path`` does not exist: raise (``missing="error"``) or return them as skipped.

    Returns
    -------
    (kept_rows, skipped) with ``skipped`` a list of ``(utterance_id, reason)``; a warning gives the count.
    """
    check_missing_option(name, missing)
    exists: dict[str, bool] = {}
    kept, skipped = [], []
    for row in rows:
        p = row["path"]
        if p not in exists:
            exists[p] = os.path.isfile(p)
        if exists[p]:
            kept.append(row)
        else:
            skipped.append((row["utterance_id"], f"{p}: missing"))
    report_missing(name, skipped, [p for p, ok in exists.items() if not ok], missing,
                   source="listed in the annotations", unit="row", stacklevel=4)
    return kept, skipped


def report_missing(name: str, skipped: list, files: list[str], missing: str, *, source: str, unit: str,
                   stacklevel: int = 3) -> None:
    """Raise (``missing="error"``) or warn (``"skip"``) about ``skipped`` rows whose audio ``files`` are absent.

    ``source`` says where the files were named ("listed in the annotations"), ``unit`` what a row is ("row",
    "segment"); the skipped rows themselves go to ``df.attrs['skipped']`` (the caller records them).
    """
    import warnings

    if not skipped:
        return
    if missing == "error":
        raise DataError(f"{name}: {len(files)} audio file(s) {source} are absent ({_first(files)}); "
                        f"pass missing='skip' to leave them out (recorded in df.attrs['skipped'])")
    warnings.warn(f"{name}: left out {len(skipped)} {unit}(s) of {len(files)} absent audio file(s); see "
                  "df.attrs['skipped']", stacklevel=stacklevel)


def read_csv_rows(path: os.PathLike | str, *, name: str, required: Sequence[str]) -> list[tuple[int, dict]]:
    """``(line_number, record)`` for every data row of a csv annotation file with the ``required`` columns.

    A missing file or column is a :class:`DataError` naming the file and the expected columns.
    """
    import csv

    if not os.path.isfile(path):
        raise DataError(f"{name}: missing annotation file {path}")
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.DictReader(fh)
        absent = [c for c in required if c not in (reader.fieldnames or [])]
        if absent:
            raise DataError(f"{name}: {path} lacks columns {absent}; expected at least {list(required)}")
        return [(i, rec) for i, rec in enumerate(reader, start=2)]
