"""Real corpus loaders on tiny fake trees in the official layouts (built by tests/fake_corpora.py)."""

from __future__ import annotations

import io
import math
import os
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fake_corpora as fc  # noqa: E402

from clapemo import datasets  # noqa: E402
from clapemo.emotions import EMOTIONS  # noqa: E402
from clapemo.errors import DataError, ParameterError  # noqa: E402

# the fake trees are partial (3 RAVDESS actors, 2 IEMOCAP sessions ...): the partial-tree warnings are asserted in
# their own tests (pytest.warns records them regardless of this filter)
pytestmark = pytest.mark.filterwarnings("ignore::clapemo.datasets.PartialCorpusWarning")

BUILDERS = {
    "ravdess": fc.make_ravdess, "cremad": fc.make_cremad, "iemocap": fc.make_iemocap, "meld": fc.make_meld,
    "mosi": fc.make_mosi, "mosei": fc.make_mosei, "clotho": fc.make_clotho, "audiocaps": fc.make_audiocaps,
    "macs": fc.make_macs, "fsd50k": fc.make_fsd50k,
}
EXPECTED_ROWS = {"ravdess": 24, "cremad": 12, "iemocap": 7, "meld": 7, "mosi": 5, "mosei": 4, "clotho": 20,
                 "audiocaps": 4, "macs": 5, "fsd50k": 3}


def _audio_module():
    try:
        from clapemo import audio
    except ImportError as err:  # pragma: no cover - only while clapemo/audio.py is being written
        pytest.skip(f"clapemo.audio is not available yet ({err})")
    return audio


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """One fake tree per corpus, built once for the read-only tests."""
    base = tmp_path_factory.mktemp("corpora")
    return {name: build(base / name) for name, build in BUILDERS.items()}


# ---- every corpus ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(BUILDERS))
def test_schema_counts_and_validation(trees, name):
    df = datasets.load(name, trees[name])
    assert list(df.columns[: len(datasets.COLUMNS)]) == list(datasets.COLUMNS)
    assert len(df) == EXPECTED_ROWS[name]
    assert df["utterance_id"].is_unique
    assert all(u.startswith(f"{name}/") for u in df["utterance_id"])
    assert (df["dataset"] == name).all()
    assert all(os.path.isabs(p) and os.path.isfile(p) for p in df["path"])
    assert df["start_s"].dtype == np.float64 and df["end_s"].dtype == np.float64
    assert set(df["split"]) <= {"train", "dev", "test", "Session1", "Session2"}
    caption_set = name in ("clotho", "audiocaps", "macs", "fsd50k")
    if caption_set:
        assert df.columns[len(datasets.COLUMNS)] == "caption"
        assert df["label"].isna().all() and df["raw_label"].isna().all()
        assert df["caption"].str.len().min() > 0
    else:
        assert set(df["label"]) <= set(EMOTIONS)
        assert df["raw_label"].notna().all()
    assert df.attrs["skipped"] == []
    back = pd.read_parquet(io.BytesIO(df.to_parquet(index=False)))  # every column survives parquet
    assert back["utterance_id"].tolist() == df["utterance_id"].tolist()


@pytest.mark.parametrize("name", list(BUILDERS))
def test_first_row_decodes_to_mono_at_any_rate(trees, name):
    _audio_module()
    row = datasets.load(name, trees[name]).iloc[0]
    x, rate = datasets.load_audio(row, sample_rate_hz=16000)
    assert rate == 16000 and x.dtype == np.float32 and x.ndim == 1 and len(x) > 0
    if not math.isnan(row["start_s"]):
        assert abs(len(x) - (row["end_s"] - row["start_s"]) * 16000) <= 2


@pytest.mark.parametrize("name", list(BUILDERS))
def test_missing_root_is_one_line_naming_corpus_and_place(tmp_path, name):
    where = tmp_path / "nowhere"
    with pytest.raises(DataError) as info:
        datasets.load(name, where)
    msg = str(info.value)
    assert msg.startswith(f"{name}: corpus folder not found: {where}") and "\n" not in msg


def test_unknown_name_and_option():
    with pytest.raises(ParameterError, match="known: ravdess, cremad, iemocap, meld, mosi, mosei, clotho"):
        datasets.load("emodb", "/x")
    with pytest.raises(ParameterError, match="unknown option 'four_clas'; accepted: four_class"):
        datasets.load("iemocap", "/x", four_clas=True)


def test_synth_names_delegate_to_synth_load(monkeypatch, tmp_path):
    calls = []
    stub = types.ModuleType("clapemo.synth")
    stub.load = lambda name, root: calls.append((name, root)) or "manifest"
    monkeypatch.setitem(sys.modules, "clapemo.synth", stub)
    import clapemo

    monkeypatch.setattr(clapemo, "synth", stub, raising=False)
    assert datasets.load("synth-ravdess", tmp_path) == "manifest"
    assert calls == [("synth-ravdess", tmp_path)]
    with pytest.raises(ParameterError, match="take no options"):
        datasets.load("synth-ravdess", tmp_path, four_class=True)


# ---- RAVDESS ---------------------------------------------------------------------------------------------------

