"""Where the wall time of the last ``make reproduce`` went (``make bench``; issue 14).

``make reproduce`` records each step it runs (setup, the synthetic benchmark, every notebook, the book build) in
``book/executed/.timings.tsv`` (:mod:`clapemo.book.timings`); this prints the latest run's breakdown: seconds and
share per step, the whole run, and the run without chapter 06 (the extensions chapter has its own budget). A step
that was up to date is not listed: time a cold run from a fresh clone (``git clone ... && make reproduce``).

Run: ``python benchmarks/bench_reproduce.py [--timings PATH]``.
"""

from __future__ import annotations

import clapemo  # noqa: F401  - first: its portable-numerics pins must precede NumPy and torch

import argparse

from clapemo.book import timings
from clapemo.errors import DataError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timings", default=timings.TIMINGS_FILE)
    args = parser.parse_args()
    try:
        steps = timings.last_run(args.timings)
    except DataError as err:
        print(f"no breakdown: {err}")
        return
    print(timings.format_breakdown(steps))


if __name__ == "__main__":
    main()
