"""Querying an audio index: the loaded :class:`Index`, :func:`load_index`, :func:`search` and :func:`top_k`.

:func:`search` embeds text queries with the index's run (its text projection) and ranks the clips by cosine
similarity: one matrix product for all queries, top-k by ``argpartition``. A file that could not be embedded is
never a hit; an index with no searchable file is an error, never an empty answer (which would read as "nothing
matches").
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.errors import DataError, ParameterError
from clapemo.search.store import entries, entry_table, meta_path, meta_problems, read_meta

__all__ = ["HIT_COLUMNS", "Index", "load_index", "parse_queries", "search", "top_k"]

#: columns of :func:`search`'s result
HIT_COLUMNS: tuple[str, ...] = ("query", "rank", "score", "path", "duration_s", "description", "f0_mean_hz",
                                "intensity_db", "speech_rate_syl_per_s", "articulation_rate_syl_per_s",
                                "utterance_id")


@dataclass
class Index:
    """A loaded index: its table, the embedding matrix, and (loaded on first query) the run.

    Attributes
    ----------
    path : Path
        The index folder.
    meta : dict
        ``index.json``.
    table : DataFrame, one row per file, columns :data:`clapemo.search.store.ENTRY_COLUMNS`
    embeddings : ndarray, float32, shape (len(table), projection_dim)
        L2-normalised joint embeddings; zero rows where ``error`` is set.
    """

    path: Path
    meta: dict
    table: Any
    embeddings: np.ndarray
    _model: Any = field(default=None, repr=False)

    @property
    def searchable(self) -> np.ndarray:
        """Boolean mask (len(table),): rows that were embedded."""
        return self.table["error"].isna().to_numpy()

    def model(self) -> Any:
        """The run the index was built with (:func:`clapemo.train.load_run`), loaded once."""
        if self._model is None:
            from clapemo.train import load_run

            if not self.meta["run_dir"]:
                raise DataError(f"index {self.path} names no run folder (it was built with a model held in "
                                "memory); rebuild it with a trained run ('clapemo index DIR --run NAME -o INDEX')")
            run_dir = Path(self.meta["run_dir"])
            if not run_dir.is_dir():
                raise DataError(f"index {self.path} was built with run {self.meta['run_id']} at {run_dir}, which "
                                "no longer exists; run 'clapemo index' again with that run (it records where the "
                                "run is now), or rebuild the index with an existing run")
            self._model = load_run(run_dir)
        return self._model

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Text queries -> joint embeddings (len(queries), projection_dim) with the index's run."""
        return np.asarray(self.model().embed_texts(list(queries)), dtype=np.float32)

    def search(self, queries: str | Sequence[str], *, k: int = 10) -> pd.DataFrame:  # noqa: F821
        """:func:`search` on this index."""
        return search(self, queries, k=k)


def load_index(path: str | os.PathLike) -> Index:
    """Read an index folder written by ``index`` (table and embedding matrix; the run loads on first query).

    Raises
    ------
    DataError
        The folder holds no index, or a damaged one (the message says to rebuild).
    """
    folder = Path(path)
    for attempt in range(3):
        meta = read_meta(folder)
        if meta is None:
            raise DataError(f"{folder} holds no audio index (no index.json); build one with 'clapemo index DIR "
                            f"--run NAME -o {folder}'")
        problems = meta_problems(meta)
        if problems:
            raise DataError(f"{meta_path(folder)} is damaged: {'; '.join(problems)}; repair the index with "
                            f"'clapemo index {meta.get('root') or 'DIR'} --run NAME -o {folder}' (it embeds what "
                            "is lost again)")
        try:
            records, matrix, _ = entries(folder, meta)
        except DataError as err:
            if attempt < 2 and read_meta(folder) != meta:  # an index run replaced the parts meanwhile: read again
                continue
            raise DataError(f"index {meta_path(folder)}: {err}; repair the index with 'clapemo index "
                            f"{meta.get('root') or 'DIR'} --run {meta['run_id']} -o {folder}' (it embeds what "
                            "the part held again)") from None
        return Index(path=folder, meta=meta, table=entry_table(records), embeddings=matrix)
    raise AssertionError("unreachable")


