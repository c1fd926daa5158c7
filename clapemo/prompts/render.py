"""The prompts of one utterance: the emotion word, the bin of a property value, the prompt of one kind
(:func:`prompt`) and the prompt-augmentation list (:func:`augment`); the value cleaning and binning the table and
the quantile fit share."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Mapping, Sequence

import numpy as np

from clapemo.config import PromptsConfig
from clapemo.emotions import EMOTIONS, PROMPT_WORDS
from clapemo.errors import DataError, ParameterError
from clapemo.prompts.kinds import (
    BIN_PHRASES,
    COMBINED_KINDS,
    COMBINED_SEPARATOR,
    COMBINED_TEMPLATE,
    EXTRA_KINDS,
    KINDS,
    PROPERTY_OF_KIND,
    SENTENCE_WORDS,
    TEMPLATES,
    column_of,
)
from clapemo.prompts.thresholds import Thresholds, prompts_section, resolve_thresholds

__all__ = [
    "emotion_word", "sentence_word", "prompt_word", "clean_values", "bin_index", "bin_name", "combine_phrases",
    "render_prompt", "label_prompt", "prompt", "augment",
]

#: columns whose values may be negative (dB scales); every other property must be >= 0
_SIGNED_COLUMNS = frozenset({"intensity_db", "hnr_db"})


def emotion_word(label: str, config: PromptsConfig | None = None) -> str:
    """The word a canonical label takes in prompts (``"angry"`` -> ``"anger"``), config overrides first."""
    cfg = prompts_section(config)
    if not isinstance(label, str) or label not in EMOTIONS:
        raise ParameterError(f"label = {label!r} is not a canonical emotion (known: {', '.join(EMOTIONS)})")
    word = cfg.emotion_words.get(label, PROMPT_WORDS[label])
    if not isinstance(word, str) or not word.strip():
        raise ParameterError(f"prompts.emotion_words[{label!r}] = {word!r} must be a non-empty str")
    return word


def sentence_word(label: str) -> str:
    """The adjective of the sentence form (``"disgust"`` -> ``"disgusted"``, :data:`SENTENCE_WORDS`)."""
    if not isinstance(label, str) or label not in SENTENCE_WORDS:
        raise ParameterError(f"label = {label!r} is not a canonical emotion (known: {', '.join(EMOTIONS)})")
    return SENTENCE_WORDS[label]


def prompt_word(label: str, cfg: PromptsConfig) -> str:
    """The emotion word of the config's form: :func:`sentence_word` (sentence), else :func:`emotion_word`."""
    return sentence_word(label) if cfg.form == "sentence" else emotion_word(label, cfg)


def _get_property(props: Any, name: str) -> Any:
    if isinstance(props, Mapping):
        if name not in props:
            raise ParameterError(f"props has no {name!r} (needs the AcousticProperties fields)")
        return props[name]
    if hasattr(props, "index") and hasattr(props, "__getitem__") and not dataclasses.is_dataclass(props):
        try:  # pandas Series (a table row)
            return props[name]
        except KeyError:
            raise ParameterError(f"props has no {name!r} (needs the AcousticProperties fields)") from None
    if hasattr(props, name):
        return getattr(props, name)
    raise ParameterError(f"props ({type(props).__name__}) has no {name!r}: pass an AcousticProperties, a "
                         "mapping or a table row")


def clean_values(values: np.ndarray, name: str) -> np.ndarray:
    """Float array of the column ``name`` with NaN for every missing value (None, NaN, +-inf; F0 <= 0 Hz); raises
    a :class:`~clapemo.errors.DataError` on invalid negative values (rates, percentages)."""
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):  # None / pd.NA inside an object array
        x = np.array([_to_float(v, name) for v in np.asarray(values, dtype=object).ravel()], dtype=float)
    x = np.where(np.isfinite(x), x, np.nan)
    if name == "f0_mean_hz":
        x = np.where(x > 0, x, np.nan)
    elif name not in _SIGNED_COLUMNS and np.any(x < 0):
        bad = x[x < 0][0]
        what = "a rate" if "rate" in name else "this property"
        raise DataError(f"{name} = {float(bad)!r} is negative; {what} must be >= 0 (or NaN when unknown)")
    return x


def _to_float(value: Any, name: str) -> float:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{name} = {value!r} is not a number") from None


