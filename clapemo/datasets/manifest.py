"""The manifest schema shared by every corpus loader, and its validation.

A manifest is a :class:`pandas.DataFrame` with one row per utterance (or per audio-caption pair) and the columns
of :data:`COLUMNS`, in that order; caption sets add ``caption``; loaders may add extra ground-truth columns after
these. Every loader ends with :func:`build_manifest`, which runs :func:`validate_manifest`, so a manifest that
leaves a loader has unique ids, existing files and labels in :data:`clapemo.emotions.EMOTIONS`.
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

__all__ = ["COLUMNS", "CAPTION_COLUMN", "SEXES", "build_manifest", "validate_manifest", "corpus_root",
           "check_missing_option", "split_missing", "read_csv_rows"]

#: the manifest columns, in order (CONTRIBUTING.md, "The manifest")
COLUMNS: tuple[str, ...] = ("utterance_id", "path", "dataset", "speaker", "sex", "label", "raw_label", "text",
                            "start_s", "end_s", "split")
#: the extra column of caption sets, right after :data:`COLUMNS`
CAPTION_COLUMN = "caption"
SEXES: tuple[str, ...] = ("male", "female")
_OBJECT_COLUMNS = ("utterance_id", "path", "dataset", "speaker", "sex", "label", "raw_label", "text", "split")
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
                   allow_unlabelled: bool = False, empty_hint: str = "", skipped: Sequence = ()) -> pd.DataFrame:
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
    validate_manifest(df, name=name, caption=caption, allow_unlabelled=allow_unlabelled)
    return df


def _first(items: Iterable, n: int = 3) -> str:
    items = list(items)
    more = f" (and {len(items) - n} more)" if len(items) > n else ""
    return ", ".join(repr(i) for i in items[:n]) + more


def validate_manifest(df: pd.DataFrame, *, name: str | None = None, caption: bool | None = None,
                      allow_unlabelled: bool = False, check_files: bool = True) -> pd.DataFrame:
    """Check a manifest against the schema; raise :class:`DataError` naming the first rows that break a rule.

    Rules: the columns of :data:`COLUMNS` come first and in order; ``utterance_id`` is unique and starts with
    ``"<dataset>/"``; ``path`` is absolute (and the file exists when ``check_files``); ``label`` is in
    :data:`~clapemo.emotions.EMOTIONS` (None only for caption sets or when ``allow_unlabelled``); ``sex`` is
    ``"male"``, ``"female"`` or missing; ``start_s``/``end_s`` are both NaN (whole file) or
    ``0 <= start_s < end_s``; ``split`` is a non-empty string; caption sets have a non-empty ``caption``.

    Parameters
    ----------
    df : the manifest.
    name : expected ``dataset`` value (default: whatever the rows say, which must be one value per row prefix).
    caption : whether this is a caption set (default: whether a ``caption`` column is present).
    allow_unlabelled : accept missing labels in an emotion corpus.
    check_files : check that every ``path`` exists (one ``stat`` per distinct file).

    Returns
    -------
    The same DataFrame, for chaining.
    """
    where = name or "manifest"
    cols = list(df.columns)
    if cols[: len(COLUMNS)] != list(COLUMNS):
        raise DataError(f"{where}: manifest columns must start with {list(COLUMNS)}, got {cols[:len(COLUMNS)]}")
    caption = CAPTION_COLUMN in df.columns if caption is None else caption
    if caption and CAPTION_COLUMN not in df.columns:
        raise DataError(f"{where}: a caption-set manifest needs a '{CAPTION_COLUMN}' column")
    ids = df["utterance_id"]
    if ids.map(_isna).any():
        raise DataError(f"{where}: utterance_id is missing in {int(ids.map(_isna).sum())} rows")
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
    paths = df["path"]
    not_abs = [p for p in paths if _isna(p) or not os.path.isabs(str(p))]
    if not_abs:
        raise DataError(f"{where}: path must be an absolute path; got {_first(not_abs)}")
    if check_files:
        missing = [p for p in dict.fromkeys(paths) if not os.path.isfile(p)]
        if missing:
            raise DataError(f"{where}: {len(missing)} audio file(s) listed in the manifest do not exist: "
                            f"{_first(missing)}")
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
    bad = [v for v in dict.fromkeys(df["sex"]) if not _isna(v) and v not in SEXES]
    if bad:
        raise DataError(f"{where}: sex must be 'male', 'female' or None; got {_first(bad)}")
    start = pd.to_numeric(df["start_s"], errors="coerce").to_numpy(dtype=float)
    end = pd.to_numeric(df["end_s"], errors="coerce").to_numpy(dtype=float)
    whole = np.isnan(start) & np.isnan(end)
    seg_ok = ~np.isnan(start) & ~np.isnan(end) & (start >= 0) & (end > start)
    bad_seg = ~(whole | seg_ok)
    if bad_seg.any():
        rows = [f"{u} [{s}, {e}]" for u, s, e in zip(ids[bad_seg], start[bad_seg], end[bad_seg])]
        raise DataError(f"{where}: start_s/end_s must both be NaN (whole file) or satisfy 0 <= start_s < end_s; "
                        f"rows {_first(rows)}")
    bad = df.loc[[_isna(s) or not str(s) for s in df["split"]], "utterance_id"]
    if len(bad):
        raise DataError(f"{where}: split is empty in rows {_first(bad)}")
    return df


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
