"""The published numbers, and ``make verify``: does a built run give them, bit for bit?

``published/default.json`` (committed) holds the results of the default reproduction (``make reproduce``:
profile ``default``, seed 0, portable numerics) for each artefact with a results folder (Table 3, Table 4,
Figure 2, chapter 6): the config hash of its folder, and per file (``results.csv``, ``summary.csv``,
``items.csv``) its sha256, its row count and, for the results and summaries, every row. :func:`verify` compares
a results tree (``runs/results`` after ``make reproduce``) with it: identical digests mean identical numbers;
otherwise it names each artefact, file, row and number that differs (``published`` beside ``built``).

What to expect where (the README says it too): on any x86-64 CPU with AVX2, in portable mode, every number is
identical; on a GPU, or on another architecture (ARM), the kernels sum in other orders, so numbers differ in
their last bits and training amplifies that: expect differences of a few points in single cells, and the claims'
verdicts to hold unless they sit at the edge (their share of bootstrap resamples tells).

Refresh after a change that moves numbers on purpose: ``make publish`` (``clapemo verify --write``) from a
fresh ``make reproduce``, and commit ``published/default.json`` with the change.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
from pathlib import Path
from typing import Any, Sequence

from clapemo.errors import DataError
from clapemo.files import atomic_write_text, file_sha256

__all__ = ["FILES", "ROWS_UP_TO_BYTES", "default_published_path", "snapshot", "write", "verify", "cli"]

#: the files of a results folder whose content is the result (provenance, config and the paper's side are not)
FILES = ("results.csv", "summary.csv", "items.csv")
#: the files whose rows the published record keeps (items.csv: its digest only, it is long)
ROW_FILES = ("results.csv", "summary.csv")
#: files up to this size keep their rows in the published file, so a difference can be named number by number
ROWS_UP_TO_BYTES = 256_000
#: columns that are not numbers of the result (wall times): never compared
_UNCOMPARED = ("seconds", "wall_s", "train_s")
_FORMAT = 1


def default_published_path() -> Path:
    """``published/default.json`` at the project root (beside ``clapemo/``)."""
    return Path(__file__).resolve().parent.parent / "published" / "default.json"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _content_digest(path: Path) -> str:
    """sha256 of the file, or of its rows without the uncompared columns when it has any."""
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        keep = [i for i, name in enumerate(header) if name not in _UNCOMPARED]
        if len(keep) == len(header):
            return file_sha256(path)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([header[i] for i in keep])
        for row in reader:
            writer.writerow([row[i] for i in keep if i < len(row)])
    return hashlib.sha256(buffer.getvalue().encode()).hexdigest()


def _folders(results_dir: Path, artefact: str) -> list[Path]:
    root = results_dir / artefact
    found = [p.parent for p in root.glob("*/results.csv")] if root.is_dir() else []
    return sorted(found, key=lambda p: (p / "results.csv").stat().st_mtime)


def snapshot(results_dir: str | Path, *, artefacts: Sequence[str] | None = None) -> dict:
    """The published record of a results tree: per artefact, the newest complete folder's digests and rows.

    Parameters
    ----------
    results_dir : the ``evaluate.results_dir`` of the run (``runs/results``)
    artefacts : names to take (default: every artefact folder that holds a complete result)
    """
    results_dir = Path(results_dir)
    names = list(artefacts) if artefacts is not None else sorted(
        p.name for p in results_dir.iterdir() if p.is_dir() and _folders(results_dir, p.name)) \
        if results_dir.is_dir() else []
    if not names:
        raise DataError(f"{results_dir} holds no complete results folder (results.csv): run make reproduce first")
    record: dict[str, Any] = {"format": _FORMAT, "artefacts": {}}
    for name in names:
        folders = _folders(results_dir, name)
        if not folders:
            raise DataError(f"{results_dir / name} holds no complete results folder (results.csv)")
        folder = folders[-1]
        files = {}
        for file in FILES:
            path = folder / file
            if not path.is_file():
                continue
            entry: dict[str, Any] = {"sha256": _content_digest(path), "n_rows": len(_rows(path))}
            if file in ROW_FILES and path.stat().st_size <= ROWS_UP_TO_BYTES:
                entry["rows"] = _rows(path)
            files[file] = entry
        record["artefacts"][name] = {"config_hash": folder.name, "files": files}
    return record


def write(results_dir: str | Path, path: str | Path | None = None, *, provenance: dict | None = None) -> Path:
    """:func:`snapshot` of ``results_dir`` written to ``path`` (default :func:`default_published_path`)."""
    path = Path(path) if path is not None else default_published_path()
    record = snapshot(results_dir)
    if provenance:
        record["provenance"] = provenance
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(record, indent=1, sort_keys=False) + "\n")
    return path


def _same_number(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    return x == y or (math.isnan(x) and math.isnan(y))


def _row_differences(artefact: str, file: str, published: list[dict], built: list[dict], *,
                     limit: int) -> list[str]:
    """Each differing cell, named by the row's non-numeric columns (its key) and the column."""
    if len(published) != len(built):
        return [f"{artefact} {file}: {len(published)} rows published, {len(built)} built"]
    out = []
    for p_row, b_row in zip(published, built):
        key = ", ".join(f"{k}={v}" for k, v in p_row.items() if k not in _UNCOMPARED and not _is_number(v))
        for column in p_row:
            if column in _UNCOMPARED:
                continue
            if not _same_number(p_row[column], b_row.get(column, "<missing>")):
                out.append(f"{artefact} {file} [{key}] {column}: published {p_row[column]}, built "
                           f"{b_row.get(column, '<missing>')}")
                if len(out) >= limit:
                    return out
    return out


