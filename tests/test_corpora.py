"""clapemo.corpora (and clapemo.train.pairs): manifests, splits, feature errors, prompt columns.

Upstream loaders and feature extraction are replaced by small fakes with known answers; the real prompts module is
used. An end-to-end check on the generated tiny benchmark is marked slow.
"""

import math

import numpy as np
import pandas as pd
import pytest

from clapemo import corpora, features, synth, train
from clapemo.config import load_config, replace
from clapemo.errors import ConfigError, DataError, ParameterError
from clapemo.schema import MANIFEST_COLUMNS, PROMPT_KINDS, PROPERTY_COLUMNS

COLUMNS = list(MANIFEST_COLUMNS)


def fake_manifest(name):
    rows = []
    if name == "synth-4d":
        for i in range(3):
            rows.append(dict(utterance_id=f"{name}/{i}", path=f"/x/{name}/{i}.wav", dataset=name, speaker=None,
                             sex=None, label=None, raw_label=None, text=None, start_s=math.nan, end_s=math.nan,
                             split="train" if i < 2 else "test", caption=f"a dog barks {i} times"))
        return pd.DataFrame(rows)
    if name == "synth-iemocap":
        labels = ["happy", "excited", "frustrated", "sad", "angry", "neutral"]
        splits = ["train", "train", "train", "test", "train", "test"]
    elif name == "synth-folds":
        labels = ["angry", "sad", "happy", "neutral"]
        splits = ["fold0", "fold1", "fold2", "fold0"]
    else:
        labels = ["angry", "sad", "happy", "neutral", "calm"]
        splits = ["train", "train", "train", "test", None]
    for i, (lab, sp) in enumerate(zip(labels, splits)):
        rows.append(dict(utterance_id=f"{name}/{i}", path=f"/x/{name}/{i}.wav", dataset=name, speaker=f"s{i % 2}",
                         sex="male" if i % 2 else "female", label=lab, raw_label=lab[:3], text="kids are talking",
                         start_s=math.nan, end_s=math.nan, split=sp))
    return pd.DataFrame(rows, columns=COLUMNS)


def fake_extract_table(manifest, *, config=None, n_jobs=1):
    """Properties with known bins: even rows low/slow, odd rows high/fast; row 1 of each corpus fails."""
    out = []
    for i, uid in enumerate(manifest["utterance_id"]):
        k = int(uid.rsplit("/", 1)[1])
        err = "no voiced frames" if k == 1 else None
        high = k % 2 == 1
        props = dict(duration_s=2.0, f0_mean_hz=250.0 if high else 100.0, intensity_db=70.0 if high else 50.0,
                     speech_rate_syl_per_s=5.0 if high else 2.0, articulation_rate_syl_per_s=6.0 if high else 3.0,
                     n_syllables=8, phonation_time_s=1.5, voiced_fraction=0.5)
        if err:
            props = {key: math.nan for key in props}
        out.append(dict(utterance_id=uid, path=manifest["path"].iloc[i], **props, error=err))
    return pd.DataFrame(out)


@pytest.fixture
def generated():
    return []


@pytest.fixture
def cfg(tmp_path, monkeypatch, generated):
    monkeypatch.setattr(synth, "load", lambda name, root: fake_manifest(name))
    monkeypatch.setattr(synth, "generate", lambda *, root, config, progress=True: generated.append(config))
    monkeypatch.setattr(features, "extract_table", fake_extract_table)
    config = replace(load_config(None), **{"data.synth_root": str(tmp_path / "synth"), "synth.profile": "tiny"})
    for name in ("synth-ravdess", "synth-iemocap", "synth-4d", "synth-folds"):
        (tmp_path / "synth" / "tiny" / name).mkdir(parents=True)
        (tmp_path / "synth" / "tiny" / name / synth.MARKER).write_text("{}")
    return config


