"""Your own corpus: a folder of audio files plus a labels CSV.

Layout::

    <root>/labels.csv                 (or labels=<file>, relative to root or absolute)
    <root>/<any sub-folders>/<clip>.wav|.flac|.mp3|.mp4 ...

``labels.csv`` columns (a header row is required; extra columns are kept as string extras, in CSV order):

============  ========  ==================================================================================
column        needed    meaning
============  ========  ==================================================================================
``path``      yes       the audio file, relative to root (``/`` separators); may not leave the root
``label``     yes       a canonical emotion of :data:`clapemo.emotions.EMOTIONS`, or a raw label that
                        ``mapping`` maps onto one (``raw_label`` keeps what the CSV says)
``speaker``   no        speaker id (default None)
``sex``       no        ``male``/``female`` (also ``m``/``f``, any case); empty = unknown
``split``     no        any non-empty value (``train``/``dev``/``test`` or a fold name); see below
``fold``      no        integer >= 0: the ``fold`` column that ``data.test_fold`` re-splits by
``text``      no        transcript (default None)
``start_s``   no        segment start in seconds (with ``end_s``; both empty = the whole file)
``end_s``     no        segment end in seconds
============  ========  ==================================================================================

Rules (each break is a :class:`~clapemo.errors.DataError` naming the CSV file, the line and the rule): ``path``
non-empty, relative, and not leaving the root once normalised (``../x.wav`` is refused; a symlink inside the root
is followed as is); the file exists (``missing="skip"`` instead leaves such rows out, warns and records them in
``df.attrs["skipped"]``); the label is known; ``sex`` as above; ``fold`` an integer >= 0 in every row when the
column exists; ``start_s``/``end_s`` both empty or ``0 <= start_s < end_s``; no two rows name the same
``(path, start_s, end_s)``; ``split`` non-empty in every row when the column exists.

Splits: the CSV's ``split`` when given; else, with a ``fold`` column, ``"test"`` for ``fold == test_fold``
(default 0) and ``"train"`` otherwise; else ``"train"`` for every row. The dataset name is ``"folder"`` or
``name=`` (so two own corpora can coexist); ``utterance_id = <name>/<path>`` (plus ``[start_s-end_s]`` for a
segment). Its label set is the labels present (:func:`label_set`).
"""

from __future__ import annotations

import math
import os
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path

from clapemo.datasets.manifest import build_manifest, check_missing_option, corpus_root, read_csv_rows
from clapemo.datasets.names import DATASETS
from clapemo.datasets.partial import PartialCorpusWarning, nothing_usable
from clapemo.emotions import EMOTIONS
from clapemo.errors import DataError, ParameterError

NAME = "folder"
DEFAULT_LABELS = "labels.csv"
REQUIRED_COLUMNS: tuple[str, ...] = ("path", "label")
OPTIONAL_COLUMNS: tuple[str, ...] = ("speaker", "sex", "split", "fold", "text", "start_s", "end_s")
#: accepted ``sex`` cells (lower-cased) -> manifest value
SEX_MAP: dict[str, str] = {"male": "male", "m": "male", "female": "female", "f": "female"}
#: canonical labels map onto themselves; ``mapping=`` adds raw labels
LABEL_MAP: dict[str, str] = {e: e for e in EMOTIONS}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
LAYOUT = f"{DEFAULT_LABELS} (columns path,label[,speaker,sex,split,fold,text,start_s,end_s]) and the audio files"


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name) or name.startswith("synth-") or name in DATASETS:
        raise ParameterError(f"folder corpus name={name!r} must be letters, digits, '_', '.' or '-' (not "
                             f"starting with 'synth-', not one of {list(DATASETS)})")
    return name


def _read_mapping(mapping: Mapping[str, str] | str | os.PathLike | None, root: Path) -> dict[str, str]:
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        import yaml

        path = Path(mapping)
        path = path if path.is_absolute() else root / path
        try:
            mapping = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML is a superset of JSON
        except (OSError, yaml.YAMLError) as err:
            raise ParameterError(f"folder: mapping file {str(path)!r} must be a YAML/JSON mapping raw label -> "
                                 f"canonical emotion ({err})") from None
        if not isinstance(mapping, Mapping):
            raise ParameterError(f"folder: mapping file {str(path)!r} must hold a mapping raw label -> emotion")
    bad = {str(k): v for k, v in mapping.items() if v not in EMOTIONS}
    if bad:
        raw, value = next(iter(bad.items()))
        raise ParameterError(f"folder: mapping {raw!r} -> {value!r}: the target must be one of {list(EMOTIONS)}")
    return {str(k).strip(): v for k, v in mapping.items()}


