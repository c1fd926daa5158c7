"""Chapter 6 prompt options: binning scopes, levels, sentence form, extra properties (clapemo.prompts).

Known answers: quantile cuts on the values 1..10 by hand (numpy's linear interpolation: the q-quantile sits at
position 9q, e.g. the median at 4.5 -> 5.5, the 30 % point at 2.7 -> 3.7).
"""

import json

import numpy as np
import pandas as pd
import pytest

from clapemo import prompts as P
from clapemo.config import PromptsConfig, load_config
from clapemo.errors import ConfigError, DataError, ParameterError
from clapemo.schema import AUGMENT_KINDS, EXTRA_PROPERTY_COLUMNS

X = np.arange(1.0, 11.0)  # 1..10


def _table(x=X, *, dataset="c", speaker="s1", sex="male", label="angry", f0_offset_hz=100.0, extra=True):
    n = len(x)
    t = pd.DataFrame({"utterance_id": [f"{dataset}/{speaker}/{i}" for i in range(n)], "label": label,
                      "dataset": dataset, "speaker": speaker, "sex": sex, "f0_mean_hz": f0_offset_hz + x,
                      "intensity_db": x, "speech_rate_syl_per_s": x, "articulation_rate_syl_per_s": x})
    if extra:
        for column in EXTRA_PROPERTY_COLUMNS:
            t[column] = x
    return t


def _cfg(**kw):
    return PromptsConfig(binning="quantile", **kw)


# ---------------------------------------------------------------------------------------------------------------
# levels
# ---------------------------------------------------------------------------------------------------------------


def test_two_levels_cuts_by_hand_and_unchanged_saved_form():
    t = P.fit_thresholds(_table(), _cfg())
    assert t.pitch_cuts_hz == pytest.approx((103.25, 105.5, 107.75))  # positions 2.25, 4.5, 6.75
    assert t.intensity_cut_db == pytest.approx(5.5) and isinstance(t.intensity_cut_db, float)
    assert "levels" not in t.to_dict() and "extra_cuts" not in t.to_dict()


def test_three_levels_cuts_words_and_30_40_30_occupancy():
    t = P.fit_thresholds(_table(), _cfg(levels=3))
    assert t.levels == 3
    assert t.intensity_cut_db == pytest.approx((3.7, 7.3))
    # the pitch kind keeps its sex split: level quantiles within each half (15/35 | 50 | 65/85 %)
    assert t.pitch_cuts_hz == pytest.approx((102.35, 104.15, 105.5, 106.85, 108.65))
    out = P.prompts_table(_table(), _cfg(levels=3), thresholds=t)
    assert out["intensity"].tolist() == (["low intensity anger"] * 3 + ["normal intensity anger"] * 4
                                         + ["high intensity anger"] * 3)
    assert out["pitch"].tolist() == ["low male pitch anger"] * 2 + ["normal male pitch anger"] * 2 + [
        "high male pitch anger", "low female pitch anger"] + ["normal female pitch anger"] * 2 + [
        "high female pitch anger"] * 2
    assert out["pitch2"].iloc[4] == "normal pitch anger"
    assert out["combined"].iloc[0] == ("low male pitch, low intensity, low speech rate, low articulation rate "
                                       "anger")


def test_five_levels_cuts_and_words():
    t = P.fit_thresholds(_table(), _cfg(levels=5))
    assert t.speech_rate_cut_syl_per_s == pytest.approx((2.8, 4.6, 6.4, 8.2))
    out = P.prompts_table(_table(), _cfg(levels=5), thresholds=t)
    words = ["very low", "low", "normal", "high", "very high"]
    assert out["speech_rate"].tolist() == [f"{w} speech rate anger" for w in words for _ in range(2)]
    assert list(P.bin_phrases("pitch", 5))[:5] == ["very_low_male", "low_male", "normal_male", "high_male",
                                                  "very_high_male"]
    assert P.bin_phrases("pitch", 3)["normal_female"] == "normal female pitch"


