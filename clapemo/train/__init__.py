"""Training the CLAP projections on audio–prompt pairs, from cached embeddings.

The encoders are frozen, so every clip is encoded once and every unique prompt once (``clapemo.encoders`` caches
both on disk, keyed by content and encoder config); training then only moves the small projection head
(:class:`clapemo.model.CLAPHead`) over embeddings held in memory: one tensor per modality, a shuffled index per
epoch drawn from an explicit ``torch.Generator``, batches by indexing (no DataLoader). A step projects each
distinct clip and prompt of its batch once (:meth:`CLAPHead.pair_logits`) and, with ``train.precision =
"bfloat16"``, runs the matrix products under bfloat16 autocast (weights, optimizer and loss stay float32).

A run lives in ``<train.runs_dir>/<run id>``. The run id (:func:`run_id`) is :func:`clapemo.config.config_hash` of
the resolved config, plus ``-ft<digest>`` of the initial checkpoint's bytes when ``train.init_from`` is set
(finetuning from a different model gives a different run), plus ``-d<digest>`` of the data trained on
(:attr:`TrainingData.digest`: the content keys of the clips, the prompt texts and the pairing), so a changed
training clip gives a new run instead of the old one. The folder holds

* ``config.yaml``   the resolved config;
* ``log.csv``       one row per epoch: ``epoch, loss, seconds, lr, logit_scale, accuracy`` (mean training loss,
  wall time, learning rate, ``exp(logit_scale)`` at the end of the epoch, in-batch audio→text top-1 accuracy
  where a duplicate of the right prompt counts as right);
* ``checkpoint.pt`` ``{"format", "state_dict", "epoch", "config", "dims", "thresholds", "init_digest",
  "data_digest", "n_pairs", "encoder_id"}`` with tensors and primitives only, so
  ``torch.load(path, weights_only=True)`` reads it. While the run is unfinished it also holds the resume state
  (``"optimizer"``, ``"rng"``), rewritten after an epoch at most every ``train.checkpoint_every_s`` seconds of
  training (default 30: most runs here are shorter and write no resume state at all); a finished run keeps the
  weights only (the Adam moments would triple its size);
* ``thresholds.json`` when quantile prompt bins were fitted on the training split
  (:func:`clapemo.prompts.save_thresholds` format);
* ``provenance.json`` commit, environment, device, threads and wall times of the training
  (:mod:`clapemo.provenance`); not part of the run's identity;
* ``done``          written last; a run with it is reused as is;
* ``.lock``         held (:class:`clapemo.files.FolderLock`) while a process trains or checks the run: a second
  ``clapemo train`` of the same run waits, then reuses the finished run.

Every file is written atomically (:func:`clapemo.files.atomic_write`): an interrupted training leaves the last
complete checkpoint and no temporary file. An interrupted run resumes from its last resume checkpoint (weights,
optimizer, and both random states; epoch 0 when it wrote none), so it ends with the same weights as an
uninterrupted one.

:func:`fit_many` trains independent configs through :func:`clapemo.executor.map_tasks` (worker processes or a
dask cluster); each run is the one :func:`fit` gives, byte for byte, when ``train.num_threads`` is set (the thread
count changes float rounding; artefact configs use 1).

The package, one module per concern: :mod:`clapemo.train.data` (the pairs, :class:`TrainingData` and its
digest), :mod:`clapemo.train.folder` (the run folder's files and lock), :mod:`clapemo.train.loop` (the training
loop), and here the entry points (:func:`fit`, :func:`fit_many`, :func:`fit_embeddings`, :func:`run_id`, the
command line).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from clapemo.config import Config, add_config_arguments, config_from_args, config_hash, to_dict
from clapemo.errors import DataError, ParameterError
from clapemo.model import CHECKPOINT_FORMAT, TrainedCLAP, load_checkpoint, load_run
from clapemo.schema import AUGMENT_KINDS
from clapemo.train.data import TrainingData, checked_arrays, pairs, training_corpora, training_data
from clapemo.train.folder import finished, init_checkpoint_digest, run_lock
from clapemo.train.loop import resolve_device, train_in_folder

__all__ = [
    "AUGMENT_KINDS", "CHECKPOINT_FORMAT", "TrainedCLAP", "TrainingData", "pairs", "training_corpora",
    "training_data", "fit", "fit_many", "fit_embeddings", "run_id", "load_checkpoint", "load_run",
    "resolve_device", "cli",
]

log = logging.getLogger(__name__)


def run_id(config: Config, *, data_digest: str | None = None) -> str:
    """``config_hash(config)``, then ``-ft<digest of the init checkpoint>`` when ``train.init_from`` is set, then
    ``-d<data digest>`` (:attr:`TrainingData.digest`; computed from the config's training data when None)."""
    digest = init_checkpoint_digest(config)
    if data_digest is None:
        data_digest = training_data(config).digest
    return config_hash(config) + (f"-ft{digest}" if digest else "") + f"-d{data_digest[:10]}"


def fit_embeddings(audio_emb: np.ndarray, text_emb: np.ndarray, clip_index: np.ndarray, text_index: np.ndarray, *,
                   config: Config, run_dir: str | Path, thresholds: Any = None, progress: bool = True,
                   encoder_id: str = "", data_digest: str = "") -> Path:
    """Train a :class:`CLAPHead` on embeddings already in memory; the core of :func:`fit`.

    Parameters
    ----------
    audio_emb : ndarray, shape (n_clips, d_audio)
        Frozen audio embeddings, one per clip.
    text_emb : ndarray, shape (n_texts, d_text)
        Frozen text embeddings, one per unique prompt.
    clip_index, text_index : ndarray of int, shape (n_pairs,)
        Pair ``p`` is (``audio_emb[clip_index[p]]``, ``text_emb[text_index[p]]``). Equal ``text_index`` means
        an identical prompt (used by ``train.loss = "multi_positive"``).
    config : Config
        ``config.train`` drives training; the whole config is saved in the run.
    run_dir : path
        Output folder (created, locked while training). Resumes from ``run_dir/checkpoint.pt`` when it holds an
        unfinished run of the same config; returns at once when ``run_dir/done`` exists.
    thresholds : clapemo.prompts.Thresholds or None
        Saved with the run (``thresholds.json`` and the checkpoint).
    progress : bool
        Show a tqdm bar over epochs.
    encoder_id : str
        ``clapemo.encoders.encoder_id`` of the embeddings (weights digests), stored in the checkpoint so that a
        finished run is not reused after the encoder weights changed (``fit`` checks it).
    data_digest : str
        :attr:`TrainingData.digest` of these data, stored in the checkpoint.

    Returns
    -------
    Path of the run folder.
    """
    run_dir = Path(run_dir)
    if finished(run_dir):
        return run_dir
    arrays = checked_arrays(audio_emb, text_emb, clip_index, text_index)
    with run_lock(run_dir):
        if finished(run_dir):  # another process finished it while we waited
            return run_dir
        return train_in_folder(arrays, config=config, run_dir=run_dir, thresholds=thresholds, progress=progress,
                               encoder_id=encoder_id, data_digest=data_digest)


def _check_reusable(run_dir: Path, encoder_id: str) -> Path:
    stored = load_checkpoint(run_dir / "checkpoint.pt").get("encoder_id", "")
    if stored and encoder_id and stored != encoder_id:
        raise DataError(f"{run_dir} was trained on embeddings of encoders {stored}, but this config's "
                        f"encoders are {encoder_id} (weights changed?); delete {run_dir} to train again")
    log.info("reusing finished run %s", run_dir)
    return run_dir


def fit(config: Config, *, progress: bool = True) -> Path:
    """Train the CLAP projections of ``config`` (or reuse a finished run); returns the run folder.

    The run folder is ``<train.runs_dir>/<run_id(config)>`` (the config, the init checkpoint and the training
    data's digest). Embeds all training clips and unique prompts once through ``clapemo.encoders`` (disk-cached
    there), then trains only the head on the cached embeddings with Adam (``train.learning_rate``),
    ``train.batch_size``, ``train.epochs`` (0 = the untrained head, a "no training" baseline), ``train.loss`` and
    ``train.seed``. ``train.init_from`` starts from another run's ``checkpoint.pt`` (strict load; same encoders
    required). Two processes fitting the same run: the second waits for the first and reuses its result. See the
    module docstring for the files written.
    """
    data = training_data(config)
    run_dir = Path(config.train.runs_dir) / run_id(config, data_digest=data.digest)
    enc_id = _encoder_id(config)
    if finished(run_dir):
        return _check_reusable(run_dir, enc_id)
    with run_lock(run_dir):
        if finished(run_dir):
            return _check_reusable(run_dir, enc_id)
        audio_emb, text_emb = data.load()
        arrays = checked_arrays(audio_emb, text_emb, data.clip_index, data.text_index)
        return train_in_folder(arrays, config=config, run_dir=run_dir, thresholds=data.thresholds,
                               progress=progress, encoder_id=enc_id, data_digest=data.digest)


def _uses_cuda(config: Config) -> bool:
    return config.train.device == "cuda" or (config.train.device == "auto" and torch.cuda.is_available())


def fit_many(configs: Sequence[Config], *, n_workers: int = -1, scheduler: Any = "",
             progress: bool = True) -> list[Path]:
    """:func:`fit` of independent configs, in parallel; returns the run folders in input order.

    Each config is trained as :func:`fit` trains it (same run folder, same bytes when ``train.num_threads`` is
    set: a worker runs with one torch thread otherwise), through :func:`clapemo.executor.map_tasks`:
    ``n_workers`` local processes (-1: one per core, 1: serial here), or the dask.distributed cluster of
    ``scheduler`` (env ``CLAPEMO_SCHEDULER``). Configs must not depend on each other (a finetune needs its
    parent's checkpoint on disk when it starts: train parents in an earlier call). Equal configs train once.
    GPU trainings follow the executor's GPU rule (at most ``CLAPEMO_CUDA_TASKS_PER_DEVICE`` per device).
    """
    import os

    from clapemo.executor import SCHEDULER_ENV, map_tasks, resolve_workers

    configs = list(configs)
    for i, cfg in enumerate(configs):
        if not isinstance(cfg, Config):
            raise ParameterError(f"configs[{i}] must be a clapemo.config.Config, got {type(cfg).__name__}")
    keys = [json.dumps(to_dict(c), sort_keys=True) for c in configs]
    unique = list(dict.fromkeys(keys))
    first = {k: configs[keys.index(k)] for k in unique}
    serial = not (os.environ.get(SCHEDULER_ENV) or scheduler) and resolve_workers(n_workers, len(unique)) == 1
    if not serial:
        _fill_caches([first[k] for k in unique], n_workers=n_workers, scheduler=scheduler, progress=progress)
    task = functools.partial(fit, progress=progress and serial)
    paths = map_tasks(task, [first[k] for k in unique], n_workers=n_workers, scheduler=scheduler,
                      progress=progress and not serial, desc="train runs",
                      uses_cuda=any(_uses_cuda(c) for c in first.values()))
    by_key = dict(zip(unique, paths))
    return [Path(by_key[k]) for k in keys]


def _fill_caches(configs: Sequence[Config], *, n_workers: int, scheduler: Any, progress: bool) -> None:
    """The audio of every training of a plan, embedded once and in parallel before the trainings start
    (:func:`clapemo.encoders.fill_audio_cache`), per encoder configuration."""
    import pandas as pd

    from clapemo import corpora, encoders

    groups: dict[str, tuple[Any, dict]] = {}
    for cfg in configs:
        group = groups.setdefault(json.dumps(to_dict(cfg.encoders), sort_keys=True), (cfg.encoders, {}))
        names = tuple(training_corpora(cfg))
        if names not in group[1]:
            group[1][names] = corpora.manifest(list(names), cfg, split="train")
    for encoders_config, by_corpora in groups.values():
        manifests = list(by_corpora.values())
        encoders.fill_audio_cache(pd.concat(manifests, ignore_index=True), encoders_config, n_workers=n_workers,
                                  scheduler=scheduler, progress=progress)


def _encoder_id(config: Config) -> str:
    """``clapemo.encoders.encoder_id`` (names + weights digests), or "" when the weights cannot be found."""
    from clapemo import encoders

    try:
        return encoders.encoder_id(config.encoders)
    except Exception as err:  # a missing checkpoint surfaces later, when embedding, with the encoder's message
        log.debug("encoder id unavailable: %s", err)
        return ""


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------


def cli(argv: Sequence[str]) -> int:
    """``clapemo train [--config X] [--overlay F] [--set key=value ...]``: train (or reuse); prints the run dir."""
    parser = argparse.ArgumentParser(prog="clapemo train", description="Train the CLAP projections of a config "
                                     "on cached embeddings; prints the run folder.")
    add_config_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    ns = parser.parse_args(list(argv))
    print(fit(config_from_args(ns), progress=not ns.quiet))
    return 0
