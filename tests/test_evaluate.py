"""EAR and zero-shot SER protocols, on embeddings with known answers (no training)."""

import numpy as np
import pandas as pd
import pytest

from clapemo.errors import DataError, ParameterError
from clapemo.evaluate import (
    FOUR_CLASSES,
    base_corpus,
    check_speaker_independent,
    class_prompts,
    corpus_labels,
    cosine_scores,
    ear,
    emotion_words,
    four_class,
    precision_at_ks,
    random_predict,
    retrieval_queries,
    ser_scores,
    zero_shot_predict,
)

LABELS = ["happy", "sad", "angry", "neutral"]
PITCH = ["low male pitch", "high male pitch", "low female pitch", "high female pitch"]
WORD = {"happy": "happy", "sad": "sad", "angry": "anger", "neutral": "neutral"}


class OneHotModel:
    """Audio = [onehot(label), onehot(pitch bin)]; a text embeds the label word and/or the pitch phrase it holds.

    So a class query's nearest clips are those of its class, and an acoustic query's nearest clips are those with
    both its bin and its class: every Precision@K is 1 when each query has at least K relevant clips.
    """

    def __init__(self, table: pd.DataFrame, noise: float = 0.0, seed: int = 0):
        self.table, self.noise, self.rng = table, noise, np.random.default_rng(seed)

    def embed_manifest(self, manifest):
        x = np.zeros((len(manifest), 8))
        for i, row in enumerate(manifest.itertuples()):
            x[i, LABELS.index(row.label)] = 1
            x[i, 4 + row.bin] = 1
        return x + self.noise * self.rng.standard_normal(x.shape)

    def embed_texts(self, texts):
        x = np.zeros((len(texts), 8))
        for i, text in enumerate(texts):
            for j, label in enumerate(LABELS):
                if text.endswith(WORD[label]):
                    x[i, j] = 1
            for j, phrase in enumerate(PITCH):
                if text.startswith(phrase):
                    x[i, 4 + j] = 1
        return x + self.noise * self.rng.standard_normal(x.shape)


def collection(n_per_cell: int = 3) -> pd.DataFrame:
    rows = []
    for label in LABELS:
        for b in range(4):
            for r in range(n_per_cell):
                rows.append({"utterance_id": f"c/{label}-{b}-{r}", "label": label, "bin": b,
                             "class_label": WORD[label], "pitch": f"{PITCH[b]} {WORD[label]}"})
    return pd.DataFrame(rows)


def test_base_corpus_and_labels():
    assert base_corpus("synth-ravdess") == "ravdess" and base_corpus("mosi") == "mosi"
    assert len(corpus_labels("synth-ravdess")) == 8 and "calm" in corpus_labels("ravdess")
    assert corpus_labels("synth-iemocap", four_class_iemocap=True) == FOUR_CLASSES
    assert len(corpus_labels("iemocap")) == 9
    with pytest.raises(ParameterError, match="'synth-4d' is not an emotion corpus"):
        corpus_labels("synth-4d")


def test_class_prompts_template_and_words():
    assert class_prompts(["angry", "sad"]) == ["anger", "sad"]
    assert class_prompts(["angry"], template="this person is feeling {emotion}") == ["this person is feeling anger"]
    assert class_prompts(["angry"], words={"angry": "angry"}) == ["angry"]
    assert emotion_words({"happy": "joy"})["happy"] == "joy"
    with pytest.raises(ParameterError, match="must contain"):
        class_prompts(["sad"], template="sad speech")
    with pytest.raises(ParameterError, match="not a canonical label"):
        emotion_words({"glad": "glad"})
    with pytest.raises(ParameterError, match="not distinct"):
        class_prompts(["happy", "sad"], words={"happy": "x", "sad": "x"})