def test_two_level_phrases_are_the_papers_templates():
    for kind, bins in P.TEMPLATES.items():
        if kind != "class_label":
            assert {b: f"{p} {{emotion}}" for b, p in P.bin_phrases(kind, 2).items()} == bins


def test_levels_need_quantile_binning_and_matching_thresholds():
    with pytest.raises(ConfigError, match="'prompts.levels' = 3 needs prompts.binning = 'quantile'"):
        PromptsConfig(levels=3)
    with pytest.raises(ConfigError, match="not one of"):
        _cfg(levels=4)
    two = P.fit_thresholds(_table(), _cfg())
    with pytest.raises(ParameterError, match="2 levels but prompts.levels = 3"):
        P.prompts_table(_table(), _cfg(levels=3), thresholds=two)
    with pytest.raises(ParameterError, match="must be 2 finite"):
        P.Thresholds(pitch_cuts_hz=(1, 2, 3, 4, 5), pitch2_cut_hz=1.0, intensity_cut_db=(1, 2),
                     speech_rate_cut_syl_per_s=(1, 2), articulation_rate_cut_syl_per_s=(1, 2), levels=3)


# ---------------------------------------------------------------------------------------------------------------
# scopes
# ---------------------------------------------------------------------------------------------------------------


def _two_speakers():
    a = _table(speaker="a", sex="male")
    b = _table(X + 100.0, speaker="b", sex="female", f0_offset_hz=100.0)  # every value shifted by 100
    return pd.concat([a, b], ignore_index=True)


def test_per_speaker_cuts_give_the_same_relative_bins():
    table = _two_speakers()
    cfg = _cfg(quantile_scope="per_speaker")
    th = P.fit_thresholds(table, cfg)
    assert isinstance(th, P.SpeakerThresholds) and set(th.speakers) == {"c/a", "c/b"}
    assert th.speakers["c/a"].intensity_cut_db == pytest.approx(5.5)
    assert th.speakers["c/b"].intensity_cut_db == pytest.approx(105.5)
    out = P.prompts_table(table, cfg, thresholds=th)
    for kind in ("pitch2", "intensity", "speech_rate", "articulation_rate"):
        assert out[kind].iloc[:10].tolist() == out[kind].iloc[10:].tolist()
        assert out[kind].iloc[:10].str.startswith("low").sum() == 5
    # the sex word comes from the sex column, the level from the speaker's own pitch
    assert out["pitch"].iloc[:10].tolist() == ["low male pitch anger"] * 5 + ["high male pitch anger"] * 5
    assert out["pitch"].iloc[10:].tolist() == ["low female pitch anger"] * 5 + ["high female pitch anger"] * 5
    pooled = P.prompts_table(table, _cfg(), thresholds=P.fit_thresholds(table, _cfg()))
    assert (pooled["intensity"].iloc[:10] == "low intensity anger").all()  # pooled: speaker a is all "low"


def test_per_speaker_unseen_test_speaker_uses_its_own_clips_and_small_speaker_falls_back():
    train = _two_speakers()
    cfg = _cfg(quantile_scope="per_speaker")
    th = P.fit_thresholds(train, cfg)
    test = _table(X * 3 + 1000.0, speaker="new", sex="male")
    out = P.prompts_table(test, cfg, thresholds=th)
    assert out["intensity"].tolist() == ["low intensity anger"] * 5 + ["high intensity anger"] * 5
    assert "c/new" in out.attrs["thresholds"]["thresholds"]
    lone = pd.concat([train, _table(np.array([50.0]), speaker="lone")], ignore_index=True)
    fitted = P.fit_thresholds(lone, cfg)
    corpus_cut = float(np.median(lone["intensity_db"]))
    assert fitted.speakers["c/lone"].intensity_cut_db == pytest.approx(corpus_cut)
    with pytest.raises(ParameterError, match="'speaker' column"):
        P.fit_thresholds(train.drop(columns="speaker"), cfg)


