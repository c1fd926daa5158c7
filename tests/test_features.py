"""clapemo.features: known-answer signals for pitch, intensity and syllable nuclei; bad input; the batch table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from clapemo import features
from clapemo.config import Config, FeaturesConfig, replace
from clapemo.errors import ClapEmoError, DataError, ParameterError

RATE = 16000


def vowel(f0_hz: float, *, duration_s: float = 1.0, rate: int = RATE, amp: float = 0.1) -> np.ndarray:
    """Vowel-like harmonic complex: 19 harmonics with 1/k amplitudes."""
    t = np.arange(int(duration_s * rate)) / rate
    return amp * sum(np.sin(2 * np.pi * f0_hz * k * t + k) / k for k in range(1, 20))


def syllable_train(groups: tuple[int, ...] = (4, 3), *, burst_s: float = 0.16, dip_s: float = 0.06,
                   pause_s: float = 0.7, edge_s: float = 0.5, f0_hz: float = 150.0, floor: float = 0.1,
                   rate: int = RATE) -> tuple[np.ndarray, float]:
    """Groups of syllable-like bursts (raised-cosine envelopes over a -20 dB floor, i.e. dips) separated by
    long pauses of digital silence. Returns the signal and its true sounding time in seconds."""
    env = [np.zeros(int(edge_s * rate))]
    sounding = 0.0
    for g, n in enumerate(groups):
        if g:
            env.append(np.zeros(int(pause_s * rate)))
        for i in range(n):
            m = int(burst_s * rate)
            env.append(floor + (1 - floor) * np.sin(np.pi * np.arange(m) / m) ** 2)
            if i < n - 1:
                env.append(np.full(int(dip_s * rate), floor))
        sounding += n * burst_s + (n - 1) * dip_s
    env.append(np.zeros(int(edge_s * rate)))
    e = np.concatenate(env)
    return e * vowel(f0_hz, duration_s=e.size / rate + 1e-9, rate=rate)[: e.size], sounding


@pytest.fixture(scope="session")
def pyin_config() -> FeaturesConfig:
    """The pyin backend, warmed up once (librosa's first pyin call compiles for several seconds)."""
    cfg = FeaturesConfig(pitch_backend="pyin")
    features.extract(vowel(150.0, duration_s=0.2), sample_rate_hz=RATE, config=cfg)
    return cfg


def _write(path, x, rate=RATE, subtype="FLOAT"):
    import soundfile as sf

    sf.write(str(path), np.asarray(x, dtype=np.float32), rate, subtype=subtype)
    return str(path)


# ---- pitch -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("f0_hz", [120.0, 220.0])
def test_praat_f0_of_a_harmonic_complex(f0_hz):
    props = features.extract(vowel(f0_hz), sample_rate_hz=RATE)
    assert abs(props.f0_mean_hz - f0_hz) / f0_hz < 0.02
    assert props.voiced_fraction > 0.9


def test_pyin_is_accurate_and_agrees_with_praat(pyin_config):
    for f0_hz in (120.0, 220.0):
        x = vowel(f0_hz)
        praat = features.extract(x, sample_rate_hz=RATE).f0_mean_hz
        pyin = features.extract(x, sample_rate_hz=RATE, config=pyin_config).f0_mean_hz
        assert abs(pyin - f0_hz) / f0_hz < 0.02
        assert abs(pyin - praat) / praat < 0.03
    # on a signal with pauses and dips, too, and the pyin track drives the same syllable count
    x, _ = syllable_train()
    praat = features.extract(x, sample_rate_hz=RATE)
    pyin = features.extract(x, sample_rate_hz=RATE, config=pyin_config)
    assert abs(pyin.f0_mean_hz - praat.f0_mean_hz) / praat.f0_mean_hz < 0.03
    assert pyin.n_syllables == praat.n_syllables == 7 - 1  # the script never counts its last candidate


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_any_sample_rate_gives_the_same_answers(rate):
    ref = features.extract(vowel(220.0), sample_rate_hz=RATE)
    props = features.extract(vowel(220.0, rate=rate), sample_rate_hz=rate)
    assert abs(props.f0_mean_hz - 220.0) / 220.0 < 0.02
    assert abs(props.intensity_db - ref.intensity_db) < 0.5
    assert props.duration_s == pytest.approx(1.0, abs=1e-3)


def test_unvoiced_noise_has_nan_f0_and_is_not_an_error():
    noise = np.random.default_rng(0).normal(scale=0.05, size=RATE)
    props = features.extract(noise, sample_rate_hz=RATE)
    assert math.isnan(props.f0_mean_hz)
    assert props.voiced_fraction < 0.1
    assert props.n_syllables == 0 and props.speech_rate_syl_per_s == 0.0


# ---- intensity -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rms, expected_db", [(0.02, 60.0), (0.2, 80.0), (2e-3, 40.0)])
def test_intensity_of_a_known_rms_on_praats_scale(rms, expected_db):
    t = np.arange(RATE) / RATE
    x = rms * math.sqrt(2) * np.sin(2 * np.pi * 200.0 * t)
    assert features.extract(x, sample_rate_hz=RATE).intensity_db == pytest.approx(expected_db, abs=0.3)
    assert 20 * math.log10(rms / features.REFERENCE_PA) == pytest.approx(expected_db, abs=1e-9)


# ---- syllable nuclei -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("groups", [(4, 3), (2, 5), (6,)])
def test_syllable_count_and_phonation_time(groups):
    x, sounding_s = syllable_train(groups)
    props = features.extract(x, sample_rate_hz=RATE)
    # de Jong & Wempe's loop tests every candidate against the next one, so the last burst is never counted
    n = sum(groups) - 1
    assert props.n_syllables == n
    # the 64 ms intensity window smears each group's edges by ~17 ms
    assert props.phonation_time_s == pytest.approx(sounding_s, abs=0.04 * len(groups) + 0.02)
    assert props.duration_s == pytest.approx(x.size / RATE)
    assert props.speech_rate_syl_per_s == pytest.approx(n / props.duration_s)
    assert props.articulation_rate_syl_per_s == pytest.approx(n / props.phonation_time_s)
    assert props.f0_mean_hz == pytest.approx(150.0, rel=0.02)


@pytest.mark.parametrize("duration_s", [0.1, 0.12, 0.2])
def test_short_clips_above_the_minimum_are_measured(duration_s):
    # Praat's intensity window (6.4 / 50 Hz = 0.128 s) is shortened for clips shorter than it
    props = features.extract(vowel(120.0, duration_s=duration_s), sample_rate_hz=RATE)
    assert props.f0_mean_hz == pytest.approx(120.0, rel=0.02)
    assert props.intensity_db == pytest.approx(73.0, abs=0.3)
    assert props.phonation_time_s == pytest.approx(duration_s)


def test_short_pauses_do_not_split_phonation():
    # a 0.2 s pause is below min_pause_s = 0.3: phonation time includes it
    x, sounding_s = syllable_train((3, 3), pause_s=0.2)
    props = features.extract(x, sample_rate_hz=RATE)
    assert props.n_syllables == 6 - 1
    assert props.phonation_time_s == pytest.approx(sounding_s + 0.2, abs=0.06)
    longer = features.extract(x, sample_rate_hz=RATE, config=FeaturesConfig(min_pause_s=0.1))
    assert longer.phonation_time_s == pytest.approx(sounding_s, abs=0.1)


# ---- input forms and bad input ---------------------------------------------------------------------------------


def test_path_stereo_and_config_forms_agree(tmp_path):
    x = vowel(120.0)
    ref = features.extract(x, sample_rate_hz=RATE)
    assert features.extract(_write(tmp_path / "a.wav", x)) == ref
    assert features.extract(np.stack([x, x]), sample_rate_hz=RATE) == ref
    assert features.extract(x, sample_rate_hz=RATE, config=Config()) == ref


def _clipped() -> np.ndarray:
    return np.clip(10 * vowel(120.0), -1.0, 1.0)


BAD_SIGNALS = {
    "empty": (np.zeros(0), "empty"),
    "silent": (np.zeros(RATE), "silent"),
    "all_nan": (np.full(RATE, np.nan), "NaN"),
    "clipped": (_clipped(), "clipped"),
    "too_short": (vowel(120.0, duration_s=0.05), "min_duration_s"),
}


@pytest.mark.parametrize("name", sorted(BAD_SIGNALS))
def test_bad_signals_raise_a_clear_data_error(name):
    x, rule = BAD_SIGNALS[name]
    with pytest.raises(DataError, match=rule):
        features.extract(x, sample_rate_hz=RATE)


def test_bad_arguments():
    with pytest.raises(ParameterError, match="sample_rate_hz"):
        features.extract(vowel(120.0))
    with pytest.raises(ParameterError, match="config"):
        features.extract(vowel(120.0), sample_rate_hz=RATE, config={"pitch_backend": "praat"})
    with pytest.raises(DataError, match="too low"):
        features.extract(vowel(120.0, rate=1000, duration_s=0.5)[:500], sample_rate_hz=1000)


def test_corrupt_and_missing_files_raise(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all" * 100)
    with pytest.raises(DataError, match="bad.wav"):
        features.extract(bad)
    with pytest.raises(DataError, match="not found"):
        features.extract(tmp_path / "missing.wav")


# ---- the table -------------------------------------------------------------------------------------------------


@pytest.fixture()
def clip_folder(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    x, _ = syllable_train()
    _write(folder / "good.wav", x)
    _write(folder / "high.wav", vowel(220.0))
    _write(folder / "silent.wav", np.zeros(RATE))
    _write(folder / "short.wav", vowel(120.0, duration_s=0.05))
    _write(folder / "clipped.wav", _clipped())
    (folder / "corrupt.wav").write_bytes(b"RIFF garbage" * 50)
    (folder / "empty.wav").write_bytes(b"")
    return folder


def _cfg(tmp_path) -> FeaturesConfig:
    return FeaturesConfig(cache_dir=str(tmp_path / "cache"))


def test_table_records_every_row_in_order(clip_folder, tmp_path):
    paths = sorted(str(p) for p in clip_folder.iterdir()) + [str(clip_folder / "missing.wav")]
    table = features.extract_table(paths, config=_cfg(tmp_path), n_jobs=1, progress=False)
    assert list(table.columns) == list(features.TABLE_COLUMNS)
    assert list(table["path"]) == paths and list(table["utterance_id"]) == paths
    by_name = {p.rsplit("/", 1)[-1]: row for p, row in zip(paths, table.itertuples(index=False))}
    assert by_name["good.wav"].error is None and by_name["good.wav"].n_syllables == 6
    assert by_name["high.wav"].f0_mean_hz == pytest.approx(220.0, rel=0.02)
    for name, rule in [("silent.wav", "silent"), ("short.wav", "min_duration_s"), ("clipped.wav", "clipped"),
                       ("corrupt.wav", "cannot decode"), ("empty.wav", "empty"), ("missing.wav", "not found")]:
        row = by_name[name]
        assert row.error.startswith("DataError") and rule in row.error, (name, row.error)
        assert math.isnan(row.f0_mean_hz) and pd.isna(row.n_syllables)
    assert str(table["n_syllables"].dtype) == "Int64"


def test_cache_makes_a_second_run_free_and_resumes(clip_folder, tmp_path, monkeypatch):
    cfg = _cfg(tmp_path)
    good = [str(clip_folder / "good.wav"), str(clip_folder / "high.wav")]
    first = features.extract_table(good[:1], config=cfg, n_jobs=1, progress=False)  # "interrupted" after one
    calls = []
    real = features.extract
    monkeypatch.setattr(features, "extract", lambda *a, **k: calls.append(a) or real(*a, **k))
    second = features.extract_table(good, config=cfg, n_jobs=1, progress=False)
    assert len(calls) == 1  # only the clip missing from the cache was measured
    pd.testing.assert_frame_equal(second.iloc[:1], first)
    third = features.extract_table(good, config=cfg, n_jobs=1, progress=False)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(third, second)
    # another config is another cache entry
    features.extract_table(good[:1], config=replace(cfg, min_dip_db=3.0), n_jobs=1, progress=False)
    assert len(calls) == 2


def test_manifest_segments_and_parallel_run(tmp_path):
    x, _ = syllable_train((3,), edge_s=0.2)
    path = _write(tmp_path / "long.wav", np.concatenate([vowel(120.0), x, vowel(220.0)]))
    seg = x.size / RATE
    manifest = pd.DataFrame({
        "utterance_id": ["t/low", "t/mid", "t/high", "t/all"],
        "path": [path] * 4,
        "start_s": [0.0, 1.0, 1.0 + seg, float("nan")],
        "end_s": [1.0, 1.0 + seg, float("nan"), float("nan")],
    })
    serial = features.extract_table(manifest, config=_cfg(tmp_path), n_jobs=1, use_cache=False, progress=False)
    assert list(serial["utterance_id"]) == list(manifest["utterance_id"])
    assert serial["error"].isna().all()
    assert serial["f0_mean_hz"].iloc[0] == pytest.approx(120.0, rel=0.02)
    assert serial["n_syllables"].iloc[1] == 2
    assert serial["f0_mean_hz"].iloc[2] == pytest.approx(220.0, rel=0.02)
    assert serial["duration_s"].iloc[3] == pytest.approx(2.0 + seg, abs=1e-3)
    parallel = features.extract_table(manifest, config=_cfg(tmp_path), n_jobs=2, use_cache=False,
                                      progress=False)
    pd.testing.assert_frame_equal(parallel, serial)


def test_cli_writes_a_table_and_reports_bad_input(clip_folder, tmp_path, capsys):
    out = tmp_path / "features.parquet"
    rc = features.cli([str(clip_folder), "-o", str(out), "-j", "1", "-q",
                       "--set", f"features.cache_dir={tmp_path / 'cache'}"])
    assert rc == 0
    table = pd.read_parquet(out)
    assert list(table.columns) == list(features.TABLE_COLUMNS) and len(table) == 7
    assert set(table.loc[table["error"].isna(), "utterance_id"]) == {"good", "high"}
    assert "7 clips" in capsys.readouterr().err
    # a saved manifest with clip paths relative to its own folder
    pd.DataFrame({"utterance_id": ["x/good", "x/gone"], "path": ["good.wav", "gone.wav"],
                  "start_s": [float("nan")] * 2, "end_s": [float("nan")] * 2}).to_csv(
        clip_folder / "manifest.csv", index=False)
    assert features.cli([str(clip_folder / "manifest.csv"), "-o", str(tmp_path / "m.csv"), "-j", "1", "-q",
                         "--no-cache"]) == 0
    table = pd.read_csv(tmp_path / "m.csv")
    assert list(table["utterance_id"]) == ["x/good", "x/gone"]
    assert table["n_syllables"].iloc[0] == 6 and "not found" in table["error"].iloc[1]
    with pytest.raises(ClapEmoError, match="not found"):
        features.cli([str(tmp_path / "nowhere"), "-o", str(out)])
    empty = tmp_path / "no_audio"
    empty.mkdir()
    with pytest.raises(DataError, match="no audio files"):
        features.extract_table(empty, config=_cfg(tmp_path))
