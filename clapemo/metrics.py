"""Retrieval and classification metrics: small pure numpy functions.

Conventions
-----------
* Retrieval: ``scores`` is a float array of shape (n_queries, n_items) (higher = more similar) and ``relevant``
  a bool array of the same shape. Items are ranked per query by a **stable sort on descending score**, so among
  equal scores the item with the **lower index ranks first** (deterministic; evaluation never depends on sort
  internals). NaN scores are rejected; +-inf are allowed and rank first/last.
* :func:`precision_at_k` is the mean over queries of (relevant items among the top k) / k. A query without any
  relevant item contributes 0. :func:`recall_at_k` divides by the query's number of relevant items instead and
  rejects queries that have none (recall is undefined there).
* Classification: ``y_true`` and ``y_pred`` are 1-D sequences of hashable labels (str or int) of equal length.
  :func:`unweighted_accuracy` is the mean per-class recall over the classes **present in y_true** (a class with
  no true examples has no recall and is excluded, even when listed in ``labels``).

Every function raises :class:`~clapemo.errors.ParameterError` naming the argument on empty inputs, shape
mismatches and out-of-range ``k``.
"""

from __future__ import annotations

from typing import Any, Hashable, Sequence

import numpy as np

from clapemo.errors import ParameterError

__all__ = ["top_k", "precision_at_k", "precision_per_query", "recall_at_k", "accuracy", "unweighted_accuracy", "confusion_matrix"]


# --------------------------------------------------------------------------------------------------------------
# Retrieval
# --------------------------------------------------------------------------------------------------------------


def _check_k(k: Any, n_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ParameterError(f"k = {k!r} must be an int")
    if not 1 <= int(k) <= n_items:
        raise ParameterError(f"k = {k} must be in [1, {n_items}] (the number of items)")
    return int(k)


def _check_retrieval(scores: Any, relevant: Any) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores)
    if s.ndim != 2:
        raise ParameterError(f"scores must be 2-D (n_queries, n_items), got shape {s.shape}")
    if s.size == 0:
        raise ParameterError(f"scores is empty (shape {s.shape})")
    if not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)) or s.dtype == bool:
        raise ParameterError(f"scores must be numeric, got dtype {s.dtype}")
    s = s.astype(np.float64, copy=False)
    if np.isnan(s).any():
        q, i = np.argwhere(np.isnan(s))[0]
        raise ParameterError(f"scores has NaN (first at query {q}, item {i}); NaN cannot be ranked")
    r = np.asarray(relevant)
    if r.shape != s.shape:
        raise ParameterError(f"relevant shape {r.shape} != scores shape {s.shape}")
    if r.dtype != bool:
        if not (np.issubdtype(r.dtype, np.integer) and np.isin(r, (0, 1)).all()):
            raise ParameterError(f"relevant must be bool (or 0/1), got dtype {r.dtype}")
        r = r.astype(bool)
    return s, r