def _number(cell: str, *, where: str, column: str) -> float | None:
    cell = (cell or "").strip()
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise DataError(f"{where}: {column} {cell!r} is not a number of seconds") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {column} {cell!r} must be finite")
    return value


def label_set(manifest) -> tuple[str, ...]:
    """The labels present in a folder-corpus manifest, in :data:`~clapemo.emotions.EMOTIONS` order."""
    present = set(manifest["label"].dropna())
    return tuple(e for e in EMOTIONS if e in present)


def _relative_path(rec: Mapping[str, str], *, where: str) -> tuple[str, str]:
    """The row's ``path`` cell as given (``\\`` read as ``/``) and normalised; it must stay inside the root."""
    rel = (rec.get("path") or "").strip().replace("\\", "/")
    if not rel:
        raise DataError(f"{where}: path is empty; every row names an audio file relative to the root")
    norm = posixpath.normpath(rel)
    if rel.startswith("/") or os.path.isabs(rel) or norm == ".." or norm.startswith("../"):
        raise DataError(f"{where}: path {rel!r} must be relative to the root and stay inside it")
    return rel, norm


def _label(rec: Mapping[str, str], maps: Mapping[str, str], *, where: str) -> tuple[str, str]:
    """The row's raw label and its canonical emotion (through ``maps``, else as given or lower-cased)."""
    raw = (rec.get("label") or "").strip()
    label = maps.get(raw, raw if raw in EMOTIONS else raw.lower() if raw.lower() in EMOTIONS else None)
    if label is None:
        raise DataError(f"{where}: label {raw!r} is neither a canonical emotion {list(EMOTIONS)} nor a key "
                        f"of the mapping ({sorted(maps) or 'none given'})")
    return raw, label


def _segment(rec: Mapping[str, str], *, where: str) -> tuple[float | None, float | None]:
    """``(start_s, end_s)``: both None (the whole file) or ``0 <= start_s < end_s``."""
    start = _number(rec.get("start_s"), where=where, column="start_s")
    end = _number(rec.get("end_s"), where=where, column="end_s")
    if (start is None) != (end is None) or (start is not None and not 0 <= start < end):
        raise DataError(f"{where}: start_s/end_s = {start}/{end}: both empty (whole file) or "
                        "0 <= start_s < end_s")
    return start, end


def _fold_and_split(rec: Mapping[str, str], *, where: str, has_fold: bool, has_split: bool,
                    test_fold: int) -> tuple[int | None, str]:
    """The row's fold (None without the column) and split: the ``split`` cell, else by fold (see the module)."""
    fold = None
    if has_fold:
        cell = (rec.get("fold") or "").strip()
        if not re.fullmatch(r"\d+", cell):
            raise DataError(f"{where}: fold {cell!r} must be an integer >= 0 (every row, as the column "
                            "exists)")
        fold = int(cell)
    if has_split:
        split = (rec.get("split") or "").strip()
        if not split:
            raise DataError(f"{where}: split is empty (every row needs one, as the column exists)")
    else:
        split = "train" if fold is None or fold != test_fold else "test"
    return fold, split


