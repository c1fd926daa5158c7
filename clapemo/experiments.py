"""The paper's experiments, one function per artefact, each taking a :class:`~clapemo.config.Config` and returning a
tidy DataFrame (one row per row/column cell, metric and training seed; the value in ``value``, in [0, 1]).

=================  ======================  =====================================================================
artefact           function                rows x columns
=================  ======================  =====================================================================
Table 3 (EAR)      :func:`ear_table`       ``4D``, ``4D + [5ED - CL]``, ``4D + [5ED - PA]`` x query kind x P@K
Table 4 (SER)      :func:`ser_table`       ``Random``, ``4D``, ``5ED - CL``, ``4D + [5ED - CL]``,
                                           ``4D + [5ED - PA]`` x {leave_one_out, finetune} x {accuracy, UA}
Figure 2           :func:`prompt_analysis` corpus x prompt kind (CL, pitch, intensity, speech rate,
                                           articulation rate, PA) x {accuracy, UA}; :func:`plot_prompt_analysis`
=================  ======================  =====================================================================

Training runs
-------------
Every model is trained with :func:`clapemo.train.fit`, which reuses a finished run with the same config hash.
Before calling it, the experiment config is reduced to what training depends on (``name`` and ``evaluate`` are
reset to fixed values, ``train`` gets the row's corpora/prompt kind/seed), so the same model is shared between
artefacts: the ``4D`` row of Table 3 and of Table 4 is one run per seed. A model trained on 4D only has no emotion
prompts; its ``prompt_kind`` is fixed to ``class_label`` so that it has a single identity.

* ``5ED`` = the emotion corpora of ``config.data.source`` (the six ``synth-*`` twins, or the six real corpora)
  without the evaluation corpus (Table 3: ``evaluate.ear_collection``; Table 4: ``evaluate.ser_target``).
* ``CL`` trains with ``prompt_kind = class_label``; ``PA`` with ``augment`` (each clip paired with its 5 prompts).
* Table 4 *finetune*: the leave-one-out run of the row is trained further (``train.init_from``) on the target's
  train split alone (no 4D), for ``evaluate.finetune_epochs`` epochs (0: ``train.epochs``), with the row's prompt
  kind (the ``4D`` row finetunes with class labels), then scored zero-shot on the target's test split like the
  leave-one-out column. The target's train/test split must be speaker-independent (checked).
* ``Random`` is chance, 1 / number of classes (computed from the corpus's label set, e.g. RAVDESS 8 -> 0.125).
  ``Random (draw)`` is a seeded uniform random classifier scored on the same test clips: its spread over seeds
  shows how far chance-level predictions wander on a test set of this size.

Seeds and spread
----------------
Each trained configuration runs once per ``evaluate.seeds`` entry (``train.seed``); :func:`summarize` gives the
mean, sample sd, n and a 95 % t interval per cell; :func:`claims` tests each of the paper's qualitative claims
with a paired hierarchical bootstrap interval of the difference (seeds, then test items;
:mod:`clapemo.uncertainty`): holds / does not hold / undecided.

Results
-------
Each artefact writes ``<evaluate.results_dir>/<artefact>/<config_hash>/`` with ``results.csv`` (tidy, per seed),
``summary.csv`` / ``summary.json``, ``side_by_side.csv`` (ours beside the paper's), ``config.yaml`` (the resolved
config), ``provenance.json`` (commit, environment, wall time and data digests: :mod:`clapemo.provenance`) and, for
Figure 2, ``figure.png``. Calling the function again with the same config reads ``results.csv``
instead of recomputing (``force=True`` recomputes; the trained runs are still reused).

The paper's numbers live in ``clapemo/paper_results.yaml`` (:func:`paper_results`), never in code.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from clapemo.config import Config, EvaluateConfig, config_hash, load_config, stored_dict, to_dict
from clapemo.emotions import CAPTION_CORPORA, EMOTION_CORPORA
from clapemo.errors import ClapEmoError, ConfigError, DataError, ParameterError
from clapemo.evaluate import (
    base_corpus,
    check_speaker_independent,
    class_prompts,
    corpus_labels,
    ear_collection,
    ear_per_query,
    emotion_words,
    four_class,
    random_predict,
    ser_scores,
    zero_shot_predict,
)

__all__ = [
    "TABLE3_ROWS",
    "TABLE4_ROWS",
    "KIND_NAMES",
    "RunSpec",
    "emotion_corpora",
    "training_config",
    "fit_run",
    "training_plan",
    "ear_table",
    "ser_table",
    "prompt_analysis",
    "plot_prompt_analysis",
    "summarize",
    "paper_results",
    "NotRun",
    "NO_4D",
    "provided_emotion_corpora",
    "root_problems",
    "missing_paper_corpora",
    "caption_corpora_available",
    "corpora_used",
    "fit_plan",
    "ARTEFACT_CONFIGS",
    "side_by_side",
    "claims",
    "results_dir",
    "cli",
]

TABLE3_ROWS: tuple[str, ...] = ("4D", "4D + [5ED - CL]", "4D + [5ED - PA]")
TABLE4_ROWS: tuple[str, ...] = ("Random", "4D", "5ED - CL", "4D + [5ED - CL]", "4D + [5ED - PA]")
#: display names of the training prompt kinds (Figure 2's bars)
KIND_NAMES: dict[str, str] = {
    "class_label": "CL", "pitch": "pitch", "pitch2": "pitch (2 bins)", "intensity": "intensity",
    "speech_rate": "speech rate", "articulation_rate": "articulation rate", "combined": "combined",
    "augment": "PA",
}
SER_METRICS: tuple[str, ...] = ("accuracy", "unweighted_accuracy")
ARTEFACTS: dict[str, str] = {"table3": "ear_table", "table4": "ser_table", "figure2": "prompt_analysis"}
#: what has a results folder: the paper's artefacts and chapter 6 (clapemo.extensions)
RESULT_ARTEFACTS: tuple[str, ...] = (*ARTEFACTS, "extensions")


# ---------------------------------------------------------------------------------------------------------------
# Training runs
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    """What one trained model is: its emotion corpora, whether 4D is added, the prompt kind, and (finetune) the run
    it continues from."""

    corpora: tuple[str, ...]
    include_4d: bool
    prompt_kind: str
    finetune_from: "RunSpec | None" = None

    def __post_init__(self) -> None:
        if not self.corpora and not self.include_4d:
            raise ParameterError("a RunSpec needs emotion corpora or include_4d")
        if not self.corpora:  # 4D only: no emotion prompts, one identity
            object.__setattr__(self, "prompt_kind", "class_label")
        object.__setattr__(self, "corpora", tuple(sorted(self.corpora)))

    def describe(self) -> str:
        parts = (["4D"] if self.include_4d else []) + list(self.corpora)
        text = " + ".join(parts) + (f" [{KIND_NAMES[self.prompt_kind]}]" if self.corpora else "")
        return f"{self.finetune_from.describe()} -> finetune {text}" if self.finetune_from else text


class NotRun(ClapEmoError):
    """An artefact cannot run with the corpora this config provides (e.g. its evaluation corpus has no root).

    The message says what is missing and what to add; the book renders it as a "not run" note.
    """


#: the reason a row needing the general-audio caption sets is not run
NO_4D = "not run: no 4D caption corpora (data.roots has none of clotho, audiocaps, macs, fsd50k, or " \
        "train.include_4d is false)"


def provided_emotion_corpora(config: Config) -> list[str]:
    """The emotion corpora a config provides: the six ``synth-*`` twins (``data.source = synth``), or every
    corpus under ``data.roots`` that is not a 4D caption set (the paper's six in the paper's order, then a user's
    own folder corpora in name order)."""
    if config.data.source == "synth":
        return ["synth-" + name for name in EMOTION_CORPORA]
    roots = [n for n in config.data.roots if n not in CAPTION_CORPORA]
    return [n for n in EMOTION_CORPORA if n in roots] + sorted(n for n in roots if n not in EMOTION_CORPORA)


def missing_paper_corpora(config: Config) -> list[str]:
    """The paper's six emotion corpora that this config does not provide (bare names)."""
    provided = {base_corpus(n) for n in provided_emotion_corpora(config)}
    return [n for n in EMOTION_CORPORA if n not in provided]