def bin_index(values: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """Bin of each value: the number of cuts <= value (value < cut -> lower bin). NaN -> -1."""
    idx = np.searchsorted(np.asarray(cuts, dtype=float), np.nan_to_num(values, nan=0.0), side="right")
    return np.where(np.isnan(values), -1, idx)


def bin_name(value: float | None, kind: str, *, thresholds: Thresholds) -> str | None:
    """The bin (a key of :func:`bin_phrases`) of one property value, or None when it is missing.

    The 4-bin ``pitch`` kind is binned by F0 alone (``thresholds.pitch_cuts_hz``), as with pooled cuts.
    """
    if kind not in PROPERTY_OF_KIND and kind not in EXTRA_KINDS:
        raise ParameterError(f"kind = {kind!r} has no bins (acoustic kinds: {[*PROPERTY_OF_KIND, *EXTRA_KINDS]})")
    if not isinstance(thresholds, Thresholds):
        raise ParameterError(f"thresholds must be a Thresholds, got {type(thresholds).__name__}")
    x = clean_values(np.array([np.nan if value is None else value], dtype=object), column_of(kind))
    i = int(bin_index(x, thresholds.cuts(kind))[0])
    return None if i < 0 else tuple(BIN_PHRASES[(kind, thresholds.levels)])[i]


def combine_phrases(phrases: Sequence[str | None], word: str, cfg: PromptsConfig | None = None) -> str | None:
    """The bin phrases that are present (None: missing) joined into one prompt with ``word``: the combined
    template in phrase form (or without ``cfg``), the sentence template otherwise; None when none is present."""
    present = [p for p in phrases if p is not None]
    if not present:
        return None
    template = COMBINED_TEMPLATE if cfg is None or cfg.form == "phrase" else cfg.sentence_template
    return template.format(properties=COMBINED_SEPARATOR.join(present), emotion=word)


def render_prompt(kind: str, bin_: str | None, word: str, cfg: PromptsConfig) -> str | None:
    """The prompt of one acoustic kind from its bin (None -> None) and the emotion word of the form."""
    if bin_ is None:
        return None
    if cfg.form == "phrase" and cfg.levels == 2 and kind in TEMPLATES:
        return TEMPLATES[kind][bin_].format(emotion=word)  # the paper's prompts, character for character
    return combine_phrases([BIN_PHRASES[(kind, cfg.levels)][bin_]], word, cfg)


def label_prompt(word: str, cfg: PromptsConfig) -> str:
    """The ``class_label`` prompt of an emotion word in the config's form."""
    if cfg.form == "sentence":
        return cfg.sentence_label_template.format(emotion=word)
    return TEMPLATES["class_label"]["label"].format(emotion=word)


def prompt(props: Any, label: str, kind: str, config: PromptsConfig | None = None, *,
           thresholds: Thresholds | None = None) -> str | None:
    """The prompt of one kind for one utterance.

    Parameters
    ----------
    props : AcousticProperties, mapping or table row
        Needs the field(s) of the kind (see :data:`PROPERTY_OF_KIND`, :data:`EXTRA_KINDS`); ``class_label``
        needs none.
    label : str
        Canonical label (in :data:`clapemo.emotions.EMOTIONS`).
    kind : str
        One of :data:`KINDS` or :data:`EXTRA_KINDS`.
    config : PromptsConfig, Config or None
        Cuts (fixed binning), levels, form and emotion wording.
    thresholds : Thresholds, optional
        Cuts to use instead of the config's; required for acoustic kinds when ``binning = "quantile"``. Pooled
        cuts only: per-speaker and per-sex cuts need the speaker / sex columns of :func:`prompts_table`.

    Returns
    -------
    str or None
        e.g. ``"low male pitch anger"``; ``None`` when the property is missing (the prompt is skipped).
    """
    cfg = prompts_section(config)
    if kind not in KINDS and kind not in EXTRA_KINDS:
        raise ParameterError(f"kind = {kind!r} is not a prompt kind (known: {', '.join([*KINDS, *EXTRA_KINDS])})")
    word = prompt_word(label, cfg)
    if kind == "class_label":
        return label_prompt(word, cfg)
    cuts = resolve_thresholds(cfg, thresholds)
    if kind == "combined":
        phrases = []
        for k in COMBINED_KINDS:
            b = bin_name(_get_property(props, PROPERTY_OF_KIND[k]), k, thresholds=cuts)
            phrases.append(None if b is None else BIN_PHRASES[(k, cfg.levels)][b])
        return combine_phrases(phrases, word, cfg)
    b = bin_name(_get_property(props, column_of(kind)), kind, thresholds=cuts)
    return render_prompt(kind, b, word, cfg)


def augment(props: Any, label: str, config: PromptsConfig | None = None, *,
            thresholds: Thresholds | None = None) -> list[str]:
    """The prompt-augmentation prompts of one utterance: ``prompts.augment_kinds`` (default
    :data:`AUGMENT_KINDS`), in that order.

    Returns one prompt per kind (5 by default), or fewer when a property is missing (that prompt is left out,
    order kept).
    """
    cfg = prompts_section(config)
    cuts = resolve_thresholds(cfg, thresholds)
    out = [prompt(props, label, kind, cfg, thresholds=cuts) for kind in cfg.augment_kinds]
    return [p for p in out if p is not None]
