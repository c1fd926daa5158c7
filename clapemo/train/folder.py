"""The files of a run folder: checkpoint, log, config, thresholds, provenance, the lock and the ``done`` marker.

Every file is written atomically (:func:`clapemo.files.atomic_write`); see :mod:`clapemo.train` for what each
holds. The loop (:mod:`clapemo.train.loop`) and the entry points (:func:`clapemo.train.fit`) read and write a run
only through these functions.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

import torch

from clapemo.config import Config
from clapemo.errors import ConfigError
from clapemo.files import FolderLock, atomic_write, atomic_write_text, file_sha256

__all__ = ["LOG_COLUMNS", "init_checkpoint_digest", "save_checkpoint", "read_log", "write_log", "write_run_files",
           "finished", "remove_stale_temporaries", "run_lock", "write_provenance"]

log = logging.getLogger(__name__)

#: the columns of ``log.csv``, one row per epoch
LOG_COLUMNS = ("epoch", "loss", "seconds", "lr", "logit_scale", "accuracy")


def init_checkpoint_digest(config: Config) -> str:
    """The first 12 hex digits of the sha256 of ``train.init_from``'s checkpoint ("" without one); a missing
    file is a ConfigError naming the key."""
    if not config.train.init_from:
        return ""
    path = Path(config.train.init_from)
    if not path.is_file():
        raise ConfigError(f"config key 'train.init_from' = {config.train.init_from!r}: no such checkpoint file")
    return file_sha256(path)[:12]


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write a checkpoint payload (tensors and primitives) to ``path`` atomically, with equal bytes for equal
    payloads wherever it is written."""
    # through a file object: given a path, torch.save names the archive inside after the (random) temporary file
    # name, and equal runs would not have equal bytes
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:
        torch.save(payload, fh)


def read_log(path: Path, up_to_epoch: int) -> list[dict]:
    """The rows of ``log.csv`` up to ``up_to_epoch`` (as strings); [] when there is no log."""
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [row for row in csv.DictReader(fh) if int(row["epoch"]) <= up_to_epoch]


def write_log(path: Path, rows: list[dict]) -> None:
    """``log.csv`` with the columns :data:`LOG_COLUMNS`, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LOG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def write_run_files(run_dir: Path, config_dict: dict, thresholds: Any) -> None:
    """``config.yaml`` and (quantile bins) ``thresholds.json``, atomically."""
    import yaml

    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(config_dict, sort_keys=False))
    if thresholds is not None:
        from clapemo import prompts

        with atomic_write(run_dir / "thresholds.json") as tmp:
            prompts.save_thresholds(thresholds, tmp)


def finished(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a finished run (its ``done`` marker and its checkpoint)."""
    return (run_dir / "done").is_file() and (run_dir / "checkpoint.pt").is_file()


def remove_stale_temporaries(run_dir: Path) -> None:
    """Temporary files of a killed writer (we hold the folder's lock, so nobody is writing them)."""
    for tmp in [*run_dir.glob(".*.tmp"), *run_dir.glob("*.tmp")]:
        log.info("removing %s, left by an interrupted training", tmp)
        tmp.unlink(missing_ok=True)


def run_lock(run_dir: Path) -> FolderLock:
    """The lock of a run folder, held while a process trains or checks it; a second process waits (and logs
    that it does)."""
    return FolderLock(run_dir, what="training run", on_wait=lambda: log.warning(
        "%s is being trained by another process; waiting for it to finish", run_dir))


def write_provenance(run_dir: Path, *, config: Config, wall_s: float, rows: list[dict], extra: dict) -> None:
    """``provenance.json`` of a finished run (:mod:`clapemo.provenance`), written just before ``done``.

    Steps: ``train`` = wall time of this process's training call (a resumed run counts only its own part),
    ``epochs`` = the logged epoch times summed over every process that trained the run. The file is not part
    of the run's identity (the run id is fixed before training) and is not read on resume.
    """
    from clapemo import provenance

    epochs_s = sum(float(row["seconds"]) for row in rows)
    provenance.write(run_dir, provenance.collect(config=config, steps={"train": wall_s, "epochs": epochs_s},
                                                 extra=extra))