def _is_number(value: str) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def verify(results_dir: str | Path, published: str | Path | None = None, *, limit: int = 20,
           artefacts: Sequence[str] | None = None) -> list[str]:
    """Every difference between a results tree and the published record (empty: identical).

    Parameters
    ----------
    results_dir : the built run's ``evaluate.results_dir``
    published : the published record (default :func:`default_published_path`)
    limit : differing numbers named per file
    artefacts : only these artefacts (default: every published one); an unknown name is a difference
    """
    published = Path(published) if published is not None else default_published_path()
    if not published.is_file():
        raise DataError(f"no published results at {published}")
    try:
        record = json.loads(published.read_text())
        record["artefacts"].items()
    except (ValueError, KeyError, TypeError) as err:
        raise DataError(f"{published} is not a published-results file ({err})") from None
    results_dir = Path(results_dir)
    differences: list[str] = []
    if artefacts is not None:
        chosen = list(artefacts)
        differences += [f"{name}: not a published artefact (published: {', '.join(record['artefacts'])})"
                         for name in chosen if name not in record["artefacts"]]
        published_artefacts = {k: v for k, v in record["artefacts"].items() if k in chosen}
    else:
        published_artefacts = record["artefacts"]
    for name, entry in published_artefacts.items():
        folder = results_dir / name / entry["config_hash"]
        if not (folder / "results.csv").is_file():
            others = [p.name for p in _folders(results_dir, name)]
            differences.append(f"{name}: no built results for config {entry['config_hash']} in {folder.parent}"
                               + (f" (built: {', '.join(others)}: another config, e.g. other knobs or code "
                                  f"that changed the config)" if others else " (not built)"))
            continue
        for file, want in entry["files"].items():
            path = folder / file
            if not path.is_file():
                differences.append(f"{name} {file}: missing in {folder}")
                continue
            if _content_digest(path) == want["sha256"]:
                continue
            built = _rows(path)
            if "rows" in want:
                found = _row_differences(name, file, want["rows"], built, limit=limit)
                differences += found or [f"{name} {file}: the bytes differ but every number is equal "
                                         f"(formatting)"]
            else:
                differences.append(f"{name} {file}: differs ({want['n_rows']} rows published, {len(built)} "
                                   f"built; too large to keep its rows: compare the results.csv rows)")
    return differences


def cli(argv: Sequence[str]) -> int:
    """``clapemo verify [--results-dir DIR] [--published FILE] [--write]``."""
    parser = argparse.ArgumentParser(prog="clapemo verify", description=(
        "Compare a built run's results with the published ones (published/default.json). Exit 0: identical; "
        "1: something differs (each artefact and number is named)."))
    parser.add_argument("--results-dir", default="runs/results", help="the built results (default runs/results)")
    parser.add_argument("--published", default=None, help="the published record (default published/default.json)")
    parser.add_argument("--artefacts", nargs="+", default=None, metavar="NAME",
                        help="compare only these artefacts (e.g. table4 after running chapter 3 alone)")
    parser.add_argument("--write", action="store_true",
                        help="write the published record from --results-dir instead (after make reproduce)")
    args = parser.parse_args(list(argv))
    if args.write:
        from clapemo import numerics

        info = {"numerics": numerics.mode()}
        path = write(args.results_dir, args.published, provenance=info)
        record = json.loads(path.read_text())
        print(f"wrote {path}: " + ", ".join(f"{k} ({v['config_hash']})" for k, v in record["artefacts"].items()))
        return 0
    published = args.published or default_published_path()
    differences = verify(args.results_dir, published, artefacts=args.artefacts)
    record = json.loads(Path(published).read_text())
    if differences:
        print(f"{len(differences)} difference(s) from {published}:")
        for line in differences:
            print(f"  - {line}")
        return 1
    names = ", ".join(args.artefacts or record["artefacts"])
    print(f"identical to {published}: {names}")
    return 0