def test_manifest_concatenates_and_selects_splits(cfg):
    m = corpora.manifest(["synth-ravdess", "synth-4d"], cfg)
    assert list(m.columns[:len(COLUMNS)]) == COLUMNS and len(m) == 5 + 3
    assert m.index.tolist() == list(range(8))
    train_ids = corpora.manifest(["ravdess"], cfg, split="train")["utterance_id"].tolist()  # bare name -> synth-
    # a missing split counts as train
    assert train_ids == ["synth-ravdess/0", "synth-ravdess/1", "synth-ravdess/2", "synth-ravdess/4"]
    assert corpora.manifest("synth-ravdess", cfg, split="test")["utterance_id"].tolist() == ["synth-ravdess/3"]
    with pytest.raises(ParameterError, match="split = 'valid'"):
        corpora.manifest("synth-ravdess", cfg, split="valid")


def test_fold_style_splits_use_test_fold(cfg):
    assert corpora.manifest("synth-folds", cfg, split="test")["utterance_id"].tolist() == \
        ["synth-folds/0", "synth-folds/3"]  # first fold in sorted order
    c2 = replace(cfg, **{"data.test_fold": 2})
    assert corpora.manifest("synth-folds", c2, split="test")["utterance_id"].tolist() == ["synth-folds/2"]
    assert len(corpora.manifest("synth-folds", c2, split="train")) == 3
    assert corpora.manifest("synth-folds", cfg, split="fold1")["utterance_id"].tolist() == ["synth-folds/1"]
    with pytest.raises(ConfigError, match="test_fold"):
        corpora.manifest("synth-folds", replace(cfg, **{"data.test_fold": 9}), split="test")


def test_iemocap_four_class(cfg):
    m = corpora.manifest("synth-iemocap", cfg)
    assert m["label"].tolist() == ["happy", "happy", "sad", "angry", "neutral"]  # excited merged, frustrated out
    assert m["raw_label"].tolist()[1] == "exc"
    m9 = corpora.manifest("synth-iemocap", replace(cfg, **{"data.iemocap_four_class": False}))
    assert len(m9) == 6


def test_missing_corpus_is_generated_and_real_names_need_roots(cfg, generated):
    corpora.manifest("synth-mosi", cfg)
    assert [c.corpora for c in generated] == [["synth-mosi"]]
    with pytest.raises(ConfigError, match="'data.roots'"):
        corpora.manifest("ravdess", replace(cfg, **{"data.source": "real"}))


def test_duplicate_utterance_ids_are_an_error(cfg):
    with pytest.raises(DataError, match="not unique"):
        corpora.manifest(["synth-ravdess", "synth-ravdess"], cfg)


def test_annotated_keeps_feature_errors_with_class_label_only(cfg, caplog):
    with caplog.at_level("WARNING"):
        t = corpora.annotated(["synth-ravdess", "synth-4d"], cfg)
    assert "1 of 5 clips have a feature error" in caplog.text
    assert len(t) == 8  # nothing dropped
    row = t.set_index("utterance_id").loc["synth-ravdess/1"]  # the failing clip
    assert row["error"] == "no voiced frames" and row["class_label"] == "sad"
    assert all(row[k] is None for k in ("pitch", "pitch2", "intensity", "speech_rate", "articulation_rate"))
    ok = t.set_index("utterance_id").loc["synth-ravdess/0"]  # low/slow clip of "angry"
    assert ok["error"] is None
    assert ok["pitch"] == "low male pitch anger" and ok["intensity"] == "low intensity anger"
    assert ok["speech_rate"] == "low speech rate anger"
    assert ok["articulation_rate"] == "low articulation rate anger"
    cap = t.set_index("utterance_id").loc["synth-4d/0"]
    assert cap["class_label"] is None and cap["error"] is None and np.isnan(cap["f0_mean_hz"])
    expected = COLUMNS + ["caption"] + list(PROPERTY_COLUMNS) + ["error"] + list(PROMPT_KINDS)
    assert list(t.columns) == expected


