"""The reproduction at a glance: the report's first screen.

:func:`reproduction` computes (or reads back) the paper's three artefacts and tests its claims in one call, so the
report opens with results, not with set-up cells; :meth:`Reproduction.glance` is one line per artefact (what it
measures, the best of ours beside the best of the paper's, how many of its claims hold here), each linking to its
chapter.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from clapemo.book.notes import Note, not_run_reason

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clapemo.config import Config

__all__ = ["Reproduction", "reproduction", "COMPACT_CLASS"]

#: the class of the first screen's tables (smaller type, book/_static/clapemo.css)
COMPACT_CLASS = "clapemo-compact"

#: what each artefact's line of the glance reads: (what it measures, the filter of its headline cells, by)
_HEADLINE: dict[str, tuple[str, dict[str, Any], str]] = {
    "table3": ("class-label P@1", {"query_kind": "class_label", "k": 1}, "row"),
    "table4": ("finetuned SER accuracy", {"setting": "finetune", "metric": "accuracy"}, "row"),
    "figure2": ("SER accuracy, first corpus", {"metric": "accuracy"}, "prompt_kind"),
}


@dataclass
class Reproduction:
    """The configs, results and claim verdicts of the paper's artefacts (``table3``, ``table4``, ``figure2``)."""

    configs: dict[str, "Config"]
    results: dict[str, Any]
    verdicts: Any = field(default=None)

    def side(self, name: str) -> Any:
        """Ours beside the paper's numbers for one artefact (:meth:`clapemo.experiments.Artefact.beside_paper`);
        the not-run frame itself when the artefact did not run."""
        from clapemo import experiments

        results = self.results[name]
        return results if not_run_reason(results) else experiments.artefact(name).beside_paper(results)

    def glance(self) -> Any:
        """One line per artefact, linked to its chapter: what it measures, our best cell, the paper's best cell
        and the claims that hold here (a Styler; an HTML table with links)."""
        import pandas as pd

        from clapemo import experiments

        rows = []
        for name in self.results:
            record = experiments.artefact(name)
            what, where, by = _HEADLINE[name]
            short = record.title.partition(": ")[0]
            link = f'<a href="{record.notebook}.html" title="{html.escape(record.title)}">{html.escape(short)}</a>'
            reason = not_run_reason(self.results[name])
            ours, paper = ("not run", "") if reason else _best(self.side(name), where, by)
            rows.append({"artefact": link, "best cell of": what, "ours": ours, "paper": paper,
                         "claims holding here": _tally(self.verdicts, name)})
        return pd.DataFrame(rows).style.hide(axis="index").set_table_attributes(f'class="{COMPACT_CLASS}"')

    def claims(self) -> Any:
        """The paper's claims in one compact table: each claim (linked to its chapter), its verdict here and the
        deciding difference with its interval (a Styler; the full table is :func:`clapemo.book.format_claims`)."""
        import pandas as pd

        from clapemo import experiments

        if self.verdicts is None or isinstance(self.verdicts, Note):
            return self.verdicts if self.verdicts is not None else Note("no claim tested (no results)")
        rows = []
        for _, v in self.verdicts.iterrows():
            record = experiments.artefact(v["artefact"])
            interval = ("–" if pd.isna(v.get("ci_low")) else
                        f"{v['difference']:+.3f} [{v['ci_low']:+.3f}, {v['ci_high']:+.3f}]")
            rows.append({"claim": f'<a href="{record.notebook}.html">{html.escape(record.title.split(":")[0])}</a>'
                                  f": {html.escape(str(v['claim']))}",
                         "verdict here": v["verdict"], "difference [interval]": interval})
        colors = {"holds": "#d9f2d9", "undecided": "#f2f2f2", "does not hold": "#f7d4d4"}
        return (pd.DataFrame(rows).style.hide(axis="index")
                .map(lambda value: f"background-color: {colors.get(value, '')}", subset=["verdict here"])
                .set_table_attributes(f'class="{COMPACT_CLASS}"'))


def _best(side: "pd.DataFrame", where: Mapping[str, Any], by: str) -> tuple[str, str]:
    """The best cell of ours and of the paper's among the rows matching ``where`` (first corpus for Figure 2)."""
    rows = side
    for key, value in where.items():
        if key in rows.columns:
            rows = rows[rows[key] == value]
    if "corpus" in rows.columns and len(rows):
        rows = rows[rows["corpus"] == rows["corpus"].iloc[0]]
    if by == "row":
        rows = rows[~rows["row"].astype(str).str.startswith(("Random", "SoTA"))]
    ours = rows.dropna(subset=["ours_mean"])
    theirs = rows.dropna(subset=["paper"])

    def show(frame: "pd.DataFrame", column: str) -> str:
        if frame.empty:
            return "–"
        best = frame.loc[frame[column].astype(float).idxmax()]
        return f"{best[by]}: {float(best[column]):.2f}"

    paper = show(theirs, "paper") if not theirs.empty else "bars only (no numbers in the text)"
    return show(ours, "ours_mean"), paper


def _tally(verdicts: Any, name: str) -> str:
    """``1 of 3 hold (1 undecided, 1 does not hold)`` for an artefact's claims."""
    if verdicts is None or isinstance(verdicts, Note) or verdicts.empty:
        return "not tested"
    mine = verdicts[verdicts["artefact"] == name]
    if mine.empty:
        return "not tested"
    counts = mine["verdict"].value_counts()
    rest = ", ".join(f"{n} {v}" for v, n in counts.items() if v != "holds")
    return f"{int(counts.get('holds', 0))} of {len(mine)} hold" + (f" ({rest})" if rest else "")


def reproduction(configs: Mapping[str, str], **settings: Any) -> Reproduction:
    """Compute (or read back) each artefact of ``configs`` (artefact -> config file) and test the paper's claims.

    Parameters
    ----------
    configs : ``{"table3": "configs/table3_ear.yaml", ...}``
    settings : what :func:`clapemo.book.notebook_config` takes (profile, seed, device, output_dir, overlays,
        overrides)

    Returns
    -------
    Reproduction
    """
    from clapemo import experiments
    from clapemo.book.config import notebook_config
    from clapemo.book.notes import claims, run_artefact

    resolved = {name: notebook_config(path, **settings) for name, path in configs.items()}
    results = {name: run_artefact(experiments.artefact(name), config) for name, config in resolved.items()}
    return Reproduction(configs=resolved, results=results, verdicts=claims(**results))
