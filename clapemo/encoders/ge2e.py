"""Resemblyzer's GE2E voice encoder (Apache-2.0; weights in the ``resemblyzer`` wheel): 256-d clip embeddings.

The network (3-layer LSTM over 40 mel bands, linear + ReLU, L2-normalised) is rebuilt here so that its weights
load with ``torch.load(weights_only=True)`` and ``strict=True``; the checkpoint's two GE2E-loss scalars
(``similarity_weight``, ``similarity_bias``) are the only keys set aside.

Preprocessing differs from ``resemblyzer.preprocess_wav`` on purpose: that function normalises the volume to
-30 dBFS and trims silences, which erases intensity and pause cues that acoustic prompts describe. Here the 16 kHz
waveform goes in as it is; resemblyzer's own mel spectrogram (power, not log) and its partial-utterance scheme
(1.6 s partials, 1.3 per second, the last one zero-padded when at least 75 % covered) give one embedding per
partial, and their L2-normalised mean is the clip embedding (``VoiceEncoder.embed_utterance``'s rule).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from clapemo.encoders.base import AudioEncoder, file_sha256, resolve_device
from clapemo.errors import ConfigError, DataError

__all__ = ["GE2EEncoder", "weights_path", "identity"]

SAMPLE_RATE_HZ = 16000
IGNORED_KEYS = ("similarity_weight", "similarity_bias")


def weights_path() -> Path:
    try:
        import resemblyzer
    except ImportError:
        raise ConfigError("config key 'encoders.audio' = 'resemblyzer' needs 'resemblyzer' and "
                          "'webrtcvad-wheels' (pip install resemblyzer webrtcvad-wheels)") from None
    return Path(resemblyzer.__file__).parent / "pretrained.pt"


def identity(config) -> dict:
    return {"name": "resemblyzer", "version": 1, "weights": "sha256:" + file_sha256(weights_path()),
            "sample_rate_hz": SAMPLE_RATE_HZ, "preprocess": "none", "partials_rate": 1.3, "min_coverage": 0.75,
            "pooling": "l2norm-mean-of-partials"}


class _GE2E(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, 256)

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        embeds = torch.relu(self.linear(hidden[-1]))
        return embeds / torch.linalg.norm(embeds, dim=1, keepdim=True).clamp_min(1e-12)


class GE2EEncoder(AudioEncoder):
    """Resemblyzer GE2E encoder on unnormalised audio (256-d)."""

    name = "resemblyzer"
    dim = 256
    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self, config) -> None:
        from resemblyzer import VoiceEncoder, audio  # noqa: F401  (checks webrtcvad too)

        self.device = resolve_device(config.device)
        self.identity = identity(config)
        path = weights_path()
        try:
            state = dict(torch.load(path, map_location="cpu", weights_only=True)["model_state"])
        except Exception as err:
            raise DataError(f"{path}: not a readable resemblyzer checkpoint ({type(err).__name__}: {err})") from None
        for key in IGNORED_KEYS:
            state.pop(key, None)
        model = _GE2E()
        model.load_state_dict(state, strict=True)
        self.model = model.to(self.device).eval().requires_grad_(False)
        self._slices = VoiceEncoder.compute_partial_slices
        self._mel = audio.wav_to_mel_spectrogram

    def _embed(self, waveforms: list[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(waveforms), self.dim), np.float32)
        with torch.inference_mode():
            for i, wav in enumerate(waveforms):
                wav_slices, mel_slices = self._slices(len(wav), 1.3, 0.75)
                if wav_slices[-1].stop >= len(wav):
                    wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)))
                mel = self._mel(wav)
                mels = torch.from_numpy(np.stack([mel[s] for s in mel_slices])).to(self.device)
                partials = self.model(mels).cpu().numpy().astype(np.float64)
                mean = partials.mean(axis=0)
                out[i] = mean / max(np.linalg.norm(mean), 1e-12)
        return out
