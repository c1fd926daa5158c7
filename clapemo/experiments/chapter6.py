"""Chapter 6: the paper's future work and open questions, measured on the Figure 2 protocol.

Every variant is trained on 4D (when available) + the training split of each ``evaluate.prompt_analysis_corpora``
corpus (``configs/extensions.yaml``: RAVDESS, the corpus of the paper's Figure 2 claims) with the seeds of
``evaluate.seeds``, and scored by zero-shot SER on that corpus's test split, exactly as
:func:`~clapemo.experiments.prompt_analysis` scores Figure 2, and by emotion audio retrieval with the
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
   :data:`clapemo.schema.EXTRA_PROMPT_KINDS`).
5. ``form``: PA's separate pairs vs one combined prompt per clip (the paper's remark, no numbers given), and bare
   phrases vs the sentence template ("a person speaking with high pitch, sounding angry").
6. ``rate``: the paper's rate prompts (and PA) with syllables counted from the words said
   (``features.syllables = transcript``) instead of Praat's syllable nuclei, against Figure 2's speech-rate,
   articulation-rate and PA runs: whether accurate counts change the rate prompts' standing.

:func:`run` computes (or reads) the results, :func:`compare` the paired differences; the book's chapter
(:mod:`clapemo.book.chapter6`) shows them, with one generated sentence per section.

**Where EAR applies.** An acoustic query ("high pitch") is relevant to the clips whose prompt of that kind it is,
and which clips those are depends on the run's cuts, levels and prompt form (:func:`ear_items`). A variant's
retrieval is compared with its baseline's only when both ask the *same* questions: every query of the baseline
selects exactly the clips one query of the variant selects (the query's wording may differ, as for the sentence
form). Quantile or per-speaker cuts and 3 or 5 levels define other queries; their rows read "does not apply"
(comparing them would compare definitions of "high", not models).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Mapping

import numpy as np

from clapemo import runs
from clapemo.config import Config, replace
from clapemo.errors import ParameterError
from clapemo.evaluate import collection as ear_collection
from clapemo.evaluate import ear_per_query, retrieval_queries
from clapemo.schema import AUGMENT_KINDS, EXTRA_PROMPT_KINDS
from clapemo.experiments.artefact import Artefact
from clapemo.experiments.paper import compare_cells
from clapemo.experiments.planning import RunSpec, caption_corpora_available, check_corpus, fit_many, training_config
from clapemo.experiments.scoring import frames, result_rows, ser_cells, ser_test_set, thresholds_key

__all__ = ["CHAPTER6", "Variant", "VARIANTS", "SECTIONS", "variant_config", "variant", "ear_kinds", "ear_items",
           "run", "compare", "RESULT_COLUMNS", "ITEM_COLUMNS", "COMPARE_COLUMNS", "EAR_METRIC", "NOT_APPLICABLE"]

#: the voice-quality prompt kinds of section 4, and PA's five (the paper's)
_MORE = list(EXTRA_PROMPT_KINDS)
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
    "rate": "Speech rate: syllables from the transcript instead of the syllable nuclei",
}

#: section 6: the rates from the words said (``features.syllables = transcript``) instead of Praat's nuclei
_TRANSCRIPT = {"features.syllables": "transcript"}

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
    Variant("speech rate", "rate", "speech_rate"),
    Variant("articulation rate", "rate", "articulation_rate"),
    Variant("speech rate, transcript syllables", "rate", "speech_rate", _TRANSCRIPT, "speech rate"),
    Variant("articulation rate, transcript syllables", "rate", "articulation_rate", _TRANSCRIPT,
            "articulation rate"),
    Variant("PA, transcript syllables", "rate", "augment", _TRANSCRIPT, "PA"),
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


def ear_items(model: Any, collection: Any, kinds: list[str], ks: list[int]) -> Any:
    """Precision@K per acoustic query of one model, each query named ``<kind>:<digest of the clips it selects>``
    so that queries which select the same clips pair up whatever their wording."""
    names = {}
    for kind in kinds:
        queries, relevant = retrieval_queries(collection[kind].tolist())
        for query, row in zip(queries, relevant):
            names[(kind, query)] = f"{kind}:{hashlib.sha1(row.tobytes()).hexdigest()[:12]}"
    per_query = ear_per_query(model, collection, kinds=kinds, ks=ks)
    return per_query.assign(item=[names[(k, q)] for k, q in zip(per_query["query_kind"], per_query["item"])],
                            metric=[EAR_METRIC.format(k=k) for k in per_query["k"]])


def cell_specs(config: Config) -> dict[tuple[str, str], RunSpec]:
    """(variant name, corpus) -> RunSpec of the training (4D + the corpus, the variant's prompt kind)."""
    has4d = bool(caption_corpora_available(config))
    corpora = [check_corpus(config, name, "evaluate.prompt_analysis_corpora")
               for name in config.evaluate.prompt_analysis_corpora]
    return {(v.name, c): RunSpec((c,), has4d, v.prompt_kind) for v in VARIANTS for c in corpora}


def _specs(config: Config) -> list[tuple[str, RunSpec]]:
    return [(f"extensions:{corpus}:{name}", spec) for (name, corpus), spec in cell_specs(config).items()]


def variant(name: str) -> Variant:
    """The variant called ``name`` (:data:`VARIANTS`)."""
    if name not in _BY_NAME:
        raise ParameterError(f"variant {name!r} is not one of {list(_BY_NAME)}")
    return _BY_NAME[name]


def _fit(config: Config, specs: dict, seeds: list[int], progress: bool) -> dict[tuple[str, str, int], Any]:
    """Train (or reuse) every (variant, corpus, seed), each with its variant's config; record each run's use."""
    keys = [(name, corpus, seed) for seed in seeds for (name, corpus) in specs]
    configs = [training_config(variant_config(config, _BY_NAME[n]), specs[(n, c)], seed=s) for n, c, s in keys]
    done = dict(zip(keys, fit_many(config, configs, progress=progress)))
    for (name, corpus, seed), run_dir in done.items():
        runs.write_run_record(run_dir, what=f"{specs[(name, corpus)].describe()} ({name})", seed=seed,
                              uses=[f"extensions:{corpus}:{name}"])
    return done


def _model_cells(config: Config, name: str, corpus: str, run_dir: Any, test: tuple, collections: dict,
                 ks: list[int]) -> tuple[list[dict], Any, Any]:
    """One trained variant's metric cells (zero-shot SER, then acoustic-query P@K), its per-clip correctness and
    its per-query precision."""
    from clapemo import train

    v = _BY_NAME[name]
    model = train.load_run(run_dir)
    cells, correct = ser_cells(model, *test, config)
    query_overrides = {k: val for k, val in v.overrides.items() if k in _QUERY_KEYS}
    key = (corpus, thresholds_key(model.thresholds), repr(sorted(query_overrides.items())))
    if key not in collections:  # annotated test split per (corpus, cuts, query-defining keys)
        collections[key] = ear_collection(corpus, replace(config, **query_overrides) if query_overrides
                                          else config, split="test", thresholds=model.thresholds)
    per_query = ear_items(model, collections[key], ear_kinds(config), ks)
    for metric, group in per_query.groupby("metric", sort=False):
        cells.append({"metric": metric, "value": float(group["value"].mean()), "n_items": len(group),
                      "n_classes": float("nan")})
    return cells, correct, per_query


def run(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Train (or reuse) every variant for every seed and score zero-shot SER on each corpus's test split.

    Returns
    -------
    DataFrame with :data:`RESULT_COLUMNS` (metrics ``accuracy``, ``unweighted_accuracy`` and ``acoustic_p@K``
    for each K of ``evaluate.ks``: mean Precision@K over the acoustic queries, ``n_items`` = queries);
    ``attrs["items"]``: per test clip 1.0/0.0 correct and per query its Precision@K (:data:`ITEM_COLUMNS`), what
    :func:`compare` pairs. Cached in ``<evaluate.results_dir>/extensions/<config hash>`` with its provenance, like
    the main artefacts; a folder written before the retrieval cells or one of the variants existed is recomputed
    (the trained runs are reused, so only the evaluation and the new variants run).
    """
    specs = cell_specs(config)
    seeds = list(config.evaluate.seeds)
    ks = [int(k) for k in config.evaluate.ks]

    def compute() -> Any:
        tests = {c: ser_test_set(config, c) for c in dict.fromkeys(c for _, c in specs)}
        collections: dict[tuple, Any] = {}
        rows, items = [], []
        for (name, corpus, seed), run_dir in _fit(config, specs, seeds, progress).items():
            v = _BY_NAME[name]
            cells, correct, per_query = _model_cells(config, name, corpus, run_dir, tests[corpus], collections, ks)
            rows += result_rows(cells, {"section": v.section, "variant": name, "baseline": v.baseline or "",
                                        "corpus": corpus, "seed": seed},
                                trained_on=specs[(name, corpus)].describe(), run_dir=run_dir)
            items += [correct.assign(variant=name, corpus=corpus, seed=seed, metric="accuracy"),
                      per_query.assign(variant=name, corpus=corpus, seed=seed)]
            if progress:
                top = EAR_METRIC.format(k=max(ks))
                print(f"[extensions] seed {seed} {corpus} {name}: accuracy {cells[0]['value']:.3f}, "
                      f"{top} {per_query.loc[per_query['metric'] == top, 'value'].mean():.3f}")
        return frames(rows, items, columns=RESULT_COLUMNS, item_columns=ITEM_COLUMNS)

    df = CHAPTER6.store(config, compute, force=force, progress=progress)
    stale = ("metric" not in df.attrs["items"].columns  # written before the retrieval cells
             or set(_BY_NAME) - set(df["variant"]))  # or before a variant was added
    if stale:  # evaluate again (the trained runs are reused)
        df = CHAPTER6.store(config, compute, force=True, progress=progress)
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
                found = compare_cells(items, cell_a, cell_b, n_boot=n_boot)
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


CHAPTER6 = Artefact(
    name="extensions", title="Chapter 6: the paper's open questions", config_name="extensions",
    notebook="06_extensions", target_key="prompt_analysis_corpora", leaves_target_out=False,
    summary_keys=("section", "variant", "corpus", "metric"), result_columns=RESULT_COLUMNS,
    item_columns=ITEM_COLUMNS, paper=False, specs=_specs, compute=run)
