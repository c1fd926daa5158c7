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
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import hashlib
import io
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from clapemo.config import (Config, add_config_arguments, config_from_args, config_hash, from_dict,
                            stored_dict, to_dict)
from clapemo import numerics
from clapemo.errors import ConfigError, DataError, ParameterError
from clapemo.files import FolderLock, atomic_write, atomic_write_text, file_sha256
from clapemo.loss import clip_loss, multi_positive_loss
from clapemo.model import (CHECKPOINT_FORMAT, LOGIT_SCALE_MAX, CLAPHead, TrainedCLAP, load_checkpoint,
                           load_head_weights, load_run)
from clapemo.schema import AUGMENT_KINDS, CAPTION_COLUMN, MANIFEST_COLUMNS

__all__ = [
    "AUGMENT_KINDS", "CHECKPOINT_FORMAT", "TrainedCLAP", "TrainingData", "pairs", "training_corpora",
    "training_data", "fit", "fit_many", "fit_embeddings", "run_id", "load_checkpoint", "load_run",
    "resolve_device", "cli",
]

log = logging.getLogger(__name__)

_LOG_COLUMNS = ("epoch", "loss", "seconds", "lr", "logit_scale", "accuracy")


# --------------------------------------------------------------------------------------------------------------
# Training pairs
# --------------------------------------------------------------------------------------------------------------


def training_corpora(config: Config) -> list[str]:
    """Corpus names trained on: ``train.corpora`` plus the captioned "4D" sets when ``train.include_4d``.

    With ``data.source = "synth"`` the 4D sets are ``synth-4d``; with ``"real"`` they are those of
    :data:`clapemo.emotions.CAPTION_CORPORA` that have a root in ``data.roots`` (at least one is required).
    """
    from clapemo import corpora

    names = [corpora.resolve_name(n, config) for n in config.train.corpora]
    if config.train.include_4d:
        names += corpora.caption_corpora(config)
    if not names:
        raise ConfigError("config key 'train.corpora' is empty and 'train.include_4d' is false: "
                          "nothing to train on")
    return list(dict.fromkeys(names))


def _pairs_from_table(table: Any, prompt_kind: str,
                      augment_kinds: Sequence[str] = AUGMENT_KINDS) -> tuple[Any, list[str]]:
    """One row per (clip, prompt) from an annotated table; see :func:`pairs`."""
    import pandas as pd

    kinds = tuple(augment_kinds) if prompt_kind == "augment" else (prompt_kind,)
    is_caption = table["label"].isna()
    frames = []
    order = {k: i for i, k in enumerate(("caption",) + kinds)}
    for kind in kinds:
        if kind not in table.columns:
            raise DataError(f"annotated table has no prompt column {kind!r} (prompt kind {prompt_kind!r})")
        sub = table.loc[~is_caption].assign(prompt=table.loc[~is_caption, kind], prompt_kind=kind)
        frames.append(sub)
    if is_caption.any():
        captions = table.loc[is_caption]
        if "caption" not in captions.columns:
            raise DataError("rows without a label must have a 'caption' column (caption corpora)")
        frames.append(captions.assign(prompt=captions["caption"], prompt_kind="caption"))
    out = pd.concat(frames) if frames else table.iloc[:0].assign(prompt=[], prompt_kind=[])
    ok = out["prompt"].map(lambda t: isinstance(t, str) and t.strip() != "")
    n_missing = int((~ok).sum())
    if n_missing:
        log.warning("%d of %d candidate pairs have no prompt (missing property or caption) and are left out",
                    n_missing, len(out))
    out = out.loc[ok]
    # stable order: clip order of the table, then the augment order of the kinds
    out = out.assign(_row=out.index, _kind=out["prompt_kind"].map(order))
    out = out.sort_values(["_row", "_kind"], kind="stable").drop(columns=["_row", "_kind"])
    out = out.reset_index(drop=True)
    out["clip_index"] = pd.factorize(out["utterance_id"])[0]
    texts = out["prompt"].tolist()
    return out, texts


def _pairs(config: Config, split: str | None, thresholds: Any) -> tuple[Any, list[str], Any]:
    from clapemo import corpora

    table = corpora.with_features(corpora.manifest(training_corpora(config), config, split=split), config)
    if config.prompts.binning == "quantile" and thresholds is None:
        from clapemo import prompts

        usable = table[table["label"].notna() & table["error"].isna()]
        thresholds = prompts.fit_thresholds(usable, config.prompts)
    table = corpora.with_prompts(table, config, thresholds=thresholds)
    audio_index, texts = _pairs_from_table(table.reset_index(drop=True), config.train.prompt_kind,
                                           config.prompts.augment_kinds)
    return audio_index, texts, thresholds


