"""Table 3: emotion audio retrieval (EAR), Precision@K on ``evaluate.ear_collection`` (4 classes for IEMOCAP) for
the rows ``4D``, ``4D + [5ED - CL]`` and ``4D + [5ED - PA]``, per query kind.

``5ED`` is every emotion corpus of the config but the collection's; ``CL`` trains with class labels, ``PA`` with
each clip paired with its five prompts. Without 4D the three rows are not run and ``5ED - CL`` / ``5ED - PA`` (the
emotion corpora alone) are added, so CL and PA are still compared.

The Table 3 runs of seed 0 get the stable names ``4d``, ``cl``, ``pa`` (other seeds ``<name>-s<seed>``), written
beside the runs when the table is computed (:func:`clapemo.runs.write_names`).
"""

from __future__ import annotations

from typing import Any

from clapemo import runs
from clapemo.config import Config
from clapemo.evaluate import ear_collection, ear_per_query
from clapemo.experiments.artefact import Artefact
from clapemo.experiments.paper import compare_cells, items_of
from clapemo.experiments.planning import (NO_4D, RunSpec, caption_corpora_available, check_corpus, emotion_corpora,
                                    fit_plan, no_emotion_corpora)
from clapemo.experiments.scoring import frames, not_run_rows, thresholds_key
from clapemo.schema import AUGMENT_KIND

__all__ = ["TABLE3", "TABLE3_ROWS", "row_specs", "ear_table"]

TABLE3_ROWS: tuple[str, ...] = ("4D", "4D + [5ED - CL]", "4D + [5ED - PA]")

RESULT_COLUMNS = ("row", "query_kind", "k", "seed", "value", "n_queries", "n_items", "status", "trained_on",
                  "run_id")
ITEM_COLUMNS = ("row", "query_kind", "k", "seed", "item", "value")


def row_specs(config: Config) -> dict[str, "RunSpec | str"]:
    """Row -> RunSpec, or the reason (a str starting "not run") it cannot run."""
    target = check_corpus(config, config.evaluate.ear_collection, "evaluate.ear_collection")
    eds = tuple(emotion_corpora(config, target=target))
    has4d = bool(caption_corpora_available(config))
    out: dict[str, RunSpec | str] = {"4D": RunSpec((), True, "class_label") if has4d else NO_4D}
    for row, kind in (("4D + [5ED - CL]", "class_label"), ("4D + [5ED - PA]", AUGMENT_KIND)):
        out[row] = NO_4D if not has4d else RunSpec(eds, True, kind) if eds else no_emotion_corpora(target)
    if not has4d:
        for row, kind in (("5ED - CL", "class_label"), ("5ED - PA", AUGMENT_KIND)):
            out[row] = RunSpec(eds, False, kind) if eds else no_emotion_corpora(target)
    return out


def _specs(config: Config) -> list[tuple[str, RunSpec]]:
    return [(f"table3:{row}", spec) for row, spec in row_specs(config).items() if not isinstance(spec, str)]


def _name_runs(config: Config, specs: dict, done: dict) -> None:
    """Write the stable names of this reproduction's Table 3 runs beside the runs (:data:`clapemo.runs.ROW_NAMES`:
    ``pa`` for seed 0, ``pa-s1`` for seed 1 ...), in the folder that holds them."""
    names = {}
    for row, spec in specs.items():
        if isinstance(spec, str) or row not in runs.ROW_NAMES:
            continue
        for seed in config.evaluate.seeds:
            name = runs.ROW_NAMES[row] if seed == 0 else f"{runs.ROW_NAMES[row]}-s{seed}"
            names[name] = done[(spec, seed)]
    for folder in dict.fromkeys(path.parent for path in names.values()):  # the runs folder (one, in practice)
        runs.write_names(folder, {n: p for n, p in names.items() if p.parent == folder})


