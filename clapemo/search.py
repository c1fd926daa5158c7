"""Search your own audio with text: an index of a folder embedded by a trained run, queried with prompts.

:func:`index` embeds every audio file under a folder with a run's frozen encoder and its audio projection (the
joint space, L2-normalised), measures its acoustic properties (``clapemo.features``) and names their bins in the
run's prompt words (``clapemo.describe``). :func:`search` embeds text queries with the run's text projection and
ranks the clips by cosine similarity: one matrix product for all queries, top-k by ``argpartition``.

The index folder
----------------
``INDEX/index.json`` (format, the run, the folder indexed, the part files) and ``INDEX/parts/<digest>.npz``,
each holding ``embeddings`` (float32, ``(n, projection_dim)``) and ``records`` (the table rows as JSON). Each
part is written atomically (:func:`clapemo.files.atomic_write`) before ``index.json`` names it, so a killed run
leaves a valid index of the chunks it finished, and the next run continues from there; at the end of a run the
parts are merged into one. Files are matched by content (:func:`clapemo.files.file_sha256`): a re-run embeds
only new or changed files (a moved file reuses its embedding), and files gone from the folder leave the index.
A file that cannot be embedded keeps a row with its ``error`` (it is never a search hit); a file that embeds
but cannot be measured keeps its ``features_error`` (it is searchable, its properties are empty). One process
at a time may write an index (:class:`clapemo.files.FolderLock`).

``clapemo index DIR --run NAME -o INDEX`` and ``clapemo search INDEX "high pitch anger" ["low intensity sad"
...] [-k 10] [--json]``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.errors import DataError, ParameterError
from clapemo.schema import PROPERTY_COLUMNS

__all__ = [
    "ENTRY_COLUMNS",
    "HIT_COLUMNS",
    "INDEX_FORMAT",
    "Index",
    "default_folder",
    "embed_files",
    "index",
    "index_cli",
    "load_index",
    "project_folder",
    "search",
    "search_cli",
    "show_hits",
    "top_k",
]

log = logging.getLogger(__name__)

#: the ``format`` entry of ``index.json``
INDEX_FORMAT = "clapemo-audio-index/1"
#: columns of :attr:`Index.table`
ENTRY_COLUMNS: tuple[str, ...] = ("utterance_id", "path", "sha256", *PROPERTY_COLUMNS, "pitch", "pitch2",
                                  "intensity", "speech_rate", "articulation_rate", "description",
                                  "features_error", "error")
#: columns of :func:`search`'s result
HIT_COLUMNS: tuple[str, ...] = ("query", "rank", "score", "path", "duration_s", "description", "f0_mean_hz",
                                "intensity_db", "speech_rate_syl_per_s", "articulation_rate_syl_per_s",
                                "utterance_id")

_CHUNK = 64  # files per part: a killed run loses at most this many files' work


@dataclass
class Index:
    """A loaded index: its table, the embedding matrix, and (loaded on first query) the run.

    Attributes
    ----------
    path : Path
        The index folder.
    meta : dict
        ``index.json``.
    table : DataFrame, one row per file, columns :data:`ENTRY_COLUMNS`
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

            run_dir = Path(self.meta["run_dir"])
            if not run_dir.is_dir():
                raise DataError(f"index {self.path} was built with run {self.meta['run_id']} at {run_dir}, which "
                                "no longer exists; rebuild the index with an existing run")
            self._model = load_run(run_dir)
        return self._model

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Text queries -> joint embeddings (len(queries), projection_dim) with the index's run."""
        return np.asarray(self.model().embed_texts(list(queries)), dtype=np.float32)

    def search(self, queries: str | Sequence[str], *, k: int = 10) -> pd.DataFrame:  # noqa: F821
        """:func:`search` on this index."""
        return search(self, queries, k=k)


# --------------------------------------------------------------------------------------------------------------
# Files of an index
# --------------------------------------------------------------------------------------------------------------


def _meta_path(folder: Path) -> Path:
    return folder / "index.json"