def pairs(config: Config, *, split: str | None = "train", thresholds: Any = None) -> tuple[Any, list[str]]:
    """The (audio, prompt) training pairs of a config.

    Parameters
    ----------
    config : Config
        Uses ``train.corpora``, ``train.include_4d`` and ``train.prompt_kind``.
    split : str or None
        Split of every corpus (see :func:`clapemo.corpora.manifest`); default the training split.
    thresholds : clapemo.prompts.Thresholds or None
        Quantile bins; with ``prompts.binning = "quantile"`` and None they are fitted on these rows.

    Returns
    -------
    audio_index : DataFrame, one row per pair
        The annotated clip row (manifest columns, properties, prompt columns) plus ``prompt`` (the paired text),
        ``prompt_kind`` (``class_label`` ... or ``caption``) and ``clip_index`` (0-based index of the unique
        clip, in order of first appearance). With ``prompt_kind = "augment"`` each clip gives up to 5
        consecutive rows in :data:`AUGMENT_KINDS` order; a clip whose acoustic prompt is None contributes only its
        available prompts.
        Caption rows pair with their caption.
    texts : list of str
        ``audio_index["prompt"]`` as a list.
    """
    audio_index, texts, _ = _pairs(config, split, thresholds)
    return audio_index, texts


def _manifest_columns(audio_index: Any) -> list[str]:
    return [c for c in audio_index.columns if c in MANIFEST_COLUMNS or c == CAPTION_COLUMN]


def _digest(parts: dict) -> str:
    """sha256 of a JSON-able dict whose array values are hashed by dtype, shape and bytes."""
    h = hashlib.sha256()
    for key in sorted(parts):
        value = parts[key]
        h.update(key.encode() + b"\0")
        if isinstance(value, np.ndarray):
            value = np.ascontiguousarray(value)
            h.update(f"{value.dtype.str}{value.shape}".encode())
            h.update(value.tobytes())
        else:
            h.update(json.dumps(value, sort_keys=True, default=str).encode())
        h.update(b"\1")
    return h.hexdigest()


@dataclass
class TrainingData:
    """What a run trains on: the pairing, the thresholds, a digest of it all, and the embeddings on demand.

    Attributes
    ----------
    clip_index, text_index : ndarray of int64, shape (n_pairs,)
        Pair ``p`` is (audio embedding ``clip_index[p]``, text embedding ``text_index[p]``).
    digest : str
        Hex sha256 of the content trained on (part of the run id).
    thresholds : clapemo.prompts.Thresholds, dict of them, or None
    load : callable () -> (audio_emb (n_clips, d_audio), text_emb (n_texts, d_text))
        Reads the embeddings (through the encoders' cache); called only when a run must train.
    """

    clip_index: np.ndarray
    text_index: np.ndarray
    digest: str
    thresholds: Any
    load: Callable[[], tuple[np.ndarray, np.ndarray]]

    @classmethod
    def from_arrays(cls, audio_emb: np.ndarray, text_emb: np.ndarray, clip_index: np.ndarray,
                    text_index: np.ndarray, *, thresholds: Any = None) -> "TrainingData":
        """Embeddings already in memory; the digest covers their bytes, the pairing and the thresholds."""
        audio_emb, text_emb, clip_index, text_index = _checked_arrays(audio_emb, text_emb, clip_index, text_index)
        digest = _digest({"audio_emb": audio_emb, "text_emb": text_emb, "clip_index": clip_index,
                          "text_index": text_index, "thresholds": _thresholds_to_dict(thresholds)})
        return cls(clip_index, text_index, digest, thresholds, functools.partial(_same, audio_emb, text_emb))