def _rows(records: list, *, name: str, root: Path, csv_path: Path, maps: Mapping[str, str], test_fold: int,
          missing: str) -> tuple[list[dict], list[tuple[str, str]], bool, list[str]]:
    """The manifest rows of the CSV records, the rows skipped for a missing file (``missing="skip"``), whether
    there is a ``fold`` column, and the extra columns; each broken rule is a DataError naming the line."""
    header = list(records[0][1]) if records else []
    extras = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    has_fold, has_split = "fold" in header, "split" in header
    rows, skipped, seen = [], [], {}
    for lineno, rec in records:
        where = f"{name}: {csv_path} line {lineno}"
        rel, norm = _relative_path(rec, where=where)
        raw, label = _label(rec, maps, where=where)
        sex_cell = (rec.get("sex") or "").strip()
        if sex_cell and sex_cell.lower() not in SEX_MAP:
            raise DataError(f"{where}: sex {sex_cell!r} must be male/female (or m/f) or empty")
        start, end = _segment(rec, where=where)
        key = (norm, start, end)
        if key in seen:
            raise DataError(f"{where}: path {rel!r} (segment {start}-{end}) repeats line {seen[key]}; each row "
                            "must name a distinct file or segment")
        seen[key] = lineno
        fold, split = _fold_and_split(rec, where=where, has_fold=has_fold, has_split=has_split,
                                      test_fold=test_fold)
        seg = "" if start is None else f"[{start:g}-{end:g}]"
        uid = f"{name}/{norm}{seg}"
        path = root / norm
        if not path.is_file():
            if missing == "error":
                raise DataError(f"{where}: audio file {path} does not exist (pass missing='skip' to leave such "
                                "rows out, recorded in df.attrs['skipped'])")
            skipped.append((uid, f"{path}: missing"))
            continue
        speaker = (rec.get("speaker") or "").strip() or None
        text = (rec.get("text") or "").strip() or None
        row = {"utterance_id": uid, "path": str(path), "dataset": name, "speaker": speaker,
               "sex": SEX_MAP[sex_cell.lower()] if sex_cell else None, "label": label, "raw_label": raw,
               "text": text, "start_s": start, "end_s": end, "split": split}
        if has_fold:
            row["fold"] = fold
        row.update({c: rec.get(c) for c in extras})
        rows.append(row)
    return rows, skipped, has_fold, extras


def _warn_skipped(name: str, root: Path, csv_path: Path, skipped: list, n_rows: int) -> None:
    """The :class:`~clapemo.datasets.PartialCorpusWarning` of rows left out for a missing audio file, shown at
    the caller of :func:`load`."""
    import warnings

    shown = ", ".join(r.removesuffix(": missing") for _, r in skipped[:3])
    warnings.warn(f"{name}: partial tree under {root}: missing {len(skipped)} audio file(s) listed in "
                  f"{csv_path.name} ({shown}{' ...' if len(skipped) > 3 else ''}); loaded {n_rows} rows; "
                  "see df.attrs['skipped']", PartialCorpusWarning, stacklevel=3)


def load(root: str | os.PathLike, *, labels: str | os.PathLike = DEFAULT_LABELS,
         mapping: Mapping[str, str] | str | os.PathLike | None = None, name: str = NAME, test_fold: int = 0,
         missing: str = "error"):
    """Manifest of an own corpus: audio under ``root`` listed in a labels CSV.

    Parameters
    ----------
    root : the corpus folder.
    labels : the labels CSV, relative to root or absolute (default ``labels.csv`` at the root).
    mapping : raw label -> canonical emotion (a mapping, or a YAML/JSON file relative to root or absolute);
        labels already canonical need no entry.
    name : the ``dataset`` value and id prefix (default ``"folder"``).
    test_fold : with a ``fold`` column and no ``split`` column, the fold whose rows are ``"test"``.
    missing : ``"error"`` or ``"skip"`` for rows whose audio file is absent (skips in ``df.attrs``).

    Returns
    -------
    Manifest with extras ``fold`` (int, when the CSV has it) then the CSV's other columns (strings).
    """
    check_missing_option(NAME, missing)
    name = _check_name(name)
    if not isinstance(test_fold, int) or isinstance(test_fold, bool) or test_fold < 0:
        raise ParameterError(f"{name}: test_fold={test_fold!r} must be an int >= 0")
    root = corpus_root(name, root, expect=LAYOUT)
    csv_path = Path(labels)
    csv_path = csv_path if csv_path.is_absolute() else root / csv_path
    if not csv_path.is_file():
        raise nothing_usable(name, root, expect=LAYOUT, found=f"no labels file {csv_path}")
    maps = _read_mapping(mapping, root)
    records = read_csv_rows(csv_path, name=name, required=REQUIRED_COLUMNS)
    rows, skipped, has_fold, extras = _rows(records, name=name, root=root, csv_path=csv_path, maps=maps,
                                            test_fold=test_fold, missing=missing)
    if skipped:
        _warn_skipped(name, root, csv_path, skipped, len(rows))
    if not rows:
        raise nothing_usable(name, root, expect=LAYOUT, found=f"{csv_path} lists no usable audio "
                             f"({len(skipped)} row(s) missing)")
    return build_manifest(rows, name=name, extra=(["fold"] if has_fold else []) + extras, skipped=skipped)
