"""Table 4: zero-shot speech emotion recognition on ``evaluate.ser_target``'s test split, leave one out and after
finetuning.

* Leave one out: trained without the target corpus (``4D``, ``5ED - CL``, ``4D + [5ED - CL]``,
  ``4D + [5ED - PA]``; without 4D, ``5ED - PA`` is added and the 4D rows are not run).
* Finetune: the leave-one-out run of the row trained further (``train.init_from``) on the target's train split
  alone (no 4D), for ``evaluate.finetune_epochs`` epochs (0: ``train.epochs``), with the row's prompt kind (the
  ``4D`` row finetunes with class labels), then scored like the leave-one-out column. The target's train/test
  split must be speaker-independent (checked).
* ``Random`` is chance, 1 / number of classes (RAVDESS 8 -> 0.125); ``Random (draw)`` a seeded uniform random
  classifier scored on the same test clips: its spread over seeds shows how far chance-level predictions wander
  on a test set of this size.
"""

from __future__ import annotations

from typing import Any

from clapemo.config import Config
from clapemo.evaluate import random_predict, ser_scores
from clapemo.experiments.artefact import Artefact
from clapemo.experiments.paper import compare_cells, items_of
from clapemo.experiments.planning import (NO_4D, RunSpec, caption_corpora_available, check_corpus, emotion_corpora,
                                    fit_plan, no_emotion_corpora)
from clapemo.experiments.scoring import SER_METRICS, frames, not_run_rows, score_run, ser_test_set
from clapemo.schema import AUGMENT_KIND

__all__ = ["TABLE4", "TABLE4_ROWS", "SETTINGS", "row_specs", "ser_table"]

TABLE4_ROWS: tuple[str, ...] = ("Random", "4D", "5ED - CL", "4D + [5ED - CL]", "4D + [5ED - PA]")
SETTINGS: tuple[str, ...] = ("leave_one_out", "finetune")

RESULT_COLUMNS = ("row", "setting", "metric", "seed", "value", "n_items", "n_classes", "status", "trained_on",
                  "run_id")
ITEM_COLUMNS = ("row", "setting", "seed", "item", "value")


def row_specs(config: Config) -> dict[str, "tuple[RunSpec, RunSpec] | str"]:
    """Row -> (leave-one-out spec, finetune spec), or the reason (a str starting "not run") it is not run."""
    target = check_corpus(config, config.evaluate.ser_target, "evaluate.ser_target")
    eds = tuple(emotion_corpora(config, target=target))
    has4d = bool(caption_corpora_available(config))
    loo: dict[str, RunSpec | str] = {
        "4D": RunSpec((), True, "class_label") if has4d else NO_4D,
        "5ED - CL": RunSpec(eds, False, "class_label") if eds else no_emotion_corpora(target)}
    for row, kind in (("4D + [5ED - CL]", "class_label"), ("4D + [5ED - PA]", AUGMENT_KIND)):
        loo[row] = NO_4D if not has4d else RunSpec(eds, True, kind) if eds else no_emotion_corpora(target)
    if not has4d:
        loo["5ED - PA"] = RunSpec(eds, False, AUGMENT_KIND) if eds else no_emotion_corpora(target)
    return {row: spec if isinstance(spec, str) else
            (spec, RunSpec((target,), False, spec.prompt_kind, finetune_from=spec)) for row, spec in loo.items()}


def _specs(config: Config) -> list[tuple[str, RunSpec]]:
    out = []
    for row, pair in row_specs(config).items():
        if not isinstance(pair, str):
            out += [(f"table4:{row}:{setting}", spec) for setting, spec in zip(SETTINGS, pair)]
    return out


