"""Evaluation protocols: Emotion Audio Retrieval (EAR, the paper's Table 3) and zero-shot Speech Emotion
Recognition (SER, Table 4 and Figure 2).

Both protocols only need a model object that embeds audio and text into one space
(:class:`clapemo.model.TrainedCLAP`: ``embed_manifest(manifest) -> (n, D)`` and ``embed_texts(texts) -> (m, D)``,
both L2-normalised); this module never imports the training code. The protocol steps are small pure functions
on arrays and tables, so they are tested without training anything.

EAR
---
A *query* is a text; the *collection* is a set of clips ranked by cosine similarity to the query's embedding.

* Class-label queries are the emotion words of the collection's classes ("happy", "sad", "anger", "neutral");
  a clip is relevant when its label is the query's.
* Acoustic queries of kind ``k`` (``pitch`` = the 4-bin pitch prompt, ``intensity``, ``speech_rate``,
  ``articulation_rate``) are every distinct prompt of that kind that occurs in the collection
  (e.g. "low male pitch anger"); a clip is relevant when its own prompt of kind ``k`` equals the query.

Both rules are one rule: queries = the distinct values of the clip table's prompt column ``k`` (the class-label
prompt *is* the emotion word), relevant = equality with the clip's value. Clips without a prompt of kind ``k``
(e.g. no F0 measured) stay in the collection but are never relevant. Precision@K is averaged over queries
(:func:`clapemo.metrics.precision_at_k`). Ties in similarity are broken by collection order (stable ranking).

The paper's collection is IEMOCAP with four classes (happy with excited merged, sad, angry, neutral). It uses
the whole corpus: no Table 3 model trains on it. :func:`four_class` performs the merge when the corpus loader has
not already done so, and rebuilds the prompts of merged clips so that "excited" never appears in a query.

SER (zero-shot)
---------------
Each class of the target corpus gets one class prompt, ``template.format(emotion=word)`` with the word from
:data:`clapemo.emotions.PROMPT_WORDS` (overridable through ``prompts.emotion_words``); a clip is assigned the
class whose prompt is nearest by cosine similarity (``argmax``; a tie goes to the earlier class in the corpus's
label order). The label set is the corpus's full set (paper Table 1), so RAVDESS is scored over 8 classes
including ``calm`` and chance is 1/8 = 12.5 %, as in the paper's "Random" row. Reported: accuracy and
unweighted accuracy (mean per-class recall over the classes present in the test set).
"""

from __future__ import annotations

import argparse
from typing import Any, Mapping, Sequence

import numpy as np

from clapemo.emotions import CORPUS_LABELS, PROMPT_WORDS
from clapemo.errors import DataError, ParameterError
from clapemo.schema import FOUR_CLASSES, PROMPT_KINDS, merge_four_class

__all__ = [
    "FOUR_CLASSES",
    "base_corpus",
    "corpus_labels",
    "emotion_words",
    "class_prompts",
    "cosine_scores",
    "retrieval_queries",
    "precision_at_ks",
    "four_class",
    "collection",
    "ear_collection",
    "ear_per_query",
    "ear",
    "zero_shot_predict",
    "ser_scores",
    "zero_shot_ser",
    "random_predict",
    "check_speaker_independent",
    "cli",
]



# ---------------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------------


def base_corpus(name: str) -> str:
    """The real corpus a (possibly synthetic) corpus name stands for: ``"synth-ravdess" -> "ravdess"``."""
    return name[len("synth-"):] if name.startswith("synth-") else name


def corpus_labels(name: str, *, four_class_iemocap: bool = False) -> tuple[str, ...]:
    """The label set a corpus is scored over (paper Table 1, canonical names, fixed order).

    Parameters
    ----------
    name : str
        Corpus name, real (``"ravdess"``) or synthetic twin (``"synth-ravdess"``).
    four_class_iemocap : bool
        For IEMOCAP, return :data:`FOUR_CLASSES` (the standard 4-class set) instead of its 9 labels.
    """
    base = base_corpus(name)
    if base not in CORPUS_LABELS:
        raise ParameterError(f"corpus {name!r} is not an emotion corpus; known: {sorted(CORPUS_LABELS)}")
    if base == "iemocap" and four_class_iemocap:
        return FOUR_CLASSES
    return CORPUS_LABELS[base]