def _model_rows(config: Config, row: str, spec: RunSpec, seed: int, run_dir: Any, collections: dict,
                progress: bool) -> tuple[list[dict], Any]:
    """The result rows and per-query items of one trained model."""
    from clapemo import train

    kinds, ks = config.evaluate.ear_query_kinds, config.evaluate.ks
    model = train.load_run(run_dir)
    key = thresholds_key(model.thresholds)
    if key not in collections:  # the annotated collection per distinct prompt thresholds
        collections[key] = ear_collection(config, thresholds=model.thresholds)
    collection = collections[key]
    per_query = ear_per_query(model, collection, kinds=kinds, ks=ks).assign(row=row, seed=seed)
    rows = [{"row": row, "query_kind": kind, "k": k, "seed": seed, "value": float(group["value"].mean()),
             "n_queries": len(group), "n_items": len(collection), "status": "ok", "trained_on": spec.describe(),
             "run_id": run_dir.name}
            for (kind, k), group in per_query.groupby(["query_kind", "k"], sort=False)]
    if progress:
        cl = per_query[per_query.query_kind == "class_label"].groupby("k")["value"].mean().round(3)
        print(f"[table3] seed {seed} {row}: class-label P@K {cl.to_dict()}")
    return rows, per_query


def ear_table(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Table 3: Precision@K of EAR on ``evaluate.ear_collection`` (4 classes for IEMOCAP) for the training rows.

    Returns
    -------
    DataFrame with columns ``row, query_kind, k, seed, value, n_queries, n_items, status, trained_on, run_id``;
    one row per (row, query kind, K, seed); ``value`` is Precision@K in [0, 1] (NaN for rows that are not run,
    whose ``status`` says why); ``attrs["items"]``: Precision@K per query (``row, query_kind, k, seed, item,
    value``).
    """
    specs = row_specs(config)
    kinds, ks, seeds = config.evaluate.ear_query_kinds, config.evaluate.ks, config.evaluate.seeds

    def compute() -> Any:
        done = fit_plan(config, [(spec, seed) for seed in seeds for spec in specs.values()
                                 if not isinstance(spec, str)], uses=TABLE3.uses(config), progress=progress)
        _name_runs(config, specs, done)
        rows, items = [], []
        collections: dict[str, Any] = {}
        for row, spec in specs.items():
            if isinstance(spec, str):
                rows += not_run_rows(spec, [{"row": row, "query_kind": q, "k": k} for q in kinds for k in ks],
                                     seeds)
                continue
            for seed in seeds:
                cells, per_query = _model_rows(config, row, spec, seed, done[(spec, seed)], collections, progress)
                rows += cells
                items.append(per_query)
        return frames(rows, items, columns=RESULT_COLUMNS, item_columns=ITEM_COLUMNS)

    return TABLE3.store(config, compute, force=force, progress=progress)


def _claims(results: Any, n_boot: int) -> dict[str, list]:
    """The paper's Table 3 claims: PA retrieves best, by class label and by each acoustic query kind."""
    items = items_of(results, "table3")
    pa, others = "4D + [5ED - PA]", ("4D", "4D + [5ED - CL]")
    ks = sorted(int(k) for k in results["k"].unique())
    kinds = list(dict.fromkeys(results["query_kind"]))

    def pair(a: str, b: str, kind: str, k: int) -> Any:
        return compare_cells(items, {"row": a, "query_kind": kind, "k": k}, {"row": b, "query_kind": kind, "k": k},
                             n_boot=n_boot)

    out = {"t3_pa_best_class_label": [pair(pa, o, "class_label", k) for k in ks for o in others]}
    acoustic = [q for q in kinds if q != "class_label"]
    if acoustic:
        out["t3_pa_best_acoustic"] = [pair(pa, o, q, k) for q in acoustic for k in ks for o in others]
    return out


TABLE3 = Artefact(
    name="table3", title="Table 3: emotion audio retrieval", config_name="table3_ear", notebook="02_ear_table",
    target_key="ear_collection", leaves_target_out=True, summary_keys=("row", "query_kind", "k"),
    result_columns=RESULT_COLUMNS, item_columns=ITEM_COLUMNS, paper=True, specs=_specs, compute=ear_table,
    claims=_claims)
