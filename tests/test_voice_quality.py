"""clapemo.features with ``voice_quality``: F0 sd in semitones, jitter, shimmer, HNR, pause rate on signals with
known answers; the switch off changes nothing; the cache never mixes the two field sets."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from clapemo import features
from clapemo.features import table as feature_table
from clapemo.features.table import cache_file, cache_key
from clapemo.files import file_sha256
from clapemo.config import FeaturesConfig, replace
from clapemo.schema import EXTRA_PROPERTY_COLUMNS, PROPERTY_COLUMNS

RATE = 16000
ON = FeaturesConfig(voice_quality=True)


def sine(f0_hz: float = 200.0, *, duration_s: float = 2.0, amp: float = 0.1) -> np.ndarray:
    t = np.arange(int(duration_s * RATE)) / RATE
    return amp * np.sin(2 * np.pi * f0_hz * t)


def vowel(f0_hz: float = 150.0, *, duration_s: float = 1.0, amp: float = 0.1) -> np.ndarray:
    """Vowel-like harmonic complex: 19 harmonics with 1/k amplitudes."""
    t = np.arange(int(round(duration_s * RATE))) / RATE
    return amp * sum(np.sin(2 * np.pi * f0_hz * k * t + k) / k for k in range(1, 20))


def glide(f0_start_hz: float = 200.0, f0_end_hz: float = 400.0, *, duration_s: float = 2.0) -> np.ndarray:
    """A tone whose F0 rises exponentially (uniformly in semitones) from ``f0_start_hz`` to ``f0_end_hz``."""
    t = np.arange(int(duration_s * RATE)) / RATE
    f0 = f0_start_hz * (f0_end_hz / f0_start_hz) ** (t / duration_s)
    return 0.1 * np.sin(2 * np.pi * np.cumsum(f0) / RATE)


def with_gaps(parts_s: list[tuple[str, float]]) -> np.ndarray:
    """Concatenated ("v", seconds) vowel stretches and ("s", seconds) digital silences."""
    return np.concatenate([vowel(duration_s=d) if kind == "v" else np.zeros(int(round(d * RATE)))
                           for kind, d in parts_s])


def _write(path, x) -> str:
    import soundfile as sf

    sf.write(str(path), np.asarray(x, dtype=np.float32), RATE, subtype="FLOAT")
    return str(path)


# ---- known answers ---------------------------------------------------------------------------------------------


def test_pure_tone_is_perfectly_periodic():
    props = features.extract(sine(200.0), sample_rate_hz=RATE, config=ON)
    assert props.jitter_local_pct < 0.05 and props.shimmer_local_pct < 0.05
    assert props.hnr_db > 20.0
    assert props.f0_sd_st < 0.05  # a steady tone
    assert props.pause_rate_per_s == 0.0


def test_noise_lowers_hnr_and_raises_jitter_and_shimmer():
    rng = np.random.default_rng(0)
    clean = sine(200.0)
    results = [features.extract(clean + noise_rms * rng.standard_normal(clean.size), sample_rate_hz=RATE,
                                config=ON) for noise_rms in (0.0, 0.01, 0.05)]
    hnr = [p.hnr_db for p in results]
    assert hnr[0] > hnr[1] > hnr[2] and hnr[1] < 20.0
    # signal-to-noise ratio of the noisiest: sine power 0.005 over noise power 0.0025 = 3 dB; HNR is near it
    assert abs(hnr[2] - 10 * math.log10(0.005 / 0.05 ** 2)) < 3.0
    assert results[2].jitter_local_pct > results[0].jitter_local_pct + 0.5
    assert results[2].shimmer_local_pct > results[0].shimmer_local_pct + 1.0


def test_f0_sd_of_a_one_octave_glide_is_the_uniform_value():
    from parselmouth import Sound

    x = glide(200.0, 400.0)
    props = features.extract(x, sample_rate_hz=RATE, config=ON)
    # F0 uniform over 12 semitones: sd = 12 / sqrt(12)
    assert props.f0_sd_st == pytest.approx(12 / math.sqrt(12), rel=0.10)
    # the same number as Praat's own query on the same track
    pitch = Sound(x, sampling_frequency=RATE).to_pitch_ac(time_step=ON.time_step_s, pitch_floor=ON.f0_min_hz,
                                                          pitch_ceiling=ON.f0_max_hz)
    from parselmouth.praat import call

    assert props.f0_sd_st == pytest.approx(call(pitch, "Get standard deviation", 0, 0, "semitones"), rel=1e-6)
    # and it does not depend on the register: the same glide an octave lower
    lower = features.extract(glide(100.0, 200.0), sample_rate_hz=RATE, config=ON)
    assert lower.f0_sd_st == pytest.approx(props.f0_sd_st, rel=0.05)


def test_pause_rate_counts_silences_between_sounding_stretches():
    # two 0.5 s silences in 3 s
    x = with_gaps([("v", 2 / 3), ("s", 0.5), ("v", 2 / 3), ("s", 0.5), ("v", 2 / 3)])
    props = features.extract(x, sample_rate_hz=RATE, config=ON)
    assert props.duration_s == pytest.approx(3.0, abs=1e-3)
    assert props.pause_rate_per_s == pytest.approx(2 / 3, rel=1e-3)
    # leading and trailing silence is no pause; a gap shorter than min_pause_s (0.3 s) is none either
    y = with_gaps([("s", 0.5), ("v", 0.8), ("s", 0.5), ("v", 0.8), ("s", 0.15), ("v", 0.8), ("s", 0.5)])
    props = features.extract(y, sample_rate_hz=RATE, config=ON)
    assert props.pause_rate_per_s == pytest.approx(1 / props.duration_s, rel=1e-9)
    # min_pause_s is the rule: lowered far enough, the short gap counts (the intensity window, 6.4 / 50 Hz =
    # 0.128 s, makes a detected silence about 0.1 s shorter than the digital gap)
    props = features.extract(y, sample_rate_hz=RATE, config=replace(ON, min_pause_s=0.03))
    assert props.pause_rate_per_s == pytest.approx(2 / props.duration_s, rel=1e-9)


def test_unvoiced_and_short_clips_give_nan_not_errors():
    rng = np.random.default_rng(1)
    noise = features.extract(0.05 * rng.standard_normal(RATE), sample_rate_hz=RATE, config=ON)
    assert math.isnan(noise.f0_mean_hz)
    for name in ("f0_sd_st", "jitter_local_pct", "shimmer_local_pct", "hnr_db"):
        assert math.isnan(getattr(noise, name)), name
    assert noise.pause_rate_per_s == 0.0  # continuous sound: no pause
    # the shortest clip the rules accept (min_duration_s = 0.1 s) is long enough for every window
    short = features.extract(vowel(duration_s=0.1), sample_rate_hz=RATE, config=ON)
    assert short.jitter_local_pct < 0.05 and short.shimmer_local_pct < 0.05 and short.hnr_db > 20.0
    assert short.f0_sd_st < 0.05 and short.pause_rate_per_s == 0.0


# ---- the switch ------------------------------------------------------------------------------------------------


def test_switch_off_measures_nothing_more_and_on_changes_no_base_field():
    x = with_gaps([("s", 0.3), ("v", 0.8), ("s", 0.5), ("v", 0.8), ("s", 0.3)])
    off = features.extract(x, sample_rate_hz=RATE)
    assert all(getattr(off, name) is None for name in EXTRA_PROPERTY_COLUMNS)
    assert tuple(off.to_dict()) == PROPERTY_COLUMNS
    on = features.extract(x, sample_rate_hz=RATE, config=ON)
    assert tuple(on.to_dict()) == PROPERTY_COLUMNS + EXTRA_PROPERTY_COLUMNS
    assert {k: on.to_dict()[k] for k in PROPERTY_COLUMNS} == off.to_dict()


def test_table_columns_and_error_rows(tmp_path):
    good = _write(tmp_path / "good.wav", with_gaps([("v", 0.6), ("s", 0.5), ("v", 0.6)]))
    silent = _write(tmp_path / "silent.wav", np.zeros(RATE))
    paths = [good, silent, str(tmp_path / "missing.wav")]
    off = features.extract_table(paths, config=FeaturesConfig(), n_jobs=1, use_cache=False, progress=False)
    assert list(off.columns) == list(features.TABLE_COLUMNS)
    on = features.extract_table(paths, config=ON, n_jobs=1, use_cache=False, progress=False)
    assert list(on.columns) == ["utterance_id", "path", *PROPERTY_COLUMNS, *EXTRA_PROPERTY_COLUMNS, "error"]
    assert list(on.columns) == list(features.EXTRA_TABLE_COLUMNS)
    pd.testing.assert_frame_equal(on[list(off.columns)], off)
    assert all(str(on[name].dtype) == "float64" for name in EXTRA_PROPERTY_COLUMNS)
    assert on.loc[0, "pause_rate_per_s"] == pytest.approx(1 / on.loc[0, "duration_s"], rel=1e-9)
    assert np.isfinite(on.loc[0, list(EXTRA_PROPERTY_COLUMNS)].to_numpy(dtype=float)).all()
    assert on.loc[1:, list(EXTRA_PROPERTY_COLUMNS)].isna().all().all()
    assert "silent" in on.loc[1, "error"] and "not found" in on.loc[2, "error"]


def test_cache_keeps_the_two_field_sets_apart(tmp_path, monkeypatch):
    path = _write(tmp_path / "clip.wav", with_gaps([("v", 0.6), ("s", 0.5), ("v", 0.6)]))
    off_cfg = FeaturesConfig(cache_dir=str(tmp_path / "cache"))
    on_cfg = replace(off_cfg, voice_quality=True)
    off = features.extract_table([path], config=off_cfg, n_jobs=1, progress=False)
    # an entry without the voice-quality fields planted under the voice_quality key (an old cache) is not used
    sha = file_sha256(path)
    key = cache_key(sha, start_s=None, end_s=None, config=on_cfg)
    assert key != cache_key(sha, start_s=None, end_s=None, config=off_cfg)
    planted = cache_file(key, config=on_cfg)
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(json.dumps({**{k: off.loc[0, k].item() for k in PROPERTY_COLUMNS}, "error": None}))
    calls = []
    real = feature_table.extract  # what extract_table's tasks call
    monkeypatch.setattr(feature_table, "extract", lambda *a, **k: calls.append(a) or real(*a, **k))
    on = features.extract_table([path], config=on_cfg, n_jobs=1, progress=False)
    assert len(calls) == 1 and list(on.columns) == list(features.EXTRA_TABLE_COLUMNS)
    assert np.isfinite(on.loc[0, list(EXTRA_PROPERTY_COLUMNS)].to_numpy(dtype=float)).all()
    # now both entries are cached: neither run measures again, and each keeps its own columns
    again_on = features.extract_table([path], config=on_cfg, n_jobs=1, progress=False)
    again_off = features.extract_table([path], config=off_cfg, n_jobs=1, progress=False)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(again_on, on)
    pd.testing.assert_frame_equal(again_off, off)