def _read_meta(folder: Path) -> dict | None:
    path = _meta_path(folder)
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DataError(f"{path} cannot be read ({err}); delete the index folder {folder} and index "
                        "again") from None
    if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise DataError(f"{path} is not a clapemo audio index (format {found!r}, "
                        f"expected {INDEX_FORMAT!r})")
    return meta


def _write_part(folder: Path, embeddings: np.ndarray, records: list[dict]) -> str:
    from clapemo.files import atomic_write, bytes_sha256

    buf = io.BytesIO()
    text = json.dumps(records, allow_nan=True)
    np.savez(buf, embeddings=np.ascontiguousarray(embeddings, dtype=np.float32), records=np.array(text))
    data = buf.getvalue()
    name = f"{bytes_sha256(data)[:16]}.npz"
    with atomic_write(folder / "parts" / name) as tmp:
        tmp.write_bytes(data)
    return name


def _read_part(folder: Path, name: str) -> tuple[np.ndarray, list[dict]]:
    path = folder / "parts" / name
    try:
        with np.load(path, allow_pickle=False) as data:
            return np.asarray(data["embeddings"], dtype=np.float32), json.loads(str(data["records"]))
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"index part {path} cannot be read ({err}); delete the index folder {folder} and index "
                        "again") from None


def _write_meta(folder: Path, meta: dict) -> None:
    from clapemo.files import atomic_write_text

    atomic_write_text(_meta_path(folder), json.dumps(meta, indent=1) + "\n")


def _remove_unlisted_parts(folder: Path, keep: Sequence[str]) -> None:
    """Delete part files that ``index.json`` does not name (left by a killed run, or merged)."""
    parts = folder / "parts"
    if not parts.is_dir():
        return
    for p in parts.iterdir():
        if p.name not in keep:
            p.unlink(missing_ok=True)


def _entries(folder: Path, meta: dict) -> tuple[list[dict], np.ndarray]:
    """All rows of the index parts in order, a later row of the same path replacing an earlier one."""
    by_path: dict[str, int] = {}
    records: list[dict] = []
    vectors: list[np.ndarray] = []
    dim = int(meta.get("dim", 0))
    for name in meta.get("parts", []):
        emb, recs = _read_part(folder, name)
        if len(emb) != len(recs):
            raise DataError(f"index part {folder / 'parts' / name} holds {len(emb)} embeddings for {len(recs)} "
                            "rows; delete the index folder and index again")
        for vector, rec in zip(emb, recs):
            if rec["path"] in by_path:
                i = by_path[rec["path"]]
                records[i], vectors[i] = rec, vector
            else:
                by_path[rec["path"]] = len(records)
                records.append(rec)
                vectors.append(vector)
    matrix = np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32)
    return records, matrix


