"""Benchmark of clapemo.features: real-time factor per core of the full property set, praat vs pyin pitch.

Every path measures the *same* speech-like clips in *one* run, in this one process (one core), so the ratios are
fair even on a busy machine. Prints: real-time factor (seconds of audio per CPU second) of the default (praat)
path, of the previous syllable-nuclei path (one Praat query per interval and per dip, kept here only to show
the speed-up and that every property is identical), of Praat's three tracks alone (intensity, F0-mean pitch,
voicing pitch: the floor of any path that computes the same numbers), and of the pyin path; their ratios; how
closely the backends' mean F0 agree. Targets (issue 3, issue 19): default >= 300x real time per core and >= 10x
faster than the pyin path.

Run: ``make bench`` or ``python benchmarks/bench_features.py [--clips 24] [--seconds 3]``.
"""

from __future__ import annotations

import clapemo  # noqa: F401  - first: its portable-numerics pins must precede NumPy and torch

import argparse
import math
import time
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from clapemo import features
from clapemo.features import clip as feature_clip
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


def per_call_syllable_nuclei(sound: Any, *, intensity: Any, config: FeaturesConfig) -> tuple[int, float, int]:
    """The previous :func:`clapemo.features.syllables.syllable_nuclei`: the same steps, with one
    ``parselmouth.praat.call`` per query (min, max, quantile, every TextGrid interval's bounds and label, every
    dip). For comparison only."""
    from parselmouth import PraatWarning, ValueInterpolation
    from parselmouth.praat import call

    cfg = config

    min_db = call(intensity, "Get minimum", 0, 0, "Parabolic")
    max_db = call(intensity, "Get maximum", 0, 0, "Parabolic")
    q99 = call(intensity, "Get quantile", 0, 0, 0.99)
    threshold = max(q99 + cfg.silence_threshold_db, min_db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PraatWarning)
        textgrid = call(intensity, "To TextGrid (silences)", cfg.silence_threshold_db - (max_db - q99),
                        cfg.min_pause_s, features.MIN_SOUNDING_S, "silent", "sounding")
    n_intervals = call(textgrid, "Get number of intervals", 1)
    bounds = np.array([call(textgrid, "Get start time of interval", 1, i + 1) for i in range(n_intervals)]
                      + [call(textgrid, "Get end time of interval", 1, n_intervals)])
    sounding = np.array([call(textgrid, "Get label of interval", 1, i + 1) == "sounding"
                         for i in range(n_intervals)])
    phonation_time = float(np.sum(np.diff(bounds)[sounding]))
    n_pauses = max(int(sounding.sum()) - 1, 0)

    contour = call(call(intensity, "Down to Matrix"), "To Sound (slice)", 1)
    extrema = call(contour, "To PointProcess (extrema)", "Left", "yes", "no", "Sinc70")
    if call(extrema, "Get number of points") == 0:
        return 0, phonation_time, n_pauses
    times = np.asarray(call(extrema, "To Matrix").values, dtype=np.float64).ravel()
    cubic = ValueInterpolation.CUBIC
    peaks = [(t, v) for t, v in ((t, contour.get_value(t, interpolation=cubic)) for t in times) if v > threshold]
    if len(peaks) < 2:
        return 0, phonation_time, n_pauses
    valid = []
    current_t, current_db = peaks[0]
    for (t, _), (next_t, _) in zip(peaks[:-1], peaks[1:]):
        dip = call(intensity, "Get minimum", current_t, next_t, "None")
        if abs(current_db - dip) > cfg.min_dip_db:
            valid.append(t)
        current_t, current_db = next_t, intensity.get_value(next_t, interpolation=cubic)
    if not valid:
        return 0, phonation_time, n_pauses
    pitch = sound.to_pitch_ac(**features.VOICING_PITCH)

    def interval_at(t: float) -> int:  # Praat's "Get interval at time" rule, by bisection
        return int(min(max(np.searchsorted(bounds, t, side="right") - 1, 0), bounds.size - 2))

    n_syll = sum(1 for t in valid if math.isfinite(pitch.get_value_at_time(t)) and sounding[interval_at(t)])
    return n_syll, phonation_time, n_pauses


@contextmanager
def per_call_path() -> Iterator[None]:
    """Run :func:`features.extract` with :func:`per_call_syllable_nuclei` instead of the current function (the
    name :mod:`clapemo.features.clip` calls)."""
    current = feature_clip.syllable_nuclei
    feature_clip.syllable_nuclei = per_call_syllable_nuclei
    try:
        yield
    finally:
        feature_clip.syllable_nuclei = current


def time_backend(clips: list[np.ndarray], rate_hz: int, cfg: FeaturesConfig, *, repeats: int,
                 warm_up: bool = True) -> tuple[list, list]:
    """CPU seconds of each of ``repeats`` passes over the clips (after a warm-up), and the properties."""
    if warm_up:
        features.extract(clips[0], sample_rate_hz=rate_hz, config=cfg)  # pyin compiles on its first call
    times = []
    for _ in range(repeats):
        start = time.process_time()
        props = [features.extract(x, sample_rate_hz=rate_hz, config=cfg) for x in clips]
        times.append(time.process_time() - start)
    return times, props


