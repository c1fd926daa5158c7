"""clapemo.synth: determinism, label sets, voices' sex, splits, the RAVDESS/CREMA-D twins through the real loaders,
the shared manifest validation, and that intended prosody shows up in the audio."""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from clapemo import synth
from clapemo.config import SynthConfig
from clapemo.emotions import CORPUS_LABELS
from clapemo.errors import ConfigError, DataError, ParameterError


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return synth.generate(root=tmp_path_factory.mktemp("synth"), config=SynthConfig(profile="tiny", n_jobs=1),
                          progress=False)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_generate_returns_profile_folder_with_every_corpus(tiny):
    assert tiny.name == "tiny"
    for corpus in synth.CORPORA:
        assert (tiny / corpus / "manifest.csv").is_file()
        assert (tiny / corpus / synth.MARKER).is_file()


def test_same_seed_gives_identical_bytes_across_processes(tiny, tmp_path):
    # rendered again in two spawned worker processes, in a different chunk order than the in-process fixture
    again = synth.generate(root=tmp_path, config=SynthConfig(profile="tiny", n_jobs=2,
                                                             corpora=["synth-ravdess", "synth-cremad",
                                                                      "synth-4d"]), progress=False)
    for corpus in ("synth-ravdess", "synth-cremad", "synth-4d"):
        assert _digest(again / corpus) == _digest(tiny / corpus)


@pytest.mark.slow
def test_default_mosei_twin_bytes_do_not_depend_on_the_workers(tmp_path):
    """The default MOSEI twin holds clips whose espeak-ng rendering depends on what the rendering process did
    before (the state survives reseeding and re-initialisation); with a fresh process per chunk, 1 and 2 workers
    give the same bytes. Before generator v4, two parallel runs differed in ~200 of its 700 WAVs."""
    config = {"profile": "default", "corpora": ["synth-mosei"]}
    one = synth.generate(root=tmp_path / "one", config=SynthConfig(n_jobs=1, **config), progress=False)
    two = synth.generate(root=tmp_path / "two", config=SynthConfig(n_jobs=2, **config), progress=False)
    assert _digest(one / "synth-mosei") == _digest(two / "synth-mosei")


def test_other_seed_gives_other_audio(tiny, tmp_path):
    other = synth.generate(root=tmp_path, config=SynthConfig(profile="tiny", seed=1, n_jobs=1,
                                                             corpora=["synth-mosi"]), progress=False)
    assert _digest(other / "synth-mosi")["manifest.csv"] != _digest(tiny / "synth-mosi")["manifest.csv"]


def test_rerun_is_skipped(tiny):
    before = {p: p.stat().st_mtime_ns for p in tiny.rglob("manifest.csv")}
    synth.generate(root=tiny.parent, config=SynthConfig(profile="tiny", n_jobs=1), progress=False)
    assert {p: p.stat().st_mtime_ns for p in tiny.rglob("manifest.csv")} == before


@pytest.mark.parametrize("corpus", synth.SPEECH_CORPORA)
def test_manifest_schema_labels_and_splits(tiny, corpus):
    frame = synth.load(corpus, tiny)
    assert list(frame.columns[:11]) == synth.SCHEMA
    assert (frame["dataset"] == corpus).all()
    assert frame["utterance_id"].is_unique and frame["utterance_id"].str.startswith(corpus + "/").all()
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in frame["path"])
    labels = set(CORPUS_LABELS[corpus.removeprefix("synth-")])
    assert set(frame["label"]) == labels  # the tiny profile covers every label
    assert set(frame["split"]) == {"train", "test"}
    train = set(frame.loc[frame["split"] == "train", "speaker"])
    test = set(frame.loc[frame["split"] == "test", "speaker"])
    assert train and test and not train & test  # speaker-independent
    assert frame["start_s"].isna().all() and frame["end_s"].isna().all()
    assert (frame["n_syllables_text"] > 0).all()
    assert frame["text"].map(lambda t: isinstance(t, str) and len(t) > 5).all()


def test_ravdess_twin_has_calm_real_file_names_and_folds(tiny):
    frame = synth.load("synth-ravdess", tiny)
    assert "calm" in set(frame["label"])
    names = frame["path"].map(lambda p: Path(p).name)
    assert names.str.fullmatch(r"03-01-0[1-8]-0[12]-0[12]-0[12]-\d\d\.wav").all()
    actor = names.str[-6:-4].astype(int)
    assert ((actor % 2 == 1) == (frame["sex"] == "male")).all()  # RAVDESS: odd actors are male
    assert set(frame.loc[frame["split"] == "test", "fold"]) == {0}