def top_k(scores: Any, k: int) -> np.ndarray:
    """Indices of the k best items per query, best first (ties: lower index first).

    Parameters
    ----------
    scores : array (n_queries, n_items)
    k : int in [1, n_items]

    Returns
    -------
    int array (n_queries, k)
    """
    s, _ = _check_retrieval(scores, np.zeros(np.shape(scores), dtype=bool))
    k = _check_k(k, s.shape[1])
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def _hits_at_k(scores: Any, relevant: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    s, r = _check_retrieval(scores, relevant)
    k = _check_k(k, s.shape[1])
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(r, order, axis=1).sum(axis=1), r


def precision_at_k(scores: Any, relevant: Any, k: int) -> float:
    """Precision@K averaged over queries.

    Parameters
    ----------
    scores : float array (n_queries, n_items)
    relevant : bool array (n_queries, n_items)
    k : int in [1, n_items]

    Returns
    -------
    float in [0, 1]: mean over queries of (#relevant among the top k) / k; ties broken by lower item index.
    """
    return float(np.mean(precision_per_query(scores, relevant, k)))


def precision_per_query(scores: Any, relevant: Any, k: int) -> np.ndarray:
    """Precision@K of each query (what :func:`precision_at_k` averages), for paired comparisons.

    Returns
    -------
    float array (n_queries,) in [0, 1]
    """
    hits, _ = _hits_at_k(scores, relevant, k)
    return hits / k


def recall_at_k(scores: Any, relevant: Any, k: int) -> float:
    """Recall@K averaged over queries: (#relevant among the top k) / (#relevant); every query needs one."""
    hits, r = _hits_at_k(scores, relevant, k)
    n_relevant = r.sum(axis=1)
    if (n_relevant == 0).any():
        q = int(np.flatnonzero(n_relevant == 0)[0])
        raise ParameterError(f"relevant: query {q} has no relevant item, so its recall is undefined")
    return float(np.mean(hits / n_relevant))


# --------------------------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------------------------


def _as_labels(name: str, values: Any) -> np.ndarray:
    if isinstance(values, (str, bytes)):
        raise ParameterError(f"{name} must be a sequence of labels, not a single {type(values).__name__}")
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    if arr.size == 0:
        raise ParameterError(f"{name} is empty")
    return arr


def _check_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = _as_labels("y_true", y_true)
    p = _as_labels("y_pred", y_pred)
    if len(t) != len(p):
        raise ParameterError(f"y_true has {len(t)} labels but y_pred has {len(p)}")
    missing = [i for i, v in enumerate(t) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise ParameterError(f"y_true[{missing[0]}] is missing ({t[missing[0]]!r}); every true label is needed")
    return t, p


def _indices(name: str, values: np.ndarray, index: dict[Hashable, int]) -> np.ndarray:
    try:
        return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
    except (KeyError, TypeError):
        bad = next(v for v in values if not isinstance(v, Hashable) or v not in index)
        raise ParameterError(f"{name} holds {bad!r}, which is not in labels {list(index)}") from None


def accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    """Share of predictions equal to the true label.

    Parameters
    ----------
    y_true, y_pred : sequences of n labels (n >= 1)
    """
    t, p = _check_pair(y_true, y_pred)
    return float(np.mean([a == b for a, b in zip(t, p)]))


def confusion_matrix(y_true: Sequence[Hashable], y_pred: Sequence[Hashable], *,
                     labels: Sequence[Hashable]) -> np.ndarray:
    """Counts of (true, predicted) label pairs.

    Parameters
    ----------
    y_true, y_pred : sequences of n labels, each in ``labels``
    labels : sequence of distinct labels, the row/column order

    Returns
    -------
    int64 array (len(labels), len(labels)): entry [i, j] = number of items of true label ``labels[i]``
    predicted as ``labels[j]``.
    """
    t, p = _check_pair(y_true, y_pred)
    labels = list(_as_labels("labels", labels))
    if len(set(labels)) != len(labels):
        raise ParameterError(f"labels has duplicates: {labels}")
    index = {label: i for i, label in enumerate(labels)}
    ti, pi = _indices("y_true", t, index), _indices("y_pred", p, index)
    n = len(labels)
    return np.bincount(ti * n + pi, minlength=n * n).reshape(n, n).astype(np.int64)


def unweighted_accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable], *,
                        labels: Sequence[Hashable] | None = None) -> float:
    """Mean per-class recall (UA) over the classes present in ``y_true``.

    Parameters
    ----------
    y_true, y_pred : sequences of n labels
    labels : sequence of labels, optional
        The label set; every true label must be in it. Predictions outside it count as wrong. Classes of
        ``labels`` absent from ``y_true`` are excluded from the mean. Default: the distinct true labels.
    """
    t, p = _check_pair(y_true, y_pred)
    if labels is None:
        classes = list(dict.fromkeys(t.tolist()))
    else:
        classes = list(_as_labels("labels", labels))
        if len(set(classes)) != len(classes):
            raise ParameterError(f"labels has duplicates: {classes}")
    index = {c: i for i, c in enumerate(classes)}
    ti = _indices("y_true", t, index)
    correct = np.array([a == b for a, b in zip(t, p)], dtype=np.float64)
    support = np.bincount(ti, minlength=len(classes))
    hits = np.bincount(ti, weights=correct, minlength=len(classes))
    present = support > 0
    return float(np.mean(hits[present] / support[present]))