def parse_queries(queries: str | Sequence[str]) -> list[str]:
    """Texts -> queries: each text may hold several separated by ``;`` (the API and the command line alike).

    Raises
    ------
    ParameterError
        No non-empty query is left.
    """
    if isinstance(queries, str):
        queries = [queries]
    given = [str(q) for q in queries]
    texts = [part.strip() for q in given for part in q.split(";")]
    texts = [t for t in texts if t]
    if not texts:
        raise ParameterError(f"queries = {given!r} must hold one or more non-empty texts (each may hold several "
                             "separated by ';')")
    return texts


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest scores per row, best first; ties go to the lower index.

    Parameters
    ----------
    scores : ndarray, shape (m, n); -inf marks items that must never be returned
    k : int, >= 1

    Returns
    -------
    idx : int64 (m, min(k, n)); values : same shape
    """
    m, n = scores.shape
    k = min(int(k), n)
    idx = np.zeros((m, k), np.int64)
    if k == 0:
        return idx, np.zeros((m, 0), scores.dtype)
    kth = np.partition(scores, n - k, axis=1)[:, n - k]  # the k-th largest score of each row: O(n)
    for r in range(m):
        candidates = np.flatnonzero(scores[r] >= kth[r])  # k items, more when the k-th score is tied
        order = np.lexsort((candidates, -scores[r, candidates]))[:k]
        idx[r] = candidates[order]
    return idx, np.take_along_axis(scores, idx, axis=1)


def _nothing_to_search(idx: Index) -> DataError:
    n = len(idx.table)
    if n == 0:
        return DataError(f"index {idx.path} holds no files: nothing to search; index a folder of audio into it "
                         "('clapemo index DIR --run NAME -o INDEX')")
    bad = idx.table[idx.table["error"].notna()].iloc[0]
    return DataError(f"index {idx.path}: none of its {n} files could be embedded (e.g. {bad['path']}: "
                     f"{bad['error']}): nothing to search; fix or replace the files and run 'clapemo index' again")


def search(index: Index | str | os.PathLike, queries: str | Sequence[str], *,
           k: int = 10) -> pd.DataFrame:  # noqa: F821
    """Rank the indexed clips for each text query.

    Parameters
    ----------
    index : Index or path of an index folder
    queries : str or sequence of str
        e.g. ``["high pitch anger", "low intensity sad"]``; each text may hold several separated by ``;``
        (``"high pitch anger; low intensity sad"``), on the command line too.
    k : int
        Hits per query (fewer when the index has fewer searchable clips).

    Returns
    -------
    DataFrame, ``k`` rows per query in query order, columns :data:`HIT_COLUMNS`: ``query``, ``rank`` (1 = best),
    ``score`` (cosine similarity in the run's joint space), ``path``, ``duration_s``, ``description`` (the clip's
    own prompt words), its measured properties and ``utterance_id``.

    Raises
    ------
    DataError
        The index is damaged (the message names the file and the fault) or holds no searchable file (every file
        failed, or none is left): an empty answer would read as "nothing matches".
    """
    import pandas as pd

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k = {k!r} must be a positive integer")
    texts = parse_queries(queries)
    idx = index if isinstance(index, Index) else load_index(index)
    mask = idx.searchable
    if not mask.any():
        raise _nothing_to_search(idx)
    q = idx.embed_queries(texts)
    scores = q @ idx.embeddings.T if len(idx.embeddings) else np.zeros((len(texts), 0), np.float32)
    scores = np.where(mask[None, :], scores, -np.inf)
    top, vals = top_k(scores, min(int(k), int(mask.sum())))
    picked = idx.table.iloc[top.ravel()].reset_index(drop=True)
    hits = pd.DataFrame({"query": np.repeat(np.array(texts, dtype=object), top.shape[1]),
                         "rank": np.tile(np.arange(1, top.shape[1] + 1), len(texts)),
                         "score": vals.ravel().astype(np.float64)})
    hits = pd.concat([hits, picked[[c for c in HIT_COLUMNS if c not in hits.columns]]], axis=1)
    return hits[list(HIT_COLUMNS)]
