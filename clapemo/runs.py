"""The trained runs on disk, what each one is, and stable names for the models of the last reproduction.

A run folder (``<train.runs_dir>/<run id>``, written by :func:`clapemo.train.fit`) holds its resolved
``config.yaml``, its ``log.csv`` and, once finished, ``checkpoint.pt`` and ``done``. The experiments add a record
beside it, ``run.json`` (:func:`write_run_record`): what the run is (``4D + synth-cremad + ... [PA]``) and which
artefact cells use it (``table3:4D + [5ED - PA]``, ``table4:4D:finetune (parent)``, ...). :func:`list_runs`
reads those files (never the weights, never a training plan) into one row per run: the corpora it trained on,
whether the "4D" caption sets were added, the prompt kind, the seed, the epochs, the parent of a finetune, its
Table 3 row and uses, and the last epoch's training loss and in-batch audio->text accuracy (the only metric a run
folder knows; the evaluation tables live in ``clapemo.experiments``' results folders).

Names
-----
When Table 3 is computed, the runs of its rows get stable names, written beside the runs in ``names.json``
(:func:`write_names`; the last reproduction's names replace the earlier ones):

=========  ==========================================
``4d``     ``4D`` (caption sets only)
``cl``     ``4D + [5ED - CL]`` (or ``5ED - CL``)
``pa``     ``4D + [5ED - PA]`` (or ``5ED - PA``)
=========  ==========================================

for seed 0, and ``<name>-s<seed>`` for the other seeds. Everywhere a command takes ``--run`` it accepts a path
of a run folder, a run id, such a name, or a unique prefix of a run id (:func:`resolve_run`, in that order: a
name comes before a prefix because ``4d`` is also the start of some hexadecimal run ids). A bare word is never a
path (a folder ``pa/`` in the working directory never shadows the name ``pa``); a text with a ``/`` (``./pa``,
``runs/abc``) is a path, and must be a run folder. A ``--runs-dir`` that does not exist is an error, not an
empty list.

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

from clapemo.errors import ParameterError

__all__ = [
    "ROW_NAMES",
    "RUN_COLUMNS",
    "RUN_RECORD",
    "NAMES_FILE",
    "write_run_record",
    "read_run_record",
    "write_names",
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
                                "train_loss", "train_accuracy", "used_by", "finished_at", "path")

#: the record the experiments write beside a run: what it is and which artefact cells use it
RUN_RECORD = "run.json"
#: the names of the last reproduction's Table 3 runs, beside the runs
NAMES_FILE = "names.json"


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


def write_run_record(run_dir: str | Path, *, what: str, seed: int, uses: Sequence[str]) -> Path:
    """Write (or extend) ``run.json`` beside a run: ``what`` it is, its ``seed``, and ``uses`` (the artefact
    cells that use it), merged with the uses already recorded (a run shared by artefacts gathers them all).

    Raises
    ------
    ParameterError
        ``run_dir`` is not a run folder.
    """
    from clapemo.files import atomic_write_text

    folder = Path(run_dir)
    if not _is_run_folder(folder):
        raise ParameterError(f"run_dir = {str(folder)!r} is not a run folder (no config.yaml or checkpoint.pt)")
    old = read_run_record(folder) or {}
    record = {"run_id": folder.name, "what": str(what), "seed": int(seed),
              "uses": sorted(set(old.get("uses", [])) | {str(u) for u in uses})}
    atomic_write_text(folder / RUN_RECORD, json.dumps(record, indent=1) + "\n")
    return folder / RUN_RECORD


def read_run_record(folder: str | Path) -> dict | None:
    """``run.json`` of a run folder (``run_id, what, seed, uses``), or None when it has none or it is unreadable
    (logged)."""
    path = Path(folder) / RUN_RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log.warning("%s cannot be read (%s); the run is listed without its uses", path, err)
        return None
    return record if isinstance(record, dict) and isinstance(record.get("uses", []), list) else None


def write_names(runs_dir: str | Path, names: dict[str, str | Path]) -> Path:
    """Replace ``names.json`` in ``runs_dir`` with ``names`` (name -> run folder or run id): the last
    reproduction's names."""
    from clapemo.files import atomic_write_text

    folder = Path(runs_dir)
    ids = {str(name): Path(run).name for name, run in sorted(names.items())}
    atomic_write_text(folder / NAMES_FILE, json.dumps({"names": ids}, indent=1) + "\n")
    return folder / NAMES_FILE


