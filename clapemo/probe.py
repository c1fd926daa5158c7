"""Supervised linear probes: how much of the emotion label a representation carries (the "ceilings", issue 18).

Every probe fits one standardised multinomial logistic regression (scikit-learn, lbfgs: deterministic) on the
rows of one split and scores it on the rows of another split with disjoint speakers, and returns a tidy
DataFrame with one row per (representation, corpus)::

    representation, corpus, n_train, n_test, n_train_speakers, n_test_speakers, n_classes, accuracy,
    unweighted_accuracy

Representations:

* :func:`audio_probe` -- frozen audio embeddings (``clapemo.encoders.embed_audio``, through the embedding
  cache), optionally centred per speaker (:func:`clapemo.encoders.centre_per_speaker`, computed within each
  split on the clips of each speaker present);
* :func:`property_probe` -- the four measured acoustic properties (:data:`PROBE_PROPERTIES`), absolute or
  z-scored per speaker (missing values: the training median);
* :func:`oracle_probe` -- the prosody the synthetic generator drew, relative to the speaker
  (:data:`ORACLE_COLUMNS` of a ``synth-*`` manifest; the level and the pitch range include a per-speaker part,
  which is removed by centring per speaker): an upper bound no audio representation can beat on its own;
* :func:`ceilings` -- all of the above for a corpus's train -> test split, in one table;
* :func:`validation_probe` -- to *choose* a representation: a speaker-independent validation split carved from
  the **train** split of each corpus (:func:`validation_split`); the reported test splits are never read.

The functions that take a ``config`` load corpora through :func:`clapemo.corpora.manifest` (``data`` and
``synth`` sections) and embed with ``config.encoders``; the ``*_from_manifests`` forms take the manifests
directly.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from clapemo.errors import DataError, ParameterError

__all__ = ["PROBE_PROPERTIES", "ORACLE_COLUMNS", "RESULT_COLUMNS", "AUDIO_CANDIDATES", "APPENDED_CANDIDATES",
           "BOOK_CANDIDATES", "concatenation", "fit_probe", "probe_row", "validation_split", "audio_probe",
           "property_probe", "oracle_probe", "ceilings", "validation_probe", "candidate_encoders",
           "property_matrix", "oracle_matrix", "zscore_per_speaker"]

log = logging.getLogger(__name__)

PROBE_PROPERTIES = ("f0_mean_hz", "intensity_db", "speech_rate_syl_per_s", "articulation_rate_syl_per_s")
#: generator ground truth of a synth-* manifest: (column, transform, centre per speaker)
ORACLE_COLUMNS = (("intended_pitch_st", "identity", False), ("intended_range_factor", "log2", True),
                  ("intended_rate_factor", "log2", False), ("intended_level_db", "identity", True),
                  ("intended_pause_prob", "identity", False))
RESULT_COLUMNS = ["representation", "corpus", "n_train", "n_test", "n_train_speakers", "n_test_speakers",
                  "n_classes", "accuracy", "unweighted_accuracy"]

Representation = Callable[[Any], np.ndarray]  # manifest -> (n, dim)

#: the audio representations compared to choose the default (issue 18): name -> ``encoders`` keys over a config's.
#: ``benchmarks/bench_encoders.py --probe`` runs them all; chapter 01 shows :data:`BOOK_CANDIDATES`.
AUDIO_CANDIDATES: dict[str, dict[str, Any]] = {
    "whisper-tiny: last layer, mean": {"audio": "whisper-tiny"},
    "whisper-tiny-layers: last layer, mean + std": {"audio": "whisper-tiny-layers", "whisper_layers": [4],
                                                    "whisper_layer_mix": "average", "whisper_pooling": "mean_std"},
    "whisper-tiny-layers: 5 layers, mean + std, averaged": {"audio": "whisper-tiny-layers", "whisper_layers": [],
                                                            "whisper_layer_mix": "average",
                                                            "whisper_pooling": "mean_std"},
    "whisper-tiny-layers: 5 layers, mean + std, concatenated": {"audio": "whisper-tiny-layers",
                                                                "whisper_layers": [],
                                                                "whisper_layer_mix": "concat",
                                                                "whisper_pooling": "mean_std"},
    "eGeMAPS v02 functionals (opensmile)": {"audio": "egemaps"},
}
#: appended candidates (issue 18: "prosodic functionals appended"): name -> the candidates whose vectors are
#: concatenated (:func:`concatenation`)
APPENDED_CANDIDATES: dict[str, tuple[str, ...]] = {
    "whisper-tiny-layers: 5 layers, mean + std, averaged + eGeMAPS": (
        "whisper-tiny-layers: 5 layers, mean + std, averaged", "eGeMAPS v02 functionals (opensmile)"),
}
#: the candidates chapter 01 shows: the earlier default and the chosen one (each also centred per speaker)
BOOK_CANDIDATES = ("whisper-tiny: last layer, mean", "whisper-tiny-layers: 5 layers, mean + std, averaged")


# --------------------------------------------------------------------------------------------------------------
# The probe itself
# --------------------------------------------------------------------------------------------------------------

def fit_probe(*, x_train: np.ndarray, y_train: Sequence, x_test: np.ndarray, y_test: Sequence,
              c: float = 1.0, max_iter: int = 5000) -> dict[str, float]:
    """Fit median imputation + standardisation + logistic regression on train, score on test.

    Parameters
    ----------
    x_train : np.ndarray, shape (n_train, dim)
    y_train : sequence of labels, length n_train
    x_test : np.ndarray, shape (n_test, dim)
    y_test : sequence of labels, length n_test
    c : float
        Inverse L2 strength of the logistic regression (scikit-learn's ``C``).
    max_iter : int

    Returns
    -------
    dict with ``accuracy`` and ``unweighted_accuracy`` (mean per-class recall over the test classes).
    """
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from clapemo import metrics

    x_train, x_test = np.array(x_train, np.float64), np.array(x_test, np.float64)  # copies: NaN-ed below
    y_train, y_test = np.asarray(y_train, dtype=object), np.asarray(y_test, dtype=object)
    if x_train.ndim != 2 or x_test.ndim != 2 or x_train.shape[1] != x_test.shape[1]:
        raise ParameterError(f"x_train {x_train.shape} and x_test {x_test.shape} must be 2-D with equal widths")
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ParameterError("x and y must have the same number of rows")
    if len(set(y_train)) < 2:
        raise DataError(f"the probe's training rows hold {len(set(y_train))} class(es); need at least 2")
    if len(x_test) == 0:
        raise DataError("the probe has no test rows")
    with np.errstate(all="ignore"):
        x_train[~np.isfinite(x_train)] = np.nan
        x_test[~np.isfinite(x_test)] = np.nan
    model = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                          LogisticRegression(C=c, max_iter=max_iter))
    model.fit(x_train, y_train.astype(str))
    pred = model.predict(x_test).astype(object)
    truth = y_test.astype(str).astype(object)
    return {"accuracy": float(metrics.accuracy(truth, pred)),
            "unweighted_accuracy": float(metrics.unweighted_accuracy(truth, pred))}


def _speakers(m) -> list:
    from clapemo.encoders import speaker_ids

    return speaker_ids(m)


def probe_row(*, representation: str, corpus: str, train, test, x_train: np.ndarray, x_test: np.ndarray,
              c: float = 1.0) -> dict[str, Any]:
    """One result row (:data:`RESULT_COLUMNS`) of a probe of ``x_*`` on the ``label`` of manifests ``train``,
    ``test``; raises DataError when the two splits share a speaker."""
    shared = set(_speakers(train)) & set(_speakers(test)) - {None}
    if shared:
        raise DataError(f"{corpus}: train and test share speakers {sorted(shared)[:3]} (the probe must be "
                        "speaker-independent)")
    scores = fit_probe(x_train=x_train, y_train=list(train["label"]), x_test=x_test, y_test=list(test["label"]),
                       c=c)
    return {"representation": representation, "corpus": corpus, "n_train": len(train), "n_test": len(test),
            "n_train_speakers": int(train["speaker"].nunique()), "n_test_speakers": int(test["speaker"].nunique()),
            "n_classes": int(train["label"].nunique()), **scores}


# --------------------------------------------------------------------------------------------------------------
# Representations
# --------------------------------------------------------------------------------------------------------------

def zscore_per_speaker(x: np.ndarray, *, speakers: Sequence) -> np.ndarray:
    """Z-score the columns of ``x`` within each speaker (NaN ignored; a constant column becomes 0).

    Parameters
    ----------
    x : np.ndarray, shape (n, dim)
    speakers : sequence of length n (None: the row is left as it is)

    Returns
    -------
    np.ndarray, shape (n, dim), float64
    """
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    groups: dict = {}
    for row, s in enumerate(speakers):
        if s is not None:
            groups.setdefault(s, []).append(row)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a speaker whose column is all NaN stays NaN, silently
        for rows in groups.values():
            block = x[rows]
            mean = np.nanmean(block, axis=0)
            sd = np.nanstd(block, axis=0)
            out[rows] = np.where(sd > 0, (block - mean) / np.where(sd > 0, sd, 1.0), 0.0 * block)
    return out


def property_matrix(table, *, per_speaker: bool) -> np.ndarray:
    """:data:`PROBE_PROPERTIES` of a features table (``clapemo.corpora.with_features``), shape (n, 4);
    rows with a feature error are NaN. ``per_speaker``: z-scored within each speaker."""
    missing = [c for c in PROBE_PROPERTIES if c not in table.columns]
    if missing:
        raise DataError(f"features table lacks the property columns {missing}")
    x = table[list(PROBE_PROPERTIES)].to_numpy(dtype=np.float64, copy=True)
    if "error" in table.columns:
        x[table["error"].notna().to_numpy()] = np.nan
    return zscore_per_speaker(x, speakers=_speakers(table)) if per_speaker else x


def oracle_matrix(manifest) -> np.ndarray:
    """The generator's speaker-relative prosody (:data:`ORACLE_COLUMNS`) of a synthetic manifest, (n, 5)."""
    missing = [c for c, _, _ in ORACLE_COLUMNS if c not in manifest.columns]
    if missing:
        raise DataError(f"manifest lacks the generator's ground-truth columns {missing} (only synth-* corpora "
                        "have them)")
    speakers = _speakers(manifest)
    columns = []
    for name, transform, centre in ORACLE_COLUMNS:
        v = manifest[name].to_numpy(dtype=np.float64)
        if transform == "log2":
            v = np.log2(v)
        if centre:
            from clapemo.encoders import centre_per_speaker

            v = centre_per_speaker(v[:, None], speakers=speakers)[:, 0].astype(np.float64)
        columns.append(v)
    return np.stack(columns, axis=1)


def _labelled(m):
    return m[m["label"].notna()].reset_index(drop=True)


def _embedder(encoders_config, *, speaker_centring: bool) -> Representation:
    from clapemo import encoders

    def embed(m) -> np.ndarray:
        x = encoders.embed_audio(m.drop(columns=["speaker"], errors="ignore"), encoders_config, progress=False)
        return encoders.centre_per_speaker(x, speakers=_speakers(m)) if speaker_centring else x

    return embed


# --------------------------------------------------------------------------------------------------------------
# Probes on a train -> test split
# --------------------------------------------------------------------------------------------------------------

def _splits(corpus: str, config, *, split: str):
    from clapemo import corpora

    train = _labelled(corpora.manifest(corpus, config, split="train"))
    test = _labelled(corpora.manifest(corpus, config, split=split))
    return train, test


def audio_probe(*, corpus: str, config, speaker_centring: bool = False, split: str = "test",
                representation: str | None = None, c: float = 1.0):
    """Probe of the frozen audio embeddings (``config.encoders``) of a corpus: train split -> ``split``.

    Parameters
    ----------
    corpus : str
        e.g. ``"ravdess"`` (``synth-ravdess`` under ``data.source = "synth"``).
    config : clapemo.config.Config
    speaker_centring : bool
        Centre the embeddings per speaker within each split first.
    split : str
        Split scored (default ``"test"``: the reported speaker-independent test split).
    representation : str, optional
        Row label; default ``"<encoders.audio>"`` plus ``" centred"``.
    c : float

    Returns
    -------
    DataFrame with :data:`RESULT_COLUMNS`, one row.
    """
    import pandas as pd

    train, test = _splits(corpus, config, split=split)
    embed = _embedder(config.encoders, speaker_centring=speaker_centring)
    name = representation or config.encoders.audio + (" centred" if speaker_centring else "")
    return pd.DataFrame([probe_row(representation=name, corpus=train["dataset"].iloc[0], train=train, test=test,
                                   x_train=embed(train), x_test=embed(test), c=c)], columns=RESULT_COLUMNS)


def property_probe(*, corpus: str, config, per_speaker: bool = False, split: str = "test", c: float = 1.0):
    """Probe of the four measured properties (:data:`PROBE_PROPERTIES`), absolute or z-scored per speaker."""
    import pandas as pd

    from clapemo import corpora

    train, test = _splits(corpus, config, split=split)
    train, test = corpora.with_features(train, config), corpora.with_features(test, config)
    name = "properties z per speaker" if per_speaker else "properties"
    return pd.DataFrame([probe_row(representation=name, corpus=train["dataset"].iloc[0], train=train, test=test,
                                   x_train=property_matrix(train, per_speaker=per_speaker),
                                   x_test=property_matrix(test, per_speaker=per_speaker), c=c)],
                        columns=RESULT_COLUMNS)


def oracle_probe(*, corpus: str, config, split: str = "test", c: float = 1.0):
    """Probe of the speaker-relative prosody the generator drew (synthetic corpora only)."""
    import pandas as pd

    train, test = _splits(corpus, config, split=split)
    return pd.DataFrame([probe_row(representation="oracle drawn prosody", corpus=train["dataset"].iloc[0],
                                   train=train, test=test, x_train=oracle_matrix(train),
                                   x_test=oracle_matrix(test), c=c)], columns=RESULT_COLUMNS)


def ceilings(*, corpora: Sequence[str], config, split: str = "test", c: float = 1.0):
    """Every probe for each corpus (train -> ``split``), the table to show beside Table 4 / Figure 2.

    Rows per corpus: the audio embeddings (``config.encoders``), the same centred per speaker, the properties,
    the properties z-scored per speaker and, for synthetic corpora, the oracle.

    Returns
    -------
    DataFrame with :data:`RESULT_COLUMNS`.
    """
    import pandas as pd

    if isinstance(corpora, str):
        corpora = [corpora]
    frames = []
    for corpus in corpora:
        frames.append(audio_probe(corpus=corpus, config=config, split=split, c=c))
        frames.append(audio_probe(corpus=corpus, config=config, split=split, c=c, speaker_centring=True))
        frames.append(property_probe(corpus=corpus, config=config, split=split, c=c))
        frames.append(property_probe(corpus=corpus, config=config, split=split, c=c, per_speaker=True))
        try:
            frames.append(oracle_probe(corpus=corpus, config=config, split=split, c=c))
        except DataError as err:  # a real corpus has no generator ground truth
            log.info("no oracle row for %s: %s", corpus, err)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------------------------
# Validation probe (choosing a representation)
# --------------------------------------------------------------------------------------------------------------

def validation_split(train, *, fraction: float = 0.25, seed: int = 0):
    """Split a corpus's *train* rows by speaker into (fit, validation): about ``fraction`` of the speakers of each
    sex (at least one speaker) go to validation, chosen by a seeded permutation; deterministic.

    Returns
    -------
    (DataFrame, DataFrame) with fresh indexes.
    """
    if not 0 < fraction < 1:
        raise ParameterError(f"fraction = {fraction!r} must be in (0, 1)")
    speakers = sorted(train["speaker"].dropna().unique())
    if len(speakers) < 2:
        raise DataError(f"{len(speakers)} speaker(s) in the train split; a speaker-independent validation split "
                        "needs at least 2")
    sex = train.groupby("speaker")["sex"].first() if "sex" in train.columns else None
    rng = np.random.default_rng(seed)
    chosen: list = []
    groups: dict = {}
    for s in speakers:
        groups.setdefault(str(sex[s]) if sex is not None else "", []).append(s)
    for key in sorted(groups):
        members = groups[key]
        k = int(round(fraction * len(members)))
        chosen += [members[i] for i in rng.permutation(len(members))[:k]]
    if not chosen:
        chosen = [speakers[int(rng.integers(len(speakers)))]]
    if len(chosen) == len(speakers):
        chosen = chosen[:-1]
    is_val = train["speaker"].isin(chosen)
    return train[~is_val].reset_index(drop=True), train[is_val].reset_index(drop=True)


def candidate_encoders(config, names: Sequence[str] = tuple(AUDIO_CANDIDATES), *,
                       centred: bool = True) -> dict[str, Any]:
    """The ``EncodersConfig`` of each named candidate of :data:`AUDIO_CANDIDATES` over ``config.encoders`` (device,
    cache, text encoder kept), and with ``centred`` each also centred per speaker (name + ``", centred per
    speaker"``), for :func:`validation_probe`."""
    import dataclasses

    unknown = [n for n in names if n not in AUDIO_CANDIDATES]
    if unknown:
        raise ParameterError(f"unknown audio candidate(s) {unknown}; known: {list(AUDIO_CANDIDATES)}")
    out = {}
    for name in names:
        out[name] = dataclasses.replace(config.encoders, speaker_centring=False, **AUDIO_CANDIDATES[name])
    if centred:
        out.update({f"{name}, centred per speaker": dataclasses.replace(enc, speaker_centring=True)
                    for name, enc in list(out.items())})
    return out


def concatenation(encoders_configs: Sequence[Any], *, speaker_centring: bool = False) -> Representation:
    """A representation that concatenates the embeddings of several ``EncodersConfig`` (each through the
    embedding cache), then optionally centres the joint vector per speaker; for :func:`validation_probe`.

    The probe standardises every column, so vectors of different scales (an encoder's embedding and 88 eGeMAPS
    functionals) weigh by what they predict, not by their units.
    """
    import dataclasses

    parts = [_embedder(dataclasses.replace(c, speaker_centring=False), speaker_centring=False)
             for c in encoders_configs]
    if not parts:
        raise ParameterError("concatenation needs at least one encoders config")

    def embed(m) -> np.ndarray:
        from clapemo import encoders

        x = np.hstack([part(m) for part in parts]).astype(np.float32)
        return encoders.centre_per_speaker(x, speakers=_speakers(m)) if speaker_centring else x

    return embed


def validation_probe(*, corpora: Sequence[str], config, representations: Mapping[str, Any],
                     fraction: float = 0.25, seed: int = 0, c: float = 1.0):
    """Probe candidate representations on validation speakers carved from each corpus's **train** split.

    Parameters
    ----------
    corpora : sequence of str
        The training corpora (e.g. the emotion corpora minus the evaluation target).
    config : clapemo.config.Config
        Loads the corpora.
    representations : mapping name -> EncodersConfig or callable(manifest) -> (n, dim)
        An ``EncodersConfig`` is embedded through the cache (centred per speaker when its
        ``speaker_centring`` is on).
    fraction, seed
        See :func:`validation_split`.
    c : float

    Returns
    -------
    DataFrame with :data:`RESULT_COLUMNS` (``n_test`` = validation rows), one row per (representation, corpus).
    """
    import pandas as pd

    from clapemo import corpora as corpora_module
    from clapemo.config import EncodersConfig

    if isinstance(corpora, str):
        corpora = [corpora]
    rows = []
    for corpus in corpora:
        train = _labelled(corpora_module.manifest(corpus, config, split="train"))
        fit, val = validation_split(train, fraction=fraction, seed=seed)
        for name, rep in representations.items():
            embed = (_embedder(rep, speaker_centring=rep.speaker_centring) if isinstance(rep, EncodersConfig)
                     else rep)
            rows.append(probe_row(representation=name, corpus=train["dataset"].iloc[0], train=fit, test=val,
                                  x_train=embed(fit), x_test=embed(val), c=c))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)
