"""Quantile (data-centric) binning: cuts fitted on training data, pooled, per corpus, per speaker or per sex
(:func:`fit_thresholds`), and the speaker and sex groups of a table's rows."""

from __future__ import annotations

import logging
import math
from typing import Any, Mapping, Sequence

import numpy as np

from clapemo.config import PromptsConfig
from clapemo.errors import ParameterError
from clapemo.prompts.kinds import EXTRA_KINDS, LEVEL_QUANTILES, PROPERTY_OF_KIND, chosen_extra_kinds
from clapemo.prompts.render import clean_values
from clapemo.prompts.thresholds import CUT_FIELDS, SexThresholds, SpeakerThresholds, Thresholds, prompts_section
from clapemo.schema import SEXES

__all__ = ["is_missing_label", "pitch_quantiles", "speaker_key", "speaker_keys", "sex_values", "fit_speakers",
           "fit_thresholds"]

log = logging.getLogger(__name__)

_MIN_FIT_VALUES = 2  # a quantile cut needs at least two values


def is_missing_label(value: Any) -> bool:
    """True for a label that is not there (None or NaN): a captioned general-audio row, not an emotion row."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def pitch_quantiles(levels: int) -> tuple[float, ...]:
    """The F0 quantiles of the 4-bin kind's generalisation: the level quantiles within each half of the
    distribution, halves split at the median (2 levels: the quartiles)."""
    q = LEVEL_QUANTILES[levels]
    return (*(p / 2 for p in q), 0.5, *(0.5 + p / 2 for p in q))


def _quantiles(table: Any, column: str, q: Sequence[float], origin: str) -> list[float]:
    x = clean_values(table[column].to_numpy(dtype=object), column)
    x = x[~np.isnan(x)]
    if x.size < _MIN_FIT_VALUES:
        raise ParameterError(f"fit_thresholds ({origin}): {column} has {x.size} usable value(s); quantile cuts "
                             f"need at least {_MIN_FIT_VALUES}")
    return [float(v) for v in np.quantile(x, q)]  # linear interpolation (numpy's default)


def _fit_one(table: Any, origin: str, levels: int = 2, extra: Sequence[str] = ()) -> Thresholds:
    q = LEVEL_QUANTILES[levels]
    cuts: dict[str, Any] = {"pitch": _quantiles(table, PROPERTY_OF_KIND["pitch"], pitch_quantiles(levels),
                                                origin)}
    for kind in CUT_FIELDS:
        c = _quantiles(table, PROPERTY_OF_KIND[kind], q, origin)
        cuts[kind] = c[0] if levels == 2 else tuple(c)
    extra_cuts = {kind: tuple(_quantiles(table, EXTRA_KINDS[kind]["column"], q, origin)) for kind in extra}
    return Thresholds(pitch_cuts_hz=tuple(cuts["pitch"]), pitch2_cut_hz=cuts["pitch2"],
                      intensity_cut_db=cuts["intensity"], speech_rate_cut_syl_per_s=cuts["speech_rate"],
                      articulation_rate_cut_syl_per_s=cuts["articulation_rate"], origin=origin,
                      n_fit=int(len(table)), levels=levels, extra_cuts=extra_cuts)


def speaker_key(dataset: Any, speaker: Any) -> str:
    """The per-speaker group of a clip: ``"<dataset>/<speaker>"`` (``"<dataset>/*"`` without a speaker)."""
    spk = "*" if is_missing_label(speaker) or type(speaker).__name__ == "NAType" else str(speaker)
    return f"{'' if is_missing_label(dataset) else dataset}/{spk}"


def speaker_keys(table: Any) -> np.ndarray:
    """The :func:`speaker_key` of every row (object array); the table needs a ``speaker`` column."""
    if "speaker" not in table.columns:
        raise ParameterError("per-speaker thresholds need a 'speaker' column (join the manifest)")
    datasets = table["dataset"].tolist() if "dataset" in table.columns else [None] * len(table)
    return np.array([speaker_key(d, s) for d, s in zip(datasets, table["speaker"].tolist())], dtype=object)


def sex_values(table: Any) -> np.ndarray:
    """The ``sex`` column of every row as an object array, None where it is not one of
    :data:`clapemo.schema.SEXES`."""
    if "sex" not in table.columns:
        raise ParameterError("per-sex and per-speaker thresholds need a 'sex' column (join the manifest)")
    return np.array([s if isinstance(s, str) and s in SEXES else None for s in table["sex"].tolist()],
                    dtype=object)


def fit_speakers(table: Any, levels: int, extra: Sequence[str], *,
                 fallback: Mapping[str, Thresholds] | None = None) -> dict[str, Thresholds]:
    """Thresholds per speaker key; a speaker with too few values takes its corpus's cuts (fitted on ``table``
    unless ``fallback`` gives them)."""
    keys = speaker_keys(table)
    out: dict[str, Thresholds] = {}
    corpus_cuts: dict[str, Thresholds] = dict(fallback or {})
    for key in sorted(set(keys)):
        rows = table[keys == key]
        try:
            out[key] = _fit_one(rows, f"quantile:speaker:{key}", levels, extra)
        except ParameterError:
            corpus = key.rsplit("/", 1)[0]
            if corpus not in corpus_cuts:
                in_corpus = np.array([k.rsplit("/", 1)[0] == corpus for k in keys], dtype=bool)
                corpus_cuts[corpus] = _fit_one(table[in_corpus], f"quantile:speaker-corpus:{corpus}", levels,
                                               extra)
            log.info("speaker %s has too few values for per-speaker cuts; it uses its corpus's", key)
            out[key] = corpus_cuts[corpus]
    return out


def _fit_sexes(table: Any, levels: int, extra: Sequence[str]) -> SexThresholds:
    pooled = _fit_one(table, "quantile:pooled", levels, extra)
    sexes = sex_values(table)
    cuts = {}
    for sex in SEXES:
        rows = table[sexes == sex]
        try:
            cuts[sex] = tuple(_quantiles(rows, "f0_mean_hz", LEVEL_QUANTILES[levels], f"quantile:sex:{sex}"))
        except ParameterError:
            log.warning("fit_thresholds(per_sex): fewer than %d %s clips with a pitch; their pitch uses the "
                        "pooled cuts", _MIN_FIT_VALUES, sex)
    return SexThresholds(pooled=pooled, pitch_cuts_by_sex_hz=cuts)


def fit_thresholds(features_df: Any, config: PromptsConfig | None = None, *, by: str | None = None,
                   kinds: Sequence[str] | None = None) -> Any:
    """Quantile cuts fitted on training data (data-centric binning).

    With 2 levels the 4-bin pitch cuts are the quartiles of F0 and every 2-bin cut is the median of its
    property; with 3 / 5 levels the cuts are :data:`LEVEL_QUANTILES` (pitch: :func:`pitch_quantiles`).
    Quantiles use numpy's linear interpolation over the present values (missing ones are ignored). When the
    table has a ``label`` column, rows without a label (captioned general audio) are ignored. Pass only the
    training split; the result is then applied unchanged to test data.

    Parameters
    ----------
    features_df : DataFrame
        The property columns; ``dataset`` for ``by="per_corpus"``; ``speaker`` (and ``dataset``) for
        ``"per_speaker"``; ``sex`` for ``"per_sex"``; the :data:`EXTRA_KINDS` columns asked for.
    config : PromptsConfig, Config or None
        ``quantile_scope`` is the default of ``by``; ``levels``; ``extra_kinds`` / ``augment_kinds`` the default
        of ``kinds``.
    by : {"pooled", "per_corpus", "per_speaker", "per_sex"}, optional
    kinds : sequence of :data:`EXTRA_KINDS` names, optional
        Extra kinds to fit cuts for (``Thresholds.extra_cuts``).

    Returns
    -------
    Thresholds (pooled); dict corpus -> Thresholds (per_corpus); :class:`SpeakerThresholds`;
    :class:`SexThresholds`.
    """
    cfg = prompts_section(config)
    by = cfg.quantile_scope if by is None else by
    scopes = ("pooled", "per_corpus", "per_speaker", "per_sex")
    if by not in scopes:
        raise ParameterError(f"by = {by!r} must be one of {', '.join(repr(s) for s in scopes)}")
    extra = chosen_extra_kinds(cfg, kinds)
    needed = sorted(set(PROPERTY_OF_KIND.values())) + [EXTRA_KINDS[k]["column"] for k in extra]
    missing = [c for c in needed if c not in features_df.columns]
    if missing:
        hint = " (an EXTRA_KINDS column: set features.voice_quality = true)" if missing[0] not in \
            PROPERTY_OF_KIND.values() else ""
        raise ParameterError(f"features_df lacks column {missing[0]!r}{hint}")
    table = features_df
    if "label" in table.columns:
        table = table[~table["label"].map(is_missing_label).to_numpy(dtype=bool)]
    if len(table) == 0:
        raise ParameterError("fit_thresholds: no emotion rows to fit on")
    levels = cfg.levels
    if by == "pooled":
        return _fit_one(table, "quantile:pooled", levels, extra)
    if by == "per_speaker":
        return SpeakerThresholds(speakers=fit_speakers(table, levels, extra))
    if by == "per_sex":
        return _fit_sexes(table, levels, extra)
    if "dataset" not in table.columns:
        raise ParameterError("fit_thresholds(by='per_corpus') needs a 'dataset' column")
    return {str(name): _fit_one(group, f"quantile:{name}", levels, extra)
            for name, group in table.groupby("dataset", sort=True, dropna=False)}
