"""The paper beside ours: Tables 3 and 4 and Figure 2's numbers side by side, and the claims' verdicts.

Rows that did not run (``status`` "not run: needs ...", ``value`` NaN in the experiment's result frame) show "–";
given the result frame (``results=``), the caption lists each not-run reason once, with the rows it concerns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from clapemo.book.notes import not_run_reason, tolerates_not_run
from clapemo.errors import DataError
from clapemo.schema import PROMPT_KINDS, TRAIN_PROMPT_KINDS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["format_spread", "not_run_notes", "table3_side_by_side", "table4_side_by_side", "figure2_side_by_side",
           "format_table3", "format_table4", "format_figure2", "format_claims", "plot_prompt_analysis"]


def _require(table: "pd.DataFrame", columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{what} needs columns {missing}; the table has {list(table.columns)}")


def not_run_notes(results: Any, *, by: str = "row") -> list[str]:
    """The distinct not-run reasons of a result frame, each with the ``by`` values (rows) it concerns:
    ``["4D + [5ED - CL]: not run: needs ..."]``; a whole artefact that did not run gives its one reason."""
    reason = not_run_reason(results)
    if reason is not None:
        return [reason]
    if results is None or "status" not in getattr(results, "columns", ()):
        return []
    bad = results[results["status"].fillna("ok").astype(str) != "ok"]
    notes = []
    for status, group in bad.groupby(bad["status"].astype(str), sort=False):
        names = list(dict.fromkeys(group[by].astype(str))) if by in group.columns else []
        notes.append(f"{', '.join(names)}: {status}" if names else status)
    return notes


def _caption(text: str, results: Any, by: str) -> str:
    notes = not_run_notes(results, by=by)
    return text + (" " + "; ".join(notes) + "." if notes else "")  # each note starts "not run: ..."


def format_spread(mean: float, std: float, *, digits: int = 2, percent: bool = False) -> str:
    """``"0.42 ± 0.03"`` (``std`` missing or zero-count: the mean alone)."""
    scale = 100.0 if percent else 1.0
    if mean != mean:  # NaN
        return "–"
    if std != std:
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"


_QUERY_TITLES = {"class_label": "class label", "pitch": "pitch", "pitch2": "pitch (2 bins)",
                 "intensity": "intensity", "speech_rate": "speech rate", "articulation_rate": "articulation rate",
                 "combined": "combined", "augment": "PA"}
_SETTING_TITLES = {"leave_one_out": "leave one out", "finetune": "finetune"}


#: display order of rows and columns (anything else follows in first-seen order)
_ORDER = {
    "model": ("4D", "4D + [5ED - CL]", "4D + [5ED - PA]"),
    "query": PROMPT_KINDS,
    "table4": ("Random", "Random (draw)", "4D", "5ED - CL", "4D + [5ED - CL]", "4D + [5ED - PA]", "SoTA"),
    "kind": TRAIN_PROMPT_KINDS,
    "corpus": ("ravdess", "cremad", "iemocap", "meld", "mosei", "mosi"),
}


def _ordered(values: Iterable[Any], order: str) -> list:
    seen = list(dict.fromkeys(v for v in values if v == v))
    preferred = [v for v in _ORDER[order] if v in seen]
    return preferred + [v for v in seen if v not in preferred]


def _ours_cell(row: "pd.Series", *, percent: bool = False) -> str:
    digits = 1 if percent else 2
    return format_spread(row["ours_mean"], row["ours_sd"], digits=digits, percent=percent)


def _paper_cell(value: float, *, percent: bool = False) -> str:
    if value != value:
        return "–"
    return f"{value * 100:.2f}" if percent else f"{value:.2f}"


def _bold_best(frame: "pd.DataFrame", means: "pd.DataFrame"):
    """Styler of ``frame`` (strings) with the best mean of each row in bold, per source (paper / ours)."""
    import numpy as np

    def style(_: "pd.DataFrame") -> "pd.DataFrame":
        css = frame.copy()
        css.loc[:, :] = ""
        for source in ("paper", "ours"):
            cols = [c for c in frame.columns if c[-1].startswith(source)]
            if not cols:
                continue
            block = means[cols].astype(float)
            for index, values in block.iterrows():
                if values.notna().sum() < 2:
                    continue
                best = np.nanmax(values.to_numpy())
                for col in cols:
                    if values[col] == best:
                        css.loc[index, col] = "font-weight: bold"
        return css

    return frame.style.apply(style, axis=None)


def table3_side_by_side(side: "pd.DataFrame") -> "pd.DataFrame":
    """Table 3 (EAR) as the book shows it: one row per query kind and K, for each model the paper's Precision@K
    and ours (mean ± sd over seeds).

    Parameters
    ----------
    side : ``clapemo.experiments.side_by_side(summary, paper["table3"])`` (columns ``row, query_kind, k,
        ours_mean, ours_sd, ours_n, paper``).

    Returns
    -------
    DataFrame of strings, index (query, P@K), columns (model, ``paper`` | ``ours``); the numeric means are in
    ``.attrs["means"]`` (same shape) for styling.
    """
    import pandas as pd

    _require(side, ["row", "query_kind", "k", "ours_mean", "ours_sd", "paper"], "table3_side_by_side")
    models = _ordered(side["row"], "model")
    queries = _ordered(side["query_kind"], "query")
    ks = sorted(side["k"].dropna().astype(int).unique())
    index = pd.MultiIndex.from_tuples([(_QUERY_TITLES.get(q, q), f"P@{k}") for q in queries for k in ks],
                                      names=["query", "K"])
    n = int(side["ours_n"].max()) if "ours_n" in side and side["ours_n"].notna().any() else 0
    ours_label = f"ours (mean ± sd, {n} seed{'s' * (n != 1)})"
    columns = pd.MultiIndex.from_tuples([(m, src) for m in models for src in ("paper", ours_label)],
                                        names=["model", ""])
    text = pd.DataFrame("–", index=index, columns=columns)
    means = pd.DataFrame(float("nan"), index=index, columns=columns)
    for _, r in side.iterrows():
        key = (_QUERY_TITLES.get(r["query_kind"], r["query_kind"]), f"P@{int(r['k'])}")
        text.loc[key, (r["row"], "paper")] = _paper_cell(r["paper"])
        means.loc[key, (r["row"], "paper")] = r["paper"]
        text.loc[key, (r["row"], ours_label)] = _ours_cell(r)
        means.loc[key, (r["row"], ours_label)] = r["ours_mean"]
    text.attrs["means"] = means
    return text


def format_table3(side: "pd.DataFrame", *, results: Any = None):
    """:func:`table3_side_by_side` styled: the best model of each query and K in bold, per source; ``results``
    (the experiment's result frame) adds its not-run reasons to the caption."""
    text = table3_side_by_side(side)
    return (_bold_best(text, text.attrs["means"])
            .set_caption(_caption("Table 3: emotion audio retrieval on the IEMOCAP twin, precision@K. Bold: the "
                                  "best model of each line, separately for the paper and for us.",
                                  results, "row")))


def table4_side_by_side(side: "pd.DataFrame") -> "pd.DataFrame":
    """Table 4 (SER on the RAVDESS twin) as the book shows it: one row per training set, for each setting the
    paper's accuracy (%) and ours (mean ± sd over seeds), plus our unweighted accuracy.

    Parameters
    ----------
    side : ``clapemo.experiments.side_by_side(summary, paper["table4"])`` (columns ``row, setting, metric,
        ours_mean, ours_sd, ours_n, paper``).
    """
    import pandas as pd

    _require(side, ["row", "setting", "metric", "ours_mean", "ours_sd", "paper"], "table4_side_by_side")
    rows = _ordered(side["row"], "table4")
    settings = [s for s in ("leave_one_out", "finetune") if s in set(side["setting"])]
    settings += [s for s in dict.fromkeys(side["setting"]) if s not in settings]
    n = int(side["ours_n"].max()) if "ours_n" in side and side["ours_n"].notna().any() else 0
    ours = f"ours (mean ± sd, {n} seed{'s' * (n != 1)})"
    subs = ("paper", ours, "ours, unweighted")
    columns = pd.MultiIndex.from_tuples([(_SETTING_TITLES.get(s, s), c) for s in settings for c in subs],
                                        names=["setting", "accuracy (%)"])
    text = pd.DataFrame("–", index=pd.Index(rows, name="training set"), columns=columns)
    means = pd.DataFrame(float("nan"), index=text.index, columns=columns)
    for _, r in side.iterrows():
        setting = _SETTING_TITLES.get(r["setting"], r["setting"])
        if r["metric"] == "accuracy":
            text.loc[r["row"], (setting, "paper")] = _paper_cell(r["paper"], percent=True)
            means.loc[r["row"], (setting, "paper")] = r["paper"]
            if r["ours_mean"] == r["ours_mean"]:
                text.loc[r["row"], (setting, ours)] = _ours_cell(r, percent=True)
                means.loc[r["row"], (setting, ours)] = r["ours_mean"]
        elif r["metric"] == "unweighted_accuracy" and r["ours_mean"] == r["ours_mean"]:
            text.loc[r["row"], (setting, "ours, unweighted")] = _ours_cell(r, percent=True)
    text.attrs["means"] = means
    return text


def format_table4(side: "pd.DataFrame", *, results: Any = None):
    """:func:`table4_side_by_side` styled: the best trained row of each setting in bold, per source; ``results``
    adds its not-run reasons to the caption."""
    text = table4_side_by_side(side)
    means = text.attrs["means"].copy()
    for row in ("Random", "Random (draw)", "SoTA"):  # references, not competitors
        if row in means.index:
            means.loc[row] = float("nan")
    styler = _bold_best_columns(text, means)
    return styler.set_caption(_caption("Table 4: speech emotion recognition on the RAVDESS twin, accuracy (%). "
                                       "Bold: the best trained model of each column.", results, "row"))


def _bold_best_columns(frame: "pd.DataFrame", means: "pd.DataFrame"):
    """Styler with the maximum of each column of ``means`` in bold."""
    import numpy as np

    def style(_: "pd.DataFrame") -> "pd.DataFrame":
        css = frame.copy()
        css.loc[:, :] = ""
        for col in means.columns:
            values = means[col].astype(float)
            if values.notna().sum() >= 2:
                best = np.nanmax(values.to_numpy())
                css.loc[values == best, col] = "font-weight: bold"
        return css

    return frame.style.apply(style, axis=None)


def figure2_side_by_side(side: "pd.DataFrame") -> "pd.DataFrame":
    """Figure 2's numbers: per corpus and training prompt kind, our accuracy and unweighted accuracy (%, mean ± sd
    over seeds) beside the paper's (not recoverable from its text: shown as "–")."""
    import pandas as pd

    _require(side, ["corpus", "prompt_kind", "metric", "ours_mean", "ours_sd", "paper"], "figure2_side_by_side")
    corpora_ = _ordered(side.loc[side["ours_mean"].notna(), "corpus"], "corpus")
    kinds = _ordered(side.loc[side["ours_mean"].notna(), "prompt_kind"], "kind")
    n = int(side["ours_n"].max()) if "ours_n" in side and side["ours_n"].notna().any() else 0
    subs = ("paper", f"ours (mean ± sd, {n} seed{'s' * (n != 1)})", "ours, unweighted")
    columns = pd.MultiIndex.from_tuples([(c, s) for c in corpora_ for s in subs], names=["corpus", "accuracy (%)"])
    index = pd.Index([_QUERY_TITLES.get(k, k) for k in kinds], name="training prompt")
    text = pd.DataFrame("–", index=index, columns=columns)
    for _, r in side.iterrows():
        if r["corpus"] not in corpora_ or r["prompt_kind"] not in kinds or r["ours_mean"] != r["ours_mean"]:
            continue
        key = _QUERY_TITLES.get(r["prompt_kind"], r["prompt_kind"])
        if r["metric"] == "accuracy":
            text.loc[key, (r["corpus"], subs[0])] = _paper_cell(r["paper"], percent=True)
            text.loc[key, (r["corpus"], subs[1])] = _ours_cell(r, percent=True)
        elif r["metric"] == "unweighted_accuracy":
            text.loc[key, (r["corpus"], subs[2])] = _ours_cell(r, percent=True)
    return text


def format_figure2(side: "pd.DataFrame", *, results: Any = None):
    """:func:`figure2_side_by_side` with a caption (``results`` adds its not-run reasons)."""
    return figure2_side_by_side(side).style.set_caption(_caption(
        "Figure 2 in numbers: SER accuracy (%) after training on 4D + the corpus with one prompt kind. The paper "
        "gives these only as bars, so its column is empty.", results, "corpus"))


#: the claims table's firmness column: the share of bootstrap resamples on the verdict's side
#: (clapemo.uncertainty.verdict_share)
SHARE_TITLE = "on its side"


@tolerates_not_run
def format_claims(verdicts: "pd.DataFrame"):
    """``clapemo.experiments.claims(...)`` styled: each paper claim, whether it holds here, and by how much.

    The interval is one column (``[low, high]``) and the headers are short, so that the table fits the page with
    the share of resamples on the verdict's side (:func:`clapemo.uncertainty.verdict_share`).
    """
    import pandas as pd

    shown = verdicts.drop(columns=["id"], errors="ignore").copy()
    if {"ci_low", "ci_high"} <= set(shown.columns):
        interval = [f"[{lo:+.3f}, {hi:+.3f}]" if pd.notna(lo) and pd.notna(hi) else "–"
                    for lo, hi in zip(shown["ci_low"], shown["ci_high"])]
        shown.insert(shown.columns.get_loc("ci_low"), "95 % interval", interval)
        shown = shown.drop(columns=["ci_low", "ci_high"])
    if {"n_seeds", "n_items"} <= set(shown.columns):
        size = [f"{int(a)} × {int(b)}" if pd.notna(a) and pd.notna(b) else "–"
                for a, b in zip(shown["n_seeds"], shown["n_items"])]
        shown = shown.drop(columns=["n_seeds", "n_items"]).assign(**{"seeds × items": size})
    shown = shown.rename(columns={"share": SHARE_TITLE, "mdd": "MDD"})
    colors = {"holds": "#d9f2d9", "undecided": "#f2f2f2", "does not hold": "#f7d4d4",
              "not testable (rows not run)": "#fbecd5"}
    numbers = {c: f for c, f in (("difference", "{:+.3f}"), ("MDD", "{:.3f}"), (SHARE_TITLE, "{:.1%}"))
               if c in shown.columns}
    return (shown.style.format(numbers, na_rep="–")
            .map(lambda v: f"background-color: {colors.get(v, '')}", subset=["verdict"])
            .hide(axis="index"))


@tolerates_not_run
def plot_prompt_analysis(results: "pd.DataFrame", *, metric: str = "accuracy"):
    """``clapemo.experiments.plot_prompt_analysis(results, metric=...)``; a note in its place when the experiment
    did not run (an empty figure would only carry a legend warning onto the page)."""
    from clapemo import experiments

    return experiments.plot_prompt_analysis(results, metric=metric)


@tolerates_not_run
def claims_sentence(verdicts: "pd.DataFrame") -> "Note":
    """The chapter's finding in one sentence generated from its claims' verdicts (:func:`format_claims`' rows):
    how many of the paper's claims hold here, and each with its deciding difference and 95 % interval."""
    import pandas as pd

    from clapemo.book.notes import Note

    if verdicts.empty:
        return Note("No claim of the paper was tested here (no results).")
    counts = verdicts["verdict"].value_counts()
    tally = ", ".join(f"{n} {'are' if n > 1 else 'is'} {v}" if v != "holds" else f"{n} {'hold' if n > 1 else 'holds'}"
                      for v, n in counts.items())
    parts = []
    for _, row in verdicts.iterrows():
        claim = str(row["claim"]).rstrip(".")
        if pd.isna(row.get("difference")):
            parts.append(f"“{claim}” ({row['verdict']})")
            continue
        parts.append(f"“{claim}” {row['verdict']} ({row['deciding']}: {row['difference']:+.3f}, 95 % interval "
                     f"[{row['ci_low']:+.3f}, {row['ci_high']:+.3f}])")
    n = len(verdicts)
    return Note(f"Of the paper's {n} claim{'s' * (n != 1)} tested here, {tally}: " + "; ".join(parts) + ".")