def caption_corpora_available(config: Config) -> list[str]:
    """The 4D caption corpora a training may add: none when ``train.include_4d`` is false; ``synth-4d``; or the
    real ones with a root."""
    if not config.train.include_4d:
        return []
    if config.data.source == "synth":
        return ["synth-4d"]
    return [n for n in CAPTION_CORPORA if n in config.data.roots]


def _check_corpus(config: Config, name: str, key: str) -> str:
    """``name`` as loaded (``synth-`` prefix under the synthetic source) when the config provides it; a paper
    corpus without a root is :class:`NotRun`; anything else is a ConfigError naming ``key``."""
    from clapemo.corpora import resolve_name

    resolved = resolve_name(name, config)
    if resolved in provided_emotion_corpora(config):
        return resolved
    if base_corpus(resolved) in EMOTION_CORPORA and config.data.source == "real":
        raise NotRun(f"not run: needs corpus {resolved!r} ({key}); add its folder as data.roots.{resolved}")
    raise ConfigError(f"config key '{key}' = {name!r} is not an emotion corpus this config provides; known: "
                      f"{provided_emotion_corpora(config)} (data.source = {config.data.source!r})")


def emotion_corpora(config: Config, *, target: str | None = None) -> list[str]:
    """The emotion corpora of the '5ED' rows: ``evaluate.emotion_corpora`` when set (each must be provided),
    else every provided corpus (:func:`provided_emotion_corpora`); without ``target`` (the evaluation corpus)."""
    if config.evaluate.emotion_corpora:
        chosen = [_check_corpus(config, n, "evaluate.emotion_corpora") for n in config.evaluate.emotion_corpora]
    else:
        chosen = provided_emotion_corpora(config)
    return [c for c in dict.fromkeys(chosen) if c != target]


def training_config(config: Config, spec: RunSpec, *, seed: int, init_from: str = "") -> Config:
    """The config :func:`clapemo.train.fit` gets for ``spec`` (see the module docstring: shared across artefacts)."""
    epochs = config.train.epochs
    if spec.finetune_from is not None and config.evaluate.finetune_epochs > 0:
        epochs = config.evaluate.finetune_epochs
    train = dataclasses.replace(config.train, corpora=list(spec.corpora), include_4d=spec.include_4d,
                                prompt_kind=spec.prompt_kind, seed=int(seed), epochs=epochs, init_from=init_from)
    return dataclasses.replace(config, name="run", evaluate=EvaluateConfig(), train=train)


def fit_run(config: Config, spec: RunSpec, *, seed: int, progress: bool = False) -> Path:
    """Train (or reuse) the run of ``spec`` for one seed; a finetune first fits the run it continues from."""
    from clapemo.train import fit

    init_from = ""
    if spec.finetune_from is not None:
        init_from = str(fit_run(config, spec.finetune_from, seed=seed, progress=progress) / "checkpoint.pt")
    return Path(fit(training_config(config, spec, seed=seed, init_from=init_from), progress=progress))


def _no_eds(target: str) -> str:
    return (f"not run: no emotion corpora besides {target} (add data.roots or evaluate.emotion_corpora)")


def _table3_specs(config: Config) -> dict[str, "RunSpec | str"]:
    """Row -> RunSpec, or the reason (a str starting "not run") it cannot run. Without 4D the three paper rows are
    not run and ``5ED - CL`` / ``5ED - PA`` (emotion corpora alone) are added, so CL and PA are still compared."""
    target = _check_corpus(config, config.evaluate.ear_collection, "evaluate.ear_collection")
    eds = tuple(emotion_corpora(config, target=target))
    has4d = bool(caption_corpora_available(config))
    out: dict[str, RunSpec | str] = {"4D": RunSpec((), True, "class_label") if has4d else NO_4D}
    for row, kind in (("4D + [5ED - CL]", "class_label"), ("4D + [5ED - PA]", "augment")):
        out[row] = NO_4D if not has4d else RunSpec(eds, True, kind) if eds else _no_eds(target)
    if not has4d:
        for row, kind in (("5ED - CL", "class_label"), ("5ED - PA", "augment")):
            out[row] = RunSpec(eds, False, kind) if eds else _no_eds(target)
    return out


def _table4_specs(config: Config) -> dict[str, "tuple[RunSpec, RunSpec] | str"]:
    """Row -> (leave-one-out spec, finetune spec), or the reason it is not run (see :func:`_table3_specs`)."""
    target = _check_corpus(config, config.evaluate.ser_target, "evaluate.ser_target")
    eds = tuple(emotion_corpora(config, target=target))
    has4d = bool(caption_corpora_available(config))
    loo: dict[str, RunSpec | str] = {
        "4D": RunSpec((), True, "class_label") if has4d else NO_4D,
        "5ED - CL": RunSpec(eds, False, "class_label") if eds else _no_eds(target)}
    for row, kind in (("4D + [5ED - CL]", "class_label"), ("4D + [5ED - PA]", "augment")):
        loo[row] = NO_4D if not has4d else RunSpec(eds, True, kind) if eds else _no_eds(target)
    if not has4d:
        loo["5ED - PA"] = RunSpec(eds, False, "augment") if eds else _no_eds(target)
    return {row: spec if isinstance(spec, str) else
            (spec, RunSpec((target,), False, spec.prompt_kind, finetune_from=spec)) for row, spec in loo.items()}


def _figure2_specs(config: Config) -> dict[tuple[str, str], RunSpec]:
    """(corpus, kind) -> RunSpec: 4D (when available) + the corpus's train split, one run per prompt kind."""
    has4d = bool(caption_corpora_available(config))
    specs = {}
    for name in config.evaluate.prompt_analysis_corpora:
        corpus = _check_corpus(config, name, "evaluate.prompt_analysis_corpora")
        for kind in config.evaluate.prompt_analysis_kinds:
            specs[(corpus, kind)] = RunSpec((corpus,), has4d, kind)
    return specs