def _read_names(runs_dir: Path) -> dict[str, str]:
    """name -> run id of ``names.json`` for the run folders that still exist."""
    path = runs_dir / NAMES_FILE
    if not path.is_file():
        return {}
    try:
        names = json.loads(path.read_text(encoding="utf-8")).get("names", {})
    except (OSError, ValueError, AttributeError) as err:
        log.warning("%s cannot be read (%s); no run names", path, err)
        return {}
    return {str(n): str(i) for n, i in names.items() if _is_run_folder(runs_dir / str(i))}


def _table3_row(uses: Sequence[str]) -> str | None:
    """The Table 3 row among a run's uses, or None."""
    rows = [u.removeprefix("table3:") for u in uses if u.startswith("table3:") and not u.endswith("(parent)")]
    return rows[0] if rows else None


def _describe_folder(folder: Path) -> dict:
    cfg = _read_config(folder) or {}
    train = cfg.get("train", {}) if isinstance(cfg.get("train"), dict) else {}
    last = _last_log_row(folder)
    finished = (folder / "done").is_file() and (folder / "checkpoint.pt").is_file()
    init_from = str(train.get("init_from") or "")
    corpora = list(train.get("corpora") or [])
    encoders = cfg.get("encoders", {}) if isinstance(cfg.get("encoders"), dict) else {}
    uses = list((read_run_record(folder) or {}).get("uses", []))
    return {
        "name": None, "run_id": folder.name, "finished": finished, "row": _table3_row(uses),
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
        "used_by": "; ".join(uses), "finished_at": (folder / "done").stat().st_mtime if finished else math.nan,
        "path": str(folder),
    }


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

    folder = _runs_dir(runs_dir)
    records = ([_describe_folder(p) for p in sorted(folder.iterdir()) if _is_run_folder(p)]
               if folder.is_dir() else [])
    by_id = {record["run_id"]: record for record in records}
    for name, run_id in _read_names(folder).items():
        if run_id in by_id and by_id[run_id]["finished"]:
            by_id[run_id]["name"] = name if by_id[run_id]["name"] is None else min(by_id[run_id]["name"], name)
    table = pd.DataFrame(records, columns=list(RUN_COLUMNS))
    for col in ("name", "row"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    # the models a user asks for by name come first (a reproduction leaves dozens of unnamed runs)
    order = sorted(range(len(table)), key=lambda i: (table["name"].iloc[i] is None, table["name"].iloc[i] or "",
                                                     table["run_id"].iloc[i]))
    return table.iloc[order].reset_index(drop=True)


def reproduction_names(*, runs_dir: str | Path | None = None) -> dict[str, Path]:
    """The stable names (``pa``, ``cl``, ``4d``, ...) of the last reproduction's finished runs -> their folders
    (``names.json`` beside the runs)."""
    folder = _runs_dir(runs_dir)
    return {name: folder / run_id for name, run_id in sorted(_read_names(folder).items())
            if (folder / run_id / "done").is_file() and (folder / run_id / "checkpoint.pt").is_file()}


def resolve_run(run: str | Path, *, runs_dir: str | Path | None = None) -> Path:
    """The folder of a run given by path, name, run id or unique run-id prefix.

    Parameters
    ----------
    run : str or Path
        A ``Path``, or a text that looks like a path (holds ``/``, starts with ``.`` or ``~``): a run folder
        (holding ``config.yaml`` or ``checkpoint.pt``), nothing else. A bare word, in this order: a run id under
        ``runs_dir``; a name of :func:`reproduction_names` (``pa``, ``cl``, ``4d``, ``pa-s1`` ...); a prefix of
        exactly one run id; a run folder of that name in the working directory (so a folder ``pa/`` that is not
        a run, or is one, never shadows the name ``pa``).
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
    if _is_run_folder(folder / text):  # a full run id: no scan
        return folder / text
    names = reproduction_names(runs_dir=folder)
    if text in names:
        return names[text]
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
