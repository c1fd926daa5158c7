"""Real corpus loaders: one module per corpus, one entry point.

>>> from clapemo import datasets
>>> df = datasets.load("ravdess", "/data/RAVDESS")                    # doctest: +SKIP
>>> df = datasets.load("iemocap", "/data/IEMOCAP_full_release", four_class=True)  # doctest: +SKIP

Every loader returns a validated manifest (see :mod:`clapemo.datasets.manifest` and CONTRIBUTING.md): columns
``utterance_id, path, dataset, speaker, sex, label, raw_label, text, start_s, end_s, split`` (caption sets add
``caption``), then corpus-specific extras. Each corpus module holds its raw -> canonical label map as a
module constant (``LABEL_MAP``) and documents its layout; ``data/README.md`` says where to get each corpus.

Names starting with ``synth-`` are the generated benchmark and are delegated to :func:`clapemo.synth.load`.
Your own corpus (a folder of audio + ``labels.csv``, :mod:`clapemo.datasets.folder`) loads as ``"folder"``,
``"folder:<name>"``, or under any other name whose root holds ``labels.csv`` (see :func:`load`).

Partial trees: every loader reads the actors / sessions / splits / parts that are present and emits one
:class:`PartialCorpusWarning` naming what is missing; a tree with nothing usable is a :class:`DataError` naming
the folder and the layout expected.

Command line: ``clapemo manifest <name> <root> -o manifest.parquet [--option key=value ...]``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import math
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from clapemo.datasets.manifest import (CAPTION_COLUMN, COLUMNS, SEXES, build_manifest, corpus_root,
                                       validate_manifest)
from clapemo.datasets.names import DATASETS, FOLDER
from clapemo.datasets.partial import PartialCorpusWarning, nothing_usable, warn_partial
from clapemo.errors import ParameterError

__all__ = ["DATASETS", "COLUMNS", "CAPTION_COLUMN", "SEXES", "FOLDER", "PartialCorpusWarning", "load",
           "load_audio", "validate_manifest", "build_manifest", "corpus_root", "module", "cli", "warn_partial",
           "nothing_usable"]


def module(name: str) -> ModuleType:
    """The loader module of corpus ``name`` (its ``LABEL_MAP``, ``load`` and layout docs); ``"folder"`` and
    ``"folder:<name>"`` give :mod:`clapemo.datasets.folder`."""
    if name == FOLDER or name.startswith(FOLDER + ":"):
        return importlib.import_module("clapemo.datasets.folder")
    if name not in DATASETS:
        raise ParameterError(f"unknown corpus name {name!r}; known: {', '.join(DATASETS)} "
                             f"(or 'synth-<corpus>' for the generated benchmark)")
    return importlib.import_module(DATASETS[name])


def load(name: str, root: str | os.PathLike, /, **options: Any) -> pd.DataFrame:
    """Load corpus ``name`` from folder ``root`` as a validated manifest.

    Parameters
    ----------
    name : one of :data:`DATASETS` (``ravdess, cremad, iemocap, meld, mosi, mosei, clotho, audiocaps, macs,
        fsd50k``), ``synth-<corpus>`` (delegated to :func:`clapemo.synth.load`), or an own corpus
        (:mod:`clapemo.datasets.folder`): ``"folder"`` (dataset name ``folder``, or ``name=``),
        ``"folder:<name>"`` (dataset name ``<name>``), or any other name whose ``root`` holds ``labels.csv``
        (dataset name = that name).
    root : the corpus folder, laid out as the corpus is distributed (see ``data/README.md``).
    **options : keyword options of that corpus's ``load`` (e.g. ``four_class=True`` for IEMOCAP,
        ``test_fold=2`` for RAVDESS, ``name="mine"`` or ``labels="meta.csv"`` for a folder corpus); an unknown
        option is a :class:`ParameterError` listing the accepted ones. ``name`` and ``root`` are positional-only
        so that ``name=`` reaches the folder loader.

    Returns
    -------
    DataFrame with the manifest columns (one row per utterance; per audio-caption pair for caption sets).

    Raises
    ------
    ParameterError : unknown name or option.
    DataError : missing folder, malformed file name or label line, missing audio, label outside the vocabulary.
    """
    if not isinstance(name, str):
        raise ParameterError(f"corpus name must be a str, got {type(name).__name__}")
    if name.startswith("synth-"):
        if options:
            raise ParameterError(f"{name}: synthetic corpora take no options, got {sorted(options)}")
        from clapemo import synth  # written alongside; imported lazily so real loaders work without it

        return synth.load(name, root)
    if name.startswith(FOLDER + ":"):
        own = name.split(":", 1)[1]
        if options.get("name", own) != own:
            raise ParameterError(f"{name}: option name={options['name']!r} differs from {own!r}")
        options = {**options, "name": own}
        name = FOLDER
    elif name not in DATASETS and name != FOLDER:
        from clapemo.datasets import folder

        labels = Path(root).expanduser() / options.get("labels", folder.DEFAULT_LABELS)
        if not labels.is_file():
            raise ParameterError(f"unknown corpus name {name!r}; known: {', '.join(DATASETS)}, 'folder', "
                                 f"'synth-<corpus>', or any name whose root holds {folder.DEFAULT_LABELS} "
                                 f"(an own corpus; {labels} is absent)")
        if options.get("name", name) != name:
            raise ParameterError(f"{name}: option name={options['name']!r} differs from the corpus name {name!r}")
        options = {**options, "name": name}
        name = FOLDER
    mod = module(name)
    accepted = [p.name for p in inspect.signature(mod.load).parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ParameterError(f"{name}: unknown option {unknown[0]!r}; accepted: {', '.join(accepted) or 'none'}")
    return mod.load(root, **options)


def load_audio(row: Any, *, sample_rate_hz: int | None = None):
    """Decode the audio of one manifest row (a whole file, or the ``start_s``-``end_s`` segment of a longer one).

    Parameters
    ----------
    row : a manifest row (``pandas`` row/Series, namedtuple from ``itertuples`` or mapping) with ``path``,
        ``start_s`` and ``end_s``.
    sample_rate_hz : resample to this rate (default: the file's own rate).

    Returns
    -------
    (samples, rate_hz) : float32 array of shape (n_samples,), int — from :func:`clapemo.audio.load`.
    """
    from clapemo import audio

    get = row.get if hasattr(row, "get") else (lambda key: getattr(row, key))
    start, end = get("start_s"), get("end_s")
    start = None if start is None or (isinstance(start, float) and math.isnan(start)) else float(start)
    end = None if end is None or (isinstance(end, float) and math.isnan(end)) else float(end)
    return audio.load(get("path"), sample_rate_hz=sample_rate_hz, start_s=start, end_s=end)


def _parse_option(item: str) -> tuple[str, Any]:
    import yaml

    if "=" not in item:
        raise ParameterError(f"--option {item!r} must look like key=value (e.g. four_class=true)")
    key, raw = item.split("=", 1)
    return key.strip(), yaml.safe_load(raw)


def cli(argv: list[str]) -> int:
    """``clapemo manifest <name> <root> -o manifest.parquet``: write a corpus manifest (parquet or csv)."""
    parser = argparse.ArgumentParser(
        prog="clapemo manifest",
        description="Build the manifest of a real corpus from its folder (see data/README.md for layouts).")
    parser.add_argument("name", help=f"corpus: {', '.join(DATASETS)}, synth-<corpus>, or an own corpus: folder, "
                        "folder:<name>, or any name whose root holds labels.csv")
    parser.add_argument("root", help="the corpus folder")
    parser.add_argument("-o", "--output", required=True, help="output file: .parquet or .csv")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="loader option, repeatable (values parsed as YAML), e.g. four_class=true")
    args = parser.parse_args(argv)
    options = dict(_parse_option(item) for item in args.option)
    out = Path(args.output)
    if out.suffix not in (".parquet", ".csv"):
        raise ParameterError(f"--output {args.output!r} must end in .parquet or .csv")
    df = load(args.name, args.root, **options)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        df.to_parquet(out, index=False)
    else:
        df.to_csv(out, index=False)
    labels = df["label"].value_counts().to_dict() if df["label"].notna().any() else {}
    skipped = df.attrs.get("skipped", [])
    note = f"; skipped {len(skipped)} on request" if skipped else ""
    print(f"{args.name}: {len(df)} rows -> {out}" + (f"; labels {labels}" if labels else "") + note)
    return 0