TRACKS = ("intensity", "F0 pitch", "voicing pitch")


def time_tracks(clips: list[np.ndarray], rate_hz: int, cfg: FeaturesConfig, *, repeats: int) -> list[np.ndarray]:
    """CPU seconds per pass of each of Praat's three tracks alone (:data:`TRACKS`), shape (3,) per pass."""
    import parselmouth

    sounds = [parselmouth.Sound(x.astype(np.float64), sampling_frequency=float(rate_hz)) for x in clips]
    steps = (lambda s: s.to_intensity(minimum_pitch=features.INTENSITY_MIN_PITCH_HZ, subtract_mean=True),
             lambda s: s.to_pitch_ac(time_step=cfg.time_step_s, pitch_floor=cfg.f0_min_hz,
                                     pitch_ceiling=cfg.f0_max_hz),
             lambda s: s.to_pitch_ac(**features.VOICING_PITCH))
    passes = []
    for _ in range(repeats):
        seconds = np.zeros(len(steps))
        for sound in sounds:
            for i, step in enumerate(steps):
                start = time.process_time()
                step(sound)
                seconds[i] += time.process_time() - start
        passes.append(seconds)
    return passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rate", type=int, default=16000, help="sample rate of the clips (Hz)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5,
                        help="rounds: one pass of each praat path per round (the best pass is reported)")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    clips = [speech_like(rng, duration_s=args.seconds, rate_hz=args.rate) for _ in range(args.clips)]
    audio_s = args.clips * args.seconds
    praat_cfg = FeaturesConfig(pitch_backend="praat")
    # the praat paths take turns, one pass each per round, and pyin runs mid-way, so a change of load on a
    # shared machine hits every path alike; the best pass of each is reported
    times: dict[str, list[float]] = {"praat": [], "old": [], "tracks": []}
    tracks: list[np.ndarray] = []
    for round_ in range(max(1, args.repeats)):
        if round_ == args.repeats // 2:
            times["pyin"], pyin = time_backend(clips, args.rate, FeaturesConfig(pitch_backend="pyin"), repeats=1)
        more, praat = time_backend(clips, args.rate, praat_cfg, repeats=1, warm_up=round_ == 0)
        times["praat"] += more
        with per_call_path():
            more, old = time_backend(clips, args.rate, praat_cfg, repeats=1, warm_up=round_ == 0)
        times["old"] += more
        tracks += time_tracks(clips, args.rate, praat_cfg, repeats=1)
        times["tracks"].append(float(tracks[-1].sum()))
    times_praat, times_old, times_tracks, times_pyin = times["praat"], times["old"], times["tracks"], times["pyin"]
    rtf = {name: audio_s / min(values) for name, values in times.items()}
    track_s = np.min(np.stack(tracks), axis=0)  # best pass of each track

    identical = all(a == b for a, b in zip(praat, old))
    diffs = np.array([abs(a.f0_mean_hz - b.f0_mean_hz) / b.f0_mean_hz for a, b in zip(praat, pyin)])
    syl = np.array([(a.n_syllables, b.n_syllables) for a, b in zip(praat, pyin)])
    print(f"clips: {args.clips} x {args.seconds:g} s at {args.rate} Hz ({audio_s:g} s of audio), one process")
    print(f"praat (default):   {min(times_praat):7.3f} CPU s  -> {rtf['praat']:8.1f}x real time per core  (target "
          f">= 300x; best of {len(times_praat)} passes, median {audio_s / np.median(times_praat):.1f}x)")
    print(f"previous path:     {min(times_old):7.3f} CPU s  -> {rtf['old']:8.1f}x real time per core  (one Praat "
          f"call per query; default is {rtf['praat'] / rtf['old']:.2f}x faster; every property identical on "
          f"every clip: {'yes' if identical else 'NO'})")
    shares = ", ".join(f"{name} {100 * sec / min(times_praat):.0f} %" for name, sec in zip(TRACKS, track_s))
    print(f"Praat tracks only: {min(times_tracks):7.3f} CPU s  -> {rtf['tracks']:8.1f}x real time per core  "
          f"(the floor of a path with the same numbers; of the default's time: {shares})")
    print(f"pyin path:         {min(times_pyin):7.3f} CPU s  -> {rtf['pyin']:8.1f}x real time per core")
    print(f"speed ratio praat / pyin: {rtf['praat'] / rtf['pyin']:.1f}x  (target >= 10x)")
    print(f"mean-F0 agreement praat vs pyin: median {100 * np.nanmedian(diffs):.2f} %, "
          f"max {100 * np.nanmax(diffs):.2f} %")
    print(f"syllable counts equal on {np.mean(syl[:, 0] == syl[:, 1]) * 100:.0f} % of clips "
          f"(mean {syl[:, 0].mean():.1f} praat, {syl[:, 1].mean():.1f} pyin)")


if __name__ == "__main__":
    main()
