"""Figure 2: prompt analysis. Zero-shot SER on each ``evaluate.prompt_analysis_corpora`` test split after training
on 4D (when available) + that corpus's train split, once per prompt kind of ``evaluate.prompt_analysis_kinds``
(class label, pitch, intensity, speech rate, articulation rate, PA)."""

from __future__ import annotations

from typing import Any

import numpy as np

from clapemo.config import Config
from clapemo.errors import ParameterError
from clapemo.schema import AUGMENT_KIND, PAPER_ACOUSTIC_KINDS
from clapemo.experiments.artefact import Artefact
from clapemo.experiments.paper import compare_cells, items_of
from clapemo.experiments.planning import KIND_NAMES, RunSpec, caption_corpora_available, check_corpus, fit_plan
from clapemo.experiments.scoring import SER_METRICS, frames, score_run, ser_test_set, summarize

__all__ = ["FIGURE2", "cell_specs", "prompt_analysis", "plot_prompt_analysis"]

RESULT_COLUMNS = ("corpus", "prompt_kind", "metric", "seed", "value", "n_items", "n_classes", "status",
                  "trained_on", "run_id")
ITEM_COLUMNS = ("corpus", "prompt_kind", "seed", "item", "value")


def cell_specs(config: Config) -> dict[tuple[str, str], RunSpec]:
    """(corpus, kind) -> RunSpec: 4D (when available) + the corpus's train split, one run per prompt kind."""
    has4d = bool(caption_corpora_available(config))
    specs = {}
    for name in config.evaluate.prompt_analysis_corpora:
        corpus = check_corpus(config, name, "evaluate.prompt_analysis_corpora")
        for kind in config.evaluate.prompt_analysis_kinds:
            specs[(corpus, kind)] = RunSpec((corpus,), has4d, kind)
    return specs


def _specs(config: Config) -> list[tuple[str, RunSpec]]:
    return [(f"figure2:{corpus}:{KIND_NAMES[kind]}", spec) for (corpus, kind), spec in cell_specs(config).items()]


def prompt_analysis(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Figure 2: zero-shot SER on each ``evaluate.prompt_analysis_corpora`` test split after training on 4D (when
    available) + that corpus's train split, once per ``evaluate.prompt_analysis_kinds`` entry.

    Returns
    -------
    DataFrame with columns ``corpus, prompt_kind, metric, seed, value, n_items, n_classes, status, trained_on,
    run_id``; ``attrs["items"]``: per test clip 1.0/0.0 correct (``corpus, prompt_kind, seed, item, value``).
    Draw it with :func:`plot_prompt_analysis`; the results folder also gets ``figure.png``.
    """
    specs = cell_specs(config)
    seeds = config.evaluate.seeds

    def compute() -> Any:
        tests = {corpus: ser_test_set(config, corpus) for corpus in dict.fromkeys(c for c, _ in specs)}
        done = fit_plan(config, [(spec, seed) for seed in seeds for spec in specs.values()],
                        uses=FIGURE2.uses(config), progress=progress)
        rows, items = [], []
        for seed in seeds:
            for (corpus, kind), spec in specs.items():
                test, labels = tests[corpus]
                where = {"corpus": corpus, "prompt_kind": kind, "seed": seed}
                new_rows, new_items, accuracy = score_run(done[(spec, seed)], test, labels, config, where=where,
                                                          trained_on=spec.describe())
                rows += new_rows
                items.append(new_items)
                if progress:
                    print(f"[figure2] seed {seed} {corpus} {KIND_NAMES[kind]}: accuracy {accuracy:.3f}")
        return frames(rows, items, columns=RESULT_COLUMNS, item_columns=ITEM_COLUMNS)

    df = FIGURE2.store(config, compute, force=force, progress=progress)
    png = FIGURE2.results_dir(config) / "figure.png"
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


def _claims(results: Any, n_boot: int) -> dict[str, list]:
    """The paper's Figure 2 claims: pitch is the best acoustic prompt, the acoustic kinds rank pitch > intensity
    > speech rate > articulation rate (on the first corpus), and PA beats every other kind on each corpus."""
    items = items_of(results, "figure2")
    corpora_ = list(dict.fromkeys(results["corpus"]))
    first = corpora_[0] if corpora_ else None
    kinds = set(results["prompt_kind"]) if corpora_ else set()

    def pair(corpus: str, a: str, b: str) -> Any:
        return compare_cells(items, {"corpus": corpus, "prompt_kind": a}, {"corpus": corpus, "prompt_kind": b},
                             n_boot=n_boot)

    out = {}
    acoustic = [k for k in PAPER_ACOUSTIC_KINDS if k in kinds]
    if "pitch" in kinds and len(acoustic) > 1:
        out["f2_pitch_best_acoustic"] = [pair(first, "pitch", k) for k in acoustic if k != "pitch"]
    if len(acoustic) == len(PAPER_ACOUSTIC_KINDS):
        out["f2_acoustic_order"] = [pair(first, acoustic[i], acoustic[i + 1]) for i in range(len(acoustic) - 1)]
    if AUGMENT_KIND in kinds:
        out["f2_pa_best_both"] = [pair(corpus, AUGMENT_KIND, k) for corpus in corpora_ for k in sorted(kinds)
                                  if k != AUGMENT_KIND]
    return out


FIGURE2 = Artefact(
    name="figure2", title="Figure 2: prompt analysis", config_name="figure2_prompts", notebook="04_prompt_analysis",
    target_key="prompt_analysis_corpora", leaves_target_out=False, summary_keys=("corpus", "prompt_kind", "metric"),
    result_columns=RESULT_COLUMNS, item_columns=ITEM_COLUMNS, paper=True, specs=_specs,
    compute=prompt_analysis, claims=_claims)
