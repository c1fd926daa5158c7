"""What a run trains on: the (audio, prompt) pairs of a config, their embeddings (on demand) and their digest.

:func:`pairs` forms one row per (clip, prompt) from the annotated training corpora; :func:`training_data` turns
them into a :class:`TrainingData`: the pairing as index arrays, the quantile thresholds, a digest of the content
(part of the run id, :func:`clapemo.train.run_id`) and a loader of the embeddings through the encoders' cache.
:func:`checked_arrays` holds the four training arrays to their rules wherever they enter.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from clapemo.config import Config
from clapemo.errors import ConfigError, DataError, ParameterError
from clapemo.schema import AUGMENT_KINDS, CAPTION_COLUMN, MANIFEST_COLUMNS

__all__ = ["TrainingData", "training_corpora", "pairs", "training_data", "checked_arrays", "thresholds_to_dict"]

log = logging.getLogger(__name__)


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


def thresholds_to_dict(thresholds: Any) -> dict | None:
    """Thresholds, or corpus -> Thresholds (``quantile_scope = "per_corpus"``), as plain dicts (None stays None);
    the form stored in the checkpoint and hashed into the data digest."""
    if thresholds is None:
        return None
    if hasattr(thresholds, "to_dict"):
        return thresholds.to_dict()
    return {str(k): v.to_dict() for k, v in thresholds.items()}


def checked_arrays(audio_emb: Any, text_emb: Any, clip_index: Any, text_index: Any) -> tuple[np.ndarray, ...]:
    """The four training arrays as float32 / int64, or a ParameterError / DataError naming the broken rule.

    Rules: both embedding arrays 2-D and finite; ``clip_index`` and ``text_index`` 1-D of one length >= 2, with
    values in ``[0, len(audio_emb))`` and ``[0, len(text_emb))``. Returns
    ``(audio_emb, text_emb, clip_index, text_index)``.
    """
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
        audio_emb, text_emb, clip_index, text_index = checked_arrays(audio_emb, text_emb, clip_index, text_index)
        digest = _digest({"audio_emb": audio_emb, "text_emb": text_emb, "clip_index": clip_index,
                          "text_index": text_index, "thresholds": thresholds_to_dict(thresholds)})
        return cls(clip_index, text_index, digest, thresholds, functools.partial(_same, audio_emb, text_emb))


def _same(audio_emb: np.ndarray, text_emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return audio_emb, text_emb


def _embed(clips: Any, texts: list[str], encoders_config: Any) -> tuple[np.ndarray, np.ndarray]:
    from clapemo import encoders

    return (np.asarray(encoders.embed_audio(clips, encoders_config), dtype=np.float32),
            np.asarray(encoders.embed_texts(texts, encoders_config), dtype=np.float32))


def training_data(config: Config) -> TrainingData:
    """The :class:`TrainingData` of a config: its train-split pairs and their digest (embeddings on demand).

    The digest covers the content keys of the clips (bytes and segment), the unique prompt texts, the pairing
    and the thresholds, so a changed training clip gives a new run id.
    """
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
                      "text_index": text_index, "thresholds": thresholds_to_dict(thresholds)})
    log.info("training data: %d pairs, %d clips, %d unique prompts", len(texts), len(clips), len(unique_texts))
    return TrainingData(clip_index, text_index, digest, thresholds,
                        functools.partial(_embed, clips, unique_texts, config.encoders))
