"""Assembling corpora for training and evaluation: manifests, splits, properties and prompts in one table.

* :func:`manifest` concatenates the manifests of several corpora (synthetic names ``synth-*`` from the generated
  benchmark, generated on first use; real names from ``data.roots``) and selects a split.
* :func:`annotated` adds the acoustic properties (``clapemo.features``, disk-cached there) and the prompt
  columns (``clapemo.prompts``), joined by ``utterance_id``.

Splits
------
``split=None`` keeps every row. ``"train"``, ``"dev"`` and ``"test"`` select rows with that ``split`` value; rows
whose ``split`` is missing count as ``"train"`` (:func:`clapemo.schema.split_values`). ``data.test_fold`` (a fold
number or a list of them; None = each corpus's default) is honoured by every corpus with folds: corpora whose
manifest has an integer ``fold`` column (RAVDESS, CREMA-D, IEMOCAP sessions, folder corpora with folds) are
re-split so that those folds are ``"test"`` and all others ``"train"``; corpora with *fold-style* split values
(``fold0``, ``fold1`` ... and no train/dev/test) use them as ``"test"``, by default the first fold in sorted
order. Any other value (a fold name) selects the rows with exactly that value.

IEMOCAP (real or synthetic) with ``data.iemocap_four_class``: ``excited`` is merged into ``happy`` and only
happy / sad / angry / neutral are kept (the usual 4-class set, the paper's EAR collection); the real loader does
it (``four_class=True``), for ``synth-iemocap`` it is done here.

Feature errors
--------------
A clip whose property extraction failed keeps its row, its ``error`` message and its class-label prompt; its
acoustic prompts are None. Such rows are counted and logged, never dropped silently. Caption rows (label None)
are not sent to feature extraction: their property and prompt columns are empty and ``error`` is None.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Sequence

from clapemo.config import Config, replace
from clapemo.emotions import CAPTION_CORPORA
from clapemo.errors import ConfigError, DataError, ParameterError
from clapemo.schema import (EXTRA_PROPERTY_COLUMNS, MANIFEST_COLUMNS, PROPERTY_COLUMNS,
                            STANDARD_SPLITS, merge_four_class, split_values)

__all__ = ["resolve_name", "caption_corpora", "synth_root",
           "manifest", "with_features", "with_prompts", "annotated"]

log = logging.getLogger(__name__)



def resolve_name(name: str, config: Config) -> str:
    """A corpus name as loaded: with ``data.source = "synth"`` a bare name gets the ``synth-`` prefix."""
    if not isinstance(name, str) or not name:
        raise ParameterError(f"corpus name must be a non-empty string, got {name!r}")
    if config.data.source == "synth" and not name.startswith("synth-") and name not in config.data.roots:
        return f"synth-{name}"  # a name under data.roots (e.g. a user's own folder corpus) is loaded as it is
    return name


def caption_corpora(config: Config) -> list[str]:
    """The "4D" caption corpora of a config: ``[synth-4d]``, or the real ones that have a root."""
    if config.data.source == "synth":
        return ["synth-4d"]
    present = [n for n in CAPTION_CORPORA if n in config.data.roots]
    if not present:
        raise ConfigError(f"config key 'data.roots' has none of the 4D caption corpora {list(CAPTION_CORPORA)}; "
                          "add their roots or set train.include_4d=false")
    missing = [n for n in CAPTION_CORPORA if n not in present]
    if missing:
        log.warning("4D caption corpora without a root in data.roots are left out: %s", ", ".join(missing))
    return present


def synth_root(config: Config) -> Path:
    """``<data.synth_root>/<synth.profile>``: the folder of the generated benchmark."""
    return Path(config.data.synth_root) / config.synth.profile


def _load_one(name: str, config: Config) -> Any:
    if name.startswith("synth-"):
        from clapemo import synth

        root = synth_root(config)
        if not synth.is_current(root / name, config.synth):  # (re)generate just this corpus when stale
            log.info("generating %s (profile %s) under %s", name, config.synth.profile, root)
            synth.generate(root=config.data.synth_root, config=replace(config.synth, corpora=[name]))
        return synth.load(name, root)
    if name not in config.data.roots:
        raise ConfigError(f"corpus {name!r} has no folder: add it to config key 'data.roots' "
                          f"(known: {sorted(config.data.roots) or 'none'})")
    from clapemo import datasets

    options: dict[str, Any] = {}
    if name == "iemocap":
        options["four_class"] = config.data.iemocap_four_class
    # A plan loads the same tree many times: show each partial-tree warning once per process. (The "once per
    # location" rule of `warnings` does not hold: every catch_warnings() elsewhere, e.g. per clip in
    # clapemo.features, resets its registry.)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = datasets.load(name, config.data.roots[name], **options)
    for item in caught:
        if issubclass(item.category, datasets.PartialCorpusWarning):
            if str(item.message) in _SHOWN:
                continue
            _SHOWN.add(str(item.message))
        warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
    return table


#: the partial-tree warnings :func:`_load_one` has shown in this process
_SHOWN: set[str] = set()


def _four_class(m: Any) -> Any:
    label = merge_four_class(m["label"])
    return m.assign(label=label).loc[label.notna()]


def _test_folds(config: Config, name: str) -> list[int] | None:
    fold = config.data.test_fold
    if isinstance(fold, dict):  # per corpus, by loaded or bare name
        fold = fold.get(name, fold.get(name[len("synth-"):] if name.startswith("synth-") else name))
    return None if fold is None else (list(fold) if isinstance(fold, list) else [fold])


def _fold_of(value: Any) -> int | None:
    """The fold number of a fold-style split value (``"fold2"`` or ``"2"``), None otherwise."""
    text = str(value)
    digits = text[4:] if text.startswith("fold") else text
    return int(digits) if digits.isdigit() else None


def _apply_test_fold(m: Any, config: Config, name: str) -> Any:
    """Re-split a corpus with a ``fold`` column by ``data.test_fold``: its folds are 'test', the rest 'train'."""
    folds = _test_folds(config, name)
    if folds is None or "fold" not in m.columns:
        return m
    present = sorted({int(f) for f in m["fold"].dropna()})
    unknown = [f for f in folds if f not in present]
    if unknown:
        raise ConfigError(f"config key 'data.test_fold' = {config.data.test_fold!r}: {name} has no fold "
                          f"{unknown[0]} (folds: {present})")
    has_fold = m["fold"].notna()
    split = m["split"].astype(object).copy()
    split.loc[has_fold] = ["test" if int(f) in folds else "train" for f in m.loc[has_fold, "fold"]]
    return m.assign(split=split)


def _select_split(m: Any, split: str | None, config: Config, name: str) -> Any:
    if split is None:
        return m
    if not isinstance(split, str):
        raise ParameterError(f"split must be None or a string, got {split!r}")
    values = split_values(m["split"])
    present = set(values)
    if split in ("train", "test") and not (present & STANDARD_SPLITS):
        folds = sorted(present)
        wanted = _test_folds(config, name)
        if wanted is None:
            test = {folds[0]}
        else:
            test = {v for v in folds if _fold_of(v) in wanted}
            if len(test) != len(wanted):
                raise ConfigError(f"config key 'data.test_fold' = {config.data.test_fold!r} is not a fold of "
                                  f"{name} (folds: {folds})")
        mask = values.isin(test) if split == "test" else ~values.isin(test)
    elif split in STANDARD_SPLITS or split in present:
        mask = values == split
    else:
        raise ParameterError(f"split = {split!r} is neither train/dev/test nor a split value of {name} "
                             f"({sorted(present)})")
    return m.loc[mask]


def select_split(table: Any, split: str, config: Config) -> Any:
    """The rows of a table of corpora (a manifest of several, with any added columns) that
    :func:`manifest` gives for ``split``, corpus by corpus (the ``dataset`` column): the same rule as training's,
    so that cuts shown in the book are fitted on the rows training fits them on."""
    import numpy as np

    if "split" not in table.columns or "dataset" not in table.columns:
        return table
    keep = np.zeros(len(table), dtype=bool)
    for name in dict.fromkeys(table["dataset"]):
        rows = np.flatnonzero((table["dataset"] == name).to_numpy())
        chosen = _select_split(table.iloc[rows], split, config, str(name))
        keep[rows[np.isin(table.index[rows], chosen.index)]] = True
    return table[keep]


def manifest(names: str | Sequence[str], config: Config, *, split: str | None = None) -> Any:
    """The concatenated manifest of corpora, optionally restricted to a split.

    Parameters
    ----------
    names : str or sequence of str
        Corpus names (``synth-ravdess``, ``ravdess``, ``synth-4d``, ``clotho`` ...); see :func:`resolve_name`.
    config : Config
        ``data`` and ``synth`` sections (roots, synthetic profile; the benchmark is generated if missing).
    split : None, "train", "dev", "test" or a split value
        See the module docstring.

    Returns
    -------
    DataFrame
        The manifest columns (plus ``caption`` and extra ground-truth columns where a corpus has them), rows in
        corpus order then manifest order, a fresh RangeIndex. ``utterance_id`` is unique.
    """
    import pandas as pd

    if isinstance(names, str):
        names = [names]
    if not names:
        raise ParameterError("names must list at least one corpus")
    frames = []
    for raw in names:
        name = resolve_name(raw, config)
        m = _load_one(name, config)
        missing = [c for c in MANIFEST_COLUMNS if c not in m.columns]
        if missing:
            raise DataError(f"manifest of {name} lacks the columns {missing}")
        if config.data.iemocap_four_class and name == "synth-iemocap":  # the real loader does it itself
            m = _four_class(m)
        frames.append(_select_split(_apply_test_fold(m, config, name), split, config, name))
    out = pd.concat(frames, ignore_index=True)
    dup = out["utterance_id"][out["utterance_id"].duplicated()]
    if len(dup):
        raise DataError(f"utterance_id is not unique across {list(names)}: e.g. {dup.iloc[0]!r}")
    return out


def with_features(table: Any, config: Config) -> Any:
    """Add the acoustic-property columns and ``error`` to a manifest (labelled rows only are extracted)."""
    import pandas as pd

    from clapemo import features

    labelled = table["label"].notna()
    out = table.copy()
    columns = list(PROPERTY_COLUMNS) + (list(EXTRA_PROPERTY_COLUMNS) if config.features.voice_quality else [])
    for col in columns:
        out[col] = float("nan")
    out["error"] = None
    if labelled.any():
        from clapemo.executor import in_worker

        n_jobs = 1 if in_worker() else config.data.n_jobs  # inside a plan's worker process: no nested pool
        feats = features.extract_table(table.loc[labelled], config=config.features, n_jobs=n_jobs)
        if len(feats) != int(labelled.sum()):
            raise DataError(f"features.extract_table returned {len(feats)} rows for {int(labelled.sum())} clips")
        feats = feats.set_index(pd.Index(table.index[labelled]))
        if not (feats["utterance_id"] == table.loc[labelled, "utterance_id"]).all():
            raise DataError("features.extract_table returned rows out of order (utterance_id mismatch)")
        for col in columns:
            if col in feats.columns:
                out.loc[labelled, col] = feats[col].astype(float)
        out.loc[labelled, "error"] = feats["error"].where(feats["error"].notna(), None)
    out["error"] = out["error"].astype(object).where(out["error"].notna(), None)
    n_err = int(out["error"].notna().sum())
    if n_err:
        log.warning("%d of %d clips have a feature error; they keep their class-label prompt and get no acoustic "
                    "prompts (first: %s: %s)", n_err, int(labelled.sum()),
                    out.loc[out["error"].notna(), "utterance_id"].iloc[0],
                    out.loc[out["error"].notna(), "error"].iloc[0])
    return out


def with_prompts(table: Any, config: Config, *, thresholds: Any = None) -> Any:
    """Add the prompt columns (:data:`PROMPT_KINDS`) to a table from :func:`with_features`.

    Rows with a feature error get None acoustic prompts (their class-label prompt is kept); caption rows get None
    everywhere.
    """
    from clapemo import prompts

    labelled = table["label"].notna()
    has_error = table["error"].notna()
    out = table.copy()
    kinds = list(prompts.table_kinds(config.prompts))
    acoustic = [k for k in kinds if k != "class_label"]
    for kind in kinds:
        out[kind] = None
    if labelled.any():
        properties = list(PROPERTY_COLUMNS) + [c for c in EXTRA_PROPERTY_COLUMNS if c in table.columns]
        context = [c for c in ("speaker", "sex") if c in table.columns]  # per-speaker / per-sex binning
        rows = table.loc[labelled, ["utterance_id", "label", "dataset", *context, *properties]]
        rows = rows.copy()
        rows.loc[has_error[labelled], properties] = float("nan")
        pt = prompts.prompts_table(rows.reset_index(drop=True), config.prompts, thresholds=thresholds)
        if len(pt) != len(rows) or list(pt["utterance_id"]) != list(rows["utterance_id"]):
            raise DataError("prompts.prompts_table returned rows that do not match its input")
        for kind in kinds:
            values = pt[kind].where(pt[kind].notna(), None).tolist() if kind in pt.columns else [None] * len(pt)
            out.loc[labelled, kind] = values
        out.loc[labelled & has_error, acoustic] = None
        missing_cl = labelled & out["class_label"].isna()
        if missing_cl.any():
            raise DataError(f"{int(missing_cl.sum())} labelled clips got no class-label prompt, e.g. "
                            f"{out.loc[missing_cl, 'utterance_id'].iloc[0]!r}")
    for kind in kinds:
        out[kind] = out[kind].astype(object).where(out[kind].notna(), None)
    return out


def annotated(names: str | Sequence[str], config: Config, *, split: str | None = None,
              thresholds: Any = None) -> Any:
    """Manifest + acoustic properties + prompt columns, one row per utterance (see the module docstring).

    Parameters
    ----------
    names, config, split
        As for :func:`manifest`.
    thresholds : clapemo.prompts.Thresholds or None
        Quantile bins (``prompts.binning = "quantile"``), e.g. ``load_run(run).thresholds``.

    Returns
    -------
    DataFrame
        Manifest columns, then :data:`PROPERTY_COLUMNS`, ``error``, then :data:`PROMPT_KINDS`.
    """
    return with_prompts(with_features(manifest(names, config, split=split), config), config,
                        thresholds=thresholds)
