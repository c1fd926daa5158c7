"""Chapter 6: the paper's future work and open questions, measured on the Figure 2 protocol.

Every variant is trained on 4D (when available) + the training split of each ``evaluate.prompt_analysis_corpora``
corpus (``configs/extensions.yaml``: RAVDESS, the corpus of the paper's Figure 2 claims) with the seeds of
``evaluate.seeds``, and scored by zero-shot SER on that corpus's test split, exactly as
:func:`clapemo.experiments.prompt_analysis` scores Figure 2, and by emotion audio retrieval with the
acoustic queries of Table 3 (Precision@K, the acoustic kinds of ``evaluate.ear_query_kinds``) over the same test
split. A variant differs from its *baseline* by a few config keys (:data:`VARIANTS`); the baselines CL and PA
are Figure 2's own runs (same config, so the same trained runs), and each difference is paired over seeds and test
clips (or queries) with the hierarchical bootstrap of :mod:`clapemo.uncertainty` (:func:`compare`), as the main
chapters' claims are.

Sections (the issue's numbering):

1. ``loss``: the symmetric CLIP loss vs ``train.loss = multi_positive`` (pairs with the same prompt in a batch
   count as positives, not as negatives), for CL and PA training.
2. ``binning`` (PA): the reconstructed fixed cuts vs quantile cuts pooled over the training clips, per speaker
   (speaker normalisation) and per sex for pitch. Per corpus is not a separate variant here: with one emotion
   corpus in training (4D clips carry no acoustic prompts) its cuts are the pooled ones.
3. ``granularity`` (PA, pooled quantiles): 2 levels vs 3 (low / normal / high, 30/70 %) vs 5.
4. ``properties`` (PA, pooled quantiles): the paper's four properties vs the same plus pitch variability, jitter,
   shimmer, HNR and pause rate (``features.voice_quality``; each with its own prompt words,
   :data:`clapemo.prompts.EXTRA_KINDS`).
5. ``form``: PA's separate pairs vs one combined prompt per clip (the paper's remark, no numbers given), and bare
   phrases vs the sentence template ("a person speaking with high pitch, sounding angry").

:func:`run` computes (or reads) the results, :func:`compare` the paired differences, :func:`finding` one sentence
per section generated from those numbers ("no clear difference" where the interval holds 0).

**Where EAR applies.** An acoustic query ("high pitch") is relevant to the clips whose prompt of that kind it is,
and which clips those are depends on the run's cuts, levels and prompt form (:func:`_ear_items`). A variant's
retrieval is compared with its baseline's only when both ask the *same* questions: every query of the baseline
selects exactly the clips one query of the variant selects (the query's wording may differ, as for the sentence
form). Quantile or per-speaker cuts and 3 or 5 levels define other queries; their rows read "does not apply"
(comparing them would compare definitions of "high", not models).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from clapemo.config import Config, replace
from clapemo.errors import ParameterError
from clapemo.prompts import EXTRA_KINDS
from clapemo.schema import AUGMENT_KINDS

__all__ = ["Variant", "VARIANTS", "SECTIONS", "variant_config", "variants_table", "ear_kinds", "run", "compare",
           "finding", "section_table", "plot_differences", "RESULT_COLUMNS", "ITEM_COLUMNS", "COMPARE_COLUMNS",
           "EAR_METRIC", "NOT_APPLICABLE"]

#: the voice-quality prompt kinds of section 4, and PA's five (the paper's)
_MORE = list(EXTRA_KINDS)
_PA_KINDS = list(AUGMENT_KINDS)
_QUANTILE = {"prompts.binning": "quantile", "prompts.quantile_scope": "pooled"}


@dataclasses.dataclass(frozen=True)
class Variant:
    """One trained variant: ``prompt_kind`` (``train.prompt_kind``) and config ``overrides`` (dotted keys) over the
    chapter's config; ``baseline`` names the variant it is compared with (None: a baseline itself)."""

    name: str
    section: str
    prompt_kind: str
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    baseline: str | None = None


