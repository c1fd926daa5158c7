"""The paper's experiments, one function per artefact, each taking a :class:`~clapemo.config.Config` and returning a
tidy DataFrame (one row per row/column cell, metric and training seed; the value in ``value``, in [0, 1]).

=================  ======================  =====================================================================
artefact           function                rows x columns
=================  ======================  =====================================================================
Table 3 (EAR)      :func:`ear_table`       ``4D``, ``4D + [5ED - CL]``, ``4D + [5ED - PA]`` x query kind x P@K
Table 4 (SER)      :func:`ser_table`       ``Random``, ``4D``, ``5ED - CL``, ``4D + [5ED - CL]``,
                                           ``4D + [5ED - PA]`` x {leave_one_out, finetune} x {accuracy, UA}
Figure 2           :func:`prompt_analysis` corpus x prompt kind (CL, pitch, intensity, speech rate,
                                           articulation rate, PA) x {accuracy, UA}; :func:`plot_prompt_analysis`
=================  ======================  =====================================================================

Training runs
-------------
Every model is trained with :func:`clapemo.train.fit`, which reuses a finished run with the same config hash.
Before calling it, the experiment config is reduced to what training depends on (``name`` and ``evaluate`` are
reset to fixed values, ``train`` gets the row's corpora/prompt kind/seed), so the same model is shared between
artefacts: the ``4D`` row of Table 3 and of Table 4 is one run per seed. A model trained on 4D only has no emotion
prompts; its ``prompt_kind`` is fixed to ``class_label`` so that it has a single identity.

* ``5ED`` = the emotion corpora of ``config.data.source`` (the six ``synth-*`` twins, or the six real corpora)
  without the evaluation corpus (Table 3: ``evaluate.ear_collection``; Table 4: ``evaluate.ser_target``).
* ``CL`` trains with ``prompt_kind = class_label``; ``PA`` with ``augment`` (each clip paired with its 5 prompts).
* Table 4 *finetune*: the leave-one-out run of the row is trained further (``train.init_from``) on the target's
  train split alone (no 4D), for ``evaluate.finetune_epochs`` epochs (0: ``train.epochs``), with the row's prompt
  kind (the ``4D`` row finetunes with class labels), then scored zero-shot on the target's test split like the
  leave-one-out column. The target's train/test split must be speaker-independent (checked).
* ``Random`` is chance, 1 / number of classes (computed from the corpus's label set, e.g. RAVDESS 8 -> 0.125).
  ``Random (draw)`` is a seeded uniform random classifier scored on the same test clips: its spread over seeds
  shows how far chance-level predictions wander on a test set of this size.

Seeds and spread
----------------
Each trained configuration runs once per ``evaluate.seeds`` entry (``train.seed``); :func:`summarize` gives the
mean, sample sd, n and a 95 % t interval per cell; :func:`claims` tests each of the paper's qualitative claims
with a paired hierarchical bootstrap interval of the difference (seeds, then test items;
:mod:`clapemo.uncertainty`): holds / does not hold / undecided.

Results
-------
Each artefact writes ``<evaluate.results_dir>/<artefact>/<config_hash>/`` with ``results.csv`` (tidy, per seed),
``summary.csv`` / ``summary.json``, ``side_by_side.csv`` (ours beside the paper's), ``config.yaml`` (the resolved
config), ``provenance.json`` (commit, environment, wall time and data digests: :mod:`clapemo.provenance`) and, for
Figure 2, ``figure.png``. Calling the function again with the same config reads ``results.csv``
instead of recomputing (``force=True`` recomputes; the trained runs are still reused).

The paper's numbers live in ``clapemo/paper_results.yaml`` (:func:`paper_results`), never in code.

Layout
------
One record per artefact (:class:`Artefact`: its name, config, evaluation corpus key, training specs, summary
keys, result and item columns, claims, whether the paper gives its numbers), declared once in the artefact's
module and looked up by name (:func:`artefact`). The modules are layered one way, each importing only those above
it in this list:

======================  ===============================================================================
``planning``            run specs, the corpora a config provides, training configs, fitting (+ run records)
``scoring``             zero-shot SER of a model, result rows, the spread over seeds
``paper``               the paper's numbers, side by side, paired comparisons and verdicts
``store``               the results folders (computed once per config, with provenance)
``artefact``            the :class:`Artefact` record
``table3`` ...          Table 3, Table 4, Figure 2, chapter 6 (``chapter6``; its display: ``clapemo.book``)
``registry``            every artefact by name; the training plan, corpora used, claims
``cli``                 ``clapemo experiment``
======================  ===============================================================================
"""

from __future__ import annotations

from clapemo.experiments import chapter6
from clapemo.experiments.artefact import Artefact
from clapemo.experiments.chapter6 import CHAPTER6
from clapemo.experiments.cli import cli
from clapemo.experiments.figure2 import FIGURE2, plot_prompt_analysis, prompt_analysis
from clapemo.experiments.paper import compare_cells, paper_results, side_by_side
from clapemo.experiments.planning import (KIND_NAMES, NO_4D, NotRun, RunSpec, caption_corpora_available, check_corpus,
                                    emotion_corpora, fit_many, fit_plan, fit_run, missing_paper_corpora,
                                    provided_emotion_corpora, root_problems, training_config)
from clapemo.experiments.registry import (ARTEFACTS, PAPER_ARTEFACTS, artefact, claims, corpora_used, results_dir,
                                    training_plan)
from clapemo.experiments.scoring import SER_METRICS, summarize
from clapemo.experiments.table3 import TABLE3, TABLE3_ROWS, ear_table
from clapemo.experiments.table4 import TABLE4, TABLE4_ROWS, ser_table

__all__ = [
    "Artefact", "ARTEFACTS", "PAPER_ARTEFACTS", "artefact", "TABLE3", "TABLE4", "FIGURE2", "CHAPTER6", "chapter6",
    "TABLE3_ROWS", "TABLE4_ROWS", "KIND_NAMES", "SER_METRICS", "RunSpec", "NotRun", "NO_4D",
    "provided_emotion_corpora", "missing_paper_corpora", "caption_corpora_available", "check_corpus",
    "emotion_corpora", "root_problems", "corpora_used", "training_config", "fit_run", "fit_many", "fit_plan",
    "training_plan", "ear_table", "ser_table", "prompt_analysis", "plot_prompt_analysis", "summarize",
    "paper_results", "side_by_side", "compare_cells", "claims", "results_dir", "cli",
]
