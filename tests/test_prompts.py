"""Acoustic prompts: Table 2 strings, every bin edge, missing properties, quantile fitting, the table and CLI."""

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from clapemo import prompts as P
from clapemo.config import PromptsConfig, load_config
from clapemo.errors import ConfigError, DataError, ParameterError

EPS = 1e-6
FIXED = P.Thresholds.from_config()


def props(f0=150.0, db=65.0, sr=3.5, ar=4.5):
    return {"f0_mean_hz": f0, "intensity_db": db, "speech_rate_syl_per_s": sr, "articulation_rate_syl_per_s": ar}


@dataclasses.dataclass(frozen=True)
class FakeProperties:  # stands in for clapemo.features.AcousticProperties
    duration_s: float = 2.0
    f0_mean_hz: float = 120.0
    intensity_db: float = 70.0
    speech_rate_syl_per_s: float = 2.0
    articulation_rate_syl_per_s: float = 5.0
    n_syllables: int = 4
    phonation_time_s: float = 0.8
    voiced_fraction: float = 0.5


# ---- Table 2, exact strings ---------------------------------------------------------------------------------


def test_table2_worked_examples():
    p = props(f0=215.0, db=55.0, sr=3.5, ar=3.9)
    assert P.prompt(p, "angry", "class_label") == "anger"
    assert P.prompt(p, "angry", "pitch") == "high female pitch anger"
    assert P.prompt(p, "angry", "pitch2") == "high pitch anger"
    assert P.prompt(p, "angry", "intensity") == "low intensity anger"
    assert P.prompt(p, "angry", "speech_rate") == "high speech rate anger"
    assert P.prompt(p, "angry", "articulation_rate") == "low articulation rate anger"
    assert P.prompt(p, "angry", "combined") == (
        "high female pitch, low intensity, high speech rate, low articulation rate anger")
    q = FakeProperties()
    assert P.prompt(q, "fearful", "pitch") == "low male pitch fear"
    assert P.prompt(q, "surprised", "intensity") == "high intensity surprise"
    assert P.prompt(q, "sad", "speech_rate") == "low speech rate sad"
    assert P.prompt(q, "happy", "articulation_rate") == "high articulation rate happy"
    assert P.prompt(pd.Series(props(f0=150.0)), "neutral", "pitch") == "high male pitch neutral"


def test_every_template_of_table2_is_reachable():
    values = {"pitch": [100.0, 150.0, 200.0, 250.0], "pitch2": [100.0, 250.0], "intensity": [50.0, 70.0],
              "speech_rate": [2.0, 4.0], "articulation_rate": [3.0, 5.0]}
    for kind, vs in values.items():
        got = [P.prompt({P.PROPERTY_OF_KIND[kind]: v}, "angry", kind) for v in vs]
        assert got == [t.format(emotion="anger") for t in P.TEMPLATES[kind].values()]
    assert set(P.TEMPLATES["pitch"].values()) == {
        "low male pitch {emotion}", "high male pitch {emotion}", "low female pitch {emotion}",
        "high female pitch {emotion}"}


def test_augment_gives_five_prompts_class_label_first():
    out = P.augment(props(f0=100.0, db=50.0, sr=2.0, ar=3.0), "happy")
    assert out == ["happy", "low male pitch happy", "low intensity happy", "low speech rate happy",
                   "low articulation rate happy"]


# ---- bin edges: value < cut -> lower bin, value >= cut -> upper bin -------------------------------------------


@pytest.mark.parametrize("kind,cut,below,above", [
    ("pitch", 132.5, "low_male", "high_male"),
    ("pitch", 180.0, "high_male", "low_female"),
    ("pitch", 210.0, "low_female", "high_female"),
    ("pitch2", 170.0, "low", "high"),
    ("intensity", 60.0, "low", "high"),
    ("speech_rate", 3.12, "low", "high"),
    ("articulation_rate", 4.0, "low", "high"),
])
def test_each_bin_edge(kind, cut, below, above):
    assert P.bin_name(cut - EPS, kind, thresholds=FIXED) == below
    assert P.bin_name(cut, kind, thresholds=FIXED) == above
    assert P.bin_name(cut + EPS, kind, thresholds=FIXED) == above
    # the table (vectorised path) agrees with the scalar path
    name = P.PROPERTY_OF_KIND[kind]
    table = pd.DataFrame({"utterance_id": ["a", "b", "c"], "label": ["angry"] * 3,
                          **{c: [60.0] * 3 for c in set(P.PROPERTY_OF_KIND.values())}})
    table[name] = [cut - EPS, cut, cut + EPS]
    out = P.prompts_table(table)
    expected = [P.TEMPLATES[kind][b].format(emotion="anger") for b in (below, above, above)]
    assert out[kind].tolist() == expected


