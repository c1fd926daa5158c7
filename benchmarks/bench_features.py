"""Benchmark of clapemo.features: real-time factor per core of the full property set, praat vs pyin pitch.

Both backends measure the *same* speech-like clips in *one* run, in this one process (one core), so the ratio is
fair even on a busy machine. Prints: real-time factor (seconds of audio per CPU second) for each backend, their
ratio, and how closely the two backends' mean F0 agree on these clips. Targets (issue 3): default backend
>= 300x real time per core and >= 10x faster than the pyin path.

Run: ``make bench`` or ``python benchmarks/bench_features.py [--clips 24] [--seconds 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from clapemo import features
from clapemo.config import FeaturesConfig


def speech_like(rng: np.random.Generator, *, duration_s: float, rate_hz: int) -> np.ndarray:
    """A speech-like clip: syllable bursts on a gliding harmonic F0 (declination + jitter), pauses and noise."""
    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    f0_start = rng.uniform(90.0, 260.0)
    f0 = f0_start * (1.0 - 0.15 * t / duration_s) * (1.0 + 0.03 * np.sin(2 * np.pi * rng.uniform(2, 5) * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate_hz
    voice = sum(np.sin(k * phase) / k for k in range(1, 16))
    env = np.zeros(n)
    pos = rng.uniform(0.1, 0.3)
    while pos < duration_s - 0.3:
        syl = rng.uniform(0.12, 0.25)
        i, j = int(pos * rate_hz), int((pos + syl) * rate_hz)
        env[i:j] = np.sin(np.pi * np.linspace(0, 1, j - i)) ** 2 * rng.uniform(0.4, 1.0)
        pos += syl + (rng.uniform(0.4, 0.8) if rng.random() < 0.1 else rng.uniform(0.02, 0.08))
    gain = 10 ** (rng.uniform(-30, -10) / 20)
    return (gain * env * voice + 1e-4 * rng.standard_normal(n)).astype(np.float32)


def time_backend(clips: list[np.ndarray], rate_hz: int, cfg: FeaturesConfig, *, repeats: int) -> tuple[list, list]:
    """CPU seconds of each of ``repeats`` passes over the clips (after a warm-up), and the properties."""
    features.extract(clips[0], sample_rate_hz=rate_hz, config=cfg)  # warm-up (pyin compiles on first call)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        props = [features.extract(x, sample_rate_hz=rate_hz, config=cfg) for x in clips]
        times.append(time.process_time() - start)
    return times, props


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rate", type=int, default=16000, help="sample rate of the clips (Hz)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="passes of the praat backend (best is reported)")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    clips = [speech_like(rng, duration_s=args.seconds, rate_hz=args.rate) for _ in range(args.clips)]
    audio_s = args.clips * args.seconds
    # interleave: praat passes before and after the (long) pyin pass, so a load change hits both
    times_praat, praat = time_backend(clips, args.rate, FeaturesConfig(pitch_backend="praat"),
                                      repeats=max(1, args.repeats // 2))
    times_pyin, pyin = time_backend(clips, args.rate, FeaturesConfig(pitch_backend="pyin"), repeats=1)
    more, _ = time_backend(clips, args.rate, FeaturesConfig(pitch_backend="praat"),
                           repeats=max(1, args.repeats - args.repeats // 2))
    times_praat += more
    cpu_praat, cpu_pyin = min(times_praat), min(times_pyin)
    rtf_praat, rtf_pyin = audio_s / cpu_praat, audio_s / cpu_pyin

    diffs = np.array([abs(a.f0_mean_hz - b.f0_mean_hz) / b.f0_mean_hz for a, b in zip(praat, pyin)])
    syl = np.array([(a.n_syllables, b.n_syllables) for a, b in zip(praat, pyin)])
    print(f"clips: {args.clips} x {args.seconds:g} s at {args.rate} Hz ({audio_s:g} s of audio), one process")
    print(f"praat (default): {cpu_praat:7.3f} CPU s  -> {rtf_praat:8.1f}x real time per core  (target >= 300x; "
          f"best of {len(times_praat)} passes, median {audio_s / np.median(times_praat):.1f}x)")
    print(f"pyin path:       {cpu_pyin:7.3f} CPU s  -> {rtf_pyin:8.1f}x real time per core")
    print(f"speed ratio praat / pyin: {rtf_praat / rtf_pyin:.1f}x  (target >= 10x)")
    print(f"mean-F0 agreement praat vs pyin: median {100 * np.nanmedian(diffs):.2f} %, "
          f"max {100 * np.nanmax(diffs):.2f} %")
    print(f"syllable counts equal on {np.mean(syl[:, 0] == syl[:, 1]) * 100:.0f} % of clips "
          f"(mean {syl[:, 0].mean():.1f} praat, {syl[:, 1].mean():.1f} pyin)")


if __name__ == "__main__":
    main()