def test_ravdess_labels_sex_folds_and_splits(trees):
    df = datasets.load("ravdess", trees["ravdess"])
    assert sorted(df["label"].unique()) == sorted(datasets.module("ravdess").LABEL_MAP.values())
    row = df.set_index("utterance_id").loc["ravdess/03-01-05-02-01-01-02"]
    assert (row["label"], row["raw_label"], row["sex"], row["speaker"]) == ("angry", "05", "female", "Actor_02")
    assert row["text"] == "Kids are talking by the door" and row["intensity"] == "strong"
    assert math.isnan(row["start_s"]) and math.isnan(row["end_s"])
    by_actor = df.groupby("speaker").agg(sex=("sex", "first"), fold=("fold", "first"), split=("split", "first"))
    assert by_actor.to_dict("index") == {
        "Actor_01": {"sex": "male", "fold": 4, "split": "train"},
        "Actor_02": {"sex": "female", "fold": 0, "split": "test"},  # default test fold 0 = {2,5,14,15,16}
        "Actor_03": {"sex": "male", "fold": 1, "split": "train"},
    }
    other = datasets.load("ravdess", trees["ravdess"], test_fold=4)
    assert set(other.loc[other["split"] == "test", "speaker"]) == {"Actor_01"}
    assert all(u.startswith("ravdess/03-01-") for u in df["utterance_id"])  # song and video files ignored


def test_ravdess_folds_cover_24_actors_once():
    folds = datasets.module("ravdess").FOLDS
    assert sorted(a for f in folds for a in f) == list(range(1, 25))


def test_ravdess_nested_release_folder(tmp_path):
    df = datasets.load("ravdess", fc.make_ravdess(tmp_path, actors=(5,), nested=True))
    assert len(df) == 8 and set(df["split"]) == {"test"}


@pytest.mark.parametrize("bad_name, expected", [
    ("03-01-05-01-02.wav", "expected MM-VV-EE-II-SS-RR-AA.wav"),
    ("03-01-09-01-01-01-01.wav", "emotion field '09'"),
    ("03-01-05-01-01-01-02.wav", "names actor 02 but lies in Actor_01"),
])
def test_ravdess_malformed_names_raise_naming_the_file(tmp_path, bad_name, expected):
    fc.make_ravdess(tmp_path, actors=(1,))
    fc.write_wav(tmp_path / "Actor_01" / bad_name)
    with pytest.raises(DataError, match=expected) as info:
        datasets.load("ravdess", tmp_path)
    assert bad_name in str(info.value)


def test_ravdess_bad_fold_and_empty_tree(tmp_path):
    with pytest.raises(ParameterError, match="test_fold=5"):
        datasets.load("ravdess", tmp_path, test_fold=5)
    with pytest.raises(DataError, match=r"ravdess: nothing usable under .*: no Actor_XX folder; "
                       r"expected Actor_01/"):
        datasets.load("ravdess", tmp_path)


# ---- CREMA-D ---------------------------------------------------------------------------------------------------

def test_cremad_labels_sex_and_split(trees):
    df = datasets.load("cremad", trees["cremad"])
    assert sorted(df["label"].unique()) == ["angry", "disgust", "fearful", "happy", "neutral", "sad"]
    assert df.groupby("speaker")["sex"].first().to_dict() == {"1001": "male", "1002": "female"}
    assert df.groupby("speaker")["split"].first().to_dict() == {"1001": "test", "1002": "train"}
    row = df.set_index("utterance_id").loc["cremad/1001_DFA_ANG_HI"]
    assert (row["raw_label"], row["text"], row["level"]) == ("ANG", "Don't forget a jacket", "high")


def test_cremad_without_demographics_has_no_sex(tmp_path):
    df = datasets.load("cremad", fc.make_cremad(tmp_path, demographics=False))
    assert df["sex"].isna().all() and len(df) == 12


def test_cremad_malformed_inputs(tmp_path):
    fc.make_cremad(tmp_path)
    fc.write_wav(tmp_path / "AudioWAV" / "1003_DFA_ANG_XX.wav")
    with pytest.raises(DataError, match="actor 1003 of 1003_DFA_ANG_XX.wav is not listed in"):
        datasets.load("cremad", tmp_path)
    (tmp_path / "AudioWAV" / "1003_DFA_ANG_XX.wav").unlink()
    fc.write_wav(tmp_path / "AudioWAV" / "1001_DFA_JOY_XX.wav")
    with pytest.raises(DataError, match=r"malformed file name .*1001_DFA_JOY_XX.wav.*EMO in"):
        datasets.load("cremad", tmp_path)


# ---- IEMOCAP ---------------------------------------------------------------------------------------------------

