"""The command lines of search: ``clapemo index DIR --run NAME -o INDEX [--syllables asr]`` and ``clapemo search
INDEX "high pitch anger" ["low intensity sad" ...] [-k 10] [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from clapemo.search.build import check_index_target, index
from clapemo.search.query import search

__all__ = ["index_cli", "search_cli"]


def index_cli(argv: Sequence[str]) -> int:
    """``clapemo index DIR --run NAME -o INDEX``."""
    from clapemo.describe import add_syllables_argument, run_from_cli, syllables_override
    from clapemo.runs import add_run_arguments

    parser = argparse.ArgumentParser(prog="clapemo index", description="Embed every audio file under a folder "
                                     "with a trained run into a searchable index; a re-run adds new or changed "
                                     "files only. --config/--overlay/--set are layered over the run's config "
                                     "where index reads it (fixed cuts, caches, device); other keys are "
                                     "refused.")
    parser.add_argument("folder", help="folder of audio files (searched recursively)")
    parser.add_argument("-o", "--output", required=True, help="index folder (created or updated)")
    parser.add_argument("--corpus", default=None, help="run with per-corpus quantile cuts: whose cuts to use")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="feature worker processes (-1: all cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_syllables_argument(parser)
    add_run_arguments(parser)
    ns = parser.parse_args(list(argv))
    syllables_override(ns)  # --syllables: one more --set, layered over the run's config
    from clapemo.files import display_path

    check_index_target(ns.folder, ns.output)  # before any work, the run's loading included
    model = run_from_cli(ns, command="index")  # --config/--overlay/--set layered over the run's, or refused
    result = index(ns.folder, run=model, output=ns.output, corpus=ns.corpus, n_jobs=ns.jobs,
                   progress=not ns.quiet)
    last = result.meta["last_run"]
    n_err = int(result.meta["n_errors"])
    print(f"{display_path(result.path)}: {result.meta['n_files']} files ({last['embedded']} embedded now, "
          f"{last['reused']} "
          f"reused, {n_err} errors) with run {result.meta['run_id']}")
    for _, row in result.table[result.table["error"].notna()].iterrows():
        print(f"  error: {row['path']}: {row['error']}", file=sys.stderr)
    return 0


def search_cli(argv: Sequence[str]) -> int:
    """``clapemo search INDEX "high pitch anger" ["low intensity sad" ...] [-k 10] [--json]``."""
    parser = argparse.ArgumentParser(prog="clapemo search", description="Search an audio index with text queries.")
    parser.add_argument("index", help="index folder written by 'clapemo index'")
    parser.add_argument("queries", nargs="+", help="text queries, e.g. \"high pitch anger\"; one argument may "
                        "hold several separated by ';'")
    parser.add_argument("-k", type=int, default=10, help="hits per query (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of tables")
    ns = parser.parse_args(list(argv))
    hits = search(ns.index, ns.queries, k=ns.k)
    if ns.json:
        print(json.dumps(json.loads(hits.to_json(orient="records")), indent=1))
        return 0
    import pandas as pd

    for query, group in hits.groupby("query", sort=False):
        shown = group[["rank", "score", "path", "duration_s", "description"]].copy()
        shown["score"] = shown["score"].round(3)
        shown["duration_s"] = shown["duration_s"].round(2)
        print(f"== {query}")
        with pd.option_context("display.max_colwidth", 100, "display.width", 250):
            print(shown.to_string(index=False))
    return 0
