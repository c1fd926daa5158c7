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
mean, sample sd, n and a 95 % t interval per cell; :func:`claims` tests the paper's qualitative claims on the
summaries and says whether each difference is larger than twice its standard error.

Results
-------
Each artefact writes ``<evaluate.results_dir>/<artefact>/<config_hash>/`` with ``results.csv`` (tidy, per seed),
``summary.csv`` / ``summary.json``, ``side_by_side.csv`` (ours beside the paper's), ``config.yaml`` (the resolved
config) and, for Figure 2, ``figure.png``. Calling the function again with the same config reads ``results.csv``
instead of recomputing (``force=True`` recomputes; the trained runs are still reused).

The paper's numbers live in ``clapemo/paper_results.yaml`` (:func:`paper_results`), never in code.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from clapemo.config import Config, EvaluateConfig, config_hash, load_config, to_dict
from clapemo.emotions import EMOTION_CORPORA
from clapemo.errors import ConfigError, DataError, ParameterError
from clapemo.evaluate import (
    base_corpus,
    check_speaker_independent,
    corpus_labels,
    ear,
    ear_collection,
    four_class,
    random_predict,
    ser_scores,
    zero_shot_ser,
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


def emotion_corpora(config: Config) -> list[str]:
    """The six emotion corpora of ``config.data.source``: ``synth-<name>`` twins or the real names."""
    prefix = "synth-" if config.data.source == "synth" else ""
    return [prefix + name for name in EMOTION_CORPORA]


def _check_corpus(config: Config, name: str, key: str) -> None:
    if name not in emotion_corpora(config):
        raise ConfigError(f"config key '{key}' = {name!r} is not an emotion corpus of data.source = "
                          f"{config.data.source!r}; known: {emotion_corpora(config)}")


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


def _table3_specs(config: Config) -> dict[str, RunSpec]:
    _check_corpus(config, config.evaluate.ear_collection, "evaluate.ear_collection")
    eds = tuple(c for c in emotion_corpora(config) if c != config.evaluate.ear_collection)
    return {"4D": RunSpec((), True, "class_label"),
            "4D + [5ED - CL]": RunSpec(eds, True, "class_label"),
            "4D + [5ED - PA]": RunSpec(eds, True, "augment")}


def _table4_specs(config: Config) -> dict[str, tuple[RunSpec, RunSpec]]:
    """Row -> (leave-one-out spec, finetune spec)."""
    target = config.evaluate.ser_target
    _check_corpus(config, target, "evaluate.ser_target")
    eds = tuple(c for c in emotion_corpora(config) if c != target)
    loo = {"4D": RunSpec((), True, "class_label"),
           "5ED - CL": RunSpec(eds, False, "class_label"),
           "4D + [5ED - CL]": RunSpec(eds, True, "class_label"),
           "4D + [5ED - PA]": RunSpec(eds, True, "augment")}
    return {row: (spec, RunSpec((target,), False, spec.prompt_kind, finetune_from=spec)) for row, spec in loo.items()}


def _figure2_specs(config: Config) -> dict[tuple[str, str], RunSpec]:
    specs = {}
    for corpus in config.evaluate.prompt_analysis_corpora:
        _check_corpus(config, corpus, "evaluate.prompt_analysis_corpora")
        for kind in config.evaluate.prompt_analysis_kinds:
            specs[(corpus, kind)] = RunSpec((corpus,), True, kind)
    return specs


def training_plan(config: Config, *, artefacts: Sequence[str] = ("table3", "table4", "figure2")) -> Any:
    """Every training the artefacts need, one row per distinct run (shared runs appear once).

    Returns
    -------
    DataFrame with ``run, finetune, seed, used_by`` (``used_by``: the artefact/row cells that use it) and
    ``run_id`` (the config hash :func:`clapemo.train.fit` sees; finetunes: ``None``, it depends on the
    parent run's folder).
    """
    import pandas as pd

    uses: dict[RunSpec, list[str]] = {}

    def add(spec: RunSpec, use: str) -> None:
        uses.setdefault(spec, []).append(use)
        if spec.finetune_from is not None:
            add(spec.finetune_from, use + " (parent)")

    for artefact in artefacts:
        if artefact == "table3":
            for row, spec in _table3_specs(config).items():
                add(spec, f"table3:{row}")
        elif artefact == "table4":
            for row, (loo, ft) in _table4_specs(config).items():
                add(loo, f"table4:{row}:leave_one_out")
                add(ft, f"table4:{row}:finetune")
        elif artefact == "figure2":
            for (corpus, kind), spec in _figure2_specs(config).items():
                add(spec, f"figure2:{corpus}:{KIND_NAMES[kind]}")
        else:
            raise ParameterError(f"artefact {artefact!r} is not one of {sorted(ARTEFACTS)}")
    rows = []
    for spec, used_by in uses.items():
        for seed in config.evaluate.seeds:
            run_id = None if spec.finetune_from else config_hash(training_config(config, spec, seed=seed))
            rows.append({"run": spec.describe(), "finetune": spec.finetune_from is not None, "seed": seed,
                         "used_by": "; ".join(sorted(set(used_by))), "run_id": run_id})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# Result folders
# ---------------------------------------------------------------------------------------------------------------


def results_dir(config: Config, artefact: str) -> Path:
    """``<evaluate.results_dir>/<artefact>/<config_hash>``: where an artefact's results for ``config`` live."""
    if artefact not in ARTEFACTS:
        raise ParameterError(f"artefact {artefact!r} is not one of {sorted(ARTEFACTS)}")
    return Path(config.evaluate.results_dir) / artefact / config_hash(config)


def _cached(artefact: str, config: Config, compute: Callable[[], Any], *, by: Sequence[str], force: bool,
            progress: bool) -> Any:
    import pandas as pd
    import yaml

    folder = results_dir(config, artefact)
    path = folder / "results.csv"
    if path.is_file() and not force:
        if progress:
            print(f"[{artefact}] reading {path}")
        return pd.read_csv(path, dtype={"run_id": str})
    start = time.perf_counter()
    df = compute()
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarize(df, by=by)
    tmp = folder / "results.csv.tmp"
    df.to_csv(tmp, index=False)
    summary.to_csv(folder / "summary.csv", index=False)
    (folder / "summary.json").write_text(summary.to_json(orient="records", indent=1))
    side_by_side(summary, paper_results()[artefact]).to_csv(folder / "side_by_side.csv", index=False)
    meta = {"artefact": artefact, "config_hash": config_hash(config), "seconds": round(time.perf_counter() - start, 1)}
    (folder / "config.yaml").write_text(yaml.safe_dump({"_meta": meta, **to_dict(config)}, sort_keys=False))
    tmp.replace(path)  # results.csv last: its presence means the folder is complete
    if progress:
        print(f"[{artefact}] wrote {folder} ({meta['seconds']} s)")
    return pd.read_csv(path, dtype={"run_id": str})


# ---------------------------------------------------------------------------------------------------------------
# Table 3: emotion audio retrieval
# ---------------------------------------------------------------------------------------------------------------


def _thresholds_key(thresholds: Any) -> str:
    if thresholds is None:
        return "fixed"
    to_dict_ = getattr(thresholds, "to_dict", None)
    return repr(to_dict_() if callable(to_dict_) else thresholds)


def ear_table(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Table 3: Precision@K of EAR on ``evaluate.ear_collection`` (4 classes) for the three training rows.

    Returns
    -------
    DataFrame with columns ``row, query_kind, k, seed, value, n_queries, n_items, run_id``; one row per
    (row, query kind, K, seed); ``value`` is Precision@K in [0, 1].
    """
    import pandas as pd

    from clapemo.train import load_run

    specs = _table3_specs(config)

    def compute() -> Any:
        frames = []
        collections: dict[str, Any] = {}  # the annotated collection per distinct prompt thresholds
        for seed in config.evaluate.seeds:
            for row, spec in specs.items():
                run_dir = fit_run(config, spec, seed=seed, progress=progress)
                model = load_run(run_dir)
                key = _thresholds_key(model.thresholds)
                if key not in collections:
                    collections[key] = ear_collection(config, thresholds=model.thresholds)
                collection = collections[key]
                res = ear(model, collection, kinds=config.evaluate.ear_query_kinds, ks=config.evaluate.ks)
                res.insert(0, "row", row)
                res.insert(3, "seed", seed)
                res["run_id"] = Path(run_dir).name
                frames.append(res.rename(columns={"precision": "value"}))
                if progress:
                    cl = res[(res.query_kind == "class_label")].set_index("k")["precision"].round(3).to_dict()
                    print(f"[table3] seed {seed} {row}: class-label P@K {cl}")
        return pd.concat(frames, ignore_index=True)[
            ["row", "query_kind", "k", "seed", "value", "n_queries", "n_items", "run_id"]]

    return _cached("table3", config, compute, by=["row", "query_kind", "k"], force=force, progress=progress)


# ---------------------------------------------------------------------------------------------------------------
# Table 4: speech emotion recognition, leave one out and finetune
# ---------------------------------------------------------------------------------------------------------------


def _ser_test_set(config: Config, corpus: str) -> tuple[Any, tuple[str, ...]]:
    from clapemo import corpora

    test = corpora.manifest([corpus], config, split="test")
    train = corpora.manifest([corpus], config, split="train")
    four = config.data.iemocap_four_class and base_corpus(corpus) == "iemocap"
    if four:
        test, train = four_class(test), four_class(train)
    if len(test) == 0:
        raise DataError(f"corpus {corpus!r} has no test clips")
    check_speaker_independent(train, test)
    return test, corpus_labels(corpus, four_class_iemocap=four)


def _ser_rows(model: Any, test: Any, labels: Sequence[str], config: Config) -> list[dict]:
    scores = zero_shot_ser(model, test, labels=labels, template=config.evaluate.zero_shot_template,
                           words=config.prompts.emotion_words)
    return [{"metric": m, "value": scores[m], "n_items": scores["n_items"], "n_classes": scores["n_classes"]}
            for m in SER_METRICS]


def ser_table(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Table 4: zero-shot SER on ``evaluate.ser_target``'s test split, leave-one-out and after finetuning.

    Returns
    -------
    DataFrame with columns ``row, setting, metric, seed, value, n_items, n_classes, run_id``; ``setting`` in
    {leave_one_out, finetune}, ``metric`` in {accuracy, unweighted_accuracy}; rows ``Random`` (chance),
    ``Random (draw)`` (a seeded random classifier) and the four trained rows.
    """
    import pandas as pd

    from clapemo.train import load_run

    specs = _table4_specs(config)
    target = config.evaluate.ser_target

    def compute() -> Any:
        test, labels = _ser_test_set(config, target)
        rows = []
        for seed in config.evaluate.seeds:
            drawn = ser_scores(test["label"].tolist(), random_predict(len(test), labels, seed=seed), labels=labels)
            for setting in ("leave_one_out", "finetune"):
                for metric in SER_METRICS:
                    common = {"setting": setting, "metric": metric, "seed": seed, "n_items": len(test),
                              "n_classes": len(labels), "run_id": None}
                    rows.append({"row": "Random", "value": 1.0 / len(labels), **common})
                    rows.append({"row": "Random (draw)", "value": drawn[metric], **common})
            for row, (loo, ft) in specs.items():
                for setting, spec in (("leave_one_out", loo), ("finetune", ft)):
                    run_dir = fit_run(config, spec, seed=seed, progress=progress)
                    cells = _ser_rows(load_run(run_dir), test, labels, config)
                    rows += [{"row": row, "setting": setting, "seed": seed, "run_id": Path(run_dir).name, **c}
                             for c in cells]
                    if progress:
                        print(f"[table4] seed {seed} {row} {setting}: accuracy {cells[0]['value']:.3f}")
        return pd.DataFrame(rows)[["row", "setting", "metric", "seed", "value", "n_items", "n_classes", "run_id"]]

    return _cached("table4", config, compute, by=["row", "setting", "metric"], force=force, progress=progress)


# ---------------------------------------------------------------------------------------------------------------
# Figure 2: prompt analysis
# ---------------------------------------------------------------------------------------------------------------


def prompt_analysis(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Figure 2: zero-shot SER on each ``evaluate.prompt_analysis_corpora`` test split after training on 4D + that
    corpus's train split, once per ``evaluate.prompt_analysis_kinds`` entry.

    Returns
    -------
    DataFrame with columns ``corpus, prompt_kind, metric, seed, value, n_items, n_classes, run_id``.
    Draw it with :func:`plot_prompt_analysis`; the results folder also gets ``figure.png``.
    """
    import pandas as pd

    from clapemo.train import load_run

    specs = _figure2_specs(config)

    def compute() -> Any:
        rows = []
        tests = {c: _ser_test_set(config, c) for c in config.evaluate.prompt_analysis_corpora}
        for seed in config.evaluate.seeds:
            for (corpus, kind), spec in specs.items():
                run_dir = fit_run(config, spec, seed=seed, progress=progress)
                test, labels = tests[corpus]
                cells = _ser_rows(load_run(run_dir), test, labels, config)
                rows += [{"corpus": corpus, "prompt_kind": kind, "seed": seed, "run_id": Path(run_dir).name, **c}
                         for c in cells]
                if progress:
                    print(f"[figure2] seed {seed} {corpus} {KIND_NAMES[kind]}: accuracy {cells[0]['value']:.3f}")
        return pd.DataFrame(rows)[
            ["corpus", "prompt_kind", "metric", "seed", "value", "n_items", "n_classes", "run_id"]]

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


def _compare(summary: Any, better: Mapping[str, Any], worse: Mapping[str, Any]) -> tuple[float, float]:
    """(mean difference better - worse, its standard error) between two cells of a summary."""

    def cell(where: Mapping[str, Any]) -> Any:
        mask = np.ones(len(summary), dtype=bool)
        for key, val in where.items():
            mask &= (summary[key] == val).to_numpy()
        if mask.sum() != 1:
            raise DataError(f"summary has {mask.sum()} cells matching {dict(where)}")
        return summary[mask].iloc[0]

    a, b = cell(better), cell(worse)
    se = math.sqrt((a["sd"] ** 2 / a["n"] if a["n"] > 1 else math.nan)
                   + (b["sd"] ** 2 / b["n"] if b["n"] > 1 else math.nan))
    return float(a["mean"] - b["mean"]), se


def _verdict(pairs: list[tuple[float, float]]) -> tuple[str, float, float]:
    """Aggregate 'better > worse' comparisons: holds when every difference is > 0; 'clearly' when each also
    exceeds twice its standard error; likewise for failing."""
    diffs = [d for d, _ in pairs]
    zs = [d / se if se and not math.isnan(se) and se > 0 else math.nan for d, se in pairs]
    if all(d > 0 for d in diffs):
        clear = all(not math.isnan(z) and z > 2 for z in zs)
        verdict = "holds (clearly)" if clear else "holds (within noise)"
    else:
        failing = [z for d, z in zip(diffs, zs) if d <= 0]
        clear = any(not math.isnan(z) and z < -2 for z in failing)
        verdict = "does not hold (clearly)" if clear else "does not hold (within noise)"
    finite = [z for z in zs if not math.isnan(z)]
    return verdict, min(diffs), (min(finite) if finite else math.nan)


def claims(*, table3: Any = None, table4: Any = None, figure2: Any = None) -> Any:
    """Test the paper's qualitative claims (``paper_results()["claims"]``) on our tidy results.

    Each claim is a set of "A > B" comparisons of seed means. ``verdict`` is "holds" when every difference is
    positive, "does not hold" otherwise; "(clearly)" when the deciding differences exceed twice their standard
    error over seeds (needs >= 2 seeds), "(within noise)" otherwise.

    Parameters
    ----------
    table3, table4, figure2 : tidy frames from :func:`ear_table`, :func:`ser_table`, :func:`prompt_analysis`
        (any may be None: its claims are skipped).

    Returns
    -------
    DataFrame with ``artefact, id, claim, verdict, min_difference, min_z``.
    """
    import pandas as pd

    texts = paper_results()["claims"].set_index("id")["claim"].to_dict()
    out = []

    def record(artefact: str, cid: str, pairs: list[tuple[float, float]]) -> None:
        verdict, diff, z = _verdict(pairs)
        out.append({"artefact": artefact, "id": cid, "claim": texts[cid], "verdict": verdict,
                    "min_difference": diff, "min_z": z})

    if table3 is not None:
        s = summarize(table3, by=["row", "query_kind", "k"])
        pa, others = "4D + [5ED - PA]", ("4D", "4D + [5ED - CL]")
        ks = sorted(s["k"].unique())
        record("table3", "t3_pa_best_class_label",
               [_compare(s, {"row": pa, "query_kind": "class_label", "k": k},
                         {"row": o, "query_kind": "class_label", "k": k}) for k in ks for o in others])
        acoustic = [q for q in s["query_kind"].unique() if q != "class_label"]
        if acoustic:
            record("table3", "t3_pa_best_acoustic",
                   [_compare(s, {"row": pa, "query_kind": q, "k": k}, {"row": o, "query_kind": q, "k": k})
                    for q in acoustic for k in ks for o in others])
    if table4 is not None:
        s = summarize(table4[table4["metric"] == "accuracy"], by=["row", "setting"])

        def c(a: str, b: str, setting: str) -> tuple[float, float]:
            return _compare(s, {"row": a, "setting": setting}, {"row": b, "setting": setting})

        record("table4", "t4_emotion_data_helps_loo",
               [c("5ED - CL", "4D", "leave_one_out"), c("4D + [5ED - CL]", "4D", "leave_one_out")])
        # "PA does not help leave-one-out": holds when CL > PA
        record("table4", "t4_pa_not_best_loo", [c("4D + [5ED - CL]", "4D + [5ED - PA]", "leave_one_out")])
        record("table4", "t4_pa_best_finetune",
               [c("4D + [5ED - PA]", o, "finetune") for o in ("4D", "5ED - CL", "4D + [5ED - CL]")])
    if figure2 is not None:
        s = summarize(figure2[figure2["metric"] == "accuracy"], by=["corpus", "prompt_kind"])
        corpora_ = list(dict.fromkeys(s["corpus"]))
        first = corpora_[0]
        kinds = set(s["prompt_kind"])

        def c(corpus: str, a: str, b: str) -> tuple[float, float]:
            return _compare(s, {"corpus": corpus, "prompt_kind": a}, {"corpus": corpus, "prompt_kind": b})

        acoustic = [k for k in ("pitch", "intensity", "speech_rate", "articulation_rate") if k in kinds]
        if "pitch" in kinds and len(acoustic) > 1:
            record("figure2", "f2_pitch_best_acoustic", [c(first, "pitch", k) for k in acoustic if k != "pitch"])
        if len(acoustic) == 4:
            record("figure2", "f2_acoustic_order",
                   [c(first, acoustic[i], acoustic[i + 1]) for i in range(3)])
        if "augment" in kinds:
            record("figure2", "f2_pa_best_both",
                   [c(corpus, "augment", k) for corpus in corpora_ for k in kinds if k != "augment"])
    return pd.DataFrame(out, columns=["artefact", "id", "claim", "verdict", "min_difference", "min_z"])


# ---------------------------------------------------------------------------------------------------------------
# CLI: clapemo experiment {table3,table4,figure2,all} --config ... [--set k=v]
# ---------------------------------------------------------------------------------------------------------------


def cli(argv: list[str]) -> int:
    """``clapemo experiment ARTEFACT [--config FILE] [--set KEY=VALUE] [--force] [--plan]``."""
    import pandas as pd

    parser = argparse.ArgumentParser(prog="clapemo experiment",
                                     description="Run one of the paper's experiments and print it beside the paper.")
    parser.add_argument("artefact", choices=[*ARTEFACTS, "all"])
    parser.add_argument("--config", default=None, help="YAML experiment config (default: built-in defaults)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, repeatable")
    parser.add_argument("--force", action="store_true", help="recompute even when results exist (runs are reused)")
    parser.add_argument("--plan", action="store_true", help="only list the trainings the artefact needs")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    config = load_config(args.config, overrides=args.set)
    artefacts = list(ARTEFACTS) if args.artefact == "all" else [args.artefact]
    if args.plan:
        plan = training_plan(config, artefacts=artefacts)
        with pd.option_context("display.width", 200, "display.max_colwidth", 80, "display.max_rows", 500):
            print(plan.to_string(index=False))
        print(f"# {len(plan)} trainings ({int(plan['finetune'].sum())} finetunes)")
        return 0
    frames = {}
    for artefact in artefacts:
        df = globals()[ARTEFACTS[artefact]](config, force=args.force, progress=not args.quiet)
        frames[artefact] = df
        by = {"table3": ["row", "query_kind", "k"], "table4": ["row", "setting", "metric"],
              "figure2": ["corpus", "prompt_kind", "metric"]}[artefact]
        table = side_by_side(summarize(df, by=by), paper_results()[artefact])
        with pd.option_context("display.width", 200, "display.max_rows", 500, "display.float_format",
                               "{:.3f}".format):
            print(f"\n== {artefact}: {results_dir(config, artefact)}")
            print(table.drop(columns=["ours_ci_low", "ours_ci_high"]).to_string(index=False))
    verdicts = claims(**frames)
    if len(verdicts):
        with pd.option_context("display.width", 200, "display.max_colwidth", 70, "display.float_format",
                               "{:.3f}".format):
            print("\n== the paper's claims here")
            print(verdicts.drop(columns=["claim"]).to_string(index=False))
    return 0