def test_iemocap_default_excludes_xxx_oth_and_maps_labels(trees):
    with pytest.warns(datasets.PartialCorpusWarning,
                      match=r"iemocap: partial tree under .*: missing sessions 3-5; loaded sessions 1-2"):
        df = datasets.load("iemocap", trees["iemocap"]).set_index("utterance_id")
    assert len(df) == 7 and not set(df["raw_label"]) & {"xxx", "oth"}
    assert df.loc["iemocap/Ses01F_impro01_M000", ["label", "raw_label", "sex", "speaker", "split"]].tolist() == [
        "excited", "exc", "male", "Ses01M", "Session1"]  # sex from the trailing letter, not the session prefix
    assert df.loc["iemocap/Ses02M_script01_1_F000", ["label", "sex", "split"]].tolist() == [
        "angry", "female", "Session2"]
    assert df.loc["iemocap/Ses01F_impro01_M001", "label"] == "frustrated"
    assert df.loc["iemocap/Ses02M_script01_1_M001", "label"] == "disgust"  # dis = Disgust (not disappointment)
    assert df.loc["iemocap/Ses01F_impro01_F000", "text"] == "Sentence number 0."
    assert df.loc["iemocap/Ses01F_impro01_F000", ["dialog_start_s", "valence", "dominance"]].tolist() == [
        0.25, 2.5, 3.5]
    assert df.loc["iemocap/Ses01F_impro01_F000", "path"].endswith(
        os.path.join("Session1", "sentences", "wav", "Ses01F_impro01", "Ses01F_impro01_F000.wav"))


def test_iemocap_four_class_and_keep_unlabelled(trees):
    four = datasets.load("iemocap", trees["iemocap"], four_class=True)
    assert sorted(four["label"]) == ["angry", "happy", "happy", "neutral", "sad"]
    assert sorted(four.loc[four["label"] == "happy", "raw_label"]) == ["exc", "hap"]
    every = datasets.load("iemocap", trees["iemocap"], keep_unlabelled=True)
    assert len(every) == 9 and every.loc[every["raw_label"].isin(["xxx", "oth"]), "label"].isna().all()


@pytest.mark.parametrize("line, expected", [
    ("[1.0 - 2.0]\tSes01F_impro01_F009\tneu", "malformed label line at .*Ses01F_impro01.txt:3"),
    ("[1.0 - 2.0]\tSes01F_impro01_F009\tjoy\t[2.0, 2.0, 2.0]", "unknown label 'joy' at .*Ses01F_impro01.txt:3"),
    ("[1.0 - 2.0]\tSes01F_impro01_X009\tneu\t[2.0, 2.0, 2.0]", "malformed utterance id 'Ses01F_impro01_X009'"),
])
def test_iemocap_malformed_lines_name_file_and_line(tmp_path, line, expected):
    fc.make_iemocap(tmp_path, lines=fc.IEMOCAP_LINES[:1])
    path = tmp_path / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + [line] + lines[2:]) + "\n")
    with pytest.raises(DataError, match=expected):
        datasets.load("iemocap", tmp_path)


def test_iemocap_missing_wav_is_a_data_error(tmp_path):
    fc.make_iemocap(tmp_path, lines=fc.IEMOCAP_LINES[:2])
    (tmp_path / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_M000.wav").unlink()
    with pytest.raises(DataError, match="1 audio file.* do not exist: .*Ses01F_impro01_M000.wav"):
        datasets.load("iemocap", tmp_path)


# ---- MELD ------------------------------------------------------------------------------------------------------

def test_meld_labels_splits_and_paths(trees):
    df = datasets.load("meld", trees["meld"]).set_index("utterance_id")
    assert df.loc["meld/train/dia0_utt1", ["label", "raw_label", "split", "speaker"]].tolist() == [
        "happy", "joy", "train", "Chandler"]
    assert df["split"].value_counts().to_dict() == {"train": 3, "dev": 2, "test": 2}
    assert sorted(df["label"]) == sorted(["neutral", "happy", "angry", "sad", "surprised", "fearful", "disgust"])
    assert df["sex"].isna().all() and df.loc["meld/test/dia1_utt0", "text"] == "Oh, hi 7!"
    assert all(p.endswith(".mp4") for p in df["path"])


def test_meld_mp4_decodes_through_audio_load(trees):
    audio = _audio_module()
    df = datasets.load("meld", trees["meld"])
    x, rate = audio.load(df["path"].iloc[0])
    assert rate == 16000 and x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) / rate - 0.3) < 0.1 and np.abs(x).max() > 0.1
    y, rate2 = datasets.load_audio(df.iloc[0], sample_rate_hz=8000)
    assert rate2 == 8000 and abs(len(y) - len(x) / 2) < 50


def test_meld_missing_clip_error_or_recorded_skip(tmp_path):
    fc.make_meld(tmp_path)
    (tmp_path / "dev_splits_complete" / "dia0_utt1.mp4").unlink()
    with pytest.raises(DataError, match=r"meld: 1 clip\(s\) .*dia0_utt1.mp4: missing.*missing='skip'"):
        datasets.load("meld", tmp_path)
    with pytest.warns(datasets.PartialCorpusWarning, match=r"left out 1 unusable clip\(s\) \(.*dia0_utt1.mp4: "
                      r"missing\)"):
        df = datasets.load("meld", tmp_path, missing="skip")
    assert len(df) == 6 and [s[0] for s in df.attrs["skipped"]] == ["meld/dev/dia0_utt1"]
    csv_path = tmp_path / "test_sent_emo.csv"
    csv_path.write_text(csv_path.read_text().replace("fear", "fright"))
    with pytest.raises(DataError, match=r"test_sent_emo.csv line 2: Emotion 'fright' is not one of"):
        datasets.load("meld", tmp_path, missing="skip")


