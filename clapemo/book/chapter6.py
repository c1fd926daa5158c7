"""Chapter 6 in the book: the variants it trains, a table and one generated sentence per section, and the
differences drawn with their intervals. The numbers come from :mod:`clapemo.experiments.chapter6` (:func:`run`,
:func:`compare`); nothing here computes a result.

A chapter that did not run (its frame carries ``attrs["not_run"]``) shows the reason as a :class:`Note` in place
of each table and figure.
"""

from __future__ import annotations

from typing import Any

from clapemo.book.notes import Note
from clapemo.errors import ParameterError
from clapemo.experiments.chapter6 import NOT_APPLICABLE, SECTIONS, VARIANTS, variant

__all__ = ["variants_table", "section_table", "finding", "plot_differences", "overview"]


def _show(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def variants_table(*, styled: bool = False) -> Any:
    """The chapter's variants: section, name, prompt kind, the config keys it changes *relative to the run it is
    compared with*, and that run. ``styled``: a Styler without the index (long cells are not cut)."""
    import pandas as pd

    rows = []
    for v in VARIANTS:
        base = dict(variant(v.baseline).overrides) if v.baseline else {}
        changed = {k: val for k, val in v.overrides.items() if base.get(k) != val}
        if v.baseline and v.prompt_kind != variant(v.baseline).prompt_kind:
            changed = {"train.prompt_kind": v.prompt_kind, **changed}
        rows.append({"section": v.section, "variant": v.name, "prompt kind": v.prompt_kind,
                     "changes": "; ".join(f"{k} = {_show(val)}" for k, val in changed.items()) or "(none)",
                     "compared with": v.baseline or "(a baseline: Figure 2's run)"})
    table = pd.DataFrame(rows)
    return table.style.hide(axis="index") if styled else table


def _not_run(comparisons: Any) -> Any:
    """A :class:`clapemo.book.Note` with the reason when the chapter did not run, else None."""
    reason = comparisons.attrs.get("not_run")
    if not reason:
        return None
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


def overview(comparisons: Any) -> Any:
    """The chapter's finding in one generated sentence: how the paired zero-shot accuracy comparisons read (better,
    worse, no clear difference), naming the variants that differ."""
    note = _not_run(comparisons)
    if note is not None:
        return note
    rows = comparisons[comparisons["metric"] == "accuracy"]
    if rows.empty:
        return Note("No variant was compared (no results).")
    counts = rows["reading"].value_counts()
    tally = ", ".join(f"{n} {reading}" for reading, n in counts.items())
    named = [f"{r['variant']} ({r['reading']} than {r['baseline']}, {100 * r['difference']:+.1f} points)"
             for _, r in rows.iterrows() if r["reading"] in ("better", "worse")]
    return Note(f"Of {len(rows)} variants compared with their baselines on zero-shot accuracy (paired over seeds "
                f"and test clips, 95 % intervals): {tally}" + (f"; clear: {'; '.join(named)}" if named else "")
                + ".")