def test_pairs_augment_class_label_and_captions(cfg):
    c = replace(cfg, **{"train.corpora": ["synth-ravdess"], "train.prompt_kind": "augment"})
    index, texts = train.pairs(c, split="train")
    assert index["prompt"].tolist() == texts
    per_clip = index.groupby("utterance_id", sort=False)["prompt_kind"].apply(list).to_dict()
    assert per_clip["synth-ravdess/0"] == list(train.AUGMENT_KINDS)
    assert per_clip["synth-ravdess/1"] == ["class_label"]  # feature error: only its class-label prompt
    assert per_clip["synth-4d/0"] == ["caption"] and "synth-4d/2" not in per_clip  # test split left out
    assert texts[:5] == ["anger", "low male pitch anger", "low intensity anger", "low speech rate anger",
                         "low articulation rate anger"]
    clip_index = index["clip_index"].tolist()
    assert clip_index == sorted(clip_index) and clip_index[-1] == len(per_clip) - 1
    # single kind: clips without that prompt give no pair
    index1, _ = train.pairs(replace(c, **{"train.prompt_kind": "pitch", "train.include_4d": False}))
    assert index1["utterance_id"].tolist() == ["synth-ravdess/0", "synth-ravdess/2", "synth-ravdess/4"]
    assert train.training_corpora(c) == ["synth-ravdess", "synth-4d"]


def test_test_fold_per_corpus_mapping(cfg):
    c = replace(cfg, **{"data.test_fold": {"folds": 1}})  # bare name of synth-folds
    assert corpora.manifest("synth-folds", c, split="test")["utterance_id"].tolist() == ["synth-folds/1"]
    with pytest.raises(ConfigError, match="data.test_fold"):
        replace(cfg, **{"data.test_fold": {"folds": "one"}})


def test_test_fold_resplits_the_twins_like_the_real_corpora(tmp_path):
    """data.test_fold (an int, or per corpus) moves the test split of the RAVDESS/CREMA-D twins to that fold."""
    from clapemo.config import SynthConfig

    synth.generate(root=tmp_path, config=SynthConfig(profile="tiny", corpora=["synth-cremad"], n_jobs=1),
                   progress=False)
    base = [f"data.synth_root={tmp_path}", "synth.profile=tiny"]
    default = corpora.manifest(["synth-cremad"], load_config(overrides=base))
    assert default["fold"].map(type).eq(int).all()
    assert set(default.loc[default["split"] == "test", "fold"]) == {0}
    moved = corpora.manifest(["synth-cremad"], load_config(overrides=[*base, "data.test_fold={cremad: 2}"]))
    assert set(moved.loc[moved["split"] == "test", "fold"]) == {2}
    assert set(moved.loc[moved["split"] == "train", "fold"]) == set(default["fold"]) - {2}


def test_select_split_is_the_manifest_rule_and_the_book_fits_its_cuts_on_it():
    """A missing split is training data, and fold-style splits hold out their first fold: the book's cuts are
    fitted on the rows training uses (it used split == "train", which left out rows without a split)."""
    from clapemo.book import views
    from clapemo.prompts import fit_thresholds

    cfg = replace(load_config(None), **{"prompts.binning": "quantile"})
    table = pd.DataFrame({
        "utterance_id": [f"u{i}" for i in range(8)], "dataset": ["a"] * 4 + ["b"] * 4, "label": "angry",
        "split": ["train", None, "test", "train", "s1", "s2", "s3", "s1"],
        "f0_mean_hz": [100.0, 300.0, 999.0, 120.0, 999.0, 140.0, 160.0, 999.0],
        "intensity_db": [50.0, 70.0, 99.0, 55.0, 99.0, 60.0, 65.0, 99.0],
        "speech_rate_syl_per_s": 3.0, "articulation_rate_syl_per_s": 4.0, "sex": "male", "speaker": "s"})
    train_rows = corpora.select_split(table, "train", cfg)
    assert list(train_rows["utterance_id"]) == ["u0", "u1", "u3", "u5", "u6"]  # b: fold s1 is the test fold
    assert list(corpora.select_split(table, "test", cfg)["utterance_id"]) == ["u2", "u4", "u7"]
    shown = views.thresholds(cfg, table)
    fitted = fit_thresholds(train_rows, cfg.prompts, by="pooled")
    assert shown["intensity_db"] == [60.0] == list(fitted.cuts("intensity"))  # median of 50 70 55 60 65
