"""Every artefact, looked up by name: the paper's Table 3, Table 4 and Figure 2 and chapter 6, and what is asked of
them together: the training plan, the corpora each uses, and the paper's claims tested on our results.

Above the artefacts; below the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from clapemo.config import Config, config_hash
from clapemo.errors import ParameterError
from clapemo.evaluate import base_corpus
from clapemo.experiments.artefact import Artefact
from clapemo.experiments.chapter6 import CHAPTER6
from clapemo.experiments.figure2 import FIGURE2
from clapemo.experiments.paper import CLAIM_COLUMNS, paper_results, verdict_row
from clapemo.experiments.planning import (NotRun, RunSpec, caption_corpora_available, emotion_corpora,
                                    missing_paper_corpora, root_problems, training_config)
from clapemo.experiments.table3 import TABLE3
from clapemo.experiments.table4 import TABLE4

__all__ = ["ARTEFACTS", "PAPER_ARTEFACTS", "artefact", "results_dir", "training_plan", "corpora_used", "claims"]

#: every artefact by name, in the book's order
ARTEFACTS: dict[str, Artefact] = {a.name: a for a in (TABLE3, TABLE4, FIGURE2, CHAPTER6)}
#: the paper's own artefacts (``clapemo experiment all``, the report)
PAPER_ARTEFACTS: tuple[str, ...] = tuple(name for name, a in ARTEFACTS.items() if a.paper)


def artefact(name: str) -> Artefact:
    """The artefact record called ``name`` (``table3``, ``table4``, ``figure2``, ``extensions``)."""
    if isinstance(name, Artefact):
        return name
    if name not in ARTEFACTS:
        raise ParameterError(f"artefact {name!r} is not one of {sorted(ARTEFACTS)}")
    return ARTEFACTS[name]


def results_dir(config: Config, name: str) -> Path:
    """``<evaluate.results_dir>/<artefact>/<config_hash>``: where an artefact's results for ``config`` live."""
    return artefact(name).results_dir(config)


def training_plan(config: Config, *, artefacts: Sequence[str] = PAPER_ARTEFACTS) -> Any:
    """Every training the artefacts need, one row per distinct run (shared runs appear once).

    An artefact that cannot run (:class:`NotRun`, e.g. its evaluation corpus has no root) contributes no rows;
    ``attrs["not_run"]`` maps it to the reason.

    Returns
    -------
    DataFrame with ``run, finetune, seed, used_by`` (``used_by``: the artefact/row cells that use it) and
    ``run_id`` (the config hash of the training config; finetunes: ``None``, it depends on the parent run).
    """
    import pandas as pd

    uses: dict[RunSpec, list[str]] = {}
    not_run: dict[str, str] = {}

    def add(spec: RunSpec, use: str) -> None:
        uses.setdefault(spec, []).append(use)
        if spec.finetune_from is not None:
            add(spec.finetune_from, use + " (parent)")

    for name in artefacts:
        try:
            for use, spec in artefact(name).specs(config):
                add(spec, use)
        except NotRun as err:
            not_run[name] = str(err)
    rows = []
    for spec, used_by in uses.items():
        for seed in config.evaluate.seeds:
            run_id = None if spec.finetune_from else config_hash(training_config(config, spec, seed=seed))
            rows.append({"run": spec.describe(), "finetune": spec.finetune_from is not None, "seed": seed,
                         "used_by": "; ".join(sorted(set(used_by))), "run_id": run_id})
    plan = pd.DataFrame(rows, columns=["run", "finetune", "seed", "used_by", "run_id"])
    plan.attrs["not_run"] = not_run
    return plan


def _usage(config: Config, record: Artefact, broken: dict[str, str]) -> dict[str, str]:
    """One row of :func:`corpora_used`."""
    targets = getattr(config.evaluate, record.target_key)
    targets = targets if isinstance(targets, list) else [targets]
    status, eds = "ok", []
    try:
        resolved = record.targets(config)
        eds = emotion_corpora(config, target=resolved[0]) if record.leaves_target_out else resolved
    except NotRun as err:
        status, resolved = str(err), targets
    used = [*resolved, *eds, *caption_corpora_available(config)]
    found = [broken[name] for name in dict.fromkeys(base_corpus(n) for n in used) if name in broken]
    if found:
        status = "error: " + "; ".join(found)
    return {"artefact": record.name, "evaluated_on": ", ".join(resolved), "emotion_corpora": ", ".join(eds) or "none",
            "caption_corpora": ", ".join(caption_corpora_available(config)) or "none",
            "missing": ", ".join(missing_paper_corpora(config)) or "none", "status": status}


def corpora_used(config: Config, *, artefacts: Sequence[str] = PAPER_ARTEFACTS) -> Any:
    """Which corpora each artefact uses and which of the paper's are missing: one row per artefact.

    Returns
    -------
    DataFrame with ``artefact, evaluated_on, emotion_corpora (the '5ED', or the evaluated corpora where the runs
    train on their own train split), caption_corpora (4D), missing`` (the paper's emotion corpora this config
    lacks), ``status`` ("ok", the :class:`NotRun` reason, or "error: ..." naming each ``data.roots`` folder it uses
    that is missing, not a folder or empty: :func:`root_problems`).
    """
    import pandas as pd

    broken = root_problems(config)
    return pd.DataFrame([_usage(config, artefact(name), broken) for name in artefacts])


def claims(*, n_boot: int = 2000, **results: Any) -> Any:
    """Test the paper's qualitative claims (``paper_results()["claims"]``) on our results, paired.

    Each claim is a set of "A > B" comparisons, declared by its artefact. Each comparison is paired (same seeds,
    same test clips or queries) with a hierarchical bootstrap interval (:mod:`clapemo.uncertainty`): the claim
    *holds* when every interval lies above 0, *does not hold* when one lies below 0, and is *undecided* otherwise.
    A claim whose rows were not run is *not testable*. Reported per claim: the deciding comparison (the one with
    the lowest interval bound; for "does not hold", the one wholly below 0), its difference, 95 % interval, the
    share of bootstrap resamples on the verdict's side (:func:`clapemo.uncertainty.verdict_share`: how firm the
    verdict is) and the minimum detectable difference (MDD) of this run's size.

    Parameters
    ----------
    table3, table4, figure2 : frames from the experiment functions, with their per-item results in
        ``attrs["items"]`` (any may be None or left out: its claims are skipped).
    n_boot : bootstrap draws per comparison.

    Returns
    -------
    DataFrame with ``artefact, id, claim, verdict, deciding, difference, ci_low, ci_high, share, mdd, n_seeds,
    n_items``.
    """
    import pandas as pd

    unknown = sorted(set(results) - {name for name, a in ARTEFACTS.items() if a.claims})
    if unknown:
        raise ParameterError(f"claims() got {unknown}: only {[n for n, a in ARTEFACTS.items() if a.claims]} "
                             "have claims")
    texts = paper_results()["claims"].set_index("id")["claim"].to_dict()
    rows = []
    for name, record in ARTEFACTS.items():
        if results.get(name) is None or record.claims is None:
            continue
        for claim_id, comparisons in record.claims(results[name], n_boot).items():
            rows.append(verdict_row(name, claim_id, texts[claim_id], comparisons))
    return pd.DataFrame(rows).reindex(columns=list(CLAIM_COLUMNS))