def test_default_cuts_are_the_reconstructed_values():
    assert FIXED.pitch_cuts_hz == (132.5, 180.0, 210.0)
    assert (FIXED.pitch2_cut_hz, FIXED.intensity_cut_db) == (170.0, 60.0)
    assert (FIXED.speech_rate_cut_syl_per_s, FIXED.articulation_rate_cut_syl_per_s) == (3.12, 4.0)


def test_config_cuts_and_emotion_words_are_used():
    cfg = PromptsConfig(intensity_cut_db=70.0, emotion_words={"angry": "rage"})
    assert P.prompt(props(db=65.0), "angry", "intensity", cfg) == "low intensity rage"
    assert P.prompt(props(db=65.0), "angry", "intensity") == "high intensity anger"
    whole = load_config({"prompts": {"emotion_words": {"sad": "sadness"}}})
    assert P.prompt(props(), "sad", "class_label", whole) == "sadness"


# ---- missing properties -------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", [float("nan"), None, float("inf"), 0.0, -5.0])
def test_unvoiced_f0_skips_pitch_prompts(missing):
    p = props(f0=missing, db=70.0, sr=4.0, ar=5.0)
    assert P.prompt(p, "angry", "pitch") is None
    assert P.prompt(p, "angry", "pitch2") is None
    assert P.prompt(p, "angry", "intensity") == "high intensity anger"
    assert P.prompt(p, "angry", "combined") == "high intensity, high speech rate, high articulation rate anger"
    assert P.augment(p, "angry") == ["anger", "high intensity anger", "high speech rate anger",
                                     "high articulation rate anger"]


def test_all_missing_skips_combined_and_negative_rate_raises():
    nan = float("nan")
    assert P.prompt(props(nan, nan, nan, nan), "angry", "combined") is None
    assert P.augment(props(nan, nan, nan, nan), "angry") == ["anger"]
    with pytest.raises(DataError, match="speech_rate_syl_per_s = -1.0 is negative"):
        P.prompt(props(sr=-1.0), "angry", "speech_rate")


def test_bad_label_kind_props_raise():
    with pytest.raises(ParameterError, match="label = 'anger' is not a canonical emotion"):
        P.prompt(props(), "anger", "pitch")
    with pytest.raises(ParameterError, match="kind = 'loudness'"):
        P.prompt(props(), "angry", "loudness")
    with pytest.raises(ParameterError, match="no 'f0_mean_hz'"):
        P.prompt({"intensity_db": 60.0}, "angry", "pitch")
    assert P.prompt({}, "angry", "class_label") == "anger"


def test_templates_are_validated():
    bad = {k: dict(v) for k, v in P.TEMPLATES.items()}
    bad["intensity"]["low"] = "low intensity"
    with pytest.raises(ParameterError, match=r"templates\['intensity'\]\['low'\].*\{emotion\}"):
        P.validate_templates(bad)
    bad["intensity"]["low"] = "low intensity {emotion} {emotion}"
    with pytest.raises(ParameterError, match="exactly once"):
        P.validate_templates(bad)
    bad = {k: dict(v) for k, v in P.TEMPLATES.items()}
    del bad["pitch"]["low_male"]
    with pytest.raises(ParameterError, match="3 bins, expected 4"):
        P.validate_templates(bad)


def test_kinds_and_their_columns_are_the_schema_s():
    """One spelling of the prompt kinds: the package's names are clapemo.schema's tuples, its words keyed by them."""
    from clapemo import schema

    assert P.KINDS == schema.PROMPT_KINDS and P.AUGMENT_KINDS == schema.AUGMENT_KINDS
    assert P.COMBINED_KINDS == schema.COMBINED_KINDS and P.PROPERTY_OF_KIND == schema.PROPERTY_OF_KIND
    assert tuple(P.EXTRA_KINDS) == schema.EXTRA_PROMPT_KINDS
    assert {k: spec["column"] for k, spec in P.EXTRA_KINDS.items()} == schema.EXTRA_PROPERTY_OF_KIND
    assert set(P.TEMPLATES) == {"class_label", *P.PROPERTY_OF_KIND}


