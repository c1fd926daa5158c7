"""Tests of clapemo.probe: the linear probe on data of known structure, speaker-independence, per-speaker
normalisation, the generator oracle and the validation split carved from the train split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clapemo import corpora, probe
from clapemo import encoders as E
from clapemo.config import EncodersConfig, resolve_config
from clapemo.errors import DataError, ParameterError

LABELS = ("angry", "sad", "happy", "neutral")


def fake_corpus(*, n_speakers: int = 12, per_label: int = 3, offset_scale: float = 0.0, seed: int = 0):
    """A manifest where each clip's 'embedding' is a speaker offset + a label direction + noise, stored in
    the columns e0..e7 (looked up by the fake embed_audio below); the last third of speakers is 'test'."""
    rng = np.random.default_rng(seed)
    directions = {lab: 3.0 * np.eye(8)[i] for i, lab in enumerate(LABELS)}
    rows = []
    for s in range(n_speakers):
        offset = offset_scale * rng.standard_normal(8)
        for lab in LABELS:
            for k in range(per_label):
                v = offset + directions[lab] + 0.3 * rng.standard_normal(8)
                rows.append({"utterance_id": f"c/s{s}/{lab}{k}", "path": f"s{s}_{lab}{k}.wav", "dataset": "fake",
                             "speaker": f"s{s}", "sex": "female" if s % 2 else "male", "label": lab,
                             "split": "test" if s >= 2 * n_speakers // 3 else "train",
                             "intended_pitch_st": v[0], "intended_range_factor": 2.0 ** v[1],
                             "intended_rate_factor": 2.0 ** v[2], "intended_level_db": 60 + v[3],
                             "intended_pause_prob": 0.05, **{f"e{i}": v[i] for i in range(8)}})
    return pd.DataFrame(rows)


@pytest.fixture()
def patched(monkeypatch):
    """corpora.manifest serves the fake corpus; embed_audio returns its e0..e7 columns."""
    state = {"corpus": fake_corpus()}

    def manifest(name, config, *, split=None):
        m = state["corpus"]
        return m if split is None else m[m["split"] == split].reset_index(drop=True)

    def embed_audio(m, config=None, *, progress=True):
        assert "speaker" not in m.columns  # the probe centres itself, never through the config twice
        table = state["corpus"].set_index("utterance_id")
        return table.loc[m["utterance_id"], [f"e{i}" for i in range(8)]].to_numpy(np.float32)

    monkeypatch.setattr(corpora, "manifest", manifest)
    monkeypatch.setattr(E, "embed_audio", embed_audio)
    return state


def test_fit_probe_known_answers():
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 40)
    x = rng.standard_normal((120, 5)) + 4.0 * (y[:, None] == np.array(["a", "b", "c", "a", "b"]))
    train, test = np.arange(120) % 2 == 0, np.arange(120) % 2 == 1
    scores = probe.fit_probe(x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test])
    assert scores == {"accuracy": 1.0, "unweighted_accuracy": 1.0}
    noise = rng.standard_normal((120, 5))
    chance = probe.fit_probe(x_train=noise[train], y_train=y[train], x_test=noise[test], y_test=y[test])
    assert chance["accuracy"] < 0.6
    again = probe.fit_probe(x_train=noise[train], y_train=y[train], x_test=noise[test], y_test=y[test])
    assert again == chance  # deterministic
    x_nan = x.copy()
    x_nan[::7, 0] = np.nan  # missing values are imputed, not fatal
    assert probe.fit_probe(x_train=x_nan[train], y_train=y[train], x_test=x_nan[test],
                           y_test=y[test])["accuracy"] > 0.9
    with pytest.raises(DataError, match="class"):
        probe.fit_probe(x_train=x[:5], y_train=["a"] * 5, x_test=x[:2], y_test=["a", "a"])
    with pytest.raises(ParameterError):
        probe.fit_probe(x_train=x[:5], y_train=y[:4], x_test=x[:2], y_test=y[:2])


def test_zscore_per_speaker_known_answer():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [10.0, np.nan], [20.0, 1.0], [7.0, 7.0]])
    out = probe.zscore_per_speaker(x, speakers=["a", "a", "b", "b", None])
    np.testing.assert_allclose(out[:2], [[-1.0, 0.0], [1.0, 0.0]])  # constant column -> 0
    np.testing.assert_allclose(out[2:4, 0], [-1.0, 1.0])
    assert np.isnan(out[2, 1]) and out[3, 1] == 0.0
    np.testing.assert_array_equal(out[4], x[4])


def test_validation_split_is_speaker_disjoint_and_deterministic():
    train = fake_corpus(n_speakers=16).query("split == 'train'")  # 10 speakers, 5 per sex
    fit, val = probe.validation_split(train, fraction=0.4, seed=3)
    assert not set(fit["speaker"]) & set(val["speaker"])
    assert len(fit) + len(val) == len(train)
    assert val.groupby("sex")["speaker"].nunique().to_dict() == {"female": 2, "male": 2}
    fit2, val2 = probe.validation_split(train, fraction=0.4, seed=3)
    pd.testing.assert_frame_equal(val, val2)
    with pytest.raises(DataError, match="speaker"):
        probe.validation_split(train[train["speaker"] == "s0"])
    with pytest.raises(ParameterError):
        probe.validation_split(train, fraction=1.0)


def test_probe_row_refuses_shared_speakers():
    m = fake_corpus(n_speakers=3)
    x = m[[f"e{i}" for i in range(8)]].to_numpy()
    with pytest.raises(DataError, match="share speakers"):
        probe.probe_row(representation="r", corpus="c", train=m, test=m, x_train=x, x_test=x)


def test_audio_probe_speaker_centring_removes_speaker_offsets(patched):
    patched["corpus"] = fake_corpus(offset_scale=6.0)  # speaker offsets swamp the label directions
    cfg = resolve_config(None)
    raw = probe.audio_probe(corpus="fake", config=cfg)
    centred = probe.audio_probe(corpus="fake", config=cfg, speaker_centring=True)
    assert list(raw.columns) == probe.RESULT_COLUMNS
    assert raw.loc[0, "n_train"] == 8 * 12 and raw.loc[0, "n_test"] == 4 * 12 and raw.loc[0, "n_classes"] == 4
    assert raw.loc[0, "n_train_speakers"] == 8 and raw.loc[0, "n_test_speakers"] == 4
    assert centred.loc[0, "accuracy"] == 1.0
    assert raw.loc[0, "accuracy"] < centred.loc[0, "accuracy"]
    assert centred.loc[0, "representation"] == "whisper-tiny-layers centred"


def test_oracle_matrix_and_probe(patched):
    m = patched["corpus"]
    x = probe.oracle_matrix(m)
    assert x.shape == (len(m), 5)
    np.testing.assert_allclose(x[:, 0], m["e0"])  # pitch: already speaker-relative
    np.testing.assert_allclose(x[:, 2], m["e2"])  # log2 of the rate factor
    level = x[:, 3]
    for _, rows in m.groupby("speaker").groups.items():  # level: centred per speaker
        assert abs(level[list(rows)].mean()) < 1e-4
    row = probe.oracle_probe(corpus="fake", config=resolve_config(None))
    assert row.loc[0, "representation"] == "oracle drawn prosody" and row.loc[0, "accuracy"] > 0.9
    with pytest.raises(DataError, match="ground-truth"):
        probe.oracle_matrix(m.drop(columns=["intended_level_db"]))


def test_property_matrix_error_rows_and_zscore():
    t = pd.DataFrame({"speaker": ["a", "a", "b"], "dataset": "d", "f0_mean_hz": [100.0, 200.0, 150.0],
                      "intensity_db": [60.0, 70.0, 65.0], "speech_rate_syl_per_s": [3.0, 4.0, 5.0],
                      "articulation_rate_syl_per_s": [4.0, 5.0, 6.0], "error": [None, None, "too short"]})
    x = probe.property_matrix(t, per_speaker=False)
    assert x.shape == (3, 4) and np.all(np.isnan(x[2])) and x[0, 0] == 100.0
    np.testing.assert_allclose(probe.property_matrix(t, per_speaker=True)[:2, 0], [-1.0, 1.0])


def test_validation_probe_never_reads_the_test_split(patched, monkeypatch):
    seen = []
    real = corpora.manifest

    def spy(name, config, *, split=None):
        seen.append(split)
        return real(name, config, split=split)

    monkeypatch.setattr(corpora, "manifest", spy)

    def first_two(m):
        return m[["e0", "e1"]].to_numpy()

    table = probe.validation_probe(corpora=["fake"], config=resolve_config(None),
                                   representations={"all": EncodersConfig(), "e0+e1": first_two})
    assert seen == ["train"]
    assert list(table["representation"]) == ["all", "e0+e1"]
    assert (table["n_train"] + table["n_test"] == 8 * 12).all()  # fit + validation = the train split
    all_acc, two_acc = table["accuracy"]
    assert all_acc == 1.0 and two_acc < all_acc  # two of four label directions: at most about half


def test_candidate_encoders_name_each_representation_and_its_centred_twin():
    cfg = resolve_config(None)
    cands = probe.candidate_encoders(cfg, probe.BOOK_CANDIDATES)
    assert list(cands) == [*probe.BOOK_CANDIDATES, *(f"{n}, centred per speaker" for n in probe.BOOK_CANDIDATES)]
    old, new = (cands[n] for n in probe.BOOK_CANDIDATES)
    assert old.audio == "whisper-tiny" and not old.speaker_centring
    assert (new.audio, new.whisper_layer_mix, new.whisper_pooling) == ("whisper-tiny-layers", "average",
                                                                       "mean_std")
    assert cands[f"{probe.BOOK_CANDIDATES[1]}, centred per speaker"].speaker_centring
    assert new.cache_dir == cfg.encoders.cache_dir and new.text == cfg.encoders.text  # the rest is the config's
    # the chosen default is one of the candidates: what chapter 01 marks as "this config"
    assert E.encoder_id(new, modality="audio") == E.encoder_id(cfg.encoders, modality="audio")
    with pytest.raises(ParameterError, match="unknown audio candidate"):
        probe.candidate_encoders(cfg, ["whisper-huge"])


def test_representation_table_and_finding(patched, monkeypatch):
    """The book's table through the real validation probe (the fake embedder serves every candidate the same
    vectors: the layout, the config's mark and the sentence are under test), then a sentence of known numbers."""
    from clapemo import experiments
    from clapemo.book import representation as R

    patched["corpus"] = fake_corpus(offset_scale=0.0)
    names = ("whisper-tiny: last layer, mean", "whisper-tiny-layers: 5 layers, mean + std, averaged")
    monkeypatch.setattr(probe, "BOOK_CANDIDATES", names)
    monkeypatch.setattr(experiments, "provided_emotion_corpora", lambda config: ["fake"])
    monkeypatch.setattr(R, "_corpora", lambda config: ["fake"])
    cfg = resolve_config(None)
    table = R.representation_table(cfg)
    assert list(table.index) == [*names, *(f"{n}, centred per speaker" for n in names)]
    assert list(table.columns) == ["fake", R.MEAN_COLUMN, "this config"]
    assert table["this config"].tolist() == [False, True, False, False]
    assert table[R.MEAN_COLUMN].between(0, 1).all()
    text = R.representation_finding(table)
    best = table.loc[list(names), R.MEAN_COLUMN].idxmax()
    assert f"{best} reads the emotion best" in text and "This configuration embeds with " + names[1] in text
    assert f"{100 * table.loc[best, R.MEAN_COLUMN]:.1f} %" in text and "Centring each speaker" in text
    styled = R.style_representations(table).to_html()
    assert "(this config)" in styled and "this config</th>" not in styled
    monkeypatch.setattr(R, "_corpora", lambda config: [])
    assert "not run" in R.representation_finding(R.representation_table(cfg))
    known = pd.DataFrame({"a": [0.30, 0.40, 0.50, 0.60], "b": [0.34, 0.36, 0.42, 0.62]},
                         index=["old", "new", "old, centred per speaker", "new, centred per speaker"])
    known[R.MEAN_COLUMN] = known.mean(axis=1)
    known["this config"] = [False, True, False, False]
    assert R.representation_finding(known) == (
        "On validation speakers carved from the training splits (a, b; their test splits are never read), new "
        "reads the emotion best without speaker information: 38.0 % on average, against 32.0 % for old. Centring "
        "each speaker's embeddings (encoders.speaker_centring, which needs the speaker of every clip) changes "
        "that to 61.0 % (+23.0 points). This configuration embeds with new.")