def test_cosine_scores_known_values():
    q = np.array([[1.0, 0.0], [1.0, 1.0]])
    x = np.array([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    s = cosine_scores(q, x)
    assert s.shape == (2, 3)
    np.testing.assert_allclose(s, [[1, 0, -1], [np.sqrt(0.5), np.sqrt(0.5), -np.sqrt(0.5)]])
    with pytest.raises(ParameterError, match="dim"):
        cosine_scores(q, np.ones((3, 4)))


def test_retrieval_queries_relevance():
    queries, relevant = retrieval_queries(["b", None, "a", "b", float("nan")])
    assert queries == ["a", "b"]
    np.testing.assert_array_equal(relevant, [[0, 0, 1, 0, 0], [1, 0, 0, 1, 0]])
    queries, relevant = retrieval_queries([None, None])
    assert queries == [] and relevant.shape == (0, 2)


def test_precision_at_ks_hand_computed_and_ties():
    scores = np.array([[0.9, 0.8, 0.7, 0.1], [0.5, 0.5, 0.5, 0.5]])
    relevant = np.array([[1, 0, 1, 0], [0, 1, 1, 0]], dtype=bool)
    p = precision_at_ks(scores, relevant, ks=[1, 2, 4])
    # query 0: top1 rel, top2 1/2, top4 2/4; query 1 (all tied -> collection order): 0, 1/2, 2/4
    assert p == pytest.approx({1: 0.5, 2: 0.5, 4: 0.5})
    with pytest.raises(ParameterError):
        precision_at_ks(scores, relevant, ks=[5])


def test_ear_identity_model_is_perfect():
    table = collection(n_per_cell=3)  # 12 clips per class, 3 per (class, bin)
    res = ear(OneHotModel(table), table, kinds=["class_label", "pitch"], ks=[1, 3, 10])
    assert list(res.columns) == ["query_kind", "k", "precision", "n_queries", "n_items"]
    cl = res[res.query_kind == "class_label"].set_index("k")["precision"]
    assert cl.to_dict() == {1: 1.0, 3: 1.0, 10: 1.0}
    pitch = res[res.query_kind == "pitch"].set_index("k")["precision"]
    assert pitch[1] == 1.0 and pitch[3] == 1.0 and pitch[10] == pytest.approx(3 / 10)
    assert set(res[res.query_kind == "pitch"]["n_queries"]) == {16}
    assert set(res["n_items"]) == {48}


def test_ear_values_in_range_and_deterministic_with_noise():
    table = collection(2)
    a = ear(OneHotModel(table, noise=2.0, seed=1), table, kinds=["class_label", "pitch"], ks=[1, 5, 10])
    b = ear(OneHotModel(table, noise=2.0, seed=1), table, kinds=["class_label", "pitch"], ks=[1, 5, 10])
    pd.testing.assert_frame_equal(a, b)
    assert a["precision"].between(0, 1).all()


def test_ear_errors():
    table = collection(1)
    with pytest.raises(DataError, match="no prompt column"):
        ear(OneHotModel(table), table, kinds=["intensity"], ks=[1])
    with pytest.raises(DataError, match="audio embeddings"):
        ear(OneHotModel(table), table, kinds=["pitch"], ks=[1], audio_emb=np.zeros((3, 8)))
    empty = table.assign(pitch=None)
    with pytest.raises(DataError, match="no queries"):
        ear(OneHotModel(table), empty, kinds=["pitch"], ks=[1])


def test_zero_shot_predict_nearest_and_ties():
    audio = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    classes = np.array([[1.0, 0.0], [0.0, 1.0]])
    pred = zero_shot_predict(audio, classes, ["sad", "angry"])
    assert list(pred) == ["sad", "angry", "sad"]  # third is a tie: the earlier label wins


def test_ser_scores_chance_and_ua():
    y_true = ["sad"] * 6 + ["angry"] * 2
    y_pred = ["sad"] * 8
    s = ser_scores(y_true, y_pred, labels=["sad", "angry", "calm", "happy"])
    assert s["accuracy"] == pytest.approx(0.75)
    assert s["unweighted_accuracy"] == pytest.approx(0.5)  # classes present in y_true: sad 1.0, angry 0.0
    assert s["chance"] == pytest.approx(0.25) and s["n_classes"] == 4 and s["n_items"] == 8
    with pytest.raises(DataError, match="outside the scored label set"):
        ser_scores(["fearful"], ["sad"], labels=["sad"])


def test_random_predict_seeded_and_near_chance():
    a = random_predict(4000, ["a", "b", "c", "d"], seed=3)
    assert list(a) == list(random_predict(4000, ["a", "b", "c", "d"], seed=3))
    acc = ser_scores(["a"] * 4000, a, labels=["a", "b", "c", "d"])["accuracy"]
    assert abs(acc - 0.25) < 0.03


def test_four_class_merges_excited_and_drops_others():
    t = pd.DataFrame({"utterance_id": list("abcde"),
                      "label": ["excited", "happy", "frustrated", "sad", "neutral"]})
    out = four_class(t)
    assert list(out["utterance_id"]) == ["a", "b", "d", "e"]
    assert list(out["label"]) == ["happy", "happy", "sad", "neutral"]


def test_check_speaker_independent():
    train = pd.DataFrame({"speaker": ["s1", "s2"]})
    check_speaker_independent(train, pd.DataFrame({"speaker": ["s3"]}))
    with pytest.raises(DataError, match="not speaker-independent"):
        check_speaker_independent(train, pd.DataFrame({"speaker": ["s2"]}))