# ---- quantile thresholds ------------------------------------------------------------------------------------


def _features(n=101, dataset="synth-a", offset=0.0):
    x = np.arange(n, dtype=float) + offset  # 0..100: quartiles 25/50/75, median 50 (linear interpolation)
    return pd.DataFrame({"utterance_id": [f"{dataset}/{i}" for i in range(n)], "label": ["angry"] * n,
                         "dataset": dataset, "f0_mean_hz": 100.0 + x, "intensity_db": 40.0 + x,
                         "speech_rate_syl_per_s": x / 10, "articulation_rate_syl_per_s": x / 5})


def test_quantile_fit_on_known_distribution():
    t = P.fit_thresholds(_features(), by="pooled")
    assert t.pitch_cuts_hz == pytest.approx((125.0, 150.0, 175.0))
    assert t.pitch2_cut_hz == pytest.approx(150.0)
    assert t.intensity_cut_db == pytest.approx(90.0)
    assert t.speech_rate_cut_syl_per_s == pytest.approx(5.0)
    assert t.articulation_rate_cut_syl_per_s == pytest.approx(10.0)
    assert (t.origin, t.n_fit) == ("quantile:pooled", 101)
    # each quartile bin holds about a quarter of the training data
    out = P.prompts_table(_features(), PromptsConfig(binning="quantile"), thresholds=t)
    counts = out["pitch"].str.split(" pitch").str[0].value_counts()
    assert counts.to_dict() == {"low male": 25, "high male": 25, "low female": 25, "high female": 26}


def test_quantile_fit_ignores_missing_values_and_caption_rows():
    f = _features()
    extra = pd.DataFrame({"utterance_id": ["x", "y"], "label": ["angry", None], "dataset": "synth-a",
                          "f0_mean_hz": [np.nan, 1e4], "intensity_db": [np.nan, 1e4],
                          "speech_rate_syl_per_s": [np.nan, 1e4], "articulation_rate_syl_per_s": [np.nan, 1e4]})
    t = P.fit_thresholds(pd.concat([f, extra], ignore_index=True))
    assert t.pitch_cuts_hz == pytest.approx((125.0, 150.0, 175.0))


def test_quantile_per_corpus_and_round_trip(tmp_path):
    f = pd.concat([_features(dataset="synth-a"), _features(dataset="synth-b", offset=100.0)], ignore_index=True)
    per = P.fit_thresholds(f, by="per_corpus")
    assert set(per) == {"synth-a", "synth-b"}
    assert per["synth-b"].pitch2_cut_hz == pytest.approx(250.0)
    saved = P.save_thresholds(per, tmp_path / "cuts.json")
    assert P.load_thresholds(saved) == per
    assert P.Thresholds.from_dict(json.loads(json.dumps(per["synth-a"].to_dict()))) == per["synth-a"]
    out = P.prompts_table(f, PromptsConfig(binning="quantile"), thresholds=per)
    # 150 Hz is the pooled-corpus-a median but below corpus-b's cut: each corpus is binned by its own cuts
    assert (out["pitch2"] == "high pitch anger").sum() == 51 + 51


def test_quantile_mode_needs_fitted_thresholds():
    cfg = PromptsConfig(binning="quantile")
    with pytest.raises(ParameterError, match="fit_thresholds"):
        P.prompts_table(_features(), cfg)
    with pytest.raises(ParameterError, match="fit_thresholds"):
        P.prompt(props(), "angry", "pitch", cfg)
    assert P.prompt(props(), "angry", "class_label", cfg) == "anger"
    with pytest.raises(ParameterError, match="usable value"):
        P.fit_thresholds(_features(n=1))
    with pytest.raises(ConfigError, match="unknown thresholds key"):
        P.Thresholds.from_dict({**FIXED.to_dict(), "bogus": 1})
    with pytest.raises(ParameterError, match="non-decreasing"):
        P.Thresholds(pitch_cuts_hz=(200.0, 100.0, 300.0), pitch2_cut_hz=1.0, intensity_cut_db=1.0,
                     speech_rate_cut_syl_per_s=1.0, articulation_rate_cut_syl_per_s=1.0)


