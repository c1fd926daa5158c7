"""``clapemo experiment {table3,table4,figure2,all} [--config FILE] [--overlay FILE] [--set KEY=VALUE] [--force]
[--plan]``: run the paper's experiments and print each beside the paper, then the claims."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from clapemo.config import Config
from clapemo.experiments.artefact import Artefact
from clapemo.experiments.planning import NotRun, root_problems
from clapemo.experiments.registry import ARTEFACTS, PAPER_ARTEFACTS, claims, corpora_used, training_plan
from clapemo.experiments.table3 import TABLE3
from clapemo.experiments.table3 import row_specs as table3_rows
from clapemo.experiments.table4 import TABLE4
from clapemo.experiments.table4 import row_specs as table4_rows

__all__ = ["cli"]

_SHOW = {"display.width": 200, "display.max_colwidth": 80, "display.max_rows": 500,
         "display.float_format": "{:.3f}".format}


def _print(frame: Any, title: str | None = None) -> None:
    import pandas as pd

    with pd.option_context(*[x for kv in _SHOW.items() for x in kv]):
        if title:
            print(title)
        print(frame.to_string(index=False))


def _plan(configs: dict[str, Config]) -> int:
    """Print the trainings of every artefact, the rows not run, and exit 1 when a ``data.roots`` folder is bad."""
    import pandas as pd

    plans = [training_plan(c, artefacts=[a]) for a, c in configs.items()]
    plan = pd.concat(plans, ignore_index=True).drop_duplicates(["run", "seed"])
    _print(plan)
    print(f"# {len(plan)} trainings ({int(plan['finetune'].sum())} finetunes)")
    row_specs = {TABLE3.name: table3_rows, TABLE4.name: table4_rows}  # the tables whose rows may be not run
    for (name, config), p in zip(configs.items(), plans):
        for other, reason in p.attrs["not_run"].items():
            print(f"# {other}: {reason}")
        if name in p.attrs["not_run"] or name not in row_specs:
            continue
        for row, spec in row_specs[name](config).items():
            if isinstance(spec, str):
                print(f"# {name} row {row!r}: {spec}")
    problems = sorted(set(root_problems(next(iter(configs.values()))).values()))
    for problem in problems:
        print(f"# error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _run(record: Artefact, config: Config, *, force: bool, quiet: bool) -> Any:
    """Compute one artefact and print it beside the paper; None when it cannot run (the reason printed)."""
    try:
        df = record(config, force=force, progress=not quiet)
    except NotRun as err:
        print(f"\n== {record.name}: {err}")
        return None
    table = record.beside_paper(df)
    _print(table.drop(columns=["ours_ci_low", "ours_ci_high"]), f"\n== {record.name}: {record.results_dir(config)}")
    for _, row in df[df["status"] != "ok"].drop_duplicates("status").iterrows():
        print(f"# {row.iloc[0]}: {row['status']}")
    return df


def cli(argv: list[str]) -> int:
    """``clapemo experiment ARTEFACT [--config FILE] [--overlay FILE] [--set KEY=VALUE] [--force] [--plan]``."""
    import pandas as pd

    from clapemo.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(
        prog="clapemo experiment",
        description="Run one of the paper's experiments and print it beside the paper. Without --config each "
                    "artefact uses its config in configs/ (" + ", ".join(
                        ARTEFACTS[a].config_name for a in PAPER_ARTEFACTS) + "), so `--overlay my.yaml` gives the "
                    "same runs as `make reproduce SET=my.yaml`.")
    parser.add_argument("artefact", choices=[*PAPER_ARTEFACTS, "all"])
    add_config_arguments(parser)
    parser.add_argument("--force", action="store_true", help="recompute even when results exist (runs are reused)")
    parser.add_argument("--plan", action="store_true", help="only list the trainings the artefact needs")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    names = list(PAPER_ARTEFACTS) if args.artefact == "all" else [args.artefact]
    configs = {a: config_from_args(args, default=ARTEFACTS[a].config_name) for a in names}
    _print(pd.concat([corpora_used(c, artefacts=[a]) for a, c in configs.items()]))
    if args.plan:
        return _plan(configs)
    frames = {}
    for name, config in configs.items():
        df = _run(ARTEFACTS[name], config, force=args.force, quiet=args.quiet)
        if df is not None:
            frames[name] = df
    verdicts = claims(**frames)
    if len(verdicts):
        _print(verdicts.drop(columns=["claim"]),
               "\n== the paper's claims here (paired bootstrap over seeds and test items, 95 %)")
    return 0
