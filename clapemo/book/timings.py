"""Where the time of ``make reproduce`` goes: the Makefile records it, ``make bench`` prints it (issue 14).

``make reproduce`` appends one line per step it runs to :data:`TIMINGS_FILE` (tab-separated, no header)::

    stage <TAB> seconds <TAB> finished (UTC, ISO 8601)

A line ``start`` (0 s) opens a run; then ``setup`` (when the environment is installed), ``synthetic benchmark``,
one line per notebook (its file stem, e.g. ``02_ear_table``), ``book build``, and last ``make reproduce`` with
the wall time of the whole run. A step that was up to date writes nothing. The Makefile writes the lines with
``printf`` (no Python start-up per step); this module reads them: :func:`last_run` is the breakdown of the latest
run, :func:`format_breakdown` its text for ``benchmarks/bench_reproduce.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clapemo.errors import DataError

__all__ = ["TIMINGS_FILE", "START", "TOTAL", "EXTENSIONS", "read_timings", "last_run", "format_breakdown"]

#: the file ``make reproduce`` appends to, relative to the project root (``make clean`` removes it)
TIMINGS_FILE = "book/executed/.timings.tsv"
#: the stage that opens a run, and the one that closes it with the whole run's wall time
START, TOTAL = "start", "make reproduce"
#: the chapter outside the paper's (its budget is counted apart)
EXTENSIONS = "06_extensions"


def read_timings(path: str | Path = TIMINGS_FILE) -> Any:
    """The lines of a timings file as a DataFrame (``stage``, ``seconds`` int, ``finished`` UTC timestamp).

    Raises
    ------
    DataError : the file is missing, or a line does not have three tab-separated fields, whole seconds >= 0 and
        an ISO timestamp (the message names the file and the line).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no timings recorded (run `make reproduce` first)")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            if len(fields) != 3:
                raise ValueError(f"{len(fields)} field(s)")
            stage, seconds, finished = fields[0].strip(), int(fields[1]), pd.Timestamp(fields[2])
            if not stage or seconds < 0:
                raise ValueError("empty stage or negative seconds")
        except ValueError as err:
            raise DataError(f"{path}, line {number}: expected 'stage<TAB>whole seconds >= 0<TAB>ISO time' "
                            f"({err}): {line!r}") from None
        rows.append({"stage": stage, "seconds": seconds, "finished": finished})
    return pd.DataFrame(rows, columns=["stage", "seconds", "finished"])


def last_run(path: str | Path = TIMINGS_FILE) -> Any:
    """The steps of the latest ``make reproduce`` (the lines after its ``start``), in the order they ran.

    Returns
    -------
    DataFrame with ``stage``, ``seconds``, ``share`` (of the run's total) and ``finished``; ``attrs``:
    ``total_s`` (the run's wall time, or the sum of the steps while it is unfinished), ``complete`` (whether the
    closing line was written), ``started`` (timestamp), ``without_extensions_s`` (the total less chapter 06).

    Raises
    ------
    DataError : no run was started in the file.
    """
    lines = read_timings(path)
    starts = lines.index[lines["stage"] == START]
    if not len(starts):
        raise DataError(f"{path}: no '{START}' line: no `make reproduce` was recorded")
    run = lines.loc[starts[-1] + 1:]
    closing = run.index[run["stage"] == TOTAL]
    complete = bool(len(closing))
    if complete:
        total_s = int(run.loc[closing[0], "seconds"])
        run = run.loc[:closing[0] - 1]
    steps = run[run["stage"] != TOTAL].reset_index(drop=True)
    if not complete:
        total_s = int(steps["seconds"].sum())
    steps = steps.assign(share=steps["seconds"] / total_s if total_s else 0.0)
    steps = steps[["stage", "seconds", "share", "finished"]]
    extensions_s = int(steps.loc[steps["stage"] == EXTENSIONS, "seconds"].sum())
    steps.attrs.update(total_s=total_s, complete=complete, started=lines.loc[starts[-1], "finished"],
                       without_extensions_s=total_s - extensions_s)
    return steps


def _minutes(seconds: float) -> str:
    return f"{int(seconds) // 60} min {int(seconds) % 60:02d} s"


def format_breakdown(steps: Any) -> str:
    """The breakdown of :func:`last_run` as text: one line per step with seconds and share, then the totals."""
    attrs = steps.attrs
    state = "" if attrs["complete"] else " (unfinished: the sum of the steps so far)"
    lines = [f"make reproduce started {attrs['started']:%Y-%m-%d %H:%M} UTC{state}"]
    lines += [f"  {row.stage:<28}{row.seconds:>7d} s  {100 * row.share:5.1f} %" for row in steps.itertuples()]
    lines.append(f"  {'in all (wall)':<28}{attrs['total_s']:>7d} s  = {_minutes(attrs['total_s'])}")
    if (steps["stage"] == EXTENSIONS).any():
        lines.append(f"  {'without ' + EXTENSIONS:<28}{attrs['without_extensions_s']:>7d} s  = "
                     f"{_minutes(attrs['without_extensions_s'])}")
    up_to_date = "" if len(steps) else " (every step was up to date)"
    return "\n".join(lines) + up_to_date