#: section -> its title in the book
SECTIONS: dict[str, str] = {
    "loss": "Loss: symmetric CLIP vs multi-positive",
    "binning": "Binning: fixed cuts vs quantiles pooled, per speaker, per sex",
    "granularity": "Granularity: 2, 3 or 5 levels per property",
    "properties": "More properties: pitch variability, jitter, shimmer, HNR, pause rate",
    "form": "Prompt form: separate pairs, one combined prompt, a sentence",
}

#: every variant of the chapter, baselines first; a variant's baseline is trained for the same seeds
VARIANTS: tuple[Variant, ...] = (
    Variant("CL", "loss", "class_label"),
    Variant("PA", "loss", "augment"),
    Variant("CL, multi-positive", "loss", "class_label", {"train.loss": "multi_positive"}, "CL"),
    Variant("PA, multi-positive", "loss", "augment", {"train.loss": "multi_positive"}, "PA"),
    Variant("PA, quantile pooled", "binning", "augment", _QUANTILE, "PA"),
    Variant("PA, quantile per speaker", "binning", "augment",
            {**_QUANTILE, "prompts.quantile_scope": "per_speaker"}, "PA"),
    Variant("PA, quantile per sex (pitch)", "binning", "augment",
            {**_QUANTILE, "prompts.quantile_scope": "per_sex"}, "PA"),
    Variant("PA, 3 levels", "granularity", "augment", {**_QUANTILE, "prompts.levels": 3}, "PA, quantile pooled"),
    Variant("PA, 5 levels", "granularity", "augment", {**_QUANTILE, "prompts.levels": 5}, "PA, quantile pooled"),
    Variant("PA + 5 voice-quality prompts", "properties", "augment",
            {**_QUANTILE, "features.voice_quality": True, "prompts.extra_kinds": _MORE,
             "prompts.augment_kinds": _PA_KINDS + _MORE}, "PA, quantile pooled"),
    Variant("one combined prompt", "form", "combined", {}, "PA"),
    Variant("PA, sentence form", "form", "augment", {"prompts.form": "sentence"}, "PA"),
)

_BY_NAME = {v.name: v for v in VARIANTS}

RESULT_COLUMNS = ("section", "variant", "baseline", "corpus", "metric", "seed", "value", "n_items", "n_classes",
                  "status", "trained_on", "run_id")
#: per seed and test item: ``metric`` ``accuracy`` (item = a test clip, value 1/0) or ``acoustic_p@K`` (item = an
#: acoustic query, named by its kind and the clips it selects, value its Precision@K)
ITEM_COLUMNS = ("variant", "corpus", "seed", "metric", "item", "value")
#: the columns of :func:`compare`
COMPARE_COLUMNS = ("section", "corpus", "metric", "variant", "baseline", "variant_value", "baseline_value",
                   "difference", "ci_low", "ci_high", "mdd", "n_seeds", "n_items", "reading")
#: the metric name of acoustic-query retrieval at K
EAR_METRIC = "acoustic_p@{k}"
#: the reading of an EAR row whose variant and baseline ask different questions (see the module docstring)
NOT_APPLICABLE = "does not apply (other queries)"
#: the variant keys that decide which clips an acoustic query selects (the rest only change training)
_QUERY_KEYS = ("prompts.binning", "prompts.quantile_scope", "prompts.levels", "prompts.form")


def variant_config(config: Config, variant: Variant) -> Config:
    """``config`` with the variant's overrides (its prompt kind is set per training by the RunSpec)."""
    return replace(config, **dict(variant.overrides)) if variant.overrides else config


def ear_kinds(config: Config) -> list[str]:
    """The acoustic query kinds of the chapter's retrieval: Table 3's (``evaluate.ear_query_kinds``) but the
    class label (zero-shot SER already asks the class question)."""
    return [k for k in config.evaluate.ear_query_kinds if k != "class_label"]