def root_problems(config: Config) -> dict[str, str]:
    """Corpus name -> why its ``data.roots`` folder cannot be read (missing, not a folder, empty), for the real
    source; {} for the synthetic one. Known before any work starts, so a plan says it instead of "ok"."""
    if config.data.source == "synth":
        return {}
    out = {}
    for name, root in config.data.roots.items():
        path = Path(root)
        problem = ("no such folder" if not path.exists() else "not a folder" if not path.is_dir()
                   else "an empty folder" if not any(path.iterdir()) else None)
        if problem:
            out[name] = f"data.roots.{name} = {root!r}: {problem}"
    return out


def corpora_used(config: Config, *, artefacts: Sequence[str] = ("table3", "table4", "figure2")) -> Any:
    """Which corpora each artefact uses and which of the paper's are missing: one row per artefact.

    Returns
    -------
    DataFrame with ``artefact, evaluated_on, emotion_corpora (the '5ED'), caption_corpora (4D), missing`` (the
    paper's emotion corpora this config lacks), ``status`` ("ok", the :class:`NotRun` reason, or "error: ..."
    naming each ``data.roots`` folder it uses that is missing, not a folder or empty: :func:`root_problems`).
    """
    import pandas as pd

    rows = []
    broken = root_problems(config)
    for artefact in artefacts:
        key = {"table3": "ear_collection", "table4": "ser_target", "figure2": "prompt_analysis_corpora"}[artefact]
        targets = getattr(config.evaluate, key)
        targets = targets if isinstance(targets, list) else [targets]
        status, eds = "ok", []
        try:
            resolved = [_check_corpus(config, t, f"evaluate.{key}") for t in targets]
            eds = resolved if artefact == "figure2" else emotion_corpora(config, target=resolved[0])
        except NotRun as err:
            status, resolved = str(err), targets
        used = [*resolved, *eds, *caption_corpora_available(config)]
        found = [broken[name] for name in dict.fromkeys(base_corpus(n) for n in used) if name in broken]
        if found:
            status = "error: " + "; ".join(found)
        rows.append({"artefact": artefact, "evaluated_on": ", ".join(resolved),
                     "emotion_corpora": ", ".join(eds) or "none",
                     "caption_corpora": ", ".join(caption_corpora_available(config)) or "none",
                     "missing": ", ".join(missing_paper_corpora(config)) or "none", "status": status})
    return pd.DataFrame(rows)


def _artefact_specs(config: Config, artefact: str) -> list[tuple[str, RunSpec]]:
    """(use, spec) of every run an artefact trains (rows that are not run are left out)."""
    out = []
    if artefact == "table3":
        out += [(f"table3:{row}", spec) for row, spec in _table3_specs(config).items() if not isinstance(spec, str)]
    elif artefact == "table4":
        for row, specs in _table4_specs(config).items():
            if not isinstance(specs, str):
                out += [(f"table4:{row}:leave_one_out", specs[0]), (f"table4:{row}:finetune", specs[1])]
    elif artefact == "figure2":
        out += [(f"figure2:{corpus}:{KIND_NAMES[kind]}", spec)
                for (corpus, kind), spec in _figure2_specs(config).items()]
    elif artefact == "extensions":  # chapter 6: Figure 2's kind of run, once per variant
        from clapemo.extensions import _specs

        out += [(f"extensions:{corpus}:{name}", spec) for (name, corpus), spec in _specs(config).items()]
    else:
        raise ParameterError(f"artefact {artefact!r} is not one of {sorted(RESULT_ARTEFACTS)}")
    return out


def training_plan(config: Config, *, artefacts: Sequence[str] = ("table3", "table4", "figure2")) -> Any:
    """Every training the artefacts need, one row per distinct run (shared runs appear once).

    An artefact that cannot run (:class:`NotRun`, e.g. its evaluation corpus has no root) contributes no rows;
    ``attrs["not_run"]`` maps it to the reason.

    Returns
    -------
    DataFrame with ``run, finetune, seed, used_by`` (``used_by``: the artefact/row cells that use it) and
    ``run_id`` (the config hash of the training config; finetunes: ``None``, it depends on the parent run).
    """
    import pandas as pd

    uses: dict[RunSpec, list[str]] = {}
    not_run: dict[str, str] = {}

    def add(spec: RunSpec, use: str) -> None:
        uses.setdefault(spec, []).append(use)
        if spec.finetune_from is not None:
            add(spec.finetune_from, use + " (parent)")

    for artefact in artefacts:
        try:
            for use, spec in _artefact_specs(config, artefact):
                add(spec, use)
        except NotRun as err:
            not_run[artefact] = str(err)
    rows = []
    for spec, used_by in uses.items():
        for seed in config.evaluate.seeds:
            run_id = None if spec.finetune_from else config_hash(training_config(config, spec, seed=seed))
            rows.append({"run": spec.describe(), "finetune": spec.finetune_from is not None, "seed": seed,
                         "used_by": "; ".join(sorted(set(used_by))), "run_id": run_id})
    plan = pd.DataFrame(rows, columns=["run", "finetune", "seed", "used_by", "run_id"])
    plan.attrs["not_run"] = not_run
    return plan


def _fit_many(config: Config, configs: list[Config], *, progress: bool) -> list[Path]:
    from clapemo import train

    if not configs:
        return []
    if config.train.n_workers == 1 or len(configs) == 1:  # in this process (also lets tests fake train.fit)
        return [Path(train.fit(c, progress=progress)) for c in configs]
    return [Path(p) for p in train.fit_many(configs, n_workers=config.train.n_workers,
                                            scheduler=config.train.scheduler, progress=progress)]


def fit_plan(config: Config, keys: Sequence[tuple[RunSpec, int]], *, progress: bool = False) -> dict:
    """Train (or reuse) every (spec, seed) in ``keys`` in parallel: first all runs that start from scratch, then
    the finetunes from their parents' checkpoints (``train.n_workers`` processes, or the dask scheduler of
    ``train.scheduler``). Results are those of training each in turn.

    Returns
    -------
    dict (spec, seed) -> run folder, for the keys and the parents of their finetunes
    """
    wanted = list(dict.fromkeys(keys))
    first = list(dict.fromkeys([(s.finetune_from or s, seed) for s, seed in wanted]))
    done = dict(zip(first, _fit_many(config, [training_config(config, s, seed=seed) for s, seed in first],
                                     progress=progress)))
    finetunes = [(s, seed) for s, seed in wanted if s.finetune_from is not None]
    configs = [training_config(config, s, seed=seed,
                               init_from=str(done[(s.finetune_from, seed)] / "checkpoint.pt"))
               for s, seed in finetunes]
    done.update(zip(finetunes, _fit_many(config, configs, progress=progress)))
    return done


# ---------------------------------------------------------------------------------------------------------------
# Result folders
# ---------------------------------------------------------------------------------------------------------------