def test_meld_check_audio_flags_a_broken_clip(tmp_path):
    fc.make_meld(tmp_path)
    (tmp_path / "train" / "train_splits" / "dia1_utt0.mp4").write_bytes(b"not an mp4 at all")
    assert len(datasets.load("meld", tmp_path)) == 7  # header not checked by default
    with pytest.raises(DataError, match="dia1_utt0.mp4: cannot be opened"):
        datasets.load("meld", tmp_path, check_audio=True)


# ---- CMU-MOSI / MOSEI ------------------------------------------------------------------------------------------

def test_mosi_segments_and_sentiment_rule(trees):
    df = datasets.load("mosi", trees["mosi"]).set_index("utterance_id")
    assert df["label"].to_dict() == {"mosi/vidA[0]": "negative", "mosi/vidA[1]": "neutral",
                                     "mosi/vidA[2]": "positive", "mosi/vidB[0]": "positive",
                                     "mosi/vidB[1]": "negative"}
    assert df.loc["mosi/vidA[2]", "raw_label"] == "1.2"
    assert df.loc["mosi/vidA[2]", "start_s"] == pytest.approx(1.2)
    assert df.loc["mosi/vidA[2]", "end_s"] == pytest.approx(1.9)
    assert df.groupby("video_id")["split"].nunique().max() == 1  # splits are per video
    assert df["sex"].isna().all() and df["path"].str.endswith("vidA.wav").sum() == 3
    banded = datasets.load("mosi", trees["mosi"], neutral_band=0.5)
    assert banded["label"].tolist() == ["negative", "neutral", "positive", "neutral", "neutral"]


def test_mosi_split_map_and_segment_audio(trees, tmp_path):
    df = datasets.load("mosi", trees["mosi"], split_map={"vidA": "test", "vidB": "train"})
    assert df.groupby("video_id")["split"].first().to_dict() == {"vidA": "test", "vidB": "train"}
    with pytest.raises(DataError, match="video 'vidB' has no entry in split_map"):
        datasets.load("mosi", trees["mosi"], split_map={"vidA": "test"})
    _audio_module()
    x, rate = datasets.load_audio(df.iloc[2])  # vidA [1.2, 1.9]
    assert rate == 16000 and abs(len(x) - 0.7 * 16000) <= 2


def test_mosi_malformed_csd_and_missing_audio(tmp_path):
    fc.make_mosi(tmp_path)
    fc.write_csd(tmp_path / "CMU_MOSI_Opinion_Labels.csd", sequence="Opinion Segment Labels",
                 data={"vidA": ([[0.5, 1.0]], [[0.0, 1.0]])})
    with pytest.raises(DataError, match=r"video 'vidA' features have shape \(1, 2\); expected \(n_segments, 1\)"):
        datasets.load("mosi", tmp_path)
    fc.write_csd(tmp_path / "CMU_MOSI_Opinion_Labels.csd", sequence="Opinion Segment Labels",
                 data={"vidA": ([[0.5]], [[1.0, 0.5]])})
    with pytest.raises(DataError, match=r"segment 0 has interval \[1.0, 0.5\]; expected 0 <= start < end"):
        datasets.load("mosi", tmp_path)
    fc.write_csd(tmp_path / "CMU_MOSI_Opinion_Labels.csd", sequence="Opinion Segment Labels",
                 data={"vidA": ([[0.5]], [[0.0, 0.5]]), "vidC": ([[0.5]], [[0.0, 0.5]])})
    with pytest.raises(DataError, match=r"1 audio file\(s\) named in the label .csd are absent .*vidC.wav"):
        datasets.load("mosi", tmp_path, missing="error")
    with pytest.warns(datasets.PartialCorpusWarning, match=r"missing videos vidC \(no \{video_id\}.wav in .*Full; "
                      r"left out 1 segment.*; loaded videos vidA"):
        df = datasets.load("mosi", tmp_path)  # the default: skip, recorded and named
    assert df["utterance_id"].tolist() == ["mosi/vidA[0]"] and df.attrs["skipped"][0][0] == "mosi/vidC[0]"
    (tmp_path / "CMU_MOSI_Opinion_Labels.csd").write_bytes(b"not hdf5")
    with pytest.raises(DataError, match="is not a readable HDF5 .csd file"):
        datasets.load("mosi", tmp_path)


def test_mosei_presence_rule(trees):
    df = datasets.load("mosei", trees["mosei"])
    assert df["label"].tolist() == ["angry", "neutral", "happy", "fearful"]
    assert df["raw_label"].tolist() == ["anger", "none", "happy", "fear"]
    assert df["n_top"].tolist() == [1, 0, 2, 1]  # the happy/sad tie is visible
    assert df["sentiment"].tolist() == pytest.approx([-1.0, 0.0, 0.5, -0.3])
    assert df["anger"].tolist() == pytest.approx([2.0, 0.0, 0.0, 0.0])
    assert datasets.load("mosei", trees["mosei"], min_presence=1.0)["label"].tolist() == [
        "angry", "neutral", "neutral", "fearful"]
    assert "disappointed" not in set(df["label"]) and "excited" not in set(df["label"])


