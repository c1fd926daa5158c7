"""The trained runs on disk, what each one is, and stable names for the models of the last reproduction.

A run folder (``<train.runs_dir>/<run id>``, written by :func:`clapemo.train.fit`) holds its resolved
``config.yaml``, its ``log.csv`` and, once finished, ``checkpoint.pt`` and ``done``. :func:`list_runs` reads
those files (never the weights) into one row per run: the corpora it trained on, whether the "4D" caption sets
were added, the prompt kind, the seed, the epochs, the parent of a finetune, and the last epoch's training loss
and in-batch audio->text accuracy (the only metric a run folder knows; the evaluation tables live in
``clapemo.experiments``' results folders).

Names
-----
The paper's Table 3 rows are found from the training configs, not from guesses on the corpora: for each
finished run, :func:`clapemo.experiments.training_plan` of the run's own config lists the run ids of the
Table 3 rows (``4D``, ``4D + [5ED - CL]``, ``4D + [5ED - PA]``; without 4D ``5ED - CL`` / ``5ED - PA``) for
every evaluation seed; a run whose id is one of them *is* that row. The rows of the reproduction whose run
finished last get the names

=========  ==========================================
``4d``     ``4D`` (caption sets only)
``cl``     ``4D + [5ED - CL]`` (or ``5ED - CL``)
``pa``     ``4D + [5ED - PA]`` (or ``5ED - PA``)
=========  ==========================================

for seed 0, and ``<name>-s<seed>`` for the other seeds. Everywhere a command takes ``--run`` it accepts such a
name, a run id or a unique prefix of one, or the path of a run folder (:func:`resolve_run`). A bare word is a
name or id first (a folder ``pa/`` in the working directory never shadows the name ``pa``); a text with a
``/`` (``./pa``, ``runs/abc``) is a path, and must be a run folder. A ``--runs-dir`` that does not exist is an
error, not an empty list.

``clapemo runs [--runs-dir DIR] [--json]`` prints the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clapemo.errors import ClapEmoError, ParameterError

__all__ = [
    "ROW_NAMES",
    "RUN_COLUMNS",
    "add_run_arguments",
    "cli",
    "list_runs",
    "load",
    "reproduction_names",
    "resolve_run",
    "run_from_args",
    "runs_dir_from_args",
]

log = logging.getLogger(__name__)

#: Table 3 row -> stable name of its model
ROW_NAMES: dict[str, str] = {"4D": "4d", "4D + [5ED - CL]": "cl", "4D + [5ED - PA]": "pa",
                             "5ED - CL": "cl", "5ED - PA": "pa"}

#: columns of :func:`list_runs`
RUN_COLUMNS: tuple[str, ...] = ("name", "run_id", "finished", "row", "corpora", "include_4d", "prompt_kind",
                                "seed", "epochs", "epochs_done", "finetune_of", "profile", "encoders",
                                "train_loss", "train_accuracy", "finished_at", "path")


def _runs_dir(runs_dir: str | Path | None) -> Path:
    if runs_dir is None:
        from clapemo.config import TrainConfig

        runs_dir = TrainConfig().runs_dir
    return Path(runs_dir)


def _is_run_folder(path: Path) -> bool:
    return path.is_dir() and ((path / "config.yaml").is_file() or (path / "checkpoint.pt").is_file())


def _read_config(folder: Path) -> dict | None:
    import yaml

    try:
        data = yaml.safe_load((folder / "config.yaml").read_text())
    except (OSError, yaml.YAMLError) as err:
        log.warning("%s: config.yaml cannot be read (%s)", folder, err)
        return None
    return data if isinstance(data, dict) else None


def _last_log_row(folder: Path) -> dict:
    try:
        with open(folder / "log.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return {}
    return rows[-1] if rows else {}


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _table3_rows(config_dict: dict, folder_name: str) -> list[tuple[str, int, frozenset]]:
    """(Table 3 row, seed, the reproduction's run-id set) this run is, from its own config; [] when none."""
    from clapemo import experiments
    from clapemo.config import Config, config_hash, from_dict

    if "-ft" in folder_name:  # a finetune (Table 4) is never a Table 3 row
        return []
    try:
        config = from_dict(Config, config_dict)
        plan = experiments.training_plan(config, artefacts=("table3",))
    except (ClapEmoError, KeyError, TypeError, ValueError) as err:  # an old or foreign config: no name
        log.debug("%s: no Table 3 row (%s)", folder_name, err)
        return []
    own = config_hash(config)
    if folder_name != own and not folder_name.startswith(own + "-d"):
        return []
    family = frozenset(str(r) for r in plan["run_id"] if r)
    out = []
    for _, row in plan.iterrows():
        if row["run_id"] != own:
            continue
        for use in str(row["used_by"]).split("; "):
            if use.startswith("table3:"):
                out.append((use.removeprefix("table3:"), int(row["seed"]), family))
    return out


def _describe_folder(folder: Path) -> tuple[dict, list]:
    cfg = _read_config(folder) or {}
    train = cfg.get("train", {}) if isinstance(cfg.get("train"), dict) else {}
    last = _last_log_row(folder)
    finished = (folder / "done").is_file() and (folder / "checkpoint.pt").is_file()
    init_from = str(train.get("init_from") or "")
    corpora = list(train.get("corpora") or [])
    encoders = cfg.get("encoders", {}) if isinstance(cfg.get("encoders"), dict) else {}
    record = {
        "name": None, "run_id": folder.name, "finished": finished, "row": None,
        "corpora": ", ".join(corpora) if corpora else "",
        "include_4d": bool(train.get("include_4d", False)),
        "prompt_kind": train.get("prompt_kind"),
        "seed": train.get("seed"), "epochs": train.get("epochs"),
        "epochs_done": int(_number(last.get("epoch"))) if last.get("epoch") not in (None, "") else 0,
        "finetune_of": Path(init_from).parent.name if init_from else "",
        "profile": (cfg.get("synth") or {}).get("profile") if (cfg.get("data") or {}).get("source") == "synth"
        else (cfg.get("data") or {}).get("source"),
        "encoders": f"{encoders.get('audio', '?')}+{encoders.get('text', '?')}" if encoders else "",
        "train_loss": _number(last.get("loss")), "train_accuracy": _number(last.get("accuracy")),
        "finished_at": (folder / "done").stat().st_mtime if finished else math.nan,
        "path": str(folder),
    }
    rows = _table3_rows(cfg, folder.name) if finished and cfg else []
    return record, rows


def _scan(runs_dir: Path) -> tuple[list[dict], list[list]]:
    if not runs_dir.is_dir():
        return [], []
    records, rows = [], []
    for folder in sorted(p for p in runs_dir.iterdir() if _is_run_folder(p)):
        record, table3 = _describe_folder(folder)
        records.append(record)
        rows.append(table3)
    return records, rows


def _names(records: list[dict], rows: list[list]) -> dict[str, int]:
    """name -> index into ``records``: the Table 3 rows of the reproduction whose run finished last."""
    families: dict[frozenset, float] = {}
    for record, table3 in zip(records, rows):
        for _, _, family in table3:
            families[family] = max(families.get(family, -math.inf), record["finished_at"])
    if not families:
        return {}
    # the latest reproduction; ties (same second) broken by the sorted run ids, for a deterministic answer
    last = max(families, key=lambda f: (families[f], sorted(f)))
    out: dict[str, int] = {}
    for i, table3 in enumerate(rows):
        for row, seed, family in table3:
            if family == last and row in ROW_NAMES:
                out[ROW_NAMES[row] if seed == 0 else f"{ROW_NAMES[row]}-s{seed}"] = i
    return out


def list_runs(*, runs_dir: str | Path | None = None) -> pd.DataFrame:  # noqa: F821
    """Every run folder under ``runs_dir``, one row each (weights are not read).

    Parameters
    ----------
    runs_dir : path, optional
        Folder of the runs (default: ``train.runs_dir`` of the default config, ``runs``).

    Returns
    -------
    DataFrame, one row per run folder (the named runs first, by name, then the others by run id), columns :data:`RUN_COLUMNS`: ``name`` (``pa``, ``cl``,
    ``4d``, ``<name>-s<seed>``, or None), ``run_id`` (the folder name), ``finished``, ``row`` (its Table 3 row, or
    None), ``corpora`` (the emotion corpora, comma-separated), ``include_4d``, ``prompt_kind``, ``seed``,
    ``epochs`` (configured), ``epochs_done`` (logged), ``finetune_of`` (the parent run id, or ""), ``profile``
    (the synthetic profile, or ``real``), ``encoders`` (``audio+text``), ``train_loss`` and ``train_accuracy``
    (last logged epoch: mean loss and in-batch audio->text top-1 accuracy), ``finished_at`` (POSIX seconds of the
    ``done`` marker, NaN when unfinished), ``path``.
    """
    import pandas as pd

    records, rows = _scan(_runs_dir(runs_dir))
    for name, i in _names(records, rows).items():
        records[i]["name"] = name
    for record, table3 in zip(records, rows):
        record["row"] = table3[0][0] if table3 else None
    table = pd.DataFrame(records, columns=list(RUN_COLUMNS))
    for col in ("name", "row"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    # the models a user asks for by name come first (a reproduction leaves dozens of unnamed runs)
    order = sorted(range(len(table)), key=lambda i: (table["name"].iloc[i] is None, table["name"].iloc[i] or "",
                                                     table["run_id"].iloc[i]))
    return table.iloc[order].reset_index(drop=True)


def reproduction_names(*, runs_dir: str | Path | None = None) -> dict[str, Path]:
    """The stable names (``pa``, ``cl``, ``4d``, ...) of the last reproduction's runs -> their folders."""
    runs_dir = _runs_dir(runs_dir)
    records, rows = _scan(runs_dir)
    return {name: Path(records[i]["path"]) for name, i in sorted(_names(records, rows).items())}


def resolve_run(run: str | Path, *, runs_dir: str | Path | None = None) -> Path:
    """The folder of a run given by path, name, run id or unique run-id prefix.

    Parameters
    ----------
    run : str or Path
        A ``Path``, or a text that looks like a path (holds ``/``, starts with ``.`` or ``~``): a run folder
        (holding ``config.yaml`` or ``checkpoint.pt``), nothing else. A bare word, in this order: a name of
        :func:`reproduction_names` (``pa``, ``cl``, ``4d``, ``pa-s1`` ...); a run id under ``runs_dir``; a prefix
        of exactly one run id; a run folder of that name in the working directory (so a folder ``pa/`` that is
        not a run, or is one, never shadows the name ``pa``).
    runs_dir : path, optional
        Folder of the runs (default ``runs``).

    Returns
    -------
    Path of the run folder (finished or not: :func:`clapemo.train.load_run` checks).

    Raises
    ------
    ParameterError
        Nothing matches, a path is not a run folder, or a prefix matches several runs (the message lists them).
    """
    if isinstance(run, os.PathLike) or (isinstance(run, str) and run.strip()):
        text = str(os.fspath(run)).strip()
    else:
        raise ParameterError(f"run = {run!r} must be a run name (pa, cl, 4d), a run id or prefix, or a run folder")
    if isinstance(run, os.PathLike) or os.sep in text or (os.altsep and os.altsep in text) \
            or text.startswith((".", "~")):
        path = Path(text).expanduser()
        if _is_run_folder(path):
            return path
        why = "no such folder" if not path.exists() else ("not a folder" if not path.is_dir() else
                                                           "it holds no config.yaml or checkpoint.pt")
        raise ParameterError(f"run = {text!r} is a path but not a run folder ({why}); give a run folder written "
                             "by 'clapemo train', or a run name or id without '/'")
    folder = _runs_dir(runs_dir)
    names = reproduction_names(runs_dir=folder)
    if text in names:
        return names[text]
    if (folder / text).is_dir() and _is_run_folder(folder / text):
        return folder / text
    ids = sorted(p.name for p in folder.iterdir() if _is_run_folder(p)) if folder.is_dir() else []
    matches = [i for i in ids if i.startswith(text)]
    if len(matches) == 1:
        return folder / matches[0]
    if len(matches) > 1:
        raise ParameterError(f"run = {text!r} is a prefix of {len(matches)} runs in {folder} "
                             f"({', '.join(matches[:8])}{' ...' if len(matches) > 8 else ''}); give more of "
                             "the id")
    if _is_run_folder(Path(text)):  # a run folder in the working directory, named like no run of runs_dir
        return Path(text)
    if not folder.is_dir():
        raise ParameterError(f"run = {text!r} is no run folder, and runs_dir = {str(folder)!r} does not exist, so "
                             "there are no run names or ids to look it up in; give --runs-dir (the folder of the "
                             "training runs) or a run folder")
    known = ", ".join(names) or "none (no finished Table 3 run)"
    raise ParameterError(f"run = {text!r} is neither a run name (known names: {known}) nor a run id in {folder} "
                         f"({len(ids)} runs; 'clapemo runs' lists them), nor a run folder")


def load(run: str | Path, *, runs_dir: str | Path | None = None) -> Any:
    """:func:`clapemo.train.load_run` of :func:`resolve_run`'s folder (a finished run, on CPU, in eval mode)."""
    from clapemo.train import load_run

    return load_run(resolve_run(run, runs_dir=runs_dir))


def runs_dir_from_args(ns: argparse.Namespace) -> Path:
    """The runs folder of parsed options: ``--runs-dir`` (which must be an existing folder: a ParameterError
    otherwise), else ``train.runs_dir`` of ``--config/--overlay/--set``, else ``runs``."""
    if ns.runs_dir:
        path = Path(ns.runs_dir).expanduser()
        if not path.is_dir():
            raise ParameterError(f"--runs-dir {ns.runs_dir!r} is " + ("not a folder" if path.exists() else
                                 "no such folder") + "; give the folder of the training runs (default: "
                                 "train.runs_dir, runs)")
        return path
    if ns.config or ns.overlay or ns.set:
        from clapemo.config import config_from_args

        return Path(config_from_args(ns).train.runs_dir)
    return _runs_dir(None)


def add_run_arguments(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--run`` and ``--runs-dir`` (plus the shared ``--config/--overlay/--set`` that give ``train.runs_dir``)."""
    from clapemo.config import add_config_arguments

    parser.add_argument("--run", required=required, default=None,
                        help="trained run: a name (pa, cl, 4d), a run id or unique prefix, or a run folder")
    parser.add_argument("--runs-dir", default=None, help="folder of the runs (default: train.runs_dir, runs)")
    add_config_arguments(parser)


def run_from_args(ns: argparse.Namespace) -> Path:
    """The run folder of parsed :func:`add_run_arguments` options."""
    return resolve_run(ns.run, runs_dir=runs_dir_from_args(ns))


def cli(argv: Sequence[str]) -> int:
    """``clapemo runs [--runs-dir DIR] [--json] [--all]``: the trained runs and their names."""
    from clapemo.config import add_config_arguments

    parser = argparse.ArgumentParser(prog="clapemo runs", description="List the trained runs: corpora, prompt "
                                     "kind, seed, epochs, last training loss/accuracy, and the names (pa, cl, 4d) "
                                     "of the last reproduction's Table 3 models.")
    parser.add_argument("--runs-dir", default=None, help="folder of the runs (default: train.runs_dir, runs)")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    add_config_arguments(parser)
    ns = parser.parse_args(list(argv))
    runs_dir = runs_dir_from_args(ns)
    table = list_runs(runs_dir=runs_dir)
    if ns.json:
        records = json.loads(table.to_json(orient="records"))
        print(json.dumps(records, indent=1))
        return 0
    if table.empty:
        print(f"no runs in {runs_dir}" + ("" if runs_dir.is_dir() else " (the folder does not exist yet: train a "
                                         "run, or make reproduce)"))
        return 0
    import pandas as pd

    shown = table.drop(columns=["path", "finished_at", "finished", "epochs_done", "encoders"])
    shown["name"] = [n if isinstance(n, str) else "" for n in table["name"]]
    shown["row"] = [r if isinstance(r, str) else "" for r in table["row"]]
    shown["corpora"] = shown["corpora"].str.replace("synth-", "", regex=False)
    shown["epochs"] = [f"{d}/{e}" if f else f"{d}/{e} (unfinished)"
                       for d, e, f in zip(table["epochs_done"], table["epochs"], table["finished"])]
    shown["train_loss"] = shown["train_loss"].round(4)
    shown["train_accuracy"] = shown["train_accuracy"].round(3)

    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200,
                           "display.max_colwidth", 40):
        print(shown.to_string(index=False))
    print(f"\n{len(table)} runs in {runs_dir}; names: "
          + (", ".join(f"{n}={i}" for n, i in zip(table["name"], table["run_id"]) if isinstance(n, str))
             or "none"))
    return 0
