"""One record per artefact: everything the package, the book and the CLI need to know of Table 3, Table 4, Figure 2
or chapter 6, declared once in the artefact's module (:mod:`~clapemo.experiments.table3`, ...) and looked up in
:mod:`~clapemo.experiments.registry`.

Above the result store; below the artefacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from clapemo.config import Config
from clapemo.experiments.paper import paper_results, side_by_side
from clapemo.experiments.planning import NotRun, RunSpec, caption_corpora_available, check_corpus
from clapemo.experiments.scoring import summarize
from clapemo.experiments.store import cached, results_folder

__all__ = ["Artefact"]


@dataclass(frozen=True)
class Artefact:
    """What an artefact is.

    Attributes
    ----------
    name : its results folder and key (``table3``, ``table4``, ``figure2``, ``extensions``)
    title : how the book and the CLI call it
    config_name : its experiment config, ``configs/<config_name>.yaml``
    notebook : the chapter that shows it (``notebooks/<notebook>.ipynb``)
    target_key : the ``evaluate`` key naming the corpus (or corpora) it is evaluated on
    leaves_target_out : its runs train on the other emotion corpora ('5ED', Tables 3 and 4), not on the
        target's own train split (Figure 2, chapter 6)
    summary_keys : the cell of a result row (what :func:`summarize` groups by)
    result_columns, item_columns : the columns of its results and of its per-item results (``attrs["items"]``)
    paper : whether the paper gives its numbers (``paper_results()[name]``, ``side_by_side.csv``)
    specs : ``config -> [(use, RunSpec)]``, every training it needs (a row not run is left out)
    compute : ``(config, *, force, progress) -> results``, the experiment function
    claims : ``(results, n_boot) -> {claim id: [comparison or None]}``, the paper's claims it tests (None: none)
    """

    name: str
    title: str
    config_name: str
    notebook: str
    target_key: str
    leaves_target_out: bool
    summary_keys: tuple[str, ...]
    result_columns: tuple[str, ...]
    item_columns: tuple[str, ...]
    paper: bool
    specs: Callable[[Config], list[tuple[str, RunSpec]]]
    compute: Callable[..., Any]
    claims: Callable[[Any, int], dict[str, list]] | None = None

    def __call__(self, config: Config, *, force: bool = False, progress: bool = True) -> Any:
        """Compute (or read) the artefact's results for ``config``."""
        return self.compute(config, force=force, progress=progress)

    def results_dir(self, config: Config) -> Path:
        """``<evaluate.results_dir>/<name>/<config_hash>``: where its results for ``config`` live."""
        return results_folder(config, self.name)

    def targets(self, config: Config) -> list[str]:
        """The evaluation corpora, as loaded (``synth-`` twins); :class:`NotRun` when one has no root."""
        value = getattr(config.evaluate, self.target_key)
        key = f"evaluate.{self.target_key}"
        return [check_corpus(config, name, key) for name in (value if isinstance(value, list) else [value])]

    def corpora_read(self, config: Config) -> list[str]:
        """The corpora it loads (as loaded): its evaluation corpora, the emotion corpora of its runs and, when a
        run adds 4D, the caption corpora."""
        from clapemo.corpora import caption_corpora

        value = getattr(config.evaluate, self.target_key)
        names: list[str] = []
        for target in value if isinstance(value, list) else [value]:
            try:
                names.append(check_corpus(config, target, f"evaluate.{self.target_key}"))
            except NotRun:
                continue
        try:
            specs = [spec for _, spec in self.specs(config)]
        except NotRun:
            specs = []
        for spec in specs:
            names += spec.corpora
        if any(spec.include_4d for spec in specs):
            names += caption_corpora(config)
        return list(dict.fromkeys(names))

    def uses(self, config: Config) -> dict[RunSpec, list[str]]:
        """RunSpec -> the cells of this artefact that use it (``table3:4D``), for the run records."""
        out: dict[RunSpec, list[str]] = {}
        for use, spec in self.specs(config):
            out.setdefault(spec, []).append(use)
        return out

    def paper_values(self) -> Any:
        """The paper's frame of this artefact (:func:`paper_results`), or None when the paper gives none."""
        return paper_results()[self.name] if self.paper else None

    def summarize(self, results: Any) -> Any:
        """Mean, sd, n and 95 % t interval over seeds per cell (:func:`summarize` by :attr:`summary_keys`)."""
        return summarize(results, by=list(self.summary_keys))

    def beside_paper(self, results: Any) -> Any:
        """Our summary beside the paper's numbers (:func:`side_by_side`); the paper's column empty without them."""
        paper = self.paper_values()
        summary = self.summarize(results)
        if paper is None:
            return summary
        return side_by_side(summary, paper)

    def store(self, config: Config, compute: Callable[[], Any], *, force: bool, progress: bool) -> Any:
        """``compute()`` once per config, kept in :meth:`results_dir` (:func:`clapemo.experiments.store.cached`)."""
        return cached(self.name, config, compute, by=self.summary_keys, paper=self.paper_values(),
                      corpora_read=lambda: self.corpora_read(config), force=force, progress=progress)