def emotion_words(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """:data:`~clapemo.emotions.PROMPT_WORDS` with ``overrides`` (``prompts.emotion_words``) applied."""
    words = dict(PROMPT_WORDS)
    for label, word in (overrides or {}).items():
        if label not in words:
            raise ParameterError(f"emotion_words key {label!r} is not a canonical label; known: {sorted(words)}")
        words[label] = str(word)
    return words


def class_prompts(labels: Sequence[str], *, template: str = "{emotion}",
                  words: Mapping[str, str] | None = None) -> list[str]:
    """One zero-shot class prompt per label: ``template.format(emotion=words[label])``.

    >>> class_prompts(["angry", "sad"], template="this person is feeling {emotion}")
    ['this person is feeling anger', 'this person is feeling sad']
    """
    if "{emotion}" not in template:
        raise ParameterError(f"zero_shot_template {template!r} must contain '{{emotion}}'")
    words = emotion_words(words) if words is not None else dict(PROMPT_WORDS)
    unknown = [label for label in labels if label not in words]
    if unknown:
        raise ParameterError(f"labels {unknown} have no prompt word; known: {sorted(words)}")
    prompts = [template.format(emotion=words[label]) for label in labels]
    if len(set(prompts)) != len(prompts):
        raise ParameterError(f"class prompts are not distinct: {prompts}")
    return prompts


# ---------------------------------------------------------------------------------------------------------------
# Retrieval (EAR)
# ---------------------------------------------------------------------------------------------------------------


def _as_2d(name: str, x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ParameterError(f"{name} must be 2-D (rows, dim), got shape {arr.shape}")
    return arr


def cosine_scores(query_emb: np.ndarray, item_emb: np.ndarray) -> np.ndarray:
    """Cosine similarity of every query to every item.

    Parameters
    ----------
    query_emb : array (m, D)
    item_emb : array (n, D)

    Returns
    -------
    scores : array (m, n), float64
    """
    q, x = _as_2d("query_emb", query_emb), _as_2d("item_emb", item_emb)
    if q.shape[1] != x.shape[1]:
        raise ParameterError(f"query_emb dim {q.shape[1]} != item_emb dim {x.shape[1]}")
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return q @ x.T


def retrieval_queries(item_prompts: Sequence[Any]) -> tuple[list[str], np.ndarray]:
    """The queries of one kind and their relevance matrix.

    Parameters
    ----------
    item_prompts : sequence of str or None, length n
        Each collection clip's prompt of one kind (None / NaN: the clip has none).

    Returns
    -------
    queries : list of str, length m
        The distinct prompts, sorted.
    relevant : bool array (m, n)
        ``relevant[q, i]`` is True when clip ``i``'s prompt equals query ``q``.
    """
    values = np.array([p if isinstance(p, str) else None for p in item_prompts], dtype=object)
    queries = sorted({p for p in values if p is not None})
    relevant = np.array([values == q for q in queries], dtype=bool).reshape(len(queries), len(values))
    return queries, relevant


def precision_at_ks(scores: np.ndarray, relevant: np.ndarray, *, ks: Sequence[int]) -> dict[int, float]:
    """Precision@K for several K, averaged over queries (:func:`clapemo.metrics.precision_at_k`: stable ranking,
    ties go to the clip earlier in the collection).

    Parameters
    ----------
    scores : array (m, n)
    relevant : bool array (m, n)
    ks : sequence of int, each in [1, n]
    """
    from clapemo.metrics import precision_at_k

    return {int(k): float(precision_at_k(scores, relevant, int(k))) for k in ks}


def four_class(table: Any, *, prompts_config: Any = None, thresholds: Any = None) -> Any:
    """Restrict an IEMOCAP(-twin) table to :data:`FOUR_CLASSES`, merging ``excited`` into ``happy``.

    Rows of other classes are dropped. When an annotated table (with prompt columns) has merged rows, their
    prompts are rebuilt with :func:`clapemo.prompts.prompts_table` so that the word is "happy".

    Parameters
    ----------
    table : DataFrame with a ``label`` column
    prompts_config : PromptsConfig or None
    thresholds : the thresholds of the model being evaluated (``TrainedCLAP.thresholds``), or None
    """
    if "label" not in table.columns:
        raise DataError("table has no 'label' column; cannot form the four-class collection")
    label = merge_four_class(table["label"])
    changed = label.notna() & (label != table["label"])
    out = table.assign(label=label)[label.notna()].reset_index(drop=True)
    present = [c for c in PROMPT_KINDS if c in out.columns]
    if changed.any() and present:
        from clapemo.prompts import prompts_table

        rebuilt = prompts_table(out, prompts_config, thresholds=thresholds)
        rebuilt = rebuilt.set_index("utterance_id").loc[out["utterance_id"]]
        for column in present:
            out[column] = rebuilt[column].to_numpy()
    return out


def collection(name: str, config: Any, *, split: str = "all", thresholds: Any = None) -> Any:
    """A corpus as an EAR collection: its clips annotated with prompts (the run's ``thresholds``).

    Parameters
    ----------
    name : corpus name (``iemocap``, ``synth-cremad``, a folder corpus under ``data.roots`` ...)
    config : Config whose ``data``/``synth``/``features``/``prompts`` sections find and annotate it
    split : ``"all"`` (every clip) or a split/fold value
    thresholds : the thresholds of the model being evaluated (``TrainedCLAP.thresholds``), or None

    IEMOCAP(-twin) collections are cut to four classes when ``config.data.iemocap_four_class``.

    Returns
    -------
    DataFrame : manifest columns + prompt columns, one row per clip, in manifest order

    Raises
    ------
    DataError
        The collection has no clips.
    """
    from clapemo import corpora

    table = corpora.annotated([name], config, split=None if split == "all" else split, thresholds=thresholds)
    if base_corpus(name) == "iemocap" and config.data.iemocap_four_class:
        table = four_class(table, prompts_config=config.prompts, thresholds=thresholds)
    if len(table) == 0:
        raise DataError(f"EAR collection {name!r} (split {split!r}) is empty")
    return table.reset_index(drop=True)


def ear_collection(config: Any, *, thresholds: Any = None) -> Any:
    """The EAR collection of an experiment: :func:`collection` of ``config.evaluate.ear_collection`` and
    ``config.evaluate.ear_split`` (``"all"`` by default: the Table 3 models never train on it)."""
    return collection(config.evaluate.ear_collection, config, split=config.evaluate.ear_split,
                      thresholds=thresholds)


def _checked_embeddings(model: Any, collection: Any, kinds: Sequence[str], audio_emb: Any) -> np.ndarray:
    missing = [k for k in kinds if k not in collection.columns]
    if missing:
        raise DataError(f"collection has no prompt column(s) {missing}")
    if audio_emb is None:
        audio_emb = model.embed_manifest(collection)
    audio_emb = _as_2d("audio_emb", audio_emb)
    if len(audio_emb) != len(collection):
        raise DataError(f"{len(audio_emb)} audio embeddings for a collection of {len(collection)} clips")
    return audio_emb


def ear_per_query(model: Any, collection: Any, *, kinds: Sequence[str], ks: Sequence[int],
                  audio_emb: np.ndarray | None = None) -> Any:
    """Precision@K of every query of every kind: the per-item view of :func:`ear` (for paired intervals).

    Parameters are those of :func:`ear`.

    Returns
    -------
    DataFrame with columns ``query_kind, k, item, value``: one row per (kind, K, query text); ``value`` is that
    query's Precision@K. The mean of ``value`` per (kind, K) is :func:`ear`'s ``precision``.
    """
    import pandas as pd

    from clapemo.metrics import precision_per_query

    audio_emb = _checked_embeddings(model, collection, kinds, audio_emb)
    rows = []
    for kind in kinds:
        queries, relevant = retrieval_queries(collection[kind].tolist())
        if not queries:
            raise DataError(f"collection has no prompt of kind {kind!r}: no queries")
        scores = cosine_scores(model.embed_texts(queries), audio_emb)
        for k in ks:
            rows += [{"query_kind": kind, "k": int(k), "item": q, "value": float(v)}
                     for q, v in zip(queries, precision_per_query(scores, relevant, int(k)))]
    return pd.DataFrame(rows, columns=["query_kind", "k", "item", "value"])


def ear(model: Any, collection: Any, *, kinds: Sequence[str], ks: Sequence[int],
        audio_emb: np.ndarray | None = None) -> Any:
    """Emotion audio retrieval of one model over one collection.

    Parameters
    ----------
    model : TrainedCLAP-like (``embed_manifest``, ``embed_texts``)
    collection : DataFrame
        Clip table with the prompt columns named in ``kinds`` (see :func:`collection`).
    kinds : sequence of str
        Query kinds, e.g. ``["class_label", "pitch", "intensity", "speech_rate", "articulation_rate"]``.
    ks : sequence of int
    audio_emb : array (n, D), optional
        Precomputed collection embeddings (else ``model.embed_manifest(collection)``).

    Returns
    -------
    DataFrame with columns ``query_kind, k, precision, n_queries, n_items`` (one row per kind and K).
    """
    per_query = ear_per_query(model, collection, kinds=kinds, ks=ks, audio_emb=audio_emb)
    table = (per_query.groupby(["query_kind", "k"], sort=False)["value"].agg(["mean", "size"])
             .rename(columns={"mean": "precision", "size": "n_queries"}).reset_index())
    return table.assign(n_items=len(collection))


# ---------------------------------------------------------------------------------------------------------------
# Zero-shot SER
# ---------------------------------------------------------------------------------------------------------------


def zero_shot_predict(audio_emb: np.ndarray, class_emb: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """The label of the nearest class prompt for each clip.

    Parameters
    ----------
    audio_emb : array (n, D)
    class_emb : array (c, D), row ``j`` the embedding of ``labels[j]``'s prompt
    labels : sequence of str, length c

    Returns
    -------
    predictions : object array (n,) of labels; ties go to the earlier label
    """
    class_emb = _as_2d("class_emb", class_emb)
    if len(class_emb) != len(labels):
        raise ParameterError(f"{len(class_emb)} class embeddings for {len(labels)} labels")
    scores = cosine_scores(audio_emb, class_emb)
    return np.asarray(labels, dtype=object)[np.argmax(scores, axis=1)]


def ser_scores(y_true: Sequence[str], y_pred: Sequence[str], *, labels: Sequence[str]) -> dict[str, float]:
    """Accuracy, unweighted accuracy, test size, number of classes and chance (1 / number of classes)."""
    from clapemo.metrics import accuracy, unweighted_accuracy

    y_true, y_pred = list(y_true), list(y_pred)
    if not y_true:
        raise DataError("no test clips to score")
    unknown = sorted(set(y_true) - set(labels))
    if unknown:
        raise DataError(f"test labels {unknown} are outside the scored label set {list(labels)}")
    return {
        "accuracy": float(accuracy(y_true, y_pred)),
        "unweighted_accuracy": float(unweighted_accuracy(y_true, y_pred, labels=list(labels))),
        "n_items": len(y_true),
        "n_classes": len(labels),
        "chance": 1.0 / len(labels),
    }


def zero_shot_ser(model: Any, manifest: Any, *, labels: Sequence[str], template: str = "{emotion}",
                  words: Mapping[str, str] | None = None) -> dict[str, float]:
    """Zero-shot SER of one model on one labelled manifest (see the module docstring).

    Returns
    -------
    dict with ``accuracy``, ``unweighted_accuracy``, ``n_items``, ``n_classes``, ``chance``.
    """
    prompts = class_prompts(labels, template=template, words=words)
    predictions = zero_shot_predict(model.embed_manifest(manifest), model.embed_texts(prompts), labels)
    return ser_scores(manifest["label"].tolist(), predictions, labels=labels)


def random_predict(n: int, labels: Sequence[str], *, seed: int) -> np.ndarray:
    """A seeded uniform random classifier: ``n`` labels drawn from ``labels`` (the "Random" baseline)."""
    rng = np.random.default_rng(seed)
    return np.asarray(labels, dtype=object)[rng.integers(0, len(labels), size=int(n))]


def check_speaker_independent(train: Any, test: Any) -> None:
    """Raise :class:`DataError` when a speaker occurs in both the train and the test manifest."""
    if "speaker" not in train.columns or "speaker" not in test.columns:
        return
    shared = sorted(set(train["speaker"].dropna()) & set(test["speaker"].dropna()))
    if shared:
        raise DataError(f"split is not speaker-independent: speakers {shared[:5]} are in train and test")


# ---------------------------------------------------------------------------------------------------------------
# CLI: clapemo evaluate <run_dir> --corpus synth-ravdess
# ---------------------------------------------------------------------------------------------------------------


def _evaluation_config(model: Any, ns: argparse.Namespace) -> Any:
    """The config that finds and annotates the test data: the run's own, unless ``--config/--overlay/--set``
    are given (e.g. to add ``data.roots`` of a corpus the run never saw). The model's thresholds always win."""
    if not (ns.config or ns.overlay or ns.set):
        return model.config
    from clapemo.config import config_from_args

    return config_from_args(ns)


def _parser() -> argparse.ArgumentParser:
    from clapemo.config import add_config_arguments

    parser = argparse.ArgumentParser(
        prog="clapemo evaluate",
        description="Evaluate one trained run: zero-shot SER (accuracy, unweighted accuracy over the corpus's "
                    "full label set) and EAR (Precision@K of class-label and acoustic-prompt queries, the "
                    "paper's Table 3 protocol) on the corpora you name. The test data is found through the "
                    "run's config (synthetic benchmark) unless --config/--overlay/--set say otherwise; a run keeps "
                    "no absolute path of the machine that trained it, so real corpora outside the project need "
                    "their data.roots here (--overlay real.yaml); prompts of the EAR collection use the run's "
                    "thresholds.",
        epilog="examples:\n  clapemo evaluate pa --ser ravdess --ear iemocap\n"
               "  clapemo evaluate runs/<id> --ear cremad --ear-split all --k 1 10 --json\n"
               "  clapemo evaluate cl --ser cremad --set data.roots.cremad=/data/CREMA-D",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", nargs="?", default=None,
                        help="trained run: a name (pa, cl, 4d), a run id or unique prefix, or a run folder")
    parser.add_argument("--runs-dir", default=None, help="folder of the runs (default: train.runs_dir, runs)")
    add_config_arguments(parser)
    parser.add_argument("--ser", "--corpus", dest="ser", action="append", default=[], metavar="CORPUS",
                        help="emotion corpus for zero-shot SER, e.g. ravdess or synth-ravdess (repeatable)")
    parser.add_argument("--ear", action="append", default=[], metavar="COLLECTION",
                        help="corpus used as the EAR collection, e.g. iemocap (repeatable)")
    parser.add_argument("--split", default="test", help="SER split to score (default: test; 'all' for every clip)")
    parser.add_argument("--ear-split", default=None,
                        help="EAR split (default: the run's evaluate.ear_split, 'all' unless configured)")
    parser.add_argument("--k", type=int, nargs="+", default=None, help="EAR cut-offs (default: evaluate.ks)")
    parser.add_argument("--kinds", nargs="+", default=None, help="EAR query kinds (default: "
                        f"evaluate.ear_query_kinds; any of {', '.join(PROMPT_KINDS)})")
    parser.add_argument("--template", default=None,
                        help="SER class-prompt wording, e.g. '{emotion}' (default: the run's evaluate config)")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of tables")
    return parser


def _ser_row(model: Any, name: str, config: Any, *, split: str, template: str) -> dict:
    """One row of the SER table: zero-shot SER of ``model`` on corpus ``name``'s ``split`` ('all': every clip)."""
    from clapemo import corpora

    manifest = corpora.manifest([name], config, split=None if split == "all" else split)
    labels = corpus_labels(name, four_class_iemocap=config.data.iemocap_four_class)
    if base_corpus(name) == "iemocap" and config.data.iemocap_four_class:
        manifest = four_class(manifest)
    if len(manifest) == 0:
        raise DataError(f"SER corpus {name!r} has no clips in split {split!r}")
    result = zero_shot_ser(model, manifest, labels=labels, template=template, words=config.prompts.emotion_words)
    return {"corpus": name, "split": split, "n": result["n_items"], "classes": result["n_classes"],
            "chance": result["chance"], "accuracy": result["accuracy"],
            "unweighted_accuracy": result["unweighted_accuracy"]}


def _print_tables(run_dir: Any, ser_rows: list[dict], ear_rows: list[dict]) -> None:
    import pandas as pd

    print(f"run {run_dir}")
    with pd.option_context("display.width", 120, "display.max_rows", 200):
        if ser_rows:
            ser_table = pd.DataFrame(ser_rows).to_string(index=False, float_format="{:.3f}".format)
            print("\nzero-shot SER\n" + ser_table)
        if ear_rows:
            frame = pd.DataFrame(ear_rows).pivot_table(index=["collection", "query_kind", "n_queries"],
                                                       columns="k", values="precision", sort=False)
            frame.columns = [f"P@{k}" for k in frame.columns]
            print("\nEAR (Precision@K)\n" + frame.reset_index().to_string(index=False,
                                                                          float_format="{:.3f}".format))


def cli(argv: list[str]) -> int:
    """``clapemo evaluate RUN [--ser CORPUS ...] [--ear COLLECTION ...]``: zero-shot SER and EAR of one run."""
    import json

    from clapemo.model import load_run
    from clapemo.runs import resolve_run, runs_dir_from_args

    parser = _parser()
    ns = parser.parse_args(argv)
    if ns.run is None:
        parser.error("name the run: clapemo evaluate RUN (a name such as pa, a run id, or a run folder)")
    if not ns.ser and not ns.ear:
        parser.error("nothing to evaluate: give --ser CORPUS and/or --ear COLLECTION")
    ks = ns.k or None
    if ks is not None and any(k < 1 for k in ks):
        parser.error(f"--k {' '.join(map(str, ks))}: every cut-off must be >= 1")
    kinds = ns.kinds
    if kinds is not None and (bad := [k for k in kinds if k not in PROMPT_KINDS]):
        parser.error(f"--kinds {' '.join(bad)}: unknown prompt kind (known: {', '.join(PROMPT_KINDS)})")
    run_dir = resolve_run(ns.run, runs_dir=runs_dir_from_args(ns))
    model = load_run(run_dir)
    config = _evaluation_config(model, ns)
    template = ns.template or config.evaluate.zero_shot_template
    ser_rows = [_ser_row(model, name, config, split=ns.split, template=template) for name in ns.ser]
    ear_rows = []
    for name in ns.ear:
        split = ns.ear_split or config.evaluate.ear_split
        table = collection(name, config, split=split, thresholds=model.thresholds)
        result = ear(model, table, kinds=kinds or config.evaluate.ear_query_kinds, ks=ks or config.evaluate.ks)
        ear_rows += [{"collection": name, "split": split, **row} for row in result.to_dict("records")]
    if ns.json:
        print(json.dumps({"run": str(run_dir), "ser": ser_rows, "ear": ear_rows}, indent=1))
        return 0
    _print_tables(run_dir, ser_rows, ear_rows)
    return 0