def _chance_rows(test: Any, labels: tuple, seed: int) -> list[dict]:
    """``Random`` (1 / classes) and ``Random (draw)`` (a seeded random classifier) for one seed."""
    drawn = ser_scores(test["label"].tolist(), random_predict(len(test), labels, seed=seed), labels=labels)
    rows = []
    for setting in SETTINGS:
        for metric in SER_METRICS:
            common = {"setting": setting, "metric": metric, "seed": seed, "n_items": len(test),
                      "n_classes": len(labels), "status": "ok", "trained_on": "", "run_id": None}
            rows.append({"row": "Random", "value": 1.0 / len(labels), **common})
            rows.append({"row": "Random (draw)", "value": drawn[metric], **common})
    return rows


def ser_table(config: Config, *, force: bool = False, progress: bool = True) -> Any:
    """Table 4: zero-shot SER on ``evaluate.ser_target``'s test split, leave-one-out and after finetuning.

    Returns
    -------
    DataFrame with columns ``row, setting, metric, seed, value, n_items, n_classes, status, trained_on, run_id``;
    ``setting`` in {leave_one_out, finetune}, ``metric`` in {accuracy, unweighted_accuracy}; rows ``Random``
    (chance), ``Random (draw)`` (a seeded random classifier) and the trained rows (NaN with a ``status`` when not
    run); ``attrs["items"]``: per test clip 1.0/0.0 correct (``row, setting, seed, item, value``).
    """
    specs = row_specs(config)
    target = check_corpus(config, config.evaluate.ser_target, "evaluate.ser_target")
    seeds = config.evaluate.seeds

    def compute() -> Any:
        test, labels = ser_test_set(config, target)
        keys = [(spec, seed) for seed in seeds for pair in specs.values() if not isinstance(pair, str)
                for spec in pair]
        done = fit_plan(config, keys, uses=TABLE4.uses(config), progress=progress)
        rows, items = [row for seed in seeds for row in _chance_rows(test, labels, seed)], []
        for row, pair in specs.items():
            if isinstance(pair, str):
                rows += not_run_rows(pair, [{"row": row, "setting": st, "metric": m, "n_items": len(test),
                                             "n_classes": len(labels)} for st in SETTINGS for m in SER_METRICS],
                                     seeds)
                continue
            for seed in seeds:
                for setting, spec in zip(SETTINGS, pair):
                    new_rows, new_items, accuracy = score_run(
                        done[(spec, seed)], test, labels, config, where={"row": row, "setting": setting, "seed": seed},
                        trained_on=spec.describe())
                    rows += new_rows
                    items.append(new_items)
                    if progress:
                        print(f"[table4] seed {seed} {row} {setting}: accuracy {accuracy:.3f}")
        return frames(rows, items, columns=RESULT_COLUMNS, item_columns=ITEM_COLUMNS)

    return TABLE4.store(config, compute, force=force, progress=progress)


def _claims(results: Any, n_boot: int) -> dict[str, list]:
    """The paper's Table 4 claims: emotion data helps leave one out; PA does not help there; PA is best after
    finetuning."""
    items = items_of(results, "table4")

    def pair(a: str, b: str, setting: str) -> Any:
        return compare_cells(items, {"row": a, "setting": setting}, {"row": b, "setting": setting}, n_boot=n_boot)

    return {
        "t4_emotion_data_helps_loo": [pair("5ED - CL", "4D", "leave_one_out"),
                                      pair("4D + [5ED - CL]", "4D", "leave_one_out")],
        # "PA does not help leave-one-out": holds when CL > PA
        "t4_pa_not_best_loo": [pair("4D + [5ED - CL]", "4D + [5ED - PA]", "leave_one_out")],
        "t4_pa_best_finetune": [pair("4D + [5ED - PA]", o, "finetune") for o in ("4D", "5ED - CL", "4D + [5ED - CL]")],
    }


TABLE4 = Artefact(
    name="table4", title="Table 4: speech emotion recognition", config_name="table4_ser", notebook="03_ser_table",
    target_key="ser_target", leaves_target_out=True, summary_keys=("row", "setting", "metric"),
    result_columns=RESULT_COLUMNS, item_columns=ITEM_COLUMNS, paper=True, specs=_specs, compute=ser_table,
    claims=_claims)