@pytest.mark.parametrize("corpus,real", [("synth-ravdess", "ravdess"), ("synth-cremad", "cremad")])
def test_twin_loads_through_the_real_loader_with_same_clips_and_labels(tiny, corpus, real):
    from clapemo import datasets

    twin = synth.load(corpus, tiny)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tiny twin has only some of the real actors (a partial tree)
        loaded = datasets.load(real, tiny / corpus)

    def by_stem(frame):
        return frame.set_index(frame["utterance_id"].str.split("/", n=1).str[1]).sort_index()

    twin, loaded = by_stem(twin), by_stem(loaded)
    assert len(twin) > 0 and list(twin.index) == list(loaded.index)
    for col in ("path", "label", "raw_label", "speaker", "sex", "text", "split"):
        assert twin[col].tolist() == loaded[col].tolist(), col
    assert twin["fold"].tolist() == loaded["fold"].tolist()  # the real loader's speaker folds (int)
    assert set(twin["split"]) == {"train", "test"}


def test_twin_texts_are_the_real_corpus_sentences(tiny):
    from clapemo.datasets import cremad, ravdess

    assert set(synth.load("synth-ravdess", tiny)["text"]) <= set(ravdess.STATEMENTS.values())
    frame = synth.load("synth-cremad", tiny)
    codes = frame["utterance_id"].str.split("_").str[1]
    assert [cremad.SENTENCES[c] for c in codes] == frame["text"].tolist()
    assert (tiny / "synth-cremad" / "VideoDemographics.csv").read_text().splitlines()[0] == "ActorID,Sex"


@pytest.mark.parametrize("cell,rule", [("../../../../../etc/hostname", "inside the corpus folder"),
                                       ("wav/nothing-here.wav", "do not exist")])
def test_load_rejects_a_tampered_manifest(tiny, tmp_path, cell, rule):
    import pandas as pd

    shutil.copytree(tiny / "synth-mosi", tmp_path / "synth-mosi")
    manifest = tmp_path / "synth-mosi" / "manifest.csv"
    frame = pd.read_csv(manifest, dtype=str)
    frame.loc[1, "path"] = cell
    frame.to_csv(manifest, index=False)
    with pytest.raises(DataError) as info:
        synth.load("synth-mosi", tmp_path)
    assert str(manifest) in str(info.value) and frame.loc[1, "utterance_id"] in str(info.value)
    assert rule in str(info.value)


def test_caption_set(tiny):
    frame = synth.load("synth-4d", tiny)
    assert frame["label"].isna().all()
    assert frame["caption"].map(lambda c: isinstance(c, str) and len(c.split()) >= 3).all()


def test_voices_have_known_sex(tiny):
    for corpus in synth.SPEECH_CORPORA:
        frame = synth.load(corpus, tiny)
        for voice, sex in zip(frame["voice"], frame["sex"]):
            assert (voice in synth.MALE_VOICES and sex == "male") or (voice in synth.FEMALE_VOICES
                                                                       and sex == "female")


def test_sample_rates_differ_like_real_corpora(tiny):
    import soundfile as sf

    rates = {c: sf.info(synth.load(c, tiny)["path"].iloc[0]).samplerate for c in synth.CORPORA}
    assert rates["synth-ravdess"] == 48000 and rates["synth-cremad"] == 16000 and rates["synth-iemocap"] == 16000
    assert len(set(rates.values())) >= 5
    assert sf.info(synth.load("synth-mosi", tiny)["path"].iloc[0]).subtype == "PCM_16"


def test_load_errors_name_corpus_and_folder(tmp_path):
    with pytest.raises(DataError, match=r"synth-ravdess.*" + str(tmp_path).replace("\\", "\\\\")):
        synth.load("synth-ravdess", tmp_path)
    with pytest.raises(DataError, match="unknown synthetic corpus"):
        synth.load("synth-nope", tmp_path)
    with pytest.raises(ParameterError, match="synth.corpora"):
        synth.generate(root=tmp_path, config=SynthConfig(corpora=["ravdess"]))


def test_plan_is_deterministic_and_voices_mostly_disjoint():
    a = synth.plan_corpus("synth-cremad", profile="default", seed=0)
    b = synth.plan_corpus("synth-cremad", profile="default", seed=0)
    assert a == b
    voices = {}
    used: dict = {}
    for corpus in synth.VOICE_ORDER:  # the order generate() allocates voices in
        rows = synth.plan_corpus(corpus, profile="default", seed=0, used=used)
        voices[corpus] = {r["plan"]["espeak_voice"] for r in rows}
    for i, c1 in enumerate(synth.SPEECH_CORPORA):
        for c2 in synth.SPEECH_CORPORA[i + 1:]:
            shared = voices[c1] & voices[c2]
            assert len(shared) <= 0.25 * min(len(voices[c1]), len(voices[c2])), (c1, c2, shared)


