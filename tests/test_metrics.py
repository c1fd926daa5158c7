"""Metrics against a naive loop, hand-computed cases and identity cases."""

import numpy as np
import pytest

from clapemo.errors import ParameterError
from clapemo.metrics import (accuracy, confusion_matrix, precision_at_k, recall_at_k, top_k,
                             unweighted_accuracy)


def naive_precision_at_k(scores, relevant, k):
    total = 0.0
    for q in range(len(scores)):
        # ties: lower index first (sort on (-score, index))
        ranked = sorted(range(len(scores[q])), key=lambda i: (-scores[q][i], i))
        total += sum(bool(relevant[q][i]) for i in ranked[:k]) / k
    return total / len(scores)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_precision_at_k_matches_naive_loop(seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(7, 23))
    scores[:, ::5] = np.round(scores[:, ::5], 0)  # plant ties
    relevant = rng.random((7, 23)) < 0.3
    for k in (1, 2, 5, 10, 23):
        assert precision_at_k(scores, relevant, k) == pytest.approx(naive_precision_at_k(scores, relevant, k))


def test_precision_at_k_hand_computed_3x4():
    scores = np.array([[0.9, 0.1, 0.5, 0.3],    # ranking 0, 2, 3, 1
                       [0.2, 0.2, 0.8, 0.1],    # ranking 2, 0, 1, 3 (tie 0/1: lower index first)
                       [0.0, 0.4, 0.4, 0.4]])   # ranking 1, 2, 3, 0
    relevant = np.array([[1, 0, 0, 1],
                         [0, 1, 1, 0],
                         [1, 0, 1, 0]], dtype=bool)
    assert precision_at_k(scores, relevant, 1) == pytest.approx((1 + 1 + 0) / 3)
    assert precision_at_k(scores, relevant, 2) == pytest.approx((1 / 2 + 1 / 2 + 1 / 2) / 3)
    assert precision_at_k(scores, relevant, 3) == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    assert precision_at_k(scores, relevant, 4) == pytest.approx((2 / 4 + 2 / 4 + 2 / 4) / 3)
    assert top_k(scores, 4).tolist() == [[0, 2, 3, 1], [2, 0, 1, 3], [1, 2, 3, 0]]
    assert recall_at_k(scores, relevant, 2) == pytest.approx((1 / 2 + 1 / 2 + 1 / 2) / 3)


def test_precision_at_k_identity_is_one():
    n = 6
    assert precision_at_k(np.eye(n), np.eye(n, dtype=bool), 1) == 1.0
    assert recall_at_k(np.eye(n), np.eye(n, dtype=bool), 1) == 1.0
    # every item relevant -> any k gives 1
    assert precision_at_k(np.random.default_rng(0).normal(size=(3, n)), np.ones((3, n), dtype=bool), n) == 1.0


def test_ties_lower_index_wins():
    scores = np.zeros((1, 4))
    assert precision_at_k(scores, np.array([[1, 0, 0, 0]], dtype=bool), 1) == 1.0
    assert precision_at_k(scores, np.array([[0, 0, 0, 1]], dtype=bool), 1) == 0.0


def test_retrieval_errors():
    s, r = np.zeros((2, 3)), np.zeros((2, 3), dtype=bool)
    with pytest.raises(ParameterError, match=r"relevant shape \(3, 2\) != scores shape \(2, 3\)"):
        precision_at_k(s, r.T, 1)
    with pytest.raises(ParameterError, match=r"k = 0 must be in \[1, 3\]"):
        precision_at_k(s, r, 0)
    with pytest.raises(ParameterError, match=r"k = 4 must be in \[1, 3\]"):
        precision_at_k(s, r, 4)
    with pytest.raises(ParameterError, match="must be an int"):
        precision_at_k(s, r, 1.0)
    with pytest.raises(ParameterError, match="empty"):
        precision_at_k(np.zeros((0, 3)), np.zeros((0, 3), dtype=bool), 1)
    with pytest.raises(ParameterError, match="2-D"):
        precision_at_k(np.zeros(3), np.zeros(3, dtype=bool), 1)
    bad = s.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ParameterError, match="NaN .*query 1, item 2"):
        precision_at_k(bad, r, 1)
    with pytest.raises(ParameterError, match="relevant must be bool"):
        precision_at_k(s, np.full((2, 3), 0.5), 1)
    with pytest.raises(ParameterError, match="query 0 has no relevant item"):
        recall_at_k(s, r, 1)


def test_accuracy_and_ua_hand_computed_imbalanced():
    # 6 angry (5 right), 2 sad (1 right), 2 happy (0 right)
    y_true = ["angry"] * 6 + ["sad"] * 2 + ["happy"] * 2
    y_pred = ["angry"] * 5 + ["sad"] + ["sad", "angry"] + ["angry", "sad"]
    assert accuracy(y_true, y_pred) == pytest.approx(6 / 10)
    assert unweighted_accuracy(y_true, y_pred) == pytest.approx((5 / 6 + 1 / 2 + 0) / 3)
    # a listed class absent from y_true is excluded, not counted as 0
    labels = ["angry", "sad", "happy", "neutral"]
    assert unweighted_accuracy(y_true, y_pred, labels=labels) == pytest.approx((5 / 6 + 1 / 2 + 0) / 3)
    assert unweighted_accuracy(y_true, y_true) == 1.0 and accuracy(y_true, y_true) == 1.0


def test_confusion_matrix():
    y_true = ["angry"] * 6 + ["sad"] * 2 + ["happy"] * 2
    y_pred = ["angry"] * 5 + ["sad"] + ["sad", "angry"] + ["angry", "sad"]
    cm = confusion_matrix(y_true, y_pred, labels=["angry", "sad", "happy"])
    assert cm.tolist() == [[5, 1, 0], [1, 1, 0], [1, 1, 0]]
    assert cm.dtype == np.int64 and cm.sum() == 10
    assert np.trace(cm) / cm.sum() == pytest.approx(accuracy(y_true, y_pred))
    assert confusion_matrix([0, 1, 2], [0, 1, 2], labels=[0, 1, 2]).tolist() == np.eye(3, dtype=int).tolist()


def test_classification_errors():
    with pytest.raises(ParameterError, match="y_true has 2 labels but y_pred has 1"):
        accuracy(["a", "b"], ["a"])
    with pytest.raises(ParameterError, match="y_true is empty"):
        unweighted_accuracy([], [])
    with pytest.raises(ParameterError, match=r"y_true\[1\] is missing"):
        accuracy(["a", None], ["a", "a"])
    with pytest.raises(ParameterError, match="y_pred holds 'x', which is not in labels"):
        confusion_matrix(["a"], ["x"], labels=["a", "b"])
    with pytest.raises(ParameterError, match="y_true holds 'c'"):
        unweighted_accuracy(["c"], ["a"], labels=["a", "b"])
    with pytest.raises(ParameterError, match="duplicates"):
        confusion_matrix(["a"], ["a"], labels=["a", "a"])
    with pytest.raises(ParameterError, match="single str"):
        accuracy("ab", "ab")