# ---- caption sets ----------------------------------------------------------------------------------------------

def test_clotho_pairs(trees):
    df = datasets.load("clotho", trees["clotho"]).set_index("utterance_id")
    row = df.loc["clotho/development/a dog, barking.wav#2"]
    assert row["caption"] == "a dog, barking caption 2, with comma" and row["split"] == "train"
    assert df["split"].value_counts().to_dict() == {"train": 10, "dev": 5, "test": 5}
    assert df["caption_index"].tolist()[:5] == [1, 2, 3, 4, 5]


def test_clotho_empty_caption_and_parts(tmp_path):
    fc.make_clotho(tmp_path)
    assert len(datasets.load("clotho", tmp_path, parts=["evaluation"])) == 5
    p = tmp_path / "clotho_captions_validation.csv"
    p.write_text(p.read_text().replace('"birds caption 3, with comma"', '""'))
    with pytest.raises(DataError, match="captions_validation.csv line 2: caption_3 of 'birds.wav' is empty"):
        datasets.load("clotho", tmp_path)
    with pytest.raises(ParameterError, match="parts="):
        datasets.load("clotho", tmp_path, parts=["train"])


def test_audiocaps_pairs_segments_and_missing(tmp_path):
    fc.make_audiocaps(tmp_path)
    df = datasets.load("audiocaps", tmp_path).set_index("utterance_id")
    assert df.loc["audiocaps/97152", ["caption", "split", "youtube_id"]].tolist() == [
        "People cheer and clap", "dev", "rqfQRErjfk8"]
    assert df.loc["audiocaps/97151", "path"] == df.loc["audiocaps/97152", "path"]
    assert df["start_s"].isna().all()
    full = datasets.load("audiocaps", tmp_path, clip_s=10.0).set_index("utterance_id")
    assert full.loc["audiocaps/91139", ["start_s", "end_s"]].tolist() == [130.0, 140.0]
    (tmp_path / "audio" / "train" / "UDGBjjwyaqE.wav").unlink()
    with pytest.raises(DataError, match="audiocaps: 1 audio file.*UDGBjjwyaqE.wav"):
        datasets.load("audiocaps", tmp_path)
    with pytest.warns(UserWarning):
        assert len(datasets.load("audiocaps", tmp_path, missing="skip")) == 3
    with pytest.raises(ParameterError, match="missing='ignore'"):
        datasets.load("audiocaps", tmp_path, missing="ignore")


def test_macs_pairs_and_malformed_yaml(tmp_path):
    fc.make_macs(tmp_path)
    df = datasets.load("macs", tmp_path)
    assert df["utterance_id"].tolist()[:2] == ["macs/airport-barcelona-0-0-a#1", "macs/airport-barcelona-0-0-a#2"]
    assert df["caption"].iloc[3] == "birds singing in a park" and set(df["split"]) == {"train"}
    p = tmp_path / "MACS.yaml"
    p.write_text(p.read_text().replace("sentence: a busy hall, ", ""))
    with pytest.raises(DataError, match=r"files\[0\] \(airport-barcelona-0-0-a.wav\) annotation 3 has no"):
        datasets.load("macs", tmp_path)


def test_fsd50k_tag_captions_and_splits(tmp_path):
    fc.make_fsd50k(tmp_path)
    df = datasets.load("fsd50k", tmp_path).set_index("utterance_id")
    assert df.loc["fsd50k/dev/64760#1", "caption"] == "Electric guitar, Guitar, Music"
    assert df["split"].to_dict() == {"fsd50k/dev/64760#1": "train", "fsd50k/dev/16399#1": "dev",
                                     "fsd50k/eval/37199#1": "test"}
    assert df.loc["fsd50k/eval/37199#1", "caption"] == "Speech, Male speech and man speaking"
    p = tmp_path / "FSD50K.ground_truth" / "dev.csv"
    p.write_text(p.read_text().replace(",val\n", ",validation\n"))
    with pytest.raises(DataError, match="dev.csv line 3: split 'validation' is not one of"):
        datasets.load("fsd50k", tmp_path)


# ---- validation and CLI ----------------------------------------------------------------------------------------

def test_validate_manifest_rules(trees):
    df = datasets.load("cremad", trees["cremad"])
    datasets.validate_manifest(df, name="cremad")
    dup = pd.concat([df, df.iloc[:1]], ignore_index=True)
    with pytest.raises(DataError, match="utterance_id must be unique; repeated: 'cremad/1001_DFA_ANG_HI'"):
        datasets.validate_manifest(dup)
    bad = df.copy()
    bad.loc[0, "label"] = "joy"
    with pytest.raises(DataError, match="labels 'joy' are not in the canonical vocabulary"):
        datasets.validate_manifest(bad)
    bad = df.copy()
    bad.loc[0, "start_s"] = 1.0
    with pytest.raises(DataError, match="start_s/end_s must both be NaN"):
        datasets.validate_manifest(bad)
    with pytest.raises(DataError, match="columns must start with"):
        datasets.validate_manifest(df[list(reversed(df.columns))])


