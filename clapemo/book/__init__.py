"""What the notebooks and the book show, and the book's build helpers (``clapemo book ...``).

The notebooks hold no logic: each code cell makes one call into ``clapemo``. The calls that are not a pipeline
stage of their own live here, one module per concern, so they are tested like the rest of the package:

* :mod:`clapemo.book.config` - the config a notebook runs (:func:`notebook_config`, the one layering rule of
  :func:`clapemo.config.resolve_config`, relative paths under the project root) and :func:`needs_synth`;
* :mod:`clapemo.book.views` - the corpus chapter's tables and figures;
* :mod:`clapemo.book.backends` - the pitch- and intensity-backend comparisons;
* :mod:`clapemo.book.tables` - the paper beside ours (Tables 3, 4, Figure 2) and the claims' verdicts;
* :mod:`clapemo.book.source` - the source line under every table and figure (results file, config, commit, call);
* :mod:`clapemo.book.syllables` - the corpus chapter's syllable-count table (each ``features.syllables`` method
  against the words said) and the real recordings with transcripts;
* :mod:`clapemo.book.glance` - the report's first screen: every artefact and claim at a glance;
* :mod:`clapemo.book.ceilings` - the probe ceilings beside Table 4 and Figure 2 (:func:`ceilings_table`);
* :mod:`clapemo.book.representation` - chapter 01's validation probe of the audio representations;
* :mod:`clapemo.book.chapter6` - chapter 6's variants, section tables, generated findings and differences;
* :mod:`clapemo.book.notes` - "not run: needs ..." notes for what a config cannot run;
* :mod:`clapemo.book.provenance` - config hashes and results folders;
* :mod:`clapemo.book.progress` - progress bars to the terminal, never onto a page;
* :mod:`clapemo.book.execute` - running a notebook with papermill (progress relayed to the terminal);
* :mod:`clapemo.book.check` - the built book's page check: minimums, no errors, and each chapter read as a paper
  (a result on the first screen, no visible code above it, a source line under every table and figure);
* :mod:`clapemo.book.layout` - where a page's results, code cells and source lines lie (headless Chromium).

Command line (the Makefile's)::

    clapemo book run notebooks/02_ear_table.ipynb book/executed/02_ear_table.ipynb -p profile tiny
    clapemo book needs-synth notebooks/*.ipynb --overlay my.yaml --set data.source=real
    clapemo book check book/_build/html --shots book/_build/first-screens   # --no-layout: without a browser
    clapemo book screenshot book/_build/html/executed/05_report.html book/screenshot.png
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

# Notebooks import this package first. tqdm.auto (imported deep inside transformers) warns that ipywidgets is
# missing, and the warning, with the interpreter's path in it, would land on the report's pages.
warnings.filterwarnings("ignore", message="IProgress not found")

__all__ = [
    # config
    "notebook_config", "emotion_corpora", "needs_synth", "notebook_configs",
    # views
    "PROPERTIES", "PROMPT_KINDS", "corpus_table", "corpus_summary", "thresholds", "cuts_table",
    "plot_properties_by_emotion", "prompt_bin", "bin_occupancy", "style_occupancy", "plot_bin_occupancy",
    "table2_examples", "style_table2", "show",
    # backends
    "compare_pitch_backends", "compare_intensity_backends",
    # ceilings, representation
    "ceilings_table", "representation_table", "style_representations", "representation_finding",
    # tables
    "format_spread", "not_run_notes", "table3_side_by_side", "table4_side_by_side", "figure2_side_by_side",
    "format_table3", "format_table4", "format_figure2", "format_claims", "plot_prompt_analysis", "claims_sentence",
    # syllable counts
    "compare_syllable_methods", "speech_with_transcripts",
    # source lines, the report's first screen
    "source", "source_frame", "reproduction",
    # chapter 6
    "variants_table", "section_table", "finding", "plot_differences", "overview",
    # notes
    "Note", "run_artefact", "claims", "not_run_frame",
    # provenance, progress, execute, check
    "provenance", "quiet_progress", "run_notebook", "BOOK_PAGES", "check_book", "screenshot", "find_chromium",
    "first_screens", "page_problems", "RULES", "probe_page", "page_items", "PageItem",
    "cli",
]

_HOME = {
    "notebook_config": "config", "emotion_corpora": "config", "needs_synth": "config",
    "notebook_configs": "config",
    "PROPERTIES": "views", "PROMPT_KINDS": "views", "corpus_table": "views", "corpus_summary": "views",
    "thresholds": "views", "cuts_table": "views", "plot_properties_by_emotion": "views", "prompt_bin": "views",
    "bin_occupancy": "views", "style_occupancy": "views", "plot_bin_occupancy": "views",
    "table2_examples": "views", "style_table2": "views", "show": "views",
    "compare_pitch_backends": "backends", "compare_intensity_backends": "backends", "ceilings_table": "ceilings",
    "representation_table": "representation", "style_representations": "representation",
    "representation_finding": "representation",
    "format_spread": "tables", "not_run_notes": "tables", "table3_side_by_side": "tables",
    "table4_side_by_side": "tables", "figure2_side_by_side": "tables", "format_table3": "tables",
    "format_table4": "tables", "format_figure2": "tables", "format_claims": "tables",
    "plot_prompt_analysis": "tables", "claims_sentence": "tables", "source": "source", "source_frame": "source",
    "reproduction": "glance",
    "compare_syllable_methods": "syllables", "speech_with_transcripts": "syllables",
    "variants_table": "chapter6", "section_table": "chapter6", "finding": "chapter6",
    "plot_differences": "chapter6", "overview": "chapter6",
    "Note": "notes", "run_artefact": "notes", "claims": "notes", "not_run_frame": "notes",
    "provenance": "provenance", "quiet_progress": "progress", "run_notebook": "execute",
    "BOOK_PAGES": "check", "check_book": "check", "screenshot": "check", "find_chromium": "check",
    "first_screens": "check", "page_problems": "check", "RULES": "check", "probe_page": "layout",
    "page_items": "layout", "PageItem": "layout",
    "cli": "commands",
}


def __getattr__(name: str) -> Any:
    """The public names, imported from their module on first use (so ``clapemo book --help`` stays fast)."""
    import importlib

    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'clapemo.book' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"clapemo.book.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if "ipykernel" in sys.modules:  # imported in a notebook kernel: progress bars off the page from the first cell
    from clapemo.book.progress import install as _install

    _install()