def results_dir(config: Config, artefact: str) -> Path:
    """``<evaluate.results_dir>/<artefact>/<config_hash>``: where an artefact's results for ``config`` live."""
    if artefact not in RESULT_ARTEFACTS:
        raise ParameterError(f"artefact {artefact!r} is not one of {sorted(RESULT_ARTEFACTS)}")
    return Path(config.evaluate.results_dir) / artefact / config_hash(config)


def _corpora_read(config: Config, artefact: str) -> list[str]:
    """The corpora an artefact loads (as loaded: ``synth-`` names under the synthetic source): its evaluation
    corpora, the emotion corpora of its runs and, when a run adds 4D, the caption corpora."""
    from clapemo.corpora import caption_corpora

    key = {"table3": "ear_collection", "table4": "ser_target", "figure2": "prompt_analysis_corpora",
           "extensions": "prompt_analysis_corpora"}[artefact]
    targets = getattr(config.evaluate, key)
    names: list[str] = []
    for target in targets if isinstance(targets, list) else [targets]:
        try:
            names.append(_check_corpus(config, target, f"evaluate.{key}"))
        except NotRun:
            continue
    try:
        specs = [spec for _, spec in _artefact_specs(config, artefact)]
    except NotRun:
        specs = []
    for spec in specs:
        names += spec.corpora
    if any(spec.include_4d for spec in specs):
        names += caption_corpora(config)
    return list(dict.fromkeys(names))


def _data_provenance(config: Config, artefact: str) -> tuple[dict[str, Path], dict]:
    """The data files an artefact read (for :func:`clapemo.provenance.collect`) and what else says which data.

    Returns ``(manifests, extra)``: ``manifests`` maps ``<corpus>/<file>`` (no machine path) to the file: a
    synthetic corpus's ``manifest.csv``, a real corpus's ``labels.csv`` when its root has one (the other real
    loaders build their manifest from file names: listed in ``extra["data"]["not_digested"]``); ``extra`` holds
    the corpora and, for the synthetic source, the generator version, profile and seed.
    """
    from clapemo import corpora, synth

    names = _corpora_read(config, artefact)
    manifests: dict[str, Path] = {}
    not_digested = []
    for name in names:
        if name.startswith("synth-"):
            path = corpora.synth_root(config) / name / synth.MANIFEST
        else:
            root = config.data.roots.get(name)
            path = Path(root) / "labels.csv" if root else Path()
        if path.name and path.is_file():
            manifests[f"{name}/{path.name}"] = path
        else:
            not_digested.append(name)
    extra: dict[str, Any] = {"data": {"source": config.data.source, "corpora": names,
                                      "not_digested": not_digested}}
    if config.data.source == "synth":
        extra["synth"] = {"generator_version": synth.GENERATOR_VERSION, "profile": config.synth.profile,
                          "seed": config.synth.seed}
    return manifests, extra


def _cached(artefact: str, config: Config, compute: Callable[[], Any], *, by: Sequence[str], force: bool,
            progress: bool) -> Any:
    """Compute ``(results, items)`` once per config and keep them in the artefact's results folder.

    ``items`` (per seed and test item: SER clips, EAR queries) is what the paired claims need; it is written to
    ``items.csv`` and attached to the returned frame as ``attrs["items"]``. ``provenance.json`` (commit,
    environment, the compute step's wall time, the digests of the data read: :func:`_data_provenance`) is written
    just before ``results.csv``, which comes last and marks the folder complete.
    """
    import pandas as pd
    import yaml

    from clapemo import provenance
    from clapemo.files import atomic_write_text

    folder = results_dir(config, artefact)
    path, items_path = folder / "results.csv", folder / "items.csv"
    if path.is_file() and items_path.is_file() and not force:
        if progress:
            print(f"[{artefact}] reading {path}")
        df = pd.read_csv(path, dtype={"run_id": str, "status": str, "trained_on": str})
        df.attrs["items"] = pd.read_csv(items_path, dtype={"item": str})
        return df
    start = time.perf_counter()
    df, items = compute()
    summary = summarize(df, by=by)
    atomic_write_text(items_path, items.to_csv(index=False))
    atomic_write_text(folder / "summary.csv", summary.to_csv(index=False))
    atomic_write_text(folder / "summary.json", summary.to_json(orient="records", indent=1))
    if artefact in ARTEFACTS:  # the paper has numbers for its own artefacts only (not for chapter 6)
        atomic_write_text(folder / "side_by_side.csv",
                          side_by_side(summary, paper_results()[artefact]).to_csv(index=False))
    meta = {"artefact": artefact, "config_hash": config_hash(config),
            "seconds": round(time.perf_counter() - start, 1)}
    atomic_write_text(folder / "config.yaml",
                      yaml.safe_dump({"_meta": meta, **stored_dict(config)}, sort_keys=False))
    manifests, extra = _data_provenance(config, artefact)
    provenance.write(folder, provenance.collect(config=config, data_manifests=manifests, extra=extra,
                                                steps={"compute": time.perf_counter() - start}))
    atomic_write_text(path, df.to_csv(index=False))  # results.csv last: its presence means the folder is complete
    if progress:
        print(f"[{artefact}] wrote {folder} ({meta['seconds']} s)")
    # read back on purpose: a fresh run returns exactly what a later cached read returns (dtypes, float text)
    df = pd.read_csv(path, dtype={"run_id": str, "status": str, "trained_on": str})
    df.attrs["items"] = items
    return df


def _not_run_rows(reason: str, cells: Sequence[dict], seeds: Sequence[int]) -> list[dict]:
    return [{**cell, "seed": seed, "value": math.nan, "status": reason, "trained_on": "", "run_id": None}
            for seed in seeds for cell in cells]


# ---------------------------------------------------------------------------------------------------------------
# Table 3: emotion audio retrieval
# ---------------------------------------------------------------------------------------------------------------


def _thresholds_key(thresholds: Any) -> str:
    if thresholds is None:
        return "fixed"
    to_dict_ = getattr(thresholds, "to_dict", None)
    return repr(to_dict_() if callable(to_dict_) else thresholds)