def test_concatenation_appends_then_centres_the_joint_vector(patched, monkeypatch):
    """Two encoders' vectors side by side (the issue's "prosodic functionals appended"), centred per speaker
    after joining; each part through embed_audio with its own config."""
    patched["corpus"] = fake_corpus(offset_scale=6.0)
    calls = []

    def embed_audio(m, config=None, *, progress=True):
        calls.append(config.audio)
        table = patched["corpus"].set_index("utterance_id")
        cols = [f"e{i}" for i in range(4)] if config.audio == "egemaps" else [f"e{i}" for i in range(4, 8)]
        return table.loc[m["utterance_id"], cols].to_numpy(np.float32)

    monkeypatch.setattr(E, "embed_audio", embed_audio)
    parts = [EncodersConfig(), EncodersConfig(audio="egemaps", speaker_centring=True)]
    m = patched["corpus"]
    joint = probe.concatenation(parts)(m)
    assert calls == ["whisper-tiny-layers", "egemaps"] and joint.shape == (len(m), 8)
    np.testing.assert_allclose(joint, m[[f"e{i}" for i in (4, 5, 6, 7, 0, 1, 2, 3)]].to_numpy(), rtol=1e-6)
    centred = probe.concatenation(parts, speaker_centring=True)(m)
    per_speaker = pd.DataFrame(centred).groupby(m["speaker"].to_numpy()).mean()
    assert np.abs(per_speaker.to_numpy()).max() < 1e-5
    with pytest.raises(ParameterError, match="at least one"):
        probe.concatenation([])
    # the appended candidates name known candidates
    for name, names in probe.APPENDED_CANDIDATES.items():
        assert set(names) <= set(probe.AUDIO_CANDIDATES), name