# ---- the table and the CLI ----------------------------------------------------------------------------------


def _mixed_table():
    return pd.DataFrame({
        "utterance_id": ["e/1", "e/2", "e/3", "c/1"],
        "label": ["angry", "sad", "happy", None],
        "f0_mean_hz": [220.0, np.nan, 120.0, np.nan],
        "intensity_db": [70.0, 50.0, np.nan, 60.0],
        "speech_rate_syl_per_s": [4.0, 2.0, 3.0, np.nan],
        "articulation_rate_syl_per_s": [5.0, np.nan, 3.0, np.nan],
    })


def test_prompts_table_columns_none_and_skipped_counts():
    out = P.prompts_table(_mixed_table())
    assert list(out.columns) == ["utterance_id", "label", *P.KINDS]
    assert out.loc[0, "combined"] == (
        "high female pitch, high intensity, high speech rate, high articulation rate anger")
    assert out.loc[1, "pitch"] is None and out.loc[1, "pitch2"] is None
    assert out.loc[1, "combined"] == "low intensity, low speech rate sad"
    assert out.loc[2, "intensity"] is None and out.loc[2, "pitch"] == "low male pitch happy"
    assert all(out.loc[3, k] is None for k in P.KINDS)  # caption row: not an emotion row
    assert out.attrs["skipped"] == {"class_label": 0, "pitch": 1, "pitch2": 1, "intensity": 1, "speech_rate": 0,
                                    "articulation_rate": 1, "combined": 0}
    assert out.attrs["n_emotion_rows"] == 3
    assert out.attrs["thresholds"] == FIXED.to_dict()


def test_prompts_table_rejects_unknown_label_and_missing_columns():
    t = _mixed_table()
    t.loc[0, "label"] = "rage"
    with pytest.raises(ParameterError, match="label 'rage'"):
        P.prompts_table(t)
    with pytest.raises(ParameterError, match="lacks column 'label'"):
        P.prompts_table(_mixed_table().drop(columns="label"))


def test_cli_joins_manifest_and_fits(tmp_path, capsys):
    features = _features(n=11).drop(columns=["label", "dataset"])
    features.loc[3, "f0_mean_hz"] = np.nan
    manifest = pd.DataFrame({"utterance_id": features["utterance_id"], "label": "angry", "dataset": "synth-a",
                             "split": ["train"] * 6 + ["test"] * 5})
    features.to_parquet(tmp_path / "f.parquet")
    manifest.to_parquet(tmp_path / "m.parquet")
    assert P.cli([str(tmp_path / "f.parquet"), "-o", str(tmp_path / "p.parquet"),
                  "--manifest", str(tmp_path / "m.parquet")]) == 0
    out = pd.read_parquet(tmp_path / "p.parquet")
    assert len(out) == 11 and out.loc[0, "pitch"] == "low male pitch anger" and pd.isna(out.loc[3, "pitch"])
    assert "pitch 1" in capsys.readouterr().out
    cuts = tmp_path / "cuts.json"
    assert P.cli([str(tmp_path / "f.parquet"), "-o", str(tmp_path / "q.parquet"), "--manifest",
                  str(tmp_path / "m.parquet"), "--set", "prompts.binning=quantile", "--fit", str(cuts)]) == 0
    fitted = P.load_thresholds(cuts)
    assert fitted.n_fit == 6 and fitted.pitch2_cut_hz == pytest.approx(102.0)  # median of 100,101,102,104,105
    with pytest.raises(DataError, match="--manifest"):
        P.cli([str(tmp_path / "f.parquet"), "-o", str(tmp_path / "r.parquet")])
    # the shared config options: an overlay file sets the cuts like --set does
    overlay = tmp_path / "cut.yaml"
    overlay.write_text("prompts: {pitch_cuts_hz: [50.0, 60.0, 70.0]}\n")
    assert P.cli([str(tmp_path / "f.parquet"), "-o", str(tmp_path / "s.parquet"), "--manifest",
                  str(tmp_path / "m.parquet"), "--overlay", str(overlay)]) == 0
    assert pd.read_parquet(tmp_path / "s.parquet").loc[0, "pitch"] == "high female pitch anger"


def test_nan_is_never_a_bin():
    assert math.isnan(float("nan"))
    for kind in P.PROPERTY_OF_KIND:
        assert P.bin_name(float("nan"), kind, thresholds=FIXED) is None
