"""clapemo.features: known-answer signals for pitch, intensity and syllable nuclei; bad input; the batch table."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clapemo import features
from clapemo.features import table as feature_table
from clapemo.features.contour import extremum_parabolic, in_interval, minimum_between, point_times_s, quantile
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


def test_admission_is_the_one_rule_of_clapemo_audio(tmp_path):
    """Features apply clapemo.audio.admit (what the embedding path applies), at the clip's own rate."""
    from clapemo import audio

    for name, x, rate in [("click.wav", vowel(120.0, duration_s=0.05), RATE), ("silence.wav", np.zeros(RATE), RATE),
                          ("one.wav", np.array([0.5]), RATE), ("lowrate.wav", vowel(120.0, rate=4000), 4000)]:
        path = _write(tmp_path / name, x, rate=rate)
        with pytest.raises(DataError) as shared:
            audio.admit(audio.load(path)[0], sample_rate_hz=rate, name=path)
        with pytest.raises(DataError) as measured:
            features.extract(path)
        assert str(measured.value) == str(shared.value), name
    # 4 kHz was measurable before the rule (its Nyquist frequency is above 600 Hz): now below the 8 kHz minimum
    assert "sample rate 4000 Hz is too low" in str(measured.value)
    assert features.extract(vowel(150.0, rate=8000), sample_rate_hz=8000).f0_mean_hz == pytest.approx(150, rel=0.02)
    # the config's min_duration_s is the minimum features pass to the rule
    short = vowel(150.0, duration_s=0.08)
    with pytest.raises(DataError, match="shorter than the min_duration_s = 0.1 s minimum"):
        features.extract(short, sample_rate_hz=RATE)
    with pytest.raises(DataError, match="shorter than the min_duration_s = 0.5 s minimum"):
        features.extract(vowel(150.0, duration_s=0.3), sample_rate_hz=RATE,
                         config=FeaturesConfig(min_duration_s=0.5))


def test_table_refuses_a_fifo_at_once(tmp_path):
    import os
    import threading

    fifo = tmp_path / "p.wav"
    os.mkfifo(fifo)
    good = _write(tmp_path / "good.wav", vowel(150.0))
    result = {}
    thread = threading.Thread(target=lambda: result.update(table=features.extract_table(
        [str(fifo), good], config=FeaturesConfig(cache_dir=str(tmp_path / "cache")), n_jobs=1, progress=False)),
        daemon=True)
    thread.start()
    thread.join(5.0)  # one clip is measured too; the FIFO itself is refused before it is opened
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # unblock the reader before failing
    assert not thread.is_alive(), "extract_table blocked on a FIFO"
    table = result["table"]
    assert table.loc[0, "error"] == (f"DataError: {fifo}: not a regular file (a FIFO, i.e. a named pipe); audio is "
                                     "read from regular files only")
    assert table.loc[1, "error"] is None


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
    real = feature_table.extract  # what extract_table's tasks call
    monkeypatch.setattr(feature_table, "extract", lambda *a, **k: calls.append(a) or real(*a, **k))
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


# ---- the script's rules, one at a time ------------------------------------------------------------------------


@pytest.mark.parametrize("groups, expected", [((1,), 0), ((2,), 1), ((1, 1), 1)])
def test_the_last_candidate_is_never_counted_as_in_the_script(groups, expected):
    x, _ = syllable_train(groups)
    assert features.extract(x, sample_rate_hz=RATE).n_syllables == expected


def test_edge_silence_shorter_than_min_pause_is_sounding():
    # "To TextGrid (silences)" drops every silent interval shorter than min_pause_s, at the edges too
    x, sounding_s = syllable_train((3,), edge_s=0.2)
    assert features.extract(x, sample_rate_hz=RATE).phonation_time_s == pytest.approx(sounding_s + 0.4, abs=0.05)


def test_voicing_track_is_the_scripts_own():
    assert features.VOICING_PITCH["pitch_floor"] == 30.0 and features.VOICING_PITCH["pitch_ceiling"] == 450.0
    assert features.VOICING_PITCH["voicing_threshold"] == 0.25 and features.VOICING_PITCH["time_step"] == 0.02
    # the F0-mean track's floor does not move the syllable count (voicing comes from the separate track)
    x, _ = syllable_train()
    ref = features.extract(x, sample_rate_hz=RATE)
    other = features.extract(x, sample_rate_hz=RATE, config=FeaturesConfig(f0_min_hz=100.0, f0_max_hz=300.0))
    assert other.n_syllables == ref.n_syllables