def test_per_sex_pitch_cuts_and_pooled_other_properties():
    male = _table(X, speaker="m", sex="male", f0_offset_hz=99.0)  # 100..109 Hz
    female = _table(X, speaker="f", sex="female", f0_offset_hz=199.0)  # 200..209 Hz
    unknown = _table(np.array([5.0]), speaker="u", sex=None, f0_offset_hz=199.0)  # 204 Hz
    train = pd.concat([male, female], ignore_index=True)
    cfg = _cfg(quantile_scope="per_sex")
    th = P.fit_thresholds(train, cfg)
    assert isinstance(th, P.SexThresholds)
    assert th.pitch_cuts_by_sex_hz == {"male": pytest.approx((104.5,)), "female": pytest.approx((204.5,))}
    assert th.pooled.intensity_cut_db == pytest.approx(5.5)  # pooled over both sexes (20 values)
    out = P.prompts_table(pd.concat([train, unknown], ignore_index=True), cfg, thresholds=th)
    assert out["pitch"].iloc[:10].tolist() == ["low male pitch anger"] * 5 + ["high male pitch anger"] * 5
    assert out["pitch"].iloc[10:20].tolist() == ["low female pitch anger"] * 5 + ["high female pitch anger"] * 5
    assert out["pitch2"].iloc[5] == "high pitch anger" and out["pitch2"].iloc[15] == "high pitch anger"
    # unknown sex: the pooled F0-alone cuts; 204 Hz lies between the pooled median 154.5 and 3rd quartile 204.25
    assert th.pooled.pitch_cuts_hz == pytest.approx((104.75, 154.5, 204.25))
    assert out["pitch"].iloc[20] == "low female pitch anger"
    with pytest.raises(ParameterError, match="'sex' column"):
        P.prompts_table(train.drop(columns="sex"), cfg, thresholds=th)


def test_scoped_thresholds_round_trip(tmp_path):
    train = _two_speakers()
    for scope in ("per_speaker", "per_sex"):
        cfg = _cfg(quantile_scope=scope, levels=3, extra_kinds=["hnr"])
        th = P.fit_thresholds(train, cfg)
        path = P.save_thresholds(th, tmp_path / f"{scope}.json")
        assert json.loads(path.read_text())["scope"] == scope
        assert P.load_thresholds(path) == th
        assert P.thresholds_from_dict(json.loads(json.dumps(th.to_dict()))) == th
        assert hash(P.load_thresholds(path)) == hash(th)
    pooled = P.fit_thresholds(train, _cfg(levels=5, extra_kinds=["jitter"]))
    assert P.load_thresholds(P.save_thresholds(pooled, tmp_path / "p.json")) == pooled
    assert pooled.to_dict()["levels"] == 5 and pooled.extra_cuts["jitter"] == pytest.approx(
        tuple(np.quantile(train["jitter_local_pct"], (0.2, 0.4, 0.6, 0.8))))


# ---------------------------------------------------------------------------------------------------------------
# sentence form
# ---------------------------------------------------------------------------------------------------------------


def test_sentence_template_strings():
    cfg = PromptsConfig(form="sentence")
    props = {"f0_mean_hz": 220.0, "intensity_db": 50.0, "speech_rate_syl_per_s": 4.0,
             "articulation_rate_syl_per_s": 3.0}
    assert P.prompt(props, "angry", "pitch2", cfg) == "a person speaking with high pitch, sounding angry"
    assert P.prompt(props, "angry", "class_label", cfg) == "a person sounding angry"
    assert P.prompt(props, "disgust", "intensity", cfg) == ("a person speaking with low intensity, "
                                                            "sounding disgusted")
    assert P.prompt(props, "sad", "combined", cfg) == ("a person speaking with high female pitch, low intensity, "
                                                       "high speech rate, low articulation rate, sounding sad")
    table = pd.DataFrame([{"utterance_id": "u", "label": "happy", **props}])
    assert P.prompts_table(table, cfg)["pitch"].iloc[0] == ("a person speaking with high female pitch, "
                                                            "sounding happy")
    custom = PromptsConfig(form="sentence", sentence_template="{emotion} voice, {properties}",
                           sentence_label_template="{emotion} voice")
    assert P.prompt(props, "angry", "pitch2", custom) == "angry voice, high pitch"
    assert P.prompt(props, "angry", "pitch2") == "high pitch anger"  # the default form is unchanged
    with pytest.raises(ConfigError, match="sentence_template"):
        PromptsConfig(form="sentence", sentence_template="a person sounding {emotion}")