def ear_table(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Table 3: Precision@K of EAR on ``evaluate.ear_collection`` (4 classes for IEMOCAP) for the training rows.

    Returns
    -------
    DataFrame with columns ``row, query_kind, k, seed, value, n_queries, n_items, status, trained_on, run_id``;
    one row per (row, query kind, K, seed); ``value`` is Precision@K in [0, 1] (NaN for rows that are not run,
    whose ``status`` says why); ``attrs["items"]``: Precision@K per query (``row, query_kind, k, seed, item,
    value``).
    """
    import pandas as pd

    from clapemo.train import load_run

    specs = _table3_specs(config)
    kinds, ks, seeds = config.evaluate.ear_query_kinds, config.evaluate.ks, config.evaluate.seeds

    def compute() -> Any:
        runs = fit_plan(config, [(spec, seed) for seed in seeds for spec in specs.values()
                                 if not isinstance(spec, str)], progress=progress)
        rows, items = [], []
        collections: dict[str, Any] = {}  # the annotated collection per distinct prompt thresholds
        for row, spec in specs.items():
            if isinstance(spec, str):
                rows += _not_run_rows(spec, [{"row": row, "query_kind": q, "k": k} for q in kinds for k in ks],
                                      seeds)
                continue
            for seed in seeds:
                run_dir = runs[(spec, seed)]
                model = load_run(run_dir)
                key = _thresholds_key(model.thresholds)
                if key not in collections:
                    collections[key] = ear_collection(config, thresholds=model.thresholds)
                collection = collections[key]
                per_query = ear_per_query(model, collection, kinds=kinds, ks=ks).assign(row=row, seed=seed)
                items.append(per_query)
                for (kind, k), group in per_query.groupby(["query_kind", "k"], sort=False):
                    rows.append({"row": row, "query_kind": kind, "k": k, "seed": seed,
                                 "value": float(group["value"].mean()), "n_queries": len(group),
                                 "n_items": len(collection), "status": "ok", "trained_on": spec.describe(),
                                 "run_id": Path(run_dir).name})
                if progress:
                    cl = per_query[per_query.query_kind == "class_label"].groupby("k")["value"].mean().round(3)
                    print(f"[table3] seed {seed} {row}: class-label P@K {cl.to_dict()}")
        columns = ["row", "query_kind", "k", "seed", "value", "n_queries", "n_items", "status", "trained_on",
                   "run_id"]
        items_df = (pd.concat(items, ignore_index=True) if items else pd.DataFrame(columns=["item", "value"]))
        return (pd.DataFrame(rows).reindex(columns=columns),
                items_df.reindex(columns=["row", "query_kind", "k", "seed", "item", "value"]))

    return _cached("table3", config, compute, by=["row", "query_kind", "k"], force=force, progress=progress)


# ---------------------------------------------------------------------------------------------------------------
# Table 4: speech emotion recognition, leave one out and finetune
# ---------------------------------------------------------------------------------------------------------------


def _ser_test_set(config: Config, corpus: str) -> tuple[Any, tuple[str, ...]]:
    """The test split of ``corpus`` and the label set it is scored over (paper Table 1; for a user's own corpus,
    the labels present in it), checked speaker-independent from its train split."""
    from clapemo import corpora
    from clapemo.emotions import CORPUS_LABELS, EMOTIONS

    both = corpora.manifest([corpus], config)
    test = corpora.manifest([corpus], config, split="test")
    train = corpora.manifest([corpus], config, split="train")
    four = config.data.iemocap_four_class and base_corpus(corpus) == "iemocap"
    if four:
        test, train = four_class(test), four_class(train)
    if len(test) == 0:
        raise DataError(f"corpus {corpus!r} has no test clips (set data.test_fold, or give its labels CSV a "
                        "split column)")
    check_speaker_independent(train, test)
    if base_corpus(corpus) in CORPUS_LABELS:
        return test, corpus_labels(corpus, four_class_iemocap=four)
    present = set(both["label"].dropna())
    return test, tuple(e for e in EMOTIONS if e in present)


def _ser_cells(model: Any, test: Any, labels: Sequence[str], config: Config) -> tuple[list[dict], Any]:
    """Zero-shot SER of one model: the metric cells, and whether each test clip was right (1.0) or wrong."""
    import pandas as pd

    prompts_ = class_prompts(labels, template=config.evaluate.zero_shot_template,
                             words=emotion_words(config.prompts.emotion_words))
    predictions = zero_shot_predict(model.embed_manifest(test), model.embed_texts(prompts_), labels)
    scores = ser_scores(test["label"].tolist(), predictions, labels=labels)
    cells = [{"metric": m, "value": scores[m], "n_items": scores["n_items"], "n_classes": scores["n_classes"]}
             for m in SER_METRICS]
    correct = pd.DataFrame({"item": test["utterance_id"].astype(str).to_numpy(),
                            "value": (np.asarray(predictions, dtype=object) == test["label"].to_numpy()
                                      ).astype(float)})
    return cells, correct


def ser_table(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Table 4: zero-shot SER on ``evaluate.ser_target``'s test split, leave-one-out and after finetuning.

    Returns
    -------
    DataFrame with columns ``row, setting, metric, seed, value, n_items, n_classes, status, trained_on, run_id``;
    ``setting`` in {leave_one_out, finetune}, ``metric`` in {accuracy, unweighted_accuracy}; rows ``Random``
    (chance), ``Random (draw)`` (a seeded random classifier) and the trained rows (NaN with a ``status`` when not
    run); ``attrs["items"]``: per test clip 1.0/0.0 correct (``row, setting, seed, item, value``).
    """
    import pandas as pd

    from clapemo.train import load_run

    specs = _table4_specs(config)
    target = _check_corpus(config, config.evaluate.ser_target, "evaluate.ser_target")
    seeds = config.evaluate.seeds

    def compute() -> Any:
        test, labels = _ser_test_set(config, target)
        keys = [(spec, seed) for seed in seeds for pair in specs.values() if not isinstance(pair, str)
                for spec in pair]
        runs = fit_plan(config, keys, progress=progress)
        rows, items = [], []
        for seed in seeds:
            drawn = ser_scores(test["label"].tolist(), random_predict(len(test), labels, seed=seed), labels=labels)
            for setting in ("leave_one_out", "finetune"):
                for metric in SER_METRICS:
                    common = {"setting": setting, "metric": metric, "seed": seed, "n_items": len(test),
                              "n_classes": len(labels), "status": "ok", "trained_on": "", "run_id": None}
                    rows.append({"row": "Random", "value": 1.0 / len(labels), **common})
                    rows.append({"row": "Random (draw)", "value": drawn[metric], **common})
        for row, pair in specs.items():
            if isinstance(pair, str):
                rows += _not_run_rows(pair, [{"row": row, "setting": st, "metric": m, "n_items": len(test),
                                              "n_classes": len(labels)}
                                             for st in ("leave_one_out", "finetune") for m in SER_METRICS], seeds)
                continue
            for seed in seeds:
                for setting, spec in zip(("leave_one_out", "finetune"), pair):
                    run_dir = runs[(spec, seed)]
                    cells, correct = _ser_cells(load_run(run_dir), test, labels, config)
                    rows += [{"row": row, "setting": setting, "seed": seed, "status": "ok",
                              "trained_on": spec.describe(), "run_id": Path(run_dir).name, **c} for c in cells]
                    items.append(correct.assign(row=row, setting=setting, seed=seed))
                    if progress:
                        print(f"[table4] seed {seed} {row} {setting}: accuracy {cells[0]['value']:.3f}")
        columns = ["row", "setting", "metric", "seed", "value", "n_items", "n_classes", "status", "trained_on",
                   "run_id"]
        items_df = pd.concat(items, ignore_index=True) if items else pd.DataFrame(columns=["item", "value"])
        return (pd.DataFrame(rows).reindex(columns=columns),
                items_df.reindex(columns=["row", "setting", "seed", "item", "value"]))

    return _cached("table4", config, compute, by=["row", "setting", "metric"], force=force, progress=progress)


# ---------------------------------------------------------------------------------------------------------------
# Figure 2: prompt analysis
# ---------------------------------------------------------------------------------------------------------------


def prompt_analysis(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Figure 2: zero-shot SER on each ``evaluate.prompt_analysis_corpora`` test split after training on 4D (when
    available) + that corpus's train split, once per ``evaluate.prompt_analysis_kinds`` entry.

    Returns
    -------
    DataFrame with columns ``corpus, prompt_kind, metric, seed, value, n_items, n_classes, status, trained_on,
    run_id``; ``attrs["items"]``: per test clip 1.0/0.0 correct (``corpus, prompt_kind, seed, item, value``).
    Draw it with :func:`plot_prompt_analysis`; the results folder also gets ``figure.png``.
    """
    import pandas as pd

    from clapemo.train import load_run

    specs = _figure2_specs(config)
    seeds = config.evaluate.seeds

    def compute() -> Any:
        tests = {corpus: _ser_test_set(config, corpus) for corpus in dict.fromkeys(c for c, _ in specs)}
        runs = fit_plan(config, [(spec, seed) for seed in seeds for spec in specs.values()], progress=progress)
        rows, items = [], []
        for seed in seeds:
            for (corpus, kind), spec in specs.items():
                run_dir = runs[(spec, seed)]
                test, labels = tests[corpus]
                cells, correct = _ser_cells(load_run(run_dir), test, labels, config)
                rows += [{"corpus": corpus, "prompt_kind": kind, "seed": seed, "status": "ok",
                          "trained_on": spec.describe(), "run_id": Path(run_dir).name, **c} for c in cells]
                items.append(correct.assign(corpus=corpus, prompt_kind=kind, seed=seed))
                if progress:
                    print(f"[figure2] seed {seed} {corpus} {KIND_NAMES[kind]}: accuracy {cells[0]['value']:.3f}")
        columns = ["corpus", "prompt_kind", "metric", "seed", "value", "n_items", "n_classes", "status",
                   "trained_on", "run_id"]
        return (pd.DataFrame(rows).reindex(columns=columns),
                pd.concat(items, ignore_index=True).reindex(columns=["corpus", "prompt_kind", "seed", "item",
                                                                     "value"]))

    df = _cached("figure2", config, compute, by=["corpus", "prompt_kind", "metric"], force=force,
                 progress=progress)
    png = results_dir(config, "figure2") / "figure.png"
    if force or not png.is_file():
        plot_prompt_analysis(df).savefig(png, dpi=150, bbox_inches="tight")
    return df


def plot_prompt_analysis(df: Any, *, metric: str = "accuracy") -> Any:
    """Grouped bars of Figure 2: one group per corpus, one bar per prompt kind, height = mean over seeds,
    error bar = sample sd over seeds (none with one seed); a dashed line marks chance.

    Parameters
    ----------
    df : DataFrame from :func:`prompt_analysis`
    metric : ``"accuracy"`` or ``"unweighted_accuracy"``

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    if metric not in SER_METRICS:
        raise ParameterError(f"metric {metric!r} is not one of {list(SER_METRICS)}")
    data = df[df["metric"] == metric]
    summary = summarize(data, by=["corpus", "prompt_kind"])
    corpora_ = list(dict.fromkeys(data["corpus"]))
    kinds = list(dict.fromkeys(data["prompt_kind"]))
    fig = Figure(figsize=(max(5.0, 1.5 + 0.45 * len(kinds) * len(corpora_)), 3.6))
    ax = fig.subplots()
    width = 0.8 / max(len(kinds), 1)
    colors = [f"C{i}" for i in range(len(kinds))]
    for j, kind in enumerate(kinds):
        sub = summary[summary["prompt_kind"] == kind].set_index("corpus").reindex(corpora_)
        x = np.arange(len(corpora_)) + (j - (len(kinds) - 1) / 2) * width
        yerr = sub["sd"].fillna(0).to_numpy() if (sub["n"] > 1).any() else None
        ax.bar(x, sub["mean"].to_numpy(), width, yerr=yerr, capsize=3, color=colors[j],
               label=KIND_NAMES.get(kind, kind))
    for i, corpus in enumerate(corpora_):
        chance = 1.0 / float(data[data["corpus"] == corpus]["n_classes"].iloc[0])
        ax.hlines(chance, i - 0.45, i + 0.45, colors="k", linestyles="dashed", linewidth=1,
                  label="chance" if i == 0 else None)
    ax.set_xticks(np.arange(len(corpora_)), corpora_)
    ax.set_ylabel(f"zero-shot SER {metric.replace('_', ' ')}")
    ax.set_ylim(0, 1)
    n = int(summary["n"].max()) if len(summary) else 0
    ax.set_title(f"Prompt analysis (test split; mean{' ± sd' if n > 1 else ''} over {n} seed{'s' * (n != 1)})",
                 fontsize=10)
    ax.legend(fontsize=8, ncol=2, loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Spread, paper numbers, claims
# ---------------------------------------------------------------------------------------------------------------


def summarize(df: Any, *, by: Sequence[str], value: str = "value", level: float = 0.95) -> Any:
    """Mean, sample sd, n and a ``level`` t interval of ``value`` over seeds, per group.

    Returns
    -------
    DataFrame with ``by`` + ``mean, sd, n, ci_low, ci_high`` (sd and interval NaN when n = 1), in first-seen
    group order.
    """
    import pandas as pd
    from scipy import stats

    if not 0 < level < 1:
        raise ParameterError(f"level = {level} must be in (0, 1)")
    missing = [c for c in [*by, value] if c not in df.columns]
    if missing:
        raise ParameterError(f"columns {missing} are not in the frame (has {list(df.columns)})")
    rows = []
    for keys, group in df.groupby(list(by), sort=False, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        values = group[value].astype(float).dropna().to_numpy()
        n = len(values)
        mean = float(values.mean()) if n else math.nan
        sd = float(values.std(ddof=1)) if n > 1 else math.nan
        half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)) if n > 1 else math.nan
        rows.append({**dict(zip(by, keys)), "mean": mean, "sd": sd, "n": n,
                     "ci_low": mean - half, "ci_high": mean + half})
    return pd.DataFrame(rows, columns=[*by, "mean", "sd", "n", "ci_low", "ci_high"])


def _paper_yaml() -> dict:
    import importlib.resources

    import yaml

    return yaml.safe_load((importlib.resources.files("clapemo") / "paper_results.yaml").read_text())


def paper_results() -> dict[str, Any]:
    """The paper's numbers from ``clapemo/paper_results.yaml`` as tidy frames, values as fractions in [0, 1].

    Returns
    -------
    dict with ``table3`` (``row, query_kind, k, value``), ``table4`` (``row, setting, metric, value``; the paper's
    percent / 100), ``figure2`` (``corpus, prompt_kind, metric, value``; all NaN: the bar heights are not in the
    paper's text) and ``claims`` (``artefact, id, claim``).
    """
    import pandas as pd

    data = _paper_yaml()
    t3 = data["table3"]
    table3 = pd.DataFrame([{"row": row, "query_kind": kind, "k": k, "value": float(v)}
                           for row, kinds in t3["values"].items() for kind, vs in kinds.items()
                           for k, v in zip(t3["ks"], vs)])
    t4 = data["table4"]
    scale = 100.0 if t4["unit"] == "percent" else 1.0
    table4 = pd.DataFrame([{"row": row, "setting": setting, "metric": t4["metric"],
                            "value": math.nan if v is None else float(v) / scale}
                           for row, cells in t4["values"].items() for setting, v in cells.items()])
    f2 = data["figure2"]
    values = f2.get("values") or {}
    figure2 = pd.DataFrame([{"corpus": corpus if corpus is not None else "(unnamed)", "prompt_kind": kind,
                             "metric": f2["metric"],
                             "value": math.nan if values.get(corpus, {}).get(kind) is None
                             else float(values[corpus][kind]) / 100.0}
                            for corpus in f2["corpora"] for kind in f2["kinds"]])
    claims_ = pd.DataFrame([{"artefact": a, "id": c["id"], "claim": c["text"]}
                            for a in ("table3", "table4", "figure2") for c in data[a].get("claims", [])])
    return {"table3": table3, "table4": table4, "figure2": figure2, "claims": claims_}


_KEYS = ("row", "query_kind", "k", "setting", "metric", "corpus", "prompt_kind")


def side_by_side(ours_summary: Any, paper: Any) -> Any:
    """Our summary (from :func:`summarize`) joined with the paper's frame on the shared key columns.

    Corpus names are compared by the real corpus they stand for (``synth-ravdess`` matches ``ravdess``).

    Returns
    -------
    DataFrame with the keys, ``ours_mean, ours_sd, ours_n, ours_ci_low, ours_ci_high, paper`` and
    ``difference`` (ours_mean - paper). Rows only we have (e.g. unweighted accuracy) have ``paper`` NaN; rows only
    the paper has (e.g. SoTA) have ours NaN; rows with neither are dropped.
    """
    import pandas as pd

    keys = [c for c in _KEYS if c in ours_summary.columns and c in paper.columns]
    if not keys:
        raise ParameterError("ours and paper share no key column "
                             f"(ours: {list(ours_summary.columns)}, paper: {list(paper.columns)})")
    ours = ours_summary.rename(columns={c: f"ours_{c}" for c in ("mean", "sd", "n", "ci_low", "ci_high")}).copy()
    theirs = paper[[*keys, "value"]].rename(columns={"value": "paper"}).copy()
    if "corpus" in keys:
        ours["corpus"] = ours["corpus"].map(base_corpus)
        theirs["corpus"] = theirs["corpus"].map(base_corpus)
    out = ours.merge(theirs, on=keys, how="left", sort=False)  # our row order
    only_paper = theirs.merge(ours[keys], on=keys, how="left", indicator=True)
    only_paper = only_paper[(only_paper["_merge"] == "left_only") & only_paper["paper"].notna()]
    out = pd.concat([out, only_paper.drop(columns="_merge")], ignore_index=True)
    out["difference"] = out["ours_mean"] - out["paper"]
    return out


def _cell_items(items: Any, where: Mapping[str, Any]) -> Any:
    """The seed x item table of one cell of an artefact's per-item results."""
    mask = np.ones(len(items), dtype=bool)
    for key, val in where.items():
        mask &= (items[key] == val).to_numpy()
    return items[mask].pivot_table(index="seed", columns="item", values="value", aggfunc="first")


def _compare(items: Any, better: Mapping[str, Any], worse: Mapping[str, Any], *, n_boot: int) -> Any:
    """The paired difference better - worse over the seeds and items both were scored on, or None when the two
    cells share none (a row not run)."""
    from clapemo.uncertainty import paired_difference

    a, b = _cell_items(items, better), _cell_items(items, worse)
    seeds = a.index.intersection(b.index)
    cols = a.columns.intersection(b.columns)
    if len(seeds) == 0 or len(cols) == 0:
        return None
    diff = paired_difference(a.loc[seeds, cols].to_numpy(), b.loc[seeds, cols].to_numpy(), n_boot=n_boot)
    label = " vs ".join(" ".join(str(v) for v in w.values()) for w in (better, worse))
    return label, diff


def claims(*, table3: Any = None, table4: Any = None, figure2: Any = None, n_boot: int = 2000) -> Any:
    """Test the paper's qualitative claims (``paper_results()["claims"]``) on our results, paired.

    Each claim is a set of "A > B" comparisons. Each comparison is paired (same seeds, same test clips or
    queries) with a hierarchical bootstrap interval (:mod:`clapemo.uncertainty`): the claim *holds* when every
    interval lies above 0, *does not hold* when one lies below 0, and is *undecided* otherwise. A claim whose rows
    were not run is *not testable*. Reported per claim: the deciding comparison (the one with the lowest interval
    bound; for "does not hold", the one wholly below 0), its difference, 95 % interval, the share of bootstrap
    resamples on the verdict's side (:func:`clapemo.uncertainty.verdict_share`: how firm the verdict is) and the
    minimum detectable difference (MDD) of this run's size.

    Parameters
    ----------
    table3, table4, figure2 : frames from :func:`ear_table`, :func:`ser_table`, :func:`prompt_analysis`, with
        their per-item results in ``attrs["items"]`` (any may be None: its claims are skipped).
    n_boot : bootstrap draws per comparison.

    Returns
    -------
    DataFrame with ``artefact, id, claim, verdict, deciding, difference, ci_low, ci_high, share, mdd, n_seeds,
    n_items``.
    """
    import pandas as pd

    from clapemo.uncertainty import verdict, verdict_share

    texts = paper_results()["claims"].set_index("id")["claim"].to_dict()
    out = []
    columns = ["artefact", "id", "claim", "verdict", "deciding", "difference", "ci_low", "ci_high", "share",
               "mdd", "n_seeds", "n_items"]

    def items_of(frame: Any, name: str) -> Any:
        items = frame.attrs.get("items")
        if items is None:
            raise ParameterError(f"{name} has no per-item results (attrs['items']); pass the frame returned by "
                                 "the experiment function")
        return items

    def record(artefact: str, cid: str, comparisons: list) -> None:
        done = [c for c in comparisons if c is not None]
        if not done or len(done) < len(comparisons):
            out.append({"artefact": artefact, "id": cid, "claim": texts[cid],
                        "verdict": "not testable (rows not run)"})
            return
        result = verdict([d for _, d in done])
        below = [c for c in done if c[1].high < 0]
        label, d = below[0] if result == "does not hold" else min(done, key=lambda c: c[1].low)
        out.append({"artefact": artefact, "id": cid, "claim": texts[cid], "verdict": result, "deciding": label,
                    "difference": d.mean, "ci_low": d.low, "ci_high": d.high,
                    "share": verdict_share(d, result), "mdd": d.mdd,
                    "n_seeds": d.n_seeds, "n_items": d.n_items})

    if table3 is not None:
        items = items_of(table3, "table3")
        pa, others = "4D + [5ED - PA]", ("4D", "4D + [5ED - CL]")
        ks = sorted(int(k) for k in table3["k"].unique())
        kinds = list(dict.fromkeys(table3["query_kind"]))

        def c3(a: str, b: str, kind: str, k: int) -> Any:
            return _compare(items, {"row": a, "query_kind": kind, "k": k}, {"row": b, "query_kind": kind, "k": k},
                            n_boot=n_boot)

        record("table3", "t3_pa_best_class_label", [c3(pa, o, "class_label", k) for k in ks for o in others])
        acoustic = [q for q in kinds if q != "class_label"]
        if acoustic:
            record("table3", "t3_pa_best_acoustic", [c3(pa, o, q, k) for q in acoustic for k in ks for o in others])
    if table4 is not None:
        items = items_of(table4, "table4")

        def c4(a: str, b: str, setting: str) -> Any:
            return _compare(items, {"row": a, "setting": setting}, {"row": b, "setting": setting}, n_boot=n_boot)

        record("table4", "t4_emotion_data_helps_loo",
               [c4("5ED - CL", "4D", "leave_one_out"), c4("4D + [5ED - CL]", "4D", "leave_one_out")])
        # "PA does not help leave-one-out": holds when CL > PA
        record("table4", "t4_pa_not_best_loo", [c4("4D + [5ED - CL]", "4D + [5ED - PA]", "leave_one_out")])
        record("table4", "t4_pa_best_finetune",
               [c4("4D + [5ED - PA]", o, "finetune") for o in ("4D", "5ED - CL", "4D + [5ED - CL]")])
    if figure2 is not None:
        items = items_of(figure2, "figure2")
        corpora_ = list(dict.fromkeys(figure2["corpus"]))
        first = corpora_[0] if corpora_ else None
        kinds = set(figure2["prompt_kind"]) if corpora_ else set()

        def c2(corpus: str, a: str, b: str) -> Any:
            return _compare(items, {"corpus": corpus, "prompt_kind": a}, {"corpus": corpus, "prompt_kind": b},
                            n_boot=n_boot)

        acoustic = [k for k in ("pitch", "intensity", "speech_rate", "articulation_rate") if k in kinds]
        if "pitch" in kinds and len(acoustic) > 1:
            record("figure2", "f2_pitch_best_acoustic", [c2(first, "pitch", k) for k in acoustic if k != "pitch"])
        if len(acoustic) == 4:
            record("figure2", "f2_acoustic_order", [c2(first, acoustic[i], acoustic[i + 1]) for i in range(3)])
        if "augment" in kinds:
            record("figure2", "f2_pa_best_both",
                   [c2(corpus, "augment", k) for corpus in corpora_ for k in sorted(kinds) if k != "augment"])
    return pd.DataFrame(out).reindex(columns=columns)


# ---------------------------------------------------------------------------------------------------------------
# CLI: clapemo experiment {table3,table4,figure2,all} --config ... [--set k=v]
# ---------------------------------------------------------------------------------------------------------------


#: the artefact config of each artefact, in configs/ (``clapemo experiment table3`` uses configs/table3_ear.yaml)
ARTEFACT_CONFIGS: dict[str, str] = {"table3": "table3_ear", "table4": "table4_ser", "figure2": "figure2_prompts"}


def cli(argv: list[str]) -> int:
    """``clapemo experiment ARTEFACT [--config FILE] [--overlay FILE] [--set KEY=VALUE] [--force] [--plan]``."""
    import pandas as pd

    from clapemo.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(
        prog="clapemo experiment",
        description="Run one of the paper's experiments and print it beside the paper. Without --config each "
                    "artefact uses its config in configs/ (table3_ear, table4_ser, figure2_prompts), so "
                    "`--overlay my.yaml` gives the same runs as `make reproduce SET=my.yaml`.")
    parser.add_argument("artefact", choices=[*ARTEFACTS, "all"])
    add_config_arguments(parser)
    parser.add_argument("--force", action="store_true", help="recompute even when results exist (runs are reused)")
    parser.add_argument("--plan", action="store_true", help="only list the trainings the artefact needs")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    artefacts = list(ARTEFACTS) if args.artefact == "all" else [args.artefact]
    configs = {a: config_from_args(args, default=ARTEFACT_CONFIGS[a]) for a in artefacts}
    show = {"display.width": 200, "display.max_colwidth": 80, "display.max_rows": 500,
            "display.float_format": "{:.3f}".format}
    with pd.option_context(*[x for kv in show.items() for x in kv]):
        print(pd.concat([corpora_used(c, artefacts=[a]) for a, c in configs.items()]).to_string(index=False))
    if args.plan:
        plans = [training_plan(c, artefacts=[a]) for a, c in configs.items()]
        plan = pd.concat(plans, ignore_index=True).drop_duplicates(["run", "seed"])
        with pd.option_context(*[x for kv in show.items() for x in kv]):
            print(plan.to_string(index=False))
        print(f"# {len(plan)} trainings ({int(plan['finetune'].sum())} finetunes)")
        for (artefact, config), p in zip(configs.items(), plans):
            for name, reason in p.attrs["not_run"].items():
                print(f"# {name}: {reason}")
            if artefact in p.attrs["not_run"]:
                continue
            specs = _table3_specs(config) if artefact == "table3" else \
                _table4_specs(config) if artefact == "table4" else {}
            for row, spec in specs.items():
                if isinstance(spec, str):
                    print(f"# {artefact} row {row!r}: {spec}")
        problems = sorted(set(root_problems(next(iter(configs.values()))).values()))
        for problem in problems:
            print(f"# error: {problem}", file=sys.stderr)
        return 1 if problems else 0
    frames = {}
    for artefact, config in configs.items():
        try:
            df = globals()[ARTEFACTS[artefact]](config, force=args.force, progress=not args.quiet)
        except NotRun as err:
            print(f"\n== {artefact}: {err}")
            continue
        frames[artefact] = df
        by = {"table3": ["row", "query_kind", "k"], "table4": ["row", "setting", "metric"],
              "figure2": ["corpus", "prompt_kind", "metric"]}[artefact]
        table = side_by_side(summarize(df, by=by), paper_results()[artefact])
        with pd.option_context(*[x for kv in show.items() for x in kv]):
            print(f"\n== {artefact}: {results_dir(config, artefact)}")
            print(table.drop(columns=["ours_ci_low", "ours_ci_high"]).to_string(index=False))
            not_run = df[df["status"] != "ok"].drop_duplicates("status")
            for _, row in not_run.iterrows():
                print(f"# {row.iloc[0]}: {row['status']}")
    verdicts = claims(**frames)
    if len(verdicts):
        with pd.option_context(*[x for kv in show.items() for x in kv]):
            print("\n== the paper's claims here (paired bootstrap over seeds and test items, 95 %)")
            print(verdicts.drop(columns=["claim"]).to_string(index=False))
    return 0