def _ear_items(model: Any, collection: Any, kinds: list[str], ks: list[int]) -> Any:
    """Precision@K per acoustic query of one model, each query named ``<kind>:<digest of the clips it selects>``
    so that queries which select the same clips pair up whatever their wording."""
    from clapemo.evaluate import ear_per_query, retrieval_queries

    names = {}
    for kind in kinds:
        queries, relevant = retrieval_queries(collection[kind].tolist())
        for query, row in zip(queries, relevant):
            names[(kind, query)] = f"{kind}:{hashlib.sha1(row.tobytes()).hexdigest()[:12]}"
    per_query = ear_per_query(model, collection, kinds=kinds, ks=ks)
    return per_query.assign(item=[names[(k, q)] for k, q in zip(per_query["query_kind"], per_query["item"])],
                            metric=[EAR_METRIC.format(k=k) for k in per_query["k"]])


def _specs(config: Config) -> dict[tuple[str, str], Any]:
    """(variant name, corpus) -> RunSpec of the training (4D + the corpus, the variant's prompt kind)."""
    from clapemo import experiments

    has4d = bool(experiments.caption_corpora_available(config))
    corpora = [experiments._check_corpus(config, name, "evaluate.prompt_analysis_corpora")
               for name in config.evaluate.prompt_analysis_corpora]
    return {(v.name, c): experiments.RunSpec((c,), has4d, v.prompt_kind) for v in VARIANTS for c in corpora}