def _same(audio_emb: np.ndarray, text_emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return audio_emb, text_emb


def _embed(clips: Any, texts: list[str], encoders_config: Any) -> tuple[np.ndarray, np.ndarray]:
    from clapemo import encoders

    return (np.asarray(encoders.embed_audio(clips, encoders_config), dtype=np.float32),
            np.asarray(encoders.embed_texts(texts, encoders_config), dtype=np.float32))


def _training_data(config: Config) -> TrainingData:
    """The training pairs of ``config`` (train split), keyed by content; embeddings loaded lazily."""
    from clapemo.encoders.cache import audio_key

    audio_index, texts, thresholds = _pairs(config, "train", None)
    if len(audio_index) < 2:
        raise DataError(f"only {len(audio_index)} training pair(s) for corpora {training_corpora(config)}; "
                        "need at least 2")
    clips = audio_index.drop_duplicates("clip_index").sort_values("clip_index")
    clips = clips[_manifest_columns(audio_index)].reset_index(drop=True)
    unique_texts = list(dict.fromkeys(texts))
    text_pos = {t: i for i, t in enumerate(unique_texts)}
    clip_index = audio_index["clip_index"].to_numpy(dtype=np.int64)
    text_index = np.array([text_pos[t] for t in texts], dtype=np.int64)
    starts = clips["start_s"] if "start_s" in clips.columns else [None] * len(clips)
    ends = clips["end_s"] if "end_s" in clips.columns else [None] * len(clips)
    keys = [audio_key(p, start_s=s, end_s=e) for p, s, e in zip(clips["path"], starts, ends)]
    digest = _digest({"audio_keys": keys, "texts": unique_texts, "clip_index": clip_index,
                      "text_index": text_index, "thresholds": _thresholds_to_dict(thresholds)})
    log.info("training data: %d pairs, %d clips, %d unique prompts", len(texts), len(clips), len(unique_texts))
    return TrainingData(clip_index, text_index, digest, thresholds,
                        functools.partial(_embed, clips, unique_texts, config.encoders))


def training_data(config: Config) -> TrainingData:
    """The :class:`TrainingData` of a config: its train-split pairs and their digest (embeddings on demand)."""
    return _training_data(config)


# --------------------------------------------------------------------------------------------------------------
# Run identity and files
# --------------------------------------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    """``"auto"`` -> cuda when available, else cpu; ``"cuda"`` without a GPU is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config key 'train.device' = 'cuda' but no CUDA device is available")
    return torch.device(name)


def _init_digest(config: Config) -> str:
    if not config.train.init_from:
        return ""
    path = Path(config.train.init_from)
    if not path.is_file():
        raise ConfigError(f"config key 'train.init_from' = {config.train.init_from!r}: no such checkpoint file")
    return file_sha256(path)[:12]


def run_id(config: Config, *, data_digest: str | None = None) -> str:
    """``config_hash(config)``, then ``-ft<digest of the init checkpoint>`` when ``train.init_from`` is set, then
    ``-d<data digest>`` (:attr:`TrainingData.digest`; computed from the config's training data when None)."""
    digest = _init_digest(config)
    if data_digest is None:
        data_digest = _training_data(config).digest
    return config_hash(config) + (f"-ft{digest}" if digest else "") + f"-d{data_digest[:10]}"


def _save_checkpoint(path: Path, payload: dict) -> None:
    # through a file object: given a path, torch.save names the archive inside after the (random) temporary file
    # name, and equal runs would not have equal bytes
    with atomic_write(path) as tmp, open(tmp, "wb") as fh:
        torch.save(payload, fh)


def _thresholds_to_dict(thresholds: Any) -> dict | None:
    """Thresholds, or corpus -> Thresholds (``quantile_scope = "per_corpus"``), as plain dicts."""
    if thresholds is None:
        return None
    if hasattr(thresholds, "to_dict"):
        return thresholds.to_dict()
    return {str(k): v.to_dict() for k, v in thresholds.items()}


def _read_log(path: Path, up_to_epoch: int) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [row for row in csv.DictReader(fh) if int(row["epoch"]) <= up_to_epoch]


def _write_log(path: Path, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_LOG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _write_run_files(run_dir: Path, config_dict: dict, thresholds: Any) -> None:
    """``config.yaml`` and (quantile bins) ``thresholds.json``, atomically."""
    import yaml

    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(config_dict, sort_keys=False))
    if thresholds is not None:
        from clapemo import prompts

        with atomic_write(run_dir / "thresholds.json") as tmp:
            prompts.save_thresholds(thresholds, tmp)


def _finished(run_dir: Path) -> bool:
    return (run_dir / "done").is_file() and (run_dir / "checkpoint.pt").is_file()


def _remove_stale_temporaries(run_dir: Path) -> None:
    """Temporary files of a killed writer (we hold the folder's lock, so nobody is writing them)."""
    for tmp in [*run_dir.glob(".*.tmp"), *run_dir.glob("*.tmp")]:
        log.info("removing %s, left by an interrupted training", tmp)
        tmp.unlink(missing_ok=True)


def _lock(run_dir: Path) -> FolderLock:
    return FolderLock(run_dir, what="training run", on_wait=lambda: log.warning(
        "%s is being trained by another process; waiting for it to finish", run_dir))


# --------------------------------------------------------------------------------------------------------------
# The training loop, in steps: checks, resume or init, epochs, finish
# --------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _training_context(device: torch.device, num_threads: int) -> Iterator[None]:
    """Deterministic algorithms (CPU strictly, CUDA warn-only), the thread count (restored afterwards) and, in
    portable numerics, the matrix products on OpenBLAS (:func:`clapemo.numerics.blas_products`)."""
    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    numerics.configure_torch()
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        with numerics.blas_products():
            yield
    finally:
        torch.use_deterministic_algorithms(det, warn_only=warn)
        torch.set_num_threads(threads)


def _checked_arrays(audio_emb: Any, text_emb: Any, clip_index: Any, text_index: Any) -> tuple[np.ndarray, ...]:
    """The four training arrays as float32 / int64, or a ParameterError / DataError naming the broken rule."""
    audio_emb = np.asarray(audio_emb, dtype=np.float32)
    text_emb = np.asarray(text_emb, dtype=np.float32)
    clip_index = np.asarray(clip_index, dtype=np.int64)
    text_index = np.asarray(text_index, dtype=np.int64)
    if audio_emb.ndim != 2 or text_emb.ndim != 2:
        raise ParameterError(f"audio_emb and text_emb must be 2-D, got shapes {audio_emb.shape} and "
                             f"{text_emb.shape}")
    if clip_index.ndim != 1 or clip_index.shape != text_index.shape or len(clip_index) < 2:
        raise ParameterError(f"clip_index and text_index must be 1-D of one length >= 2, got shapes "
                             f"{clip_index.shape} and {text_index.shape}")
    if clip_index.min() < 0 or clip_index.max() >= len(audio_emb):
        raise ParameterError(f"clip_index must lie in [0, {len(audio_emb)}), got [{clip_index.min()}, "
                             f"{clip_index.max()}]")
    if text_index.min() < 0 or text_index.max() >= len(text_emb):
        raise ParameterError(f"text_index must lie in [0, {len(text_emb)}), got [{text_index.min()}, "
                             f"{text_index.max()}]")
    if not (np.isfinite(audio_emb).all() and np.isfinite(text_emb).all()):
        raise DataError("embeddings contain NaN or inf")
    return audio_emb, text_emb, clip_index, text_index


def _comparable(config_dict: dict) -> dict:
    return to_dict(from_dict(Config, config_dict), include_paths=False)


@dataclass
class _State:
    """Where training starts: the epoch, the log so far, the optimizer's and the random states (resume only)."""

    epoch: int = 0
    rows: list | None = None
    optimizer: dict | None = None
    rng: dict | None = None


def _resume_state(ckpt_path: Path, config: Config, init_digest: str, head: CLAPHead) -> _State | None:
    """Load an interrupted run of this config into ``head``; None when there is no checkpoint."""
    if not ckpt_path.is_file():
        return None
    ckpt = load_checkpoint(ckpt_path)
    if _comparable(ckpt["config"]) != to_dict(config, include_paths=False) or \
            ckpt.get("init_digest", "") != init_digest:
        raise DataError(f"{ckpt_path} belongs to a different config; delete {ckpt_path.parent} to train again")
    epoch = int(ckpt["epoch"])
    if epoch < config.train.epochs and ("optimizer" not in ckpt or "rng" not in ckpt):
        raise DataError(f"{ckpt_path} stops at epoch {epoch} of {config.train.epochs} without resume state "
                        f"(optimizer, random states); delete {ckpt_path.parent} to train again")
    load_head_weights(head, ckpt["state_dict"], str(ckpt_path))
    log.info("resuming %s from epoch %d", ckpt_path.parent, epoch)
    return _State(epoch=epoch, rows=_read_log(ckpt_path.parent / "log.csv", epoch),
                  optimizer=ckpt.get("optimizer"), rng=ckpt.get("rng"))


def _init_from(config: Config, head: CLAPHead) -> None:
    """Load ``train.init_from``'s weights into ``head`` (finetuning); the encoders must be this config's."""
    init = load_checkpoint(config.train.init_from)
    init_enc = to_dict(from_dict(Config, init["config"]).encoders, include_paths=False)
    this_enc = to_dict(config.encoders, include_paths=False)
    if init_enc != this_enc:
        raise ConfigError(f"config key 'train.init_from' = {config.train.init_from!r} was trained with encoders "
                          f"{init_enc}, this config uses {this_enc}")
    load_head_weights(head, init["state_dict"], config.train.init_from)


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    numerics.check_precision("train.precision", precision)
    if precision != "bfloat16":
        return None
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        log.warning("train.precision = 'bfloat16' but this GPU has no bfloat16 support; training in float32")
        return None
    return torch.bfloat16


def _epoch(head: CLAPHead, optimizer: torch.optim.Optimizer, tensors: tuple, order: torch.Tensor, *,
           batch: int, loss_kind: str, autocast: torch.dtype | None) -> tuple[float, float, int]:
    """One pass over ``order``; returns (loss sum, correct count, pairs seen)."""
    audio_t, text_t, clip_t, textidx_t = tensors
    device = audio_t.device
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    seen = 0
    head.train()
    for start in range(0, len(order), batch):
        idx = order[start:start + batch]
        if len(idx) < 2:  # a 1-pair batch has no negatives
            continue
        tid = textidx_t[idx]
        with torch.autocast(device.type, dtype=autocast or torch.bfloat16, enabled=autocast is not None):
            logits_per_audio, logits_per_text = head.pair_logits(audio_t, text_t, clip_t[idx], tid)
        logits_per_audio, logits_per_text = logits_per_audio.float(), logits_per_text.float()
        if loss_kind == "clip":
            loss = clip_loss(logits_per_audio, logits_per_text)
        else:
            loss = multi_positive_loss(logits_per_audio, logits_per_text, tid)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            head.logit_scale.clamp_(0.0, LOGIT_SCALE_MAX)
            loss_sum += loss.detach() * len(idx)
            correct += (tid[logits_per_audio.argmax(dim=1)] == tid).sum()
        seen += len(idx)
    return float(loss_sum), float(correct), seen


def _restore_random_state(rng: dict, generator: torch.Generator, device: torch.device) -> None:
    """The random states of an interrupted run: torch's, the shuffling generator's, and CUDA's."""
    torch.set_rng_state(rng["torch"])
    generator.set_state(rng["shuffle"])
    if device.type == "cuda" and rng.get("cuda") is not None:
        torch.cuda.set_rng_state(rng["cuda"])


def _train_in_folder(arrays: tuple[np.ndarray, ...], *, config: Config, run_dir: Path, thresholds: Any,
                     progress: bool, encoder_id: str, data_digest: str) -> Path:
    """Train (or resume) the run in ``run_dir``; the caller holds the folder's lock."""
    start_s = time.perf_counter()
    audio_emb, text_emb, clip_index, text_index = arrays
    tc = config.train
    ckpt_path = run_dir / "checkpoint.pt"
    _remove_stale_temporaries(run_dir)
    device = resolve_device(tc.device)
    config_dict = stored_dict(config)  # no absolute paths: equal runs have equal bytes wherever trained
    init_digest = _init_digest(config)
    _write_run_files(run_dir, config_dict, thresholds)

    with _training_context(device, tc.num_threads):
        torch.manual_seed(tc.seed)
        head = CLAPHead(audio_emb.shape[1], text_emb.shape[1], projection_dim=tc.projection_dim,
                        dropout=tc.dropout)
        generator = torch.Generator().manual_seed(tc.seed)
        state = _resume_state(ckpt_path, config, init_digest, head)
        if state is None:
            state = _State(rows=[])
            if tc.init_from:
                _init_from(config, head)
        elif state.rng is not None:
            _restore_random_state(state.rng, generator, device)
        resumed_from_epoch = state.epoch
        head.to(device)
        # the fused kernel does one pass over the parameters: 1.4x faster steps on CPU at the default sizes
        # than the per-tensor loop (81 -> 58 ms at batch 128, projection 1024), same values to float precision
        optimizer = torch.optim.Adam(head.parameters(), lr=tc.learning_rate, fused=device.type in ("cpu", "cuda"))
        if state.optimizer is not None:
            optimizer.load_state_dict(state.optimizer)
        # copies: the inputs may be read-only cache views
        tensors = tuple(torch.tensor(a, device=device) for a in (audio_emb, text_emb, clip_index, text_index))
        autocast = _autocast_dtype(tc.precision, device)
        rows = state.rows

        dims = {"d_audio": int(audio_emb.shape[1]), "d_text": int(text_emb.shape[1]),
                "projection_dim": tc.projection_dim}
        meta = {"config": config_dict, "dims": dims,
                "thresholds": _thresholds_to_dict(thresholds), "init_digest": init_digest,
                "data_digest": data_digest, "n_pairs": len(clip_index), "encoder_id": encoder_id}

        def save(epoch: int, *, finished: bool) -> None:
            payload = {"format": CHECKPOINT_FORMAT, "epoch": epoch,
                       "state_dict": {k: v.detach().cpu() for k, v in head.state_dict().items()}, **meta}
            if not finished:  # resume state, only while the run is unfinished
                payload["optimizer"] = optimizer.state_dict()
                payload["rng"] = {"torch": torch.get_rng_state(), "shuffle": generator.get_state(),
                                  "cuda": torch.cuda.get_rng_state() if device.type == "cuda" else None}
            _save_checkpoint(ckpt_path, payload)

        from clapemo.executor import progress_bar

        bar = progress_bar(range(state.epoch + 1, tc.epochs + 1), desc=f"train {run_dir.name}", unit="epoch",
                           enabled=progress, initial=state.epoch, total=tc.epochs)
        last_save_s = time.perf_counter()
        for epoch in bar:
            t0 = time.perf_counter()
            order = torch.randperm(len(clip_index), generator=generator).to(device)
            loss_sum, correct, seen = _epoch(head, optimizer, tensors, order, batch=tc.batch_size,
                                             loss_kind=tc.loss, autocast=autocast)
            row = {"epoch": epoch, "loss": loss_sum / max(seen, 1),
                   "seconds": round(time.perf_counter() - t0, 4), "lr": tc.learning_rate,
                   "logit_scale": float(head.scale().detach()), "accuracy": correct / max(seen, 1)}
            rows.append(row)
            # resume state at most every train.checkpoint_every_s: each one is the weights and twice their size
            # of Adam moments (39 MB at the default sizes), so once per epoch wrote ~190 GB in a reproduction
            if epoch < tc.epochs and time.perf_counter() - last_save_s >= tc.checkpoint_every_s:
                _write_log(run_dir / "log.csv", rows)  # log first: a crash in between re-runs this epoch on resume
                save(epoch, finished=False)
                last_save_s = time.perf_counter()
            bar.set_postfix(loss=f"{row['loss']:.4f}", acc=f"{row['accuracy']:.3f}")
        bar.close()
        _write_log(run_dir / "log.csv", rows)
        save(tc.epochs, finished=True)  # weights only, then the marker
    _write_provenance(run_dir, config=config, wall_s=time.perf_counter() - start_s, rows=rows,
                      extra={"run_id": run_dir.name, "data_digest": data_digest, "encoder_id": encoder_id,
                             "resumed_from_epoch": resumed_from_epoch})
    atomic_write_text(run_dir / "done", "done\n")
    return run_dir


def _write_provenance(run_dir: Path, *, config: Config, wall_s: float, rows: list[dict], extra: dict) -> None:
    """``provenance.json`` of a finished run (:mod:`clapemo.provenance`), written just before ``done``.

    Steps: ``train`` = wall time of this process's training call (a resumed run counts only its own part),
    ``epochs`` = the logged epoch times summed over every process that trained the run. The file is not part
    of the run's identity (the run id is fixed before training) and is not read on resume.
    """
    from clapemo import provenance

    epochs_s = sum(float(row["seconds"]) for row in rows)
    provenance.write(run_dir, provenance.collect(config=config, steps={"train": wall_s, "epochs": epochs_s},
                                                 extra=extra))


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
    if _finished(run_dir):
        return run_dir
    arrays = _checked_arrays(audio_emb, text_emb, clip_index, text_index)
    with _lock(run_dir):
        if _finished(run_dir):  # another process finished it while we waited
            return run_dir
        return _train_in_folder(arrays, config=config, run_dir=run_dir, thresholds=thresholds, progress=progress,
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
    data = _training_data(config)
    run_dir = Path(config.train.runs_dir) / run_id(config, data_digest=data.digest)
    enc_id = _encoder_id(config)
    if _finished(run_dir):
        return _check_reusable(run_dir, enc_id)
    with _lock(run_dir):
        if _finished(run_dir):
            return _check_reusable(run_dir, enc_id)
        audio_emb, text_emb = data.load()
        arrays = _checked_arrays(audio_emb, text_emb, data.clip_index, data.text_index)
        return _train_in_folder(arrays, config=config, run_dir=run_dir, thresholds=data.thresholds,
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