def _table(records: list[dict]) -> Any:
    import pandas as pd

    table = pd.DataFrame(records, columns=list(ENTRY_COLUMNS))
    for col in PROPERTY_COLUMNS:
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
    for col in ("features_error", "error"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table


def load_index(path: str | os.PathLike) -> Index:
    """Read an index folder written by :func:`index` (table and embedding matrix; the run loads on first query).

    Raises
    ------
    DataError
        The folder holds no index, or a damaged one (the message says to rebuild).
    """
    folder = Path(path)
    meta = _read_meta(folder)
    if meta is None:
        raise DataError(f"{folder} holds no audio index (no index.json); build one with 'clapemo index DIR --run "
                        f"NAME -o {folder}'")
    records, matrix = _entries(folder, meta)
    return Index(path=folder, meta=meta, table=_table(records), embeddings=matrix)


# --------------------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------------------


def _project_files(model: Any, paths: list[str]) -> np.ndarray:
    """``model.embed_manifest`` without the encoders' own progress bar (the index has one over all files)."""
    import pandas as pd

    from clapemo import encoders

    return model.project_audio(encoders.embed_audio(pd.DataFrame({"path": paths}), model.config.encoders,
                                                    progress=False))


def embed_files(model: Any, paths: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
    """Joint embeddings of audio files with a run, and the per-file errors (never a failed batch).

    Parameters
    ----------
    model : TrainedCLAP
    paths : sequence of str, length n

    Returns
    -------
    embeddings : ndarray, float32, shape (n, projection_dim); L2-normalised, zero rows where a file failed
    errors : list of (str or None), length n; ``"<ErrorType>: <message>"`` for a file that could not be embedded
    """
    paths = [str(p) for p in paths]
    dim = model.head.projection_dim
    out = np.zeros((len(paths), dim), np.float32)
    errors: list[str | None] = [None] * len(paths)
    if not paths:
        return out, errors
    try:
        out[:] = _project_files(model, paths)
        return out, errors
    except Exception as err:  # noqa: BLE001 - one bad file fails the batch; find it by embedding one at a time
        log.debug("batch of %d files failed (%s); embedding them one at a time", len(paths), err)
    for i, p in enumerate(paths):
        try:
            out[i] = _project_files(model, [p])[0]
        except Exception as err:  # noqa: BLE001 - recorded per file, never a crashed batch
            errors[i] = f"{type(err).__name__}: {err}"
    return out, errors


def _records(model: Any, thresholds: Any, paths: list[Path], digests: list[str | None], rel_ids: list[str],
             n_jobs: int, digest_errors: list[str | None]) -> tuple[np.ndarray, list[dict]]:
    from clapemo import features as F
    from clapemo.describe import WORD_KINDS, bin_words

    ok = [i for i, e in enumerate(digest_errors) if e is None]
    emb = np.zeros((len(paths), model.head.projection_dim), np.float32)
    errors = list(digest_errors)
    if ok:
        chunk_emb, chunk_err = embed_files(model, [str(paths[i]) for i in ok])
        for j, i in enumerate(ok):
            emb[i], errors[i] = chunk_emb[j], chunk_err[j]
    measured = [i for i in ok if errors[i] is None]
    feats = (F.extract_table([str(paths[i]) for i in measured], config=model.config.features, n_jobs=n_jobs,
                             progress=False) if measured else None)
    rows_of = {i: r for r, i in enumerate(measured)}
    records = []
    for i, path in enumerate(paths):
        rec: dict[str, Any] = {"utterance_id": rel_ids[i], "path": str(path), "sha256": digests[i]}
        rec.update({c: None for c in PROPERTY_COLUMNS})
        rec.update({k: None for k in (*WORD_KINDS, "description")})
        rec["features_error"], rec["error"] = None, errors[i]
        if i in rows_of:
            row = feats.iloc[rows_of[i]]
            for c in PROPERTY_COLUMNS:
                value = row[c]
                rec[c] = None if value is None or (isinstance(value, float) and np.isnan(value)) or \
                    type(value).__name__ == "NAType" else float(value)
            if row["error"] is None:
                rec.update(bin_words(row, thresholds=thresholds))
            else:
                rec["features_error"] = row["error"]
        records.append(rec)
    return emb, records


def _digest(path: Path) -> tuple[str | None, str | None]:
    from clapemo.files import file_sha256

    try:
        return file_sha256(path), None
    except FileNotFoundError:
        return None, f"DataError: {path}: audio file not found"
    except OSError as err:
        return None, f"DataError: {path}: cannot be read ({err})"


def _utterance_id(path: Path, root: Path) -> str:
    """The path below the indexed folder without its suffix (``Session1/a``); the file name for a single file."""
    if root.is_dir() and path.is_relative_to(root):
        return path.relative_to(root).with_suffix("").as_posix()
    return path.stem


def index(folder: str | os.PathLike, *, run: Any, output: str | os.PathLike,
          runs_dir: str | os.PathLike | None = None, corpus: str | None = None, n_jobs: int = 1,
          progress: bool = True) -> Index:
    """Embed and describe every audio file under ``folder`` into the index ``output`` (created or updated).

    Parameters
    ----------
    folder : path
        Audio files are found recursively (``clapemo.describe.audio_files``); a single file is accepted too.
    run : str, Path or TrainedCLAP
        The trained run (name ``pa``/``cl``/``4d``, id or prefix, or folder; :func:`clapemo.runs.resolve_run`).
    output : path
        The index folder. An existing index must have been built with the same run (else a DataError: choose
        another folder); then only new or changed files are embedded.
    runs_dir : path, optional
        Where run names are looked up (default ``runs``).
    corpus : str, optional
        Run with per-corpus quantile cuts: whose cuts name the bins (:func:`clapemo.describe.run_thresholds`).
    n_jobs : int
        Feature-extraction worker processes per chunk (1: in this process).
    progress : bool
        A progress bar over the files to embed.

    Returns
    -------
    Index, loaded (the run attached).
    """
    from clapemo import runs
    from clapemo.describe import audio_files, run_thresholds
    from clapemo.executor import progress_bar
    from clapemo.files import FolderLock

    model = run if hasattr(run, "head") else runs.load(run, runs_dir=runs_dir)
    thresholds = run_thresholds(model, corpus=corpus)
    root = Path(folder).expanduser().resolve()
    if not root.exists():
        raise DataError(f"{root}: no such folder to index")
    files = [p.resolve() for p in audio_files(root)]
    out = Path(output)
    run_dir = Path(model.run_dir).resolve() if model.run_dir is not None else None
    run_id = run_dir.name if run_dir is not None else ""
    t0 = time.perf_counter()
    with FolderLock(out, blocking=False, what="audio index"):
        meta = _read_meta(out)
        if meta is not None and meta.get("run_id") != run_id:
            raise DataError(f"index {out} was built with run {meta.get('run_id')!r}, not {run_id!r}: index into "
                            "another folder (or delete this one)")
        if meta is None:
            meta = {"format": INDEX_FORMAT, "run_id": run_id, "run_dir": str(run_dir) if run_dir else "",
                    "dim": int(model.head.projection_dim), "thresholds": thresholds.to_dict(), "parts": []}
        same_cuts = meta.get("thresholds") == thresholds.to_dict()
        meta.update(root=str(root), thresholds=thresholds.to_dict())
        _remove_unlisted_parts(out, meta["parts"])
        records, matrix = _entries(out, meta)
        known = {(r["path"], r["sha256"]): i for i, r in enumerate(records) if r["sha256"]}
        by_digest = {r["sha256"]: i for i, r in enumerate(records) if r["sha256"] and r["error"] is None}
        if not same_cuts:  # other cuts (e.g. a per-corpus choice): the words change, so every file is redone
            known, by_digest = {}, {}
        wanted = {str(p) for p in files}
        todo: list[tuple[Path, str | None, str | None]] = []
        reused_rows: list[int] = []
        reused_records: list[dict] = []
        for path in files:
            sha, err = _digest(path)
            if sha is not None and (str(path), sha) in known:
                continue
            if sha is not None and sha in by_digest:  # the same bytes elsewhere (a moved or copied file)
                rec = dict(records[by_digest[sha]])
                rec.update(path=str(path), utterance_id=_utterance_id(path, root))
                reused_rows.append(by_digest[sha])
                reused_records.append(rec)
                continue
            todo.append((path, sha, err))
        if reused_records:
            meta["parts"].append(_write_part(out, matrix[reused_rows], reused_records))
            _write_meta(out, meta)
        bar = progress_bar(total=len(todo), desc="index", unit="clip", enabled=progress)
        try:
            for start in range(0, len(todo), _CHUNK):
                chunk = todo[start:start + _CHUNK]
                paths = [p for p, _, _ in chunk]
                rel = [_utterance_id(p, root) for p in paths]
                emb, recs = _records(model, thresholds, paths, [s for _, s, _ in chunk], rel, n_jobs,
                                     [e for _, _, e in chunk])
                meta["parts"].append(_write_part(out, emb, recs))
                _write_meta(out, meta)  # the chunk is in the index from here on
                bar.update(len(chunk))
        finally:
            bar.close()
        # merge the parts into one, keeping only the files that are under the folder now
        records, matrix = _entries(out, meta)
        keep = [i for i, r in enumerate(records) if r["path"] in wanted]
        records = [records[i] for i in keep]
        matrix = matrix[keep] if len(keep) else np.zeros((0, meta["dim"]), np.float32)
        meta["parts"] = [_write_part(out, matrix, records)]
        meta["n_files"] = len(records)
        meta["n_errors"] = sum(r["error"] is not None for r in records)
        _write_meta(out, meta)
        _remove_unlisted_parts(out, meta["parts"])
    log.info("indexed %d new/changed files of %d in %.1f s", len(todo), len(files), time.perf_counter() - t0)
    result = Index(path=out, meta=meta, table=_table(records), embeddings=matrix, _model=model)
    result.meta["last_run"] = {"embedded": len(todo), "reused": len(reused_records),
                               "seconds": round(time.perf_counter() - t0, 3)}
    return result


# --------------------------------------------------------------------------------------------------------------
# Querying
# --------------------------------------------------------------------------------------------------------------


def _queries(queries: str | Sequence[str]) -> list[str]:
    if isinstance(queries, str):
        queries = [q for q in (part.strip() for part in queries.split(";")) if q]
    queries = [str(q).strip() for q in queries]
    if not queries or not all(queries):
        raise ParameterError(f"queries = {queries!r} must be one or more non-empty texts (a str may hold several "
                             "separated by ';')")
    return queries


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


def search(index: Index | str | os.PathLike, queries: str | Sequence[str], *, k: int = 10) -> pd.DataFrame:  # noqa: F821
    """Rank the indexed clips for each text query.

    Parameters
    ----------
    index : Index or path of an index folder
    queries : str or sequence of str
        e.g. ``["high pitch anger", "low intensity sad"]``; one str may hold several separated by ``;``.
    k : int
        Hits per query (fewer when the index has fewer searchable clips).

    Returns
    -------
    DataFrame, ``k`` rows per query in query order, columns :data:`HIT_COLUMNS`: ``query``, ``rank`` (1 = best),
    ``score`` (cosine similarity in the run's joint space), ``path``, ``duration_s``, ``description`` (the clip's
    own prompt words), its measured properties and ``utterance_id``.
    """
    import pandas as pd

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ParameterError(f"k = {k!r} must be a positive integer")
    idx = index if isinstance(index, Index) else load_index(index)
    texts = _queries(queries)
    q = idx.embed_queries(texts)
    scores = q @ idx.embeddings.T if len(idx.embeddings) else np.zeros((len(texts), 0), np.float32)
    mask = idx.searchable
    scores = np.where(mask[None, :], scores, -np.inf)
    top, vals = top_k(scores, min(int(k), int(mask.sum())))
    picked = idx.table.iloc[top.ravel()].reset_index(drop=True)
    hits = pd.DataFrame({"query": np.repeat(np.array(texts, dtype=object), top.shape[1]),
                         "rank": np.tile(np.arange(1, top.shape[1] + 1), len(texts)),
                         "score": vals.ravel().astype(np.float64)})
    hits = pd.concat([hits, picked[[c for c in HIT_COLUMNS if c not in hits.columns]]], axis=1)
    return hits[list(HIT_COLUMNS)]


# --------------------------------------------------------------------------------------------------------------
# Notebook helpers
# --------------------------------------------------------------------------------------------------------------


def default_folder(config: Any, folder: str | os.PathLike = "") -> Path:
    """The folder a notebook indexes: ``folder`` when given, else the synthetic IEMOCAP twin of the configured
    profile (``<data.synth_root>/<synth.profile>/synth-iemocap``, generated by ``clapemo synth``)."""
    if folder:
        path = Path(folder).expanduser()
    else:
        path = Path(config.data.synth_root) / config.synth.profile / "synth-iemocap"
    if not path.is_dir():
        raise DataError(f"{path}: no such folder to index" + ("" if folder else
                        " (generate the synthetic benchmark first: clapemo synth, or make synth)"))
    return path


def project_folder(path: str | os.PathLike) -> Path:
    """``path`` as the notebooks read paths: absolute as given (``~`` expanded), relative under the project root
    (:func:`clapemo.config.project_root`; the working directory when the package has no project folder)."""
    from clapemo.config import project_root

    path = Path(path).expanduser()
    root = project_root()
    return path if path.is_absolute() or root is None else root / path


class HitsView:
    """The hits of :func:`search` as an HTML table with an audio player per clip (rendered by Jupyter)."""

    def __init__(self, hits: Any, *, columns: Sequence[str]) -> None:
        self.hits = hits
        self.columns = list(columns)

    def _repr_html_(self) -> str:
        import html

        from IPython.display import Audio

        parts = []
        for query, group in self.hits.groupby("query", sort=False):
            head = "".join(f"<th>{html.escape(c)}</th>" for c in ["rank", "score", "audio", *self.columns])
            body = []
            for _, hit in group.iterrows():
                try:
                    player = Audio(filename=hit["path"])._repr_html_()
                except Exception as err:  # noqa: BLE001 - a file gone since indexing: say so in its cell
                    player = html.escape(f"({type(err).__name__}: {err})")
                cells = [str(hit["rank"]), f"{hit['score']:.3f}", player]
                for c in self.columns:
                    v = hit[c]
                    cells.append(html.escape(f"{v:.1f}" if isinstance(v, float) else str(v)))
                body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            parts.append(f"<h4>{html.escape(str(query))}</h4><table><thead><tr>{head}</tr></thead>"
                         f"<tbody>{''.join(body)}</tbody></table>")
        return "\n".join(parts)


def show_hits(hits: Any) -> HitsView:
    """Jupyter display of :func:`search`'s hits: per query a table of rank, score, an audio player
    (``IPython.display.Audio``), the clip's name, its prompt words and measured properties."""
    view = hits.assign(clip=[Path(p).name for p in hits["path"]])
    return HitsView(view, columns=["clip", "description", "duration_s", "f0_mean_hz", "intensity_db",
                                   "speech_rate_syl_per_s", "articulation_rate_syl_per_s"])


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------


def index_cli(argv: Sequence[str]) -> int:
    """``clapemo index DIR --run NAME -o INDEX``."""
    from clapemo.runs import add_run_arguments, run_from_args

    parser = argparse.ArgumentParser(prog="clapemo index", description="Embed every audio file under a folder "
                                     "with a trained run into a searchable index; a re-run adds new or changed "
                                     "files only.")
    parser.add_argument("folder", help="folder of audio files (searched recursively)")
    parser.add_argument("-o", "--output", required=True, help="index folder (created or updated)")
    parser.add_argument("--corpus", default=None, help="run with per-corpus quantile cuts: whose cuts to use")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="feature worker processes (-1: all cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_run_arguments(parser)
    ns = parser.parse_args(list(argv))
    result = index(ns.folder, run=run_from_args(ns), output=ns.output, corpus=ns.corpus, n_jobs=ns.jobs,
                   progress=not ns.quiet)
    last = result.meta["last_run"]
    n_err = int(result.meta["n_errors"])
    print(f"{result.path}: {result.meta['n_files']} files ({last['embedded']} embedded now, {last['reused']} "
          f"reused, {n_err} errors) with run {result.meta['run_id']}")
    for _, row in result.table[result.table["error"].notna()].iterrows():
        print(f"  error: {row['path']}: {row['error']}", file=sys.stderr)
    return 0


def search_cli(argv: Sequence[str]) -> int:
    """``clapemo search INDEX "high pitch anger" ["low intensity sad" ...] [-k 10] [--json]``."""
    parser = argparse.ArgumentParser(prog="clapemo search", description="Search an audio index with text queries.")
    parser.add_argument("index", help="index folder written by 'clapemo index'")
    parser.add_argument("queries", nargs="+", help="text queries, e.g. \"high pitch anger\"")
    parser.add_argument("-k", type=int, default=10, help="hits per query (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of tables")
    ns = parser.parse_args(list(argv))
    hits = search(ns.index, ns.queries, k=ns.k)
    if ns.json:
        print(json.dumps(json.loads(hits.to_json(orient="records")), indent=1))
        return 0
    import pandas as pd

    for query, group in hits.groupby("query", sort=False):
        shown = group[["rank", "score", "path", "duration_s", "description"]].copy()
        shown["score"] = shown["score"].round(3)
        shown["duration_s"] = shown["duration_s"].round(2)
        print(f"== {query}")
        with pd.option_context("display.max_colwidth", 100, "display.width", 250):
            print(shown.to_string(index=False))
    return 0
