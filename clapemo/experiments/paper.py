"""The paper beside ours: its numbers (``clapemo/paper_results.yaml``, never in code), our summaries joined with them,
and the paired comparisons its qualitative claims are tested with.

Above :mod:`~clapemo.experiments.scoring`; knows no artefact (each artefact names its own claims' comparisons).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from clapemo.errors import ParameterError
from clapemo.evaluate import base_corpus

__all__ = ["paper_results", "side_by_side", "compare_cells", "verdict_row", "items_of", "CLAIM_COLUMNS"]

#: the columns of :func:`clapemo.experiments.claims`
CLAIM_COLUMNS: tuple[str, ...] = ("artefact", "id", "claim", "verdict", "deciding", "difference", "ci_low",
                                  "ci_high", "share", "mdd", "n_seeds", "n_items")

#: the columns a summary and the paper's frame may share
KEY_COLUMNS: tuple[str, ...] = ("row", "query_kind", "k", "setting", "metric", "corpus", "prompt_kind")


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


def side_by_side(ours_summary: Any, paper: Any) -> Any:
    """Our summary (from :func:`~clapemo.experiments.summarize`) joined with the paper's frame on the shared key
    columns.

    Corpus names are compared by the real corpus they stand for (``synth-ravdess`` matches ``ravdess``).

    Returns
    -------
    DataFrame with the keys, ``ours_mean, ours_sd, ours_n, ours_ci_low, ours_ci_high, paper`` and
    ``difference`` (ours_mean - paper). Rows only we have (e.g. unweighted accuracy) have ``paper`` NaN; rows only
    the paper has (e.g. SoTA) have ours NaN; rows with neither are dropped.
    """
    import pandas as pd

    keys = [c for c in KEY_COLUMNS if c in ours_summary.columns and c in paper.columns]
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


def compare_cells(items: Any, better: Mapping[str, Any], worse: Mapping[str, Any], *, n_boot: int) -> Any:
    """The paired difference better - worse over the seeds and items both were scored on
    (:func:`clapemo.uncertainty.paired_difference`), as ``(label, difference)``; None when the two cells share no
    seed or item (a row not run)."""
    from clapemo.uncertainty import paired_difference

    a, b = _cell_items(items, better), _cell_items(items, worse)
    seeds = a.index.intersection(b.index)
    cols = a.columns.intersection(b.columns)
    if len(seeds) == 0 or len(cols) == 0:
        return None
    diff = paired_difference(a.loc[seeds, cols].to_numpy(), b.loc[seeds, cols].to_numpy(), n_boot=n_boot)
    label = " vs ".join(" ".join(str(v) for v in w.values()) for w in (better, worse))
    return label, diff


def items_of(frame: Any, name: str) -> Any:
    """The per-item results an experiment function attached to its frame (``attrs["items"]``)."""
    items = frame.attrs.get("items")
    if items is None:
        raise ParameterError(f"{name} has no per-item results (attrs['items']); pass the frame returned by "
                             "the experiment function")
    return items


def verdict_row(artefact: str, claim_id: str, text: str, comparisons: Sequence[Any]) -> dict:
    """One row of the claims table: the claim *holds* when every comparison's interval lies above 0, *does not
    hold* when one lies below 0, *undecided* otherwise, *not testable* when a comparison is None (rows not run).
    The deciding comparison is the one with the lowest interval bound (for "does not hold", one wholly below 0)."""
    from clapemo.uncertainty import verdict, verdict_share

    done = [c for c in comparisons if c is not None]
    if not done or len(done) < len(comparisons):
        return {"artefact": artefact, "id": claim_id, "claim": text, "verdict": "not testable (rows not run)"}
    result = verdict([d for _, d in done])
    below = [c for c in done if c[1].high < 0]
    label, d = below[0] if result == "does not hold" else min(done, key=lambda c: c[1].low)
    return {"artefact": artefact, "id": claim_id, "claim": text, "verdict": result, "deciding": label,
            "difference": d.mean, "ci_low": d.low, "ci_high": d.high, "share": verdict_share(d, result),
            "mdd": d.mdd, "n_seeds": d.n_seeds, "n_items": d.n_items}