def test_cli_writes_parquet_and_reports_errors(trees, tmp_path, capsys):
    out = tmp_path / "m" / "ravdess.parquet"
    assert datasets.cli(["ravdess", str(trees["ravdess"]), "-o", str(out), "--option", "test_fold=1"]) == 0
    back = pd.read_parquet(out)
    assert len(back) == 24 and set(back.loc[back["split"] == "test", "speaker"]) == {"Actor_03"}
    assert "ravdess: 24 rows ->" in capsys.readouterr().out
    with pytest.raises(ParameterError, match="must look like key=value"):
        datasets.cli(["iemocap", str(trees["iemocap"]), "-o", str(out), "--option", "four_class"])
    from clapemo.cli import main

    assert main(["manifest", "cremad", str(tmp_path / "absent"), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("clapemo manifest: error: cremad: corpus folder not found") and "\n" not in err


def test_label_maps_against_the_papers_table_1():
    """Each corpus's canonical labels equal CORPUS_LABELS (Table 1) except the two documented differences."""
    from clapemo.emotions import CORPUS_LABELS

    diffs = {}
    for name, table in CORPUS_LABELS.items():
        ours = set(datasets.module(name).LABEL_MAP.values())
        assert ours <= set(EMOTIONS)
        if ours != set(table):
            diffs[name] = (sorted(ours - set(table)), sorted(set(table) - ours))
    assert diffs == {
        "iemocap": (["disgust"], ["disappointed"]),  # IEMOCAP's 'dis' is Disgust; Table 1 says "disappoint"
        "mosei": ([], ["excited", "frustrated"]),  # MOSEI is not annotated with these two
    }


# ---- partial trees (issue 12) ----------------------------------------------------------------------------------

def test_ravdess_partial_tree_warns_naming_absent_actors(tmp_path):
    fc.make_ravdess(tmp_path, actors=(1, 2, 3))
    with pytest.warns(datasets.PartialCorpusWarning, match=r"ravdess: partial tree under .*: missing actors 4-24; "
                      r"loaded actors 1-3$"):
        df = datasets.load("ravdess", tmp_path)
    assert len(df) == 24 and sorted(df["speaker"].unique()) == ["Actor_01", "Actor_02", "Actor_03"]


def test_cremad_partial_tree_and_nothing_usable(tmp_path):
    fc.make_cremad(tmp_path)
    with pytest.warns(datasets.PartialCorpusWarning, match=r"cremad: .*missing actors 1003-1091; loaded actors "
                      r"1001-1002"):
        assert len(datasets.load("cremad", tmp_path)) == 12
    with pytest.raises(DataError, match=r"cremad: nothing usable under .*: no AudioWAV/ folder; "
                       r"expected AudioWAV/"):
        datasets.load("cremad", tmp_path / "AudioWAV")


def test_iemocap_session_without_labels_is_named_and_nothing_usable_raises(tmp_path):
    fc.make_iemocap(tmp_path)
    (tmp_path / "Session3" / "sentences").mkdir(parents=True)  # a session folder with no label files
    with pytest.warns(datasets.PartialCorpusWarning, match=r"missing sessions 3-5 \(Session3 has no "
                      r"dialog/EmoEvaluation/Ses\*.txt\); loaded sessions 1-2"):
        df = datasets.load("iemocap", tmp_path)
    assert df.groupby("split")["fold"].unique().map(list).to_dict() == {"Session1": [1], "Session2": [2]}
    bare = tmp_path / "bare"
    (bare / "Session3" / "sentences").mkdir(parents=True)
    with pytest.raises(DataError, match=r"iemocap: nothing usable under .*bare: Session folders \[3\] hold no "
                       r"dialog/EmoEvaluation/Ses\*.txt; expected Session1/"):
        datasets.load("iemocap", bare)


def test_meld_with_only_the_train_split_loads_and_names_the_others(tmp_path):
    fc.make_meld(tmp_path, splits=("train",))
    with pytest.warns(datasets.PartialCorpusWarning, match=r"meld: partial tree under .*: missing splits dev, "
                      r"test \(dev: no dev_sent_emo.csv and no clip folder \(dev_splits_complete or "
                      r"dev/dev_splits_complete\); test: .*\); loaded splits train$"):
        df = datasets.load("meld", tmp_path)
    assert df["utterance_id"].tolist() == ["meld/train/dia0_utt0", "meld/train/dia0_utt1", "meld/train/dia1_utt0"]
    with pytest.raises(DataError, match=r"meld: split 'dev' was asked for but is absent under .*: "
                       r"no dev_sent_emo"):
        datasets.load("meld", tmp_path, splits=["train", "dev"])
    assert len(datasets.load("meld", tmp_path, splits=["train"])) == 3  # asked for what is there: no warning


def test_meld_csv_without_clip_folder_and_empty_tree(tmp_path):
    fc.make_meld(tmp_path)
    for clip in (tmp_path / "output_repeated_splits_test").iterdir():
        clip.unlink()
    (tmp_path / "output_repeated_splits_test").rmdir()
    with pytest.warns(datasets.PartialCorpusWarning, match=r"missing splits test \(test: no clip folder "
                      r"\(output_repeated_splits_test or test/output_repeated_splits_test\)\); loaded splits "
                      r"train, dev"):
        assert datasets.load("meld", tmp_path)["split"].value_counts().to_dict() == {"train": 3, "dev": 2}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"meld: nothing usable under .*empty: train: no train_sent_emo.csv .*; "
                       r"expected \{train,dev,test\}_sent_emo.csv"):
        datasets.load("meld", empty)


def test_clotho_parts_present_load(tmp_path):
    fc.make_clotho(tmp_path, parts=("evaluation",))
    with pytest.warns(datasets.PartialCorpusWarning, match=r"missing parts development, validation \(development: "
                      r"no clotho_captions_development.csv and no development/ audio folder; .*\); loaded parts "
                      r"evaluation"):
        df = datasets.load("clotho", tmp_path)
    assert len(df) == 5 and set(df["split"]) == {"test"}
    with pytest.raises(DataError, match="part 'development' was asked for but is absent"):
        datasets.load("clotho", tmp_path, parts=["development"])
    with pytest.raises(DataError, match="clotho: nothing usable under .*: no clotho_captions_development.csv"):
        datasets.load("clotho", tmp_path / "evaluation")


def test_fsd50k_and_audiocaps_parts_present_load(tmp_path):
    fc.make_fsd50k(tmp_path / "fsd", parts=("dev",))
    with pytest.warns(datasets.PartialCorpusWarning, match=r"missing parts eval \(eval: no "
                      r"FSD50K.ground_truth/eval.csv and no FSD50K.eval_audio/ folder\); loaded parts dev"):
        assert set(datasets.load("fsd50k", tmp_path / "fsd")["split"]) == {"train", "dev"}
    fc.make_audiocaps(tmp_path / "ac")
    (tmp_path / "ac" / "dataset" / "test.csv").unlink()
    with pytest.warns(datasets.PartialCorpusWarning, match=r"audiocaps: .*missing parts test \(csv files looked "
                      r"for in .*dataset\); loaded parts train, val"):
        assert len(datasets.load("audiocaps", tmp_path / "ac")) == 4
    with pytest.raises(DataError, match="audiocaps: part 'test' was asked for"):
        datasets.load("audiocaps", tmp_path / "ac", parts=["test"])


def test_mosei_without_any_audio_is_nothing_usable(tmp_path):
    fc.make_mosei(tmp_path)
    (tmp_path / "Raw" / "Audio" / "Full" / "WAV_16000" / "v-01_x.wav").unlink()
    with pytest.raises(DataError, match=r"mosei: nothing usable under .*: none of the 1 videos of the label .csd "
                       r"has its \{video_id\}.wav in .*WAV_16000; expected CMU_MOSEI_Labels.csd"):
        datasets.load("mosei", tmp_path)


@pytest.mark.parametrize("name, folds", [("ravdess", [0, 1, 4]), ("cremad", [0, 1]), ("iemocap", [1, 2])])
def test_corpora_with_folds_have_an_integer_fold_column(trees, name, folds):
    df = datasets.load(name, trees[name])
    assert df["fold"].dtype.kind == "i" and sorted(df["fold"].unique()) == folds


# ---- own corpus: folder + labels.csv ---------------------------------------------------------------------------

def test_folder_corpus_rows_labels_folds_and_segments(tmp_path):
    fc.make_folder(tmp_path, extra_header="arousal", extra_cells=("high", "mid", "low", "low", "mid"))
    df = datasets.load("folder", tmp_path, mapping={"joy": "happy"})
    assert df["utterance_id"].tolist() == ["folder/spk1/a.wav", "folder/spk1/b.wav", "folder/spk2/c.flac",
                                           "folder/spk2/long.wav[0.1-0.5]", "folder/spk2/long.wav[0.5-0.9]"]
    assert df["label"].tolist() == ["angry", "happy", "neutral", "sad", "sad"]
    assert df["raw_label"].tolist() == ["angry", "joy", "neutral", "sad", "Sad"]
    assert df["sex"].tolist() == ["female", "female", "male", "male", None]
    assert df["fold"].dtype.kind == "i" and df["fold"].tolist() == [0, 0, 1, 2, 2]
    assert df["split"].tolist() == ["test", "test", "train", "train", "train"]  # no split column: fold 0 is test
    assert df["arousal"].tolist() == ["high", "mid", "low", "low", "mid"] and list(df.columns[-2:]) == [
        "fold", "arousal"]
    assert df["start_s"].iloc[3] == pytest.approx(0.1) and math.isnan(df["start_s"].iloc[0])
    assert set(df["dataset"]) == {"folder"} and df["path"].iloc[2] == str((tmp_path / "spk2" / "c.flac").resolve())
    assert datasets.module("folder").label_set(df) == ("neutral", "happy", "sad", "angry")
    other = datasets.load("folder", tmp_path, mapping={"joy": "happy"}, test_fold=2)
    assert other["split"].tolist() == ["train", "train", "train", "test", "test"]
    with pytest.raises(DataError, match=r"labels.csv line 3: label 'joy' is neither a canonical emotion"):
        datasets.load("folder", tmp_path)


def test_folder_corpus_names_and_addressing(tmp_path):
    mine = fc.make_folder(tmp_path / "mycorpus", rows=fc.FOLDER_ROWS[:1])
    fc.make_folder(tmp_path / "other", rows=fc.FOLDER_ROWS[2:3], labels="meta.csv")
    a = datasets.load("mycorpus", mine)  # unknown name + root with labels.csv -> folder corpus of that name
    b = datasets.load("folder:second", tmp_path / "other", labels="meta.csv")
    c = datasets.load("folder", mine, name="third")
    assert (a["utterance_id"].tolist(), b["utterance_id"].tolist(), c["utterance_id"].tolist()) == (
        ["mycorpus/spk1/a.wav"], ["second/spk2/c.flac"], ["third/spk1/a.wav"])
    assert "fold" in a.columns and a["split"].tolist() == ["test"]
    with pytest.raises(ParameterError, match=r"unknown corpus name 'nocorpus'.*labels.csv is absent"):
        datasets.load("nocorpus", tmp_path / "other")
    assert datasets.load("fourth", tmp_path / "other", labels="meta.csv")["dataset"].tolist() == ["fourth"]
    with pytest.raises(ParameterError, match="folder corpus name='ravdess' must be"):
        datasets.load("folder", mine, name="ravdess")
    with pytest.raises(ParameterError, match="option name='x' differs"):
        datasets.load("mycorpus", mine, name="x")
    with pytest.raises(DataError, match=r"mine: nothing usable under .*: no labels file .*labels.csv; expected "
                       r"labels.csv \(columns path,label"):
        datasets.load("folder", tmp_path, name="mine")


@pytest.mark.parametrize("row, expected", [
    (("spk1/a.wav", "angry", "s1", "x", 0, "", ""), r"line 3: sex 'x' must be male/female"),
    (("spk1/a.wav", "rage", "s1", "", 0, "", ""), r"line 3: label 'rage' is neither a canonical emotion"),
    (("./spk1/a.wav", "sad", "s1", "", 0, "", ""), r"line 3: path './spk1/a.wav' .*repeats line 2"),
    (("../outside.wav", "sad", "s1", "", 0, "", ""), r"line 3: path '../outside.wav' must be relative to the "
                                                     r"root and stay inside it"),
    (("spk1/../../x.wav", "sad", "s1", "", 0, "", ""), r"line 3: path 'spk1/../../x.wav' must be relative"),
    (("/etc/passwd", "sad", "s1", "", 0, "", ""), r"line 3: path '/etc/passwd' must be relative"),
    (("spk1/b.wav", "sad", "s1", "", "one", "", ""), r"line 3: fold 'one' must be an integer >= 0"),
    (("spk1/b.wav", "sad", "s1", "", 0, "0.5", ""), r"line 3: start_s/end_s = 0.5/None: both empty"),
    (("spk1/b.wav", "sad", "s1", "", 0, "0.5", "0.2"), r"line 3: start_s/end_s = 0.5/0.2"),
])
def test_folder_corpus_rules_name_the_row(tmp_path, row, expected):
    fc.make_folder(tmp_path, rows=(fc.FOLDER_ROWS[0], row))
    with pytest.raises(DataError, match=expected):
        datasets.load("folder", tmp_path)


def test_folder_corpus_missing_audio_and_split_column(tmp_path):
    fc.make_folder(tmp_path, rows=fc.FOLDER_ROWS[:3])
    (tmp_path / "spk1" / "a.wav").unlink()
    with pytest.raises(DataError, match=r"labels.csv line 2: audio file .*a.wav does not exist"):
        datasets.load("folder", tmp_path, mapping={"joy": "happy"})
    mapping = tmp_path / "map.yaml"
    mapping.write_text("joy: happy\n")
    with pytest.warns(datasets.PartialCorpusWarning, match=r"missing 1 audio file\(s\) listed in labels.csv "
                      r"\(.*a.wav\); loaded 2 rows"):
        df = datasets.load("folder", tmp_path, mapping="map.yaml", missing="skip")
    assert df.attrs["skipped"] == [("folder/spk1/a.wav", f"{(tmp_path / 'spk1' / 'a.wav').resolve()}: missing")]
    (tmp_path / "labels.csv").write_text("path,label,split\nspk1/b.wav,happy,dev\nspk2/c.flac,calm,\n")
    with pytest.raises(DataError, match=r"line 3: split is empty"):
        datasets.load("folder", tmp_path)
    (tmp_path / "labels.csv").write_text("path,label,split\nspk1/b.wav,happy,dev\nspk2/c.flac,calm,test\n")
    df = datasets.load("folder", tmp_path)
    assert df["split"].tolist() == ["dev", "test"] and "fold" not in df.columns and df["speaker"].isna().all()