def _show(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def variants_table(*, styled: bool = False) -> Any:
    """The chapter's variants: section, name, prompt kind, the config keys it changes *relative to the run it is
    compared with*, and that run. ``styled``: a Styler without the index (long cells are not cut)."""
    import pandas as pd

    rows = []
    for v in VARIANTS:
        base = dict(_BY_NAME[v.baseline].overrides) if v.baseline else {}
        changed = {k: val for k, val in v.overrides.items() if base.get(k) != val}
        if v.baseline and v.prompt_kind != _BY_NAME[v.baseline].prompt_kind:
            changed = {"train.prompt_kind": v.prompt_kind, **changed}
        rows.append({"section": v.section, "variant": v.name, "prompt kind": v.prompt_kind,
                     "changes": "; ".join(f"{k} = {_show(val)}" for k, val in changed.items()) or "(none)",
                     "compared with": v.baseline or "(a baseline: Figure 2's run)"})
    table = pd.DataFrame(rows)
    return table.style.hide(axis="index") if styled else table


def run(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Train (or reuse) every variant for every seed and score zero-shot SER on each corpus's test split.

    Returns
    -------
    DataFrame with :data:`RESULT_COLUMNS` (metrics ``accuracy``, ``unweighted_accuracy`` and ``acoustic_p@K``
    for each K of ``evaluate.ks``: mean Precision@K over the acoustic queries, ``n_items`` = queries);
    ``attrs["items"]``: per test clip 1.0/0.0 correct and per query its Precision@K (:data:`ITEM_COLUMNS`), what
    :func:`compare` pairs. Cached in ``<evaluate.results_dir>/extensions/<config hash>`` with its provenance, like
    the main artefacts; a folder written before the retrieval cells existed is recomputed (the trained runs are
    reused, so only the evaluation runs again).
    """
    import pandas as pd

    from clapemo import experiments
    from clapemo.evaluate import collection as ear_collection
    from clapemo.train import load_run

    specs = _specs(config)
    seeds = list(config.evaluate.seeds)
    kinds, ks = ear_kinds(config), [int(k) for k in config.evaluate.ks]

    def compute() -> Any:
        tests = {c: experiments._ser_test_set(config, c) for c in dict.fromkeys(c for _, c in specs)}
        collections: dict[tuple, Any] = {}  # annotated test split per (corpus, cuts, query-defining keys)
        keys = [(name, corpus, seed) for seed in seeds for (name, corpus) in specs]
        configs = [experiments.training_config(variant_config(config, _BY_NAME[n]), specs[(n, c)], seed=s)
                   for n, c, s in keys]
        run_dirs = experiments._fit_many(config, configs, progress=progress)
        rows, items = [], []
        for (name, corpus, seed), run_dir in zip(keys, run_dirs):
            variant = _BY_NAME[name]
            test, labels = tests[corpus]
            model = load_run(run_dir)
            cells, correct = experiments._ser_cells(model, test, labels, config)
            query_overrides = {k: v for k, v in variant.overrides.items() if k in _QUERY_KEYS}
            key = (corpus, experiments._thresholds_key(model.thresholds), repr(sorted(query_overrides.items())))
            if key not in collections:
                collections[key] = ear_collection(corpus, replace(config, **query_overrides) if query_overrides
                                                  else config, split="test", thresholds=model.thresholds)
            per_query = _ear_items(model, collections[key], kinds, ks)
            for metric, group in per_query.groupby("metric", sort=False):
                cells.append({"metric": metric, "value": float(group["value"].mean()), "n_items": len(group),
                              "n_classes": float("nan")})
            rows += [{"section": variant.section, "variant": name, "baseline": variant.baseline or "",
                      "corpus": corpus, "seed": seed, "status": "ok",
                      "trained_on": specs[(name, corpus)].describe(), "run_id": Path(run_dir).name, **c}
                     for c in cells]
            items += [correct.assign(variant=name, corpus=corpus, seed=seed, metric="accuracy"),
                      per_query.assign(variant=name, corpus=corpus, seed=seed)]
            if progress:
                top = EAR_METRIC.format(k=max(ks))
                print(f"[extensions] seed {seed} {corpus} {name}: accuracy {cells[0]['value']:.3f}, "
                      f"{top} {per_query.loc[per_query['metric'] == top, 'value'].mean():.3f}")
        return (pd.DataFrame(rows).reindex(columns=list(RESULT_COLUMNS)),
                pd.concat(items, ignore_index=True).reindex(columns=list(ITEM_COLUMNS)))

    by = ["section", "variant", "corpus", "metric"]
    df = experiments._cached("extensions", config, compute, by=by, force=force, progress=progress)
    if "metric" not in df.attrs["items"].columns:  # written before the retrieval cells: evaluate again
        df = experiments._cached("extensions", config, compute, by=by, force=True, progress=progress)
    df["baseline"] = df["baseline"].fillna("")
    return df


def _ear_metric(results: Any) -> str | None:
    """The retrieval metric :func:`compare` pairs: Precision@K at the largest K of the results (None: no EAR)."""
    ks = [int(m.split("@")[1]) for m in dict.fromkeys(results["metric"]) if str(m).startswith("acoustic_p@")]
    return EAR_METRIC.format(k=max(ks)) if ks else None


def _same_queries(items: Any, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two cells' retrieval asked the same questions (the same set of query names on every seed)."""
    def names(where: Mapping[str, Any]) -> set:
        mask = np.ones(len(items), dtype=bool)
        for key, val in where.items():
            mask &= (items[key] == val).to_numpy()
        return set(items.loc[mask, "item"])

    return names(a) == names(b)


def compare(results: Any, *, n_boot: int = 2000) -> Any:
    """Each variant minus its baseline, paired over seeds and test items, per corpus and metric: zero-shot SER
    accuracy (items: test clips) and acoustic-query Precision@K at the largest K (items: queries), the latter only
    where the two ask the same queries (module docstring).

    Returns
    -------
    DataFrame with :data:`COMPARE_COLUMNS`; ``reading`` is ``better``, ``worse`` (the 95 % interval excludes 0),
    ``same on every clip`` / ``same on every query`` (no seed-item pair differs), ``no clear difference``, or
    :data:`NOT_APPLICABLE` (retrieval rows whose queries differ; their numbers are NaN).
    """
    import pandas as pd

    from clapemo.experiments import _compare

    items = results.attrs.get("items")
    if items is None:
        raise ParameterError("results has no per-item results (attrs['items']); pass the frame run() returned")
    if results.attrs.get("not_run"):  # the chapter could not run (clapemo.book.run_artefact): say why downstream
        empty = pd.DataFrame(columns=list(COMPARE_COLUMNS))
        empty.attrs["not_run"] = results.attrs["not_run"]
        return empty
    metrics = ["accuracy"] + [m for m in [_ear_metric(results)] if m]
    mean = results[results["metric"].isin(metrics)].groupby(["variant", "corpus", "metric"])["value"].mean()
    out = []
    for metric in metrics:
        unit = "clip" if metric == "accuracy" else "query"
        for variant in VARIANTS:
            if variant.baseline is None:
                continue
            present = results.loc[(results["variant"] == variant.name) & (results["metric"] == metric), "corpus"]
            for corpus in dict.fromkeys(present):
                cell_a = {"variant": variant.name, "corpus": corpus, "metric": metric}
                cell_b = {"variant": variant.baseline, "corpus": corpus, "metric": metric}
                row = {"section": variant.section, "corpus": corpus, "metric": metric, "variant": variant.name,
                       "baseline": variant.baseline}
                if metric != "accuracy" and not _same_queries(items, cell_a, cell_b):
                    out.append({**row, "variant_value": mean[(variant.name, corpus, metric)],
                                "baseline_value": mean[(variant.baseline, corpus, metric)],
                                "reading": NOT_APPLICABLE})
                    continue
                found = _compare(items, cell_a, cell_b, n_boot=n_boot)
                if found is None:
                    continue
                d = found[1]
                reading = ("better" if d.low > 0 else "worse" if d.high < 0
                           else f"same on every {unit}" if d.low == d.high == 0 else "no clear difference")
                out.append({**row, "variant_value": mean[(variant.name, corpus, metric)],
                            "baseline_value": mean[(variant.baseline, corpus, metric)], "difference": d.mean,
                            "ci_low": d.low, "ci_high": d.high, "mdd": d.mdd, "n_seeds": d.n_seeds,
                            "n_items": d.n_items, "reading": reading})
    return pd.DataFrame(out, columns=list(COMPARE_COLUMNS))


def _not_run(comparisons: Any) -> Any:
    """A :class:`clapemo.book.Note` with the reason when the chapter did not run, else None."""
    reason = comparisons.attrs.get("not_run")
    if not reason:
        return None
    from clapemo.book.notes import Note

    return Note(reason)


def _measure(metric: str) -> str:
    """How a metric is named in the book."""
    if metric == "accuracy":
        return "zero-shot SER accuracy"
    return f"acoustic-query retrieval P@{metric.split('@')[1]}"


def section_table(comparisons: Any, section: str) -> Any:
    """The rows of one section (both measures), values and differences in percentage points, for display;
    indexed by variant (the ``corpus`` column only when the section spans more than one corpus)."""
    import pandas as pd

    if section not in SECTIONS:
        raise ParameterError(f"section {section!r} is not one of {list(SECTIONS)}")
    note = _not_run(comparisons)
    if note is not None:
        return note
    rows = comparisons[comparisons["section"] == section]
    table = rows[["corpus"]].copy()
    table["measure"] = [_measure(m) for m in rows["metric"]]
    table["variant"], table["baseline"] = rows["variant"], rows["baseline"]
    table["variant (%)"] = (100 * rows["variant_value"].astype(float)).round(1)
    table["baseline (%)"] = (100 * rows["baseline_value"].astype(float)).round(1)
    table["difference (pp)"] = (100 * rows["difference"].astype(float)).round(1)
    table["95 % interval (pp)"] = ["" if pd.isna(lo) else f"[{100 * lo:+.1f}, {100 * hi:+.1f}]"
                                   for lo, hi in zip(rows["ci_low"], rows["ci_high"])]
    table["detectable (pp)"] = (100 * rows["mdd"].astype(float)).round(1)
    table["reading"] = rows["reading"]
    if table["corpus"].nunique() == 1:  # one corpus: the section's sentence names it; the page needs the width
        table = table.drop(columns="corpus")
    table = table.set_index("variant")  # the variant names the row (a 0, 1, 2 index would say nothing)
    table.index.name = None
    return table


def _phrase(r: Any, unit: str) -> str:
    pp = (f"{100 * r['difference']:+.1f} points, 95 % interval [{100 * r['ci_low']:+.1f}, "
          f"{100 * r['ci_high']:+.1f}]")
    if r["reading"].startswith("same on every"):  # every item scored alike for both, on every seed
        return f"{r['variant']} scores every test {unit} as {r['baseline']} does (difference 0)"
    if r["reading"] == "no clear difference":
        return (f"{r['variant']} shows no clear difference from {r['baseline']} ({pp}; a difference below about "
                f"{100 * r['mdd']:.1f} points cannot be detected at this size)")
    return f"{r['variant']} is {r['reading']} than {r['baseline']} ({pp})"


def finding(comparisons: Any, section: str) -> str:
    """The sentences of one section stating what its numbers show, generated from :func:`compare`'s rows: zero-shot
    SER first, then acoustic-query retrieval (or why it does not apply)."""
    if _not_run(comparisons) is not None:
        return str(comparisons.attrs['not_run'])
    rows = comparisons[comparisons["section"] == section]
    if rows.empty:
        return f"{SECTIONS.get(section, section)}: nothing was compared (no results)."
    corpora = ", ".join(dict.fromkeys(rows["corpus"]))
    sentences = []
    for metric in dict.fromkeys(rows["metric"]):
        group = rows[rows["metric"] == metric]
        paired = group[group["reading"] != NOT_APPLICABLE]
        if metric == "accuracy":
            head, unit = f"On {corpora} (zero-shot accuracy, paired over seeds and test clips): ", "clip"
        else:
            measure = _measure(metric)
            head, unit = f"{measure[0].upper()}{measure[1:]} (paired over seeds and queries): ", "query"
        parts = [_phrase(r, unit) for _, r in paired.iterrows()]
        skipped = group.loc[group["reading"] == NOT_APPLICABLE]
        if len(skipped):
            parts.append("not compared for " + ", ".join(f"{v} (vs {b})" for v, b in
                                                          zip(skipped["variant"], skipped["baseline"]))
                         + (": its" if len(skipped) == 1 else ": their")
                         + " cuts or levels make other queries, so a difference would compare definitions of the "
                           "words, not models")
        sentences.append(head + "; ".join(parts) + ".")
    return " ".join(sentences)


def plot_differences(comparisons: Any, *, metric: str = "accuracy") -> Any:
    """Every variant's difference from its baseline with its 95 % interval (percentage points), one row each,
    grouped by section; the dashed line is no difference. ``metric``: ``"accuracy"`` (zero-shot SER) or
    ``"retrieval"`` (acoustic-query P@K; rows where it does not apply are left out)."""
    import matplotlib
    from matplotlib.figure import Figure  # not pyplot: a notebook cell returning it shows it once

    if metric not in ("accuracy", "retrieval"):
        raise ParameterError(f"metric {metric!r} must be 'accuracy' or 'retrieval'")
    note = _not_run(comparisons)
    if note is not None:
        return note
    chosen = comparisons[(comparisons["metric"] == "accuracy") == (metric == "accuracy")]
    chosen = chosen[chosen["reading"] != NOT_APPLICABLE]
    if chosen.empty:
        from clapemo.book.notes import Note

        return Note(f"no {metric} comparison to plot")
    rows = chosen.iloc[::-1].reset_index(drop=True)
    fig = Figure(figsize=(7.5, 0.42 * len(rows) + 1.0))
    ax = fig.subplots()
    colours = dict(zip(SECTIONS, matplotlib.colormaps["tab10"].colors))
    for y, (_, r) in enumerate(rows.iterrows()):
        ax.errorbar(100 * r["difference"], y, xerr=[[100 * (r["difference"] - r["ci_low"])],
                                                    [100 * (r["ci_high"] - r["difference"])]],
                    fmt="o", color=colours.get(r["section"], "black"), capsize=3)
    ax.axvline(0, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(rows)), [f"{r['variant']}  (vs {r['baseline']})" for _, r in rows.iterrows()])
    ax.set_xlabel(f"{_measure(rows['metric'].iloc[0])} minus the baseline's (percentage points, 95 % interval)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