@pytest.mark.parametrize("text,n", [("Kids are talking by the door", 7), ("the", 1), ("table", 2),
                                    ("walked", 1), ("boxes", 2), ("The bus leaves at half past nine.", 7),
                                    ("I cannot remember where I put the keys.", 11)])
def test_count_syllables(text, n):
    assert synth.count_syllables(text) == n


def test_espeak_pitch_mapping_is_monotonic_and_clamped():
    values = [synth.espeak_pitch(s) for s in np.linspace(-12, 12, 25)]
    assert values == sorted(values) and values[0] == 0.0 and values[-1] == 100.0
    assert synth.espeak_pitch(0.0) == pytest.approx(50.0)


# ---- the intended prosody is measurable in the audio --------------------------------------------------------
def _variant(row: dict, **plan_changes) -> dict:
    out = copy.deepcopy(row)
    for key, value in plan_changes.items():
        if key == "level_db":
            out["plan"]["gt"]["intended_level_db"] = value
        else:
            out["plan"][key] = value
    return out


@pytest.fixture(scope="module")
def base_row() -> dict:
    row = synth.plan_corpus("synth-ravdess", profile="tiny", seed=0)[0]
    return _variant(row, ssml="<speak>The papers are on the kitchen table near the window.</speak>")


def _props(row: dict):
    features = pytest.importorskip("clapemo.features")
    audio, rate = synth.render(row)
    return features.extract(audio.astype(np.float32) / 32768, sample_rate_hz=rate), len(audio) / rate


@pytest.mark.parametrize("voice", ["en-us+m3", "en-us+f2"])
def test_higher_pitch_gives_higher_mean_f0(base_row, voice):
    low, _ = _props(_variant(base_row, espeak_voice=voice, espeak_pitch=25))
    high, _ = _props(_variant(base_row, espeak_voice=voice, espeak_pitch=75))
    assert high.f0_mean_hz > low.f0_mean_hz * 1.3


def test_faster_rate_gives_shorter_clip(base_row):
    slow, slow_s = _props(_variant(base_row, espeak_rate_wpm=120))
    fast, fast_s = _props(_variant(base_row, espeak_rate_wpm=240))
    assert fast_s < slow_s - 1.0
    assert fast.speech_rate_syl_per_s > slow.speech_rate_syl_per_s


def test_louder_gives_higher_intensity(base_row):
    soft, _ = _props(_variant(base_row, level_db=54.0))
    loud, _ = _props(_variant(base_row, level_db=70.0))
    assert loud.intensity_db > soft.intensity_db + 10


def test_cli(tmp_path, capsys):
    assert synth.cli(["--profile", "tiny", "-o", str(tmp_path), "--corpora", "synth-mosi", "--n-jobs", "1",
                      "--quiet"]) == 0
    assert "synth-mosi" in capsys.readouterr().out
    assert (tmp_path / "tiny" / "synth-mosi" / "manifest.csv").is_file()
    # the same from the config options: synth section and data.synth_root, flags still win
    other = tmp_path / "from-config"
    assert synth.cli(["--set", "synth.profile=tiny", "--set", f"data.synth_root={other}",
                      "--set", "synth.n_jobs=1", "--corpora", "synth-mosi", "--quiet"]) == 0
    assert (other / "tiny" / "synth-mosi" / ".complete").is_file()
    with pytest.raises(ConfigError, match="synth.profile"):
        synth.cli(["--set", "synth.profile=huge", "--quiet"])


def test_a_benchmark_of_an_older_generator_is_named_and_regenerated(tmp_path):
    """Data written by another generator version is never read as if current: load names the rule, and the
    pipeline (corpora.manifest) regenerates the corpus."""
    import json

    from clapemo import corpora
    from clapemo.config import SynthConfig, load_config

    config = SynthConfig(profile="tiny", corpora=["synth-mosi"], n_jobs=1)
    out = synth.generate(root=tmp_path, config=config, progress=False)
    marker = out / "synth-mosi" / synth.MARKER
    assert synth.is_current(out / "synth-mosi", config)
    stamp = json.loads(marker.read_text())
    marker.write_text(json.dumps({**stamp, "generator_version": synth.GENERATOR_VERSION - 1}))
    assert not synth.is_current(out / "synth-mosi", config)
    with pytest.raises(DataError, match=f"generator version {synth.GENERATOR_VERSION - 1}.*regenerate"):
        synth.load("synth-mosi", out)
    cfg = load_config(overrides=[f"data.synth_root={tmp_path}", "synth.profile=tiny", "synth.n_jobs=1"])
    assert len(corpora.manifest(["synth-mosi"], cfg)) == 8
    assert synth.is_current(out / "synth-mosi", config)
