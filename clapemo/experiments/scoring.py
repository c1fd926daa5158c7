"""Scoring trained models the way every artefact does: zero-shot SER of one model on a test split, the tidy rows
an artefact's results are made of, and the spread over seeds (:func:`summarize`).

Above :mod:`~clapemo.experiments.planning`, below the paper comparison; knows no artefact.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from clapemo import corpora
from clapemo.config import Config
from clapemo.emotions import CORPUS_LABELS, EMOTIONS
from clapemo.errors import DataError, ParameterError
from clapemo.evaluate import (
    base_corpus,
    check_speaker_independent,
    class_prompts,
    corpus_labels,
    emotion_words,
    four_class,
    ser_scores,
    zero_shot_predict,
)

__all__ = ["SER_METRICS", "summarize", "thresholds_key", "not_run_rows", "ser_test_set", "ser_cells",
           "result_rows", "score_run", "frames"]

SER_METRICS: tuple[str, ...] = ("accuracy", "unweighted_accuracy")


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


def thresholds_key(thresholds: Any) -> str:
    """A text that is equal for equal prompt thresholds (``"fixed"`` for the reconstructed cuts): models sharing
    it annotate a collection alike, so the annotated collection is built once per key."""
    if thresholds is None:
        return "fixed"
    to_dict_ = getattr(thresholds, "to_dict", None)
    return repr(to_dict_() if callable(to_dict_) else thresholds)


def not_run_rows(reason: str, cells: Sequence[dict], seeds: Sequence[int]) -> list[dict]:
    """The result rows of cells that are not run: value NaN, ``status`` the reason, one per seed and cell."""
    return [{**cell, "seed": seed, "value": math.nan, "status": reason, "trained_on": "", "run_id": None}
            for seed in seeds for cell in cells]


def ser_test_set(config: Config, corpus: str) -> tuple[Any, tuple[str, ...]]:
    """The test split of ``corpus`` and the label set it is scored over (paper Table 1; for a user's own corpus,
    the labels present in it), checked speaker-independent from its train split."""
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


def ser_cells(model: Any, test: Any, labels: Sequence[str], config: Config) -> tuple[list[dict], Any]:
    """Zero-shot SER of one model: the metric cells (:data:`SER_METRICS`), and whether each test clip was right
    (1.0) or wrong (``item, value``)."""
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


def result_rows(cells: Sequence[Mapping[str, Any]], where: Mapping[str, Any], *, trained_on: str,
                run_dir: str | Path) -> list[dict]:
    """The result rows of one trained model's metric ``cells`` at the cell ``where`` (row, setting, seed ...)."""
    return [{**where, "status": "ok", "trained_on": trained_on, "run_id": Path(run_dir).name, **c} for c in cells]


def score_run(run_dir: str | Path, test: Any, labels: Sequence[str], config: Config, *,
              where: Mapping[str, Any], trained_on: str) -> tuple[list[dict], Any, float]:
    """Zero-shot SER of the run in ``run_dir`` at the cell ``where``: its result rows, its per-clip items and its
    accuracy (for the progress line)."""
    from clapemo import train

    cells, correct = ser_cells(train.load_run(run_dir), test, labels, config)
    return (result_rows(cells, where, trained_on=trained_on, run_dir=run_dir), correct.assign(**where),
            cells[0]["value"])


def frames(rows: list[dict], items: list[Any], *, columns: Sequence[str], item_columns: Sequence[str]) -> tuple:
    """``(results, items)`` frames with exactly ``columns`` / ``item_columns`` (no items: an empty frame)."""
    import pandas as pd

    items_df = pd.concat(items, ignore_index=True) if items else pd.DataFrame(columns=["item", "value"])
    return pd.DataFrame(rows).reindex(columns=list(columns)), items_df.reindex(columns=list(item_columns))