# ---------------------------------------------------------------------------------------------------------------
# extra properties and augmentation kinds
# ---------------------------------------------------------------------------------------------------------------


def test_extra_kinds_words_columns_and_errors():
    cfg = _cfg(extra_kinds=["hnr", "pause_rate"])
    table = _table()
    th = P.fit_thresholds(table, cfg)
    assert set(th.extra_cuts) == {"hnr", "pause_rate"} and th.extra_cuts["hnr"] == pytest.approx((5.5,))
    out = P.prompts_table(table, cfg, thresholds=th)
    assert list(out.columns)[-2:] == ["hnr", "pause_rate"]
    assert out["hnr"].tolist() == ["breathy voice anger"] * 5 + ["clear voice anger"] * 5
    assert out["pause_rate"].iloc[-1] == "many pauses anger"
    out = P.prompts_table(table, _cfg(), thresholds=P.fit_thresholds(table, _cfg(), kinds=["pitch_variability"]),
                          kinds=["pitch_variability"])
    assert out["pitch_variability"].iloc[0] == "monotone pitch anger" and "hnr" not in out.columns
    assert P.bin_phrases("jitter", 3) == {"low": "smooth voice", "normal": "slightly rough voice",
                                          "high": "rough voice"}
    with pytest.raises(ParameterError, match="lacks column 'hnr_db'"):
        P.prompts_table(table.drop(columns="hnr_db"), cfg, thresholds=th)
    with pytest.raises(ParameterError, match="no cuts for kind 'shimmer'"):
        P.prompts_table(table, cfg, thresholds=th, kinds=["shimmer"])
    with pytest.raises(ConfigError, match="'prompts.extra_kinds' names 'hnr', which needs prompts.binning"):
        PromptsConfig(extra_kinds=["hnr"])
    with pytest.raises(ConfigError, match="'loudness' is not a prompt kind"):
        _cfg(extra_kinds=["loudness"])
    negative = table.assign(hnr_db=X - 20.0)  # HNR may be negative (dB)
    assert P.prompts_table(negative, cfg, thresholds=P.fit_thresholds(negative, cfg))["hnr"].notna().all()
    with pytest.raises(DataError, match="jitter_local_pct = -1.0 is negative"):
        P.fit_thresholds(table.assign(jitter_local_pct=-X), _cfg(extra_kinds=["jitter"]))


def test_augment_kinds_default_and_extra():
    assert PromptsConfig().augment_kinds == list(AUGMENT_KINDS) == list(P.AUGMENT_KINDS)
    assert load_config(None).prompts.augment_kinds == list(AUGMENT_KINDS)
    cfg = _cfg(augment_kinds=["class_label", "pitch2", "pitch_variability"])
    table = _table()
    th = P.fit_thresholds(table, cfg)  # the extra kinds of augment_kinds are fitted too
    assert set(th.extra_cuts) == {"pitch_variability"}
    assert P.augment(table.iloc[9], "angry", cfg, thresholds=th) == ["anger", "high pitch anger",
                                                                     "varied pitch anger"]
    assert "pitch_variability" in P.prompts_table(table, cfg, thresholds=th).columns
    assert P.table_kinds(cfg) == (*P.KINDS, "pitch_variability") and P.table_kinds() == P.KINDS
    with pytest.raises(ConfigError, match="augment_kinds.*needs prompts.binning"):
        PromptsConfig(augment_kinds=["class_label", "jitter"])
    with pytest.raises(ConfigError, match="names a kind twice"):
        PromptsConfig(augment_kinds=["class_label", "class_label"])
    with pytest.raises(ConfigError, match="is empty"):
        PromptsConfig(augment_kinds=[])