# ---- DC offset and constant signals (issue 13) ----------------------------------------------------------------


def test_dc_offset_does_not_move_the_measurements():
    x, _ = syllable_train()
    clean = features.extract(x, sample_rate_hz=RATE)
    shifted = features.extract(x + 0.05, sample_rate_hz=RATE)
    assert shifted.n_syllables == clean.n_syllables
    assert shifted.intensity_db == pytest.approx(clean.intensity_db, abs=0.01)
    assert shifted.f0_mean_hz == pytest.approx(clean.f0_mean_hz, rel=1e-3)
    assert shifted.phonation_time_s == pytest.approx(clean.phonation_time_s, abs=1e-6)


@pytest.mark.parametrize("value", [0.5, -0.3, 1.0])
def test_constant_signal_has_its_own_rule(value):
    with pytest.raises(DataError, match="constant signal") as info:
        features.extract(np.full(RATE, value), sample_rate_hz=RATE)
    assert "clipped" not in str(info.value)


# ---- the librosa route and backend agreement -------------------------------------------------------------------


@pytest.mark.parametrize("rms, expected_db", [(0.02, 60.0), (0.2, 80.0)])
def test_librosa_intensity_is_on_praats_scale(rms, expected_db):
    t = np.arange(RATE) / RATE
    x = rms * math.sqrt(2) * np.sin(2 * np.pi * 200.0 * t)
    cfg = FeaturesConfig(intensity_backend="librosa")
    assert features.extract(x, sample_rate_hz=RATE, config=cfg).intensity_db == pytest.approx(expected_db, abs=0.3)


def test_librosa_and_praat_intensity_agree_on_syllables():
    x, _ = syllable_train()
    praat = features.extract(x, sample_rate_hz=RATE).intensity_db
    rosa = features.extract(x, sample_rate_hz=RATE, config=FeaturesConfig(intensity_backend="librosa"))
    assert rosa.intensity_db == pytest.approx(praat, abs=1.0)


def _table(values: dict) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    base = {"utterance_id": [f"u{i}" for i in range(n)], "path": ["p"] * n}
    return pd.DataFrame({**base, **values})


def test_compare_backends_known_answers():
    a = _table({"f0_mean_hz": [100.0, 150.0, 190.0, 250.0], "intensity_db": [50.0, 59.5, 65.0, 70.0],
                "speech_rate_syl_per_s": [2.0, 3.0, 4.0, 5.0], "articulation_rate_syl_per_s": [3.0, 3.9, 5.0, 6.0]})
    b = a.copy()
    b["intensity_db"] = b["intensity_db"] + 1.0  # 59.5 -> 60.5 crosses the 60 dB cut: 3 of 4 in the same bin
    b["f0_mean_hz"] = [100.0, 150.0, 190.0, float("nan")]
    out = features.compare_backends(a, b.iloc[::-1], names=("praat", "librosa"))
    assert list(out.index) == ["pitch", "pitch2", "intensity", "speech_rate", "articulation_rate"]
    assert out.loc["intensity", "mean_difference"] == pytest.approx(1.0)
    assert out.loc["intensity", "pearson_r"] == pytest.approx(1.0)
    assert out.loc["intensity", "same_bin_fraction"] == pytest.approx(0.75)
    assert out.loc["pitch", "n_clips"] == 3 and out.loc["pitch", "same_bin_fraction"] == 1.0
    assert out.loc["speech_rate", "mean_abs_difference"] == 0.0 and out.loc["pitch", "n_bins"] == 4
    assert out.loc["pitch", "compared"] == "librosa vs praat"
    with pytest.raises(DataError, match="more than once"):
        features.compare_backends(a, pd.concat([a, a]))


