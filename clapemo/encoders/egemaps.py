"""eGeMAPS v02 functionals (Eyben et al. 2016) through the ``opensmile`` package: 88 prosodic and voice-quality
statistics per clip, as an "audio encoder" so that they go through the same embedding cache and probes.

Not a learned embedding: the Geneva minimalistic acoustic parameter set, the standard hand-crafted baseline of
speech emotion recognition (F0 in semitones from 27.5 Hz, loudness, jitter, shimmer, HNR, formants, spectral
slopes, rates of voiced segments, each with its functionals). Issue 18 lists it as a candidate to append to the
frozen encoder's embedding; ``benchmarks/bench_encoders.py --probe`` compares it alone and appended
(:func:`clapemo.probe.concatenation`) with the default on validation speakers.

Input: 16 kHz mono (the rate eGeMAPS is usually run at; clips are resampled by ``embed_audio``); the output
vector is opensmile's feature order (``EgemapsEncoder.feature_names``). Deterministic (tested).
"""

from __future__ import annotations

import numpy as np

from clapemo.encoders.base import AudioEncoder
from clapemo.errors import ConfigError

__all__ = ["EgemapsEncoder", "identity", "SAMPLE_RATE_HZ", "DIM"]

SAMPLE_RATE_HZ = 16000
DIM = 88


def _opensmile():
    try:
        import opensmile
    except ImportError:
        raise ConfigError("config key 'encoders.audio' = 'egemaps' needs the 'opensmile' package "
                          "(pip install opensmile, or pip install -e '.[functionals]')") from None
    return opensmile


def identity(config) -> dict:
    opensmile = _opensmile()
    return {"name": "egemaps", "version": 1, "opensmile": opensmile.__version__, "feature_set": "eGeMAPSv02",
            "level": "functionals", "sample_rate_hz": SAMPLE_RATE_HZ}


class EgemapsEncoder(AudioEncoder):
    """The 88 eGeMAPS v02 functionals of each clip (opensmile)."""

    name = "egemaps"
    dim = DIM
    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self, config) -> None:
        opensmile = _opensmile()
        self.device = "cpu"  # openSMILE runs on the CPU
        self.identity = identity(config)
        self.smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                                     feature_level=opensmile.FeatureLevel.Functionals)
        self.feature_names = list(self.smile.feature_names)
        if len(self.feature_names) != DIM:
            raise ConfigError(f"opensmile {opensmile.__version__}: eGeMAPSv02 has {len(self.feature_names)} "
                              f"functionals, expected {DIM}")

    def _embed(self, waveforms: list[np.ndarray]) -> np.ndarray:
        return np.stack([self.smile.process_signal(wav, SAMPLE_RATE_HZ).to_numpy()[0] for wav in waveforms])