# ---- batch hardening (issue 13) --------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["abc", '{"duration_s": 1.0, "f0_mean', "", "[1, 2]"])
def test_corrupt_cache_entries_are_recomputed(tmp_path, content):
    cfg = _cfg(tmp_path)
    path = _write(tmp_path / "a.wav", vowel(150.0))
    first = features.extract_table([path], config=cfg, n_jobs=1, progress=False)
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 1
    entries[0].write_text(content)
    again = features.extract_table([path], config=cfg, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(again, first)


def test_cache_entry_with_wrong_types_is_recomputed(tmp_path):
    import json

    cfg = _cfg(tmp_path)
    path = _write(tmp_path / "a.wav", vowel(150.0))
    first = features.extract_table([path], config=cfg, n_jobs=1, progress=False)
    entry = next((tmp_path / "cache").rglob("*.json"))
    record = json.loads(entry.read_text())
    entry.write_text(json.dumps({**record, "f0_mean_hz": "abc"}))
    pd.testing.assert_frame_equal(features.extract_table([path], config=cfg, n_jobs=1, progress=False), first)


def test_manifest_with_empty_path_or_bad_start_records_row_errors(tmp_path):
    good = _write(tmp_path / "good.wav", vowel(150.0))
    (tmp_path / "m.csv").write_text(
        "utterance_id,path,start_s,end_s\n"
        f"t/good,{good},,\n"
        "t/nopath,,,\n"
        f"t/badstart,{good},abc,\n"
        f"t/badend,{good},0.0,xyz\n")
    out = tmp_path / "out.csv"
    assert features.cli([str(tmp_path / "m.csv"), "-o", str(out), "-j", "1", "-q", "--no-cache"]) == 0
    table = pd.read_csv(out)
    assert list(table["utterance_id"]) == ["t/good", "t/nopath", "t/badstart", "t/badend"]
    assert pd.isna(table["error"].iloc[0])
    assert "row 1" in table["error"].iloc[1] and "path cell is empty" in table["error"].iloc[1]
    assert "row 2" in table["error"].iloc[2] and "start_s = 'abc'" in table["error"].iloc[2]
    assert "end_s = 'xyz'" in table["error"].iloc[3]


@pytest.mark.parametrize("output", ["x.txt", "afile.wav/out.parquet", "dir_out"])
def test_bad_output_is_rejected_before_extraction(tmp_path, monkeypatch, output):
    good = _write(tmp_path / "afile.wav", vowel(150.0))
    (tmp_path / "dir_out").mkdir()
    monkeypatch.setattr(features, "extract_table", lambda *a, **k: pytest.fail("extraction ran"))
    with pytest.raises(ParameterError, match="--output"):
        features.cli([good, "-o", str(tmp_path / output), "-j", "1", "-q"])


def test_progress_bar_off_when_asked_or_by_tqdm_disable(tmp_path, capfd, monkeypatch):
    paths = [_write(tmp_path / "a.wav", vowel(150.0))]
    features.extract_table(paths, config=_cfg(tmp_path), n_jobs=1, use_cache=False, progress=False)
    assert "features" not in capfd.readouterr().err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    features.extract_table(paths, config=_cfg(tmp_path), n_jobs=1, use_cache=False, progress=True)
    assert "features" not in capfd.readouterr().err
    monkeypatch.delenv("TQDM_DISABLE")
    features.extract_table(paths, config=_cfg(tmp_path), n_jobs=1, use_cache=False, progress=True)
    assert "features" in capfd.readouterr().err  # the bar itself (so the two checks above can fail)


def test_truncated_wav_is_a_row_error(tmp_path):
    whole = _write(tmp_path / "whole.wav", vowel(150.0), subtype="PCM_16")
    data = open(whole, "rb").read()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    table = features.extract_table([str(tmp_path / "cut.wav")], config=_cfg(tmp_path), n_jobs=1, progress=False)
    assert "cut.wav" in table["error"].iloc[0] and "truncated" in table["error"].iloc[0]


def _survivors(workers: list, *, timeout_s: float) -> list:
    """The processes of ``workers`` still running (not zombies) after up to ``timeout_s``; they are killed."""
    import time

    psutil = pytest.importorskip("psutil")
    deadline = time.time() + timeout_s
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.2)
        alive = [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    for w in alive:
        w.kill()
    return alive


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGKILL"])
def test_killing_the_cli_leaves_no_worker_running(tmp_path, signame):
    import os
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    clips = tmp_path / "clips"
    clips.mkdir()
    for i in range(40):  # voiced clips with the voice-quality measures: ~0.2 s each, so the run lasts seconds
        _write(clips / f"c{i:02d}.wav", vowel(100.0 + 5 * i, duration_s=4.0))
    env = dict(os.environ, TQDM_DISABLE="1")
    cache = tmp_path / "cache"
    proc = subprocess.Popen([sys.executable, "-m", "clapemo", "features", str(clips), "-o",
                             str(tmp_path / "o.parquet"), "-j", "2", "--set", f"features.cache_dir={cache}",
                             "--set", "features.voice_quality=true"], env=env, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    for _ in range(300):  # wait (at most 60 s) until the workers are measuring (their first clips are cached)
        time.sleep(0.2)
        if len(list(cache.rglob("*.json"))) >= 2 or proc.poll() is not None:
            break
    workers = parent.children(recursive=True)
    assert proc.poll() is None and len(workers) >= 2, "the worker pool never started"
    assert len(list(cache.rglob("*.json"))) < 40, "the run ended before it could be killed"
    proc.send_signal(getattr(signal, signame))
    proc.wait(timeout=60)
    alive = _survivors(workers, timeout_s=20)
    assert not alive, f"{len(alive)} worker processes outlived the killed CLI"



@pytest.mark.slow
def test_killing_the_cli_while_its_workers_start_leaves_none_behind(tmp_path):
    """Killed before any clip reached a worker: the workers are still importing, re-parented, and would sit idle
    forever (under loky, until its 300 s timeout): the executor's initializer checks the parent it was started by."""
    import os
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    clips = tmp_path / "clips"
    clips.mkdir()
    for i in range(8):
        _write(clips / f"c{i:02d}.wav", vowel(150.0))
    proc = subprocess.Popen([sys.executable, "-m", "clapemo", "features", str(clips), "-o",
                             str(tmp_path / "o.parquet"), "-j", "2", "-q", "--set",
                             f"features.cache_dir={tmp_path / 'cache'}"], env=dict(os.environ),
                            stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    workers: list = []
    for _ in range(600):  # kill as soon as a worker process exists (at most 60 s)
        time.sleep(0.1)
        workers = [w for w in parent.children(recursive=True) if "spawn_main" in " ".join(w.cmdline())]
        if workers or proc.poll() is not None:
            break
    assert proc.poll() is None and workers, "the worker pool never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    alive = _survivors(workers, timeout_s=30)
    assert not alive, f"{len(alive)} starting worker processes outlived the killed CLI"


# ---- real recorded speech with transcripts (tests/data_speech.py) ---------------------------------------------

import data_speech  # noqa: E402  (tests/ is on sys.path under pytest's rootdir conftest-less layout)

_SPEECH_SKIP = data_speech.missing_reason()


@pytest.fixture(scope="module")
def real_speech():
    """(clip, properties) of every real clip; with voice_quality, for the pause count (the other properties are
    the same with and without it)."""
    if _SPEECH_SKIP:
        pytest.skip(_SPEECH_SKIP)
    clips = data_speech.clips()
    return [(clip, features.extract(clip.path, config=FeaturesConfig(voice_quality=True))) for clip in clips]


def test_real_speech_syllable_counts_against_transcripts(real_speech):
    """Known gap of the published method (measured, faithful v2): see the per-clip figures in the assert."""
    figures = [(c.name, c.n_syllables, p.n_syllables) for c, p in real_speech]
    truth = np.array([t for _, t, _ in figures], dtype=float)
    ours = np.array([o for _, _, o in figures], dtype=float)
    # over all clips, the counts nearly cancel: total within 5 % of the transcripts' total
    assert abs(ours.sum() - truth.sum()) <= 0.05 * truth.sum(), figures
    # long read sentences (LibriVox, >= 4 s or >= 9 syllables): mean absolute error <= 10 % of the count
    long_ = truth >= 9
    assert np.mean(np.abs(ours - truth)[long_]) <= 0.10 * np.mean(truth[long_]), figures
    # every clip within 2 syllables; short clips (< 4 s) within 2 (the brief's "within 1" is not met, see below)
    assert np.all(np.abs(ours - truth) <= 2), figures


@pytest.mark.xfail(strict=True, reason="the published method's own gap: de Jong & Wempe v2 (the reference "
                                      "script tests/reference/syllable_nuclei_v2.praat counts the same on every "
                                      "clip) is off by 11 of 122 syllables (mean 9.0 % of the count; target 5 %) "
                                      "and by 2 on two short clips ('four queen of clubs', 'seven of clubs': 6 "
                                      "for 4, frication voiced by the script's 30-450 Hz, 0.25 voicing track)")
def test_real_speech_meets_the_strict_targets(real_speech):
    truth = np.array([c.n_syllables for c, _ in real_speech], dtype=float)
    ours = np.array([p.n_syllables for _, p in real_speech], dtype=float)
    short = np.array([p.duration_s < data_speech.SHORT_S for _, p in real_speech])
    assert np.mean(np.abs(ours - truth)) <= 0.05 * np.mean(truth)
    assert np.all(np.abs(ours - truth)[short] <= 1)


def test_real_speech_rates_on_long_clips(real_speech):
    for clip, props in real_speech:
        if clip.n_syllables < 9:
            continue
        # reference rates: transcript syllables over the clip's duration / over the measured phonation time
        assert props.speech_rate_syl_per_s == pytest.approx(clip.n_syllables / props.duration_s, rel=0.10)
        assert props.articulation_rate_syl_per_s == pytest.approx(clip.n_syllables / props.phonation_time_s,
                                                                  rel=0.10)
        assert 70.0 < props.f0_mean_hz < 200.0 and 55.0 < props.intensity_db < 85.0


def test_real_speech_dc_offset_and_backends(real_speech):
    import soundfile as sf

    clip, clean = real_speech[0]
    x, rate = sf.read(clip.path, dtype="float32")
    shifted = features.extract(x + 0.05, sample_rate_hz=rate)
    assert shifted.n_syllables == clean.n_syllables
    assert shifted.intensity_db == pytest.approx(clean.intensity_db, abs=0.01)
    assert shifted.f0_mean_hz == pytest.approx(clean.f0_mean_hz, rel=1e-3)
    rosa = features.extract(clip.path, config=FeaturesConfig(intensity_backend="librosa"))
    assert rosa.intensity_db == pytest.approx(clean.intensity_db, abs=1.5)


# ---- the reference script: de Jong & Wempe v2 run by Praat itself ---------------------------------------------

REFERENCE_SCRIPT = Path(__file__).parent / "reference" / "syllable_nuclei_v2.praat"
#: Synthetic clips for the script comparison: (groups, syllable_train keywords, config keywords).
SCRIPT_TRAINS = [((4, 3), {}, {}), ((2, 5), {}, {}), ((6,), {}, {}), ((1,), {}, {}), ((2,), {}, {}),
                 ((1, 1), {}, {}), ((3,), {"edge_s": 0.2}, {}), ((3, 3), {"pause_s": 0.2}, {}),
                 ((3, 3), {"pause_s": 0.2}, {"min_pause_s": 0.1}),
                 ((2, 2, 3), {"f0_hz": 220.0}, {"min_dip_db": 3.0})]


def _script_nuclei(sound, cfg: FeaturesConfig = FeaturesConfig()) -> tuple[int, float, int]:
    """(syllables, phonation time in s, pauses) of the reference Praat script on a parselmouth Sound."""
    from parselmouth.praat import run

    _, variables = run(sound, REFERENCE_SCRIPT.read_text(), cfg.silence_threshold_db, cfg.min_dip_db,
                       cfg.min_pause_s, return_variables=True)
    return int(variables["nsyll"]), float(variables["phonation_s"]), int(variables["npause"])


def _ours(props: features.AcousticProperties) -> tuple[int, float, int]:
    return props.n_syllables, props.phonation_time_s, round(props.pause_rate_per_s * props.duration_s)


@pytest.mark.parametrize("groups, train, settings", SCRIPT_TRAINS)
def test_port_equals_the_reference_script_on_syllable_trains(groups, train, settings):
    import parselmouth

    x, _ = syllable_train(groups, **train)
    cfg = FeaturesConfig(voice_quality=True, **settings)
    n_syll, phonation_s, n_pauses = _ours(features.extract(x, sample_rate_hz=RATE, config=cfg))
    script = _script_nuclei(parselmouth.Sound(x, sampling_frequency=float(RATE)), cfg)
    assert (n_syll, n_pauses) == (script[0], script[2])
    assert phonation_s == pytest.approx(script[1], abs=1e-9)


def test_port_equals_the_reference_script_on_real_speech(real_speech):
    """The script reads the file as Praat does (no DC removal, the file's own rate): our analysis choices
    (DC removal, the 16 kHz analysis rate, the arrays read without a Praat call) change no count."""
    import parselmouth

    rows = []
    for clip, props in real_speech:
        rows.append((clip.name, clip.n_syllables, _script_nuclei(parselmouth.Sound(clip.path)), _ours(props)))
    for name, _, script, ours in rows:
        assert (ours[0], ours[2]) == (script[0], script[2]), rows
        assert ours[1] == pytest.approx(script[1], abs=1e-9), (name, ours, script)


# ---- Praat's queries read from the objects' arrays (clapemo.features.contour, the fast path of the nuclei) -----


def _contours() -> list:
    """Intensity objects of clips with pauses, dips, noise and a steady tone (and a real clip if installed)."""
    import parselmouth

    rng = np.random.default_rng(7)
    signals = [syllable_train()[0], syllable_train((2, 5), dip_s=0.03)[0], vowel(150.0, duration_s=0.3),
               rng.normal(scale=0.05, size=RATE), vowel(220.0) * (rng.random(RATE) > 0.3)]
    sounds = [parselmouth.Sound(np.asarray(x, dtype=np.float64), sampling_frequency=float(RATE)) for x in signals]
    if not _SPEECH_SKIP:
        sounds.append(parselmouth.Sound(data_speech.clips()[-1].path))
    return [s.to_intensity(minimum_pitch=features.INTENSITY_MIN_PITCH_HZ, subtract_mean=True) for s in sounds]


def test_contour_queries_from_the_arrays_are_praats_bitwise():
    from parselmouth.praat import call

    rng = np.random.default_rng(0)
    for intensity in _contours():
        db = np.asarray(intensity.values[0], dtype=np.float64)
        x1, dx = intensity.x1, intensity.dx
        assert extremum_parabolic(db, maximum=True) == call(intensity, "Get maximum", 0, 0, "Parabolic")
        assert extremum_parabolic(db, maximum=False) == call(intensity, "Get minimum", 0, 0, "Parabolic")
        for q in (0.0, 0.01, 0.5, 0.9, 0.99, 1.0):
            assert quantile(db, q=q) == call(intensity, "Get quantile", 0, 0, q), q
        frames = x1 + dx * np.arange(db.size)
        windows = [tuple(sorted(rng.uniform(intensity.xmin - 0.05, intensity.xmax + 0.05, 2))) for _ in range(60)]
        windows += [(frames[i], frames[j]) for i, j in rng.integers(0, db.size, (30, 2)) if i < j]  # on frames
        windows += [(t, t + w * dx) for t, w in zip(rng.uniform(x1, frames[-1], 30), rng.uniform(0.05, 0.9, 30))]
        windows += [(intensity.xmax + 0.01, intensity.xmax + 0.02), (frames[3], frames[3] + 1e-9), (0.3, 0.2),
                    (x1 - 0.6 * dx, x1 - 0.1 * dx), (frames[-1] + 0.1 * dx, frames[-1] + 0.7 * dx)]
        for a, b in windows:  # wide, on frame times, narrower than a frame (no frame inside), outside, reversed
            ours = minimum_between(db, x1_s=x1, dx_s=dx, tmin_s=a, tmax_s=b)
            praat = call(intensity, "Get minimum", a, b, "None")
            assert ours == praat or (math.isnan(ours) and math.isnan(praat)), (a, b, ours, praat)


def test_sounding_lookup_follows_praats_interval_rule():
    from parselmouth.praat import call

    x, _ = syllable_train((2, 3, 2))
    import parselmouth

    intensity = parselmouth.Sound(x, sampling_frequency=float(RATE)).to_intensity(minimum_pitch=50.0)
    grid = call(intensity, "To TextGrid (silences)", -25.0, 0.3, 0.1, "silent", "sounding")
    starts = point_times_s(call(grid, "Get starting points", 1, "is equal to", "sounding"))
    ends = point_times_s(call(grid, "Get end points", 1, "is equal to", "sounding"))
    assert starts.size == 3
    bounds = [call(grid, "Get start time of interval", 1, i + 1)
              for i in range(call(grid, "Get number of intervals", 1))] + [grid.xmax]
    times = np.concatenate([bounds, np.linspace(grid.xmin, grid.xmax, 97)])  # every boundary exactly, and between
    ours = in_interval(times, starts_s=starts, ends_s=ends, grid_end_s=grid.xmax)
    praat = [call(grid, "Get label of interval", 1, call(grid, "Get interval at time", 1, t)) == "sounding"
             for t in times]
    assert list(ours) == praat
    assert not in_interval(times, starts_s=np.empty(0), ends_s=np.empty(0), grid_end_s=grid.xmax).any()
