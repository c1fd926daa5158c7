"""Prompts as data (paper Table 2): the templates, the level words, the voice-quality phrases and the sentence
words, checked at import; the bin phrases of every (kind, levels).

The kinds themselves and the column each one bins are :mod:`clapemo.schema`'s (:data:`KINDS`,
:data:`AUGMENT_KINDS`, :data:`COMBINED_KINDS` and :data:`PROPERTY_OF_KIND` are its tuples under the names this
package has always used); this module holds the words.
"""

from __future__ import annotations

import string
from typing import Any, Mapping, Sequence

from clapemo.config import PromptsConfig
from clapemo.emotions import EMOTIONS
from clapemo.errors import ParameterError
from clapemo.schema import (
    AUGMENT_KINDS,
    COMBINED_KINDS,
    EXTRA_PROMPT_KINDS,
    EXTRA_PROPERTY_OF_KIND,
    PROMPT_KINDS,
    PROPERTY_OF_KIND,
    SEXES,
)

__all__ = [
    "KINDS", "AUGMENT_KINDS", "TEMPLATES", "COMBINED_TEMPLATE", "COMBINED_SEPARATOR", "COMBINED_KINDS",
    "PROPERTY_OF_KIND", "LEVEL_WORDS", "LEVEL_QUANTILES", "EXTRA_KINDS", "SENTENCE_TEMPLATE",
    "SENTENCE_LABEL_TEMPLATE", "SENTENCE_WORDS", "BIN_PHRASES", "validate_templates", "bin_phrases", "column_of",
    "chosen_extra_kinds",
]

#: every prompt kind, in the column order of the prompts table (:data:`clapemo.schema.PROMPT_KINDS`)
KINDS: tuple[str, ...] = PROMPT_KINDS

#: kind -> bin name -> template; bins are listed from the lowest to the highest value
TEMPLATES: dict[str, dict[str, str]] = {
    "class_label": {"label": "{emotion}"},
    "pitch": {
        "low_male": "low male pitch {emotion}",
        "high_male": "high male pitch {emotion}",
        "low_female": "low female pitch {emotion}",
        "high_female": "high female pitch {emotion}",
    },
    "pitch2": {"low": "low pitch {emotion}", "high": "high pitch {emotion}"},
    "intensity": {"low": "low intensity {emotion}", "high": "high intensity {emotion}"},
    "speech_rate": {"low": "low speech rate {emotion}", "high": "high speech rate {emotion}"},
    "articulation_rate": {"low": "low articulation rate {emotion}", "high": "high articulation rate {emotion}"},
}

#: the combined prompt: the bin phrases of :data:`COMBINED_KINDS` joined by :data:`COMBINED_SEPARATOR`
COMBINED_TEMPLATE = "{properties} {emotion}"
COMBINED_SEPARATOR = ", "

#: ``prompts.levels`` -> the level words, lowest first (2 = the paper's; 3 = ParaCLAP's low / normal / high)
LEVEL_WORDS: dict[int, tuple[str, ...]] = {
    2: ("low", "high"),
    3: ("low", "normal", "high"),
    5: ("very low", "low", "normal", "high", "very high"),
}
#: ``prompts.levels`` -> the quantiles that cut the levels (ParaCLAP's 30/40/30 for 3 levels; equal fifths for 5)
LEVEL_QUANTILES: dict[int, tuple[float, ...]] = {2: (0.5,), 3: (0.3, 0.7), 5: (0.2, 0.4, 0.6, 0.8)}
#: the noun after the level word ("high" + "speech rate"); the 4-bin pitch kind is "<level> <sex> pitch"
_PROPERTY_NOUNS: dict[str, str] = {"pitch2": "pitch", "intensity": "intensity", "speech_rate": "speech rate",
                                   "articulation_rate": "articulation rate"}

#: the bin phrases (lowest first) of each voice-quality kind per number of levels. Our words, chosen as
#: perceptual correlates; no literature fixes them.
_EXTRA_PHRASES: dict[str, dict[int, tuple[str, ...]]] = {
    "pitch_variability": {
        2: ("monotone pitch", "varied pitch"),
        3: ("monotone pitch", "moderately varied pitch", "very varied pitch"),
        5: ("very monotone pitch", "monotone pitch", "moderately varied pitch", "varied pitch",
            "very varied pitch")},
    "jitter": {
        2: ("smooth voice", "rough voice"),
        3: ("smooth voice", "slightly rough voice", "rough voice"),
        5: ("very smooth voice", "smooth voice", "slightly rough voice", "rough voice", "very rough voice")},
    "shimmer": {
        2: ("steady loudness", "wavering loudness"),
        3: ("steady loudness", "slightly wavering loudness", "wavering loudness"),
        5: ("very steady loudness", "steady loudness", "slightly wavering loudness", "wavering loudness",
            "very wavering loudness")},
    "hnr": {
        2: ("breathy voice", "clear voice"),
        3: ("breathy voice", "slightly breathy voice", "clear voice"),
        5: ("very breathy voice", "breathy voice", "slightly breathy voice", "clear voice", "very clear voice")},
    "pause_rate": {
        2: ("few pauses", "many pauses"),
        3: ("few pauses", "some pauses", "many pauses"),
        5: ("very few pauses", "few pauses", "some pauses", "many pauses", "very many pauses")},
}

#: more properties (chapter 6, quantile binning only): kind -> the column it bins
#: (:data:`clapemo.schema.EXTRA_PROPERTY_OF_KIND`) and its bin phrases (lowest first) per number of levels, in the
#: order of :data:`clapemo.schema.EXTRA_PROMPT_KINDS`
EXTRA_KINDS: dict[str, dict[str, Any]] = {
    kind: {"column": EXTRA_PROPERTY_OF_KIND[kind], "phrases": _EXTRA_PHRASES.get(kind, {})}
    for kind in EXTRA_PROMPT_KINDS}

#: the sentence form's defaults (``prompts.sentence_template`` / ``prompts.sentence_label_template``)
SENTENCE_TEMPLATE = "a person speaking with {properties}, sounding {emotion}"
SENTENCE_LABEL_TEMPLATE = "a person sounding {emotion}"
#: the emotion word of the sentence form: an adjective after "sounding"
SENTENCE_WORDS: dict[str, str] = {
    "neutral": "neutral", "calm": "calm", "happy": "happy", "sad": "sad", "angry": "angry", "fearful": "fearful",
    "disgust": "disgusted", "surprised": "surprised", "excited": "excited", "frustrated": "frustrated",
    "disappointed": "disappointed", "positive": "positive", "negative": "negative",
}

#: bins of each kind of :data:`TEMPLATES`: the label alone; 2 levels per sex of the 4-bin pitch; 2 levels otherwise
_N_BINS = {"class_label": 1, **{kind: 2 * len(SEXES) if kind == "pitch" else 2 for kind in PROPERTY_OF_KIND}}
_PLACEHOLDER = "{emotion}"


def _placeholders(template: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as err:
        raise ParameterError(f"template {template!r} is not a valid format string ({err})") from None


def validate_templates(templates: Mapping[str, Mapping[str, str]]) -> None:
    """Check a templates table: every kind present with its number of bins, one ``{emotion}`` each.

    Acoustic templates must end with ``{emotion}`` so that their bin phrase (the text before it) can be reused
    in the combined prompt. Raises :class:`~clapemo.errors.ParameterError` naming the kind, bin and rule.
    """
    missing = sorted(set(_N_BINS) - set(templates))
    if missing:
        raise ParameterError(f"templates: kind {missing[0]!r} is missing (kinds needed: {sorted(_N_BINS)})")
    for kind, bins in templates.items():
        if kind not in _N_BINS:
            raise ParameterError(f"templates: unknown kind {kind!r} (known: {sorted(_N_BINS)})")
        if len(bins) != _N_BINS[kind]:
            raise ParameterError(f"templates[{kind!r}] has {len(bins)} bins, expected {_N_BINS[kind]}")
        for name, template in bins.items():
            where = f"templates[{kind!r}][{name!r}] = {template!r}"
            if not isinstance(template, str):
                raise ParameterError(f"{where} must be a str")
            fields = _placeholders(template)
            if fields != ["emotion"]:
                raise ParameterError(f"{where} must contain the placeholder {_PLACEHOLDER} exactly once and no "
                                     f"other placeholder (found {fields})")
            if kind != "class_label" and (not template.endswith(" " + _PLACEHOLDER)
                                          or not template[: -len(_PLACEHOLDER)].strip()):
                raise ParameterError(f"{where} must be '<bin phrase> {_PLACEHOLDER}'")
    if _placeholders(COMBINED_TEMPLATE) != ["properties", "emotion"]:
        raise ParameterError(f"COMBINED_TEMPLATE = {COMBINED_TEMPLATE!r} needs {{properties}} then {{emotion}}")


def _validate_extra_kinds() -> None:
    if set(_EXTRA_PHRASES) != set(EXTRA_PROMPT_KINDS):
        raise ParameterError(f"the voice-quality phrases name {tuple(_EXTRA_PHRASES)}, but "
                             f"clapemo.schema.EXTRA_PROMPT_KINDS {EXTRA_PROMPT_KINDS}: give every voice-quality "
                             "kind its phrases")
    for kind, spec in EXTRA_KINDS.items():
        if kind in KINDS:
            raise ParameterError(f"EXTRA_KINDS[{kind!r}] shadows a prompt kind of KINDS")
        for levels, words in LEVEL_WORDS.items():
            phrases = spec["phrases"].get(levels, ())
            if len(phrases) != len(words) or len(set(phrases)) != len(phrases):
                raise ParameterError(f"EXTRA_KINDS[{kind!r}]['phrases'][{levels}] must hold {len(words)} distinct "
                                     f"phrases, lowest first (got {phrases!r})")


validate_templates(TEMPLATES)  # at import: a template without its {emotion} placeholder raises here
_validate_extra_kinds()
if set(SENTENCE_WORDS) != set(EMOTIONS):
    raise ParameterError("SENTENCE_WORDS must have one adjective per canonical emotion "
                         "(clapemo.emotions.EMOTIONS)")

_PHRASES = {kind: {name: t[: -len(_PLACEHOLDER)].strip() for name, t in bins.items()}
            for kind, bins in TEMPLATES.items() if kind != "class_label"}


def _level_keys(levels: int) -> tuple[str, ...]:
    return tuple(w.replace(" ", "_") for w in LEVEL_WORDS[levels])


def _build_bins(kind: str, levels: int) -> dict[str, str]:
    if levels == 2 and kind in _PHRASES:  # the paper's Table 2, as written in TEMPLATES
        return dict(_PHRASES[kind])
    keys, words = _level_keys(levels), LEVEL_WORDS[levels]
    if kind == "pitch":
        return {f"{k}_{sex}": f"{w} {sex} pitch" for sex in SEXES for k, w in zip(keys, words)}
    if kind in _PROPERTY_NOUNS:
        return {k: f"{w} {_PROPERTY_NOUNS[kind]}" for k, w in zip(keys, words)}
    return dict(zip(keys, EXTRA_KINDS[kind]["phrases"][levels]))


#: (kind, levels) -> bin name -> bin phrase, lowest bin first (read-only: :func:`bin_phrases` gives a copy). The
#: 4-bin ``pitch`` kind's bins are the levels of the male half, then those of the female half (sex order:
#: :data:`clapemo.schema.SEXES`).
BIN_PHRASES: dict[tuple[str, int], dict[str, str]] = {(kind, levels): _build_bins(kind, levels)
                                                      for kind in (*PROPERTY_OF_KIND, *EXTRA_KINDS)
                                                      for levels in LEVEL_WORDS}


def bin_phrases(kind: str, levels: int = 2) -> dict[str, str]:
    """Bin name -> bin phrase of an acoustic kind, lowest bin first (``("pitch2", 3)`` -> low / normal / high).

    With 2 levels the standard kinds give exactly the phrases of :data:`TEMPLATES`.
    """
    if (kind, levels) not in BIN_PHRASES:
        raise ParameterError(f"kind = {kind!r}, levels = {levels!r}: no bins (acoustic kinds: "
                             f"{[*PROPERTY_OF_KIND, *EXTRA_KINDS]}; levels: {list(LEVEL_WORDS)})")
    return dict(BIN_PHRASES[(kind, levels)])


def column_of(kind: str) -> str:
    """The property column an acoustic kind bins (:data:`PROPERTY_OF_KIND`, else the :data:`EXTRA_KINDS` one)."""
    return PROPERTY_OF_KIND[kind] if kind in PROPERTY_OF_KIND else EXTRA_KINDS[kind]["column"]


def chosen_extra_kinds(cfg: PromptsConfig, kinds: Sequence[str] | None) -> tuple[str, ...]:
    """The extra kinds a call adds, each once, in order: ``kinds`` (a name or a sequence of :data:`EXTRA_KINDS`
    names), else ``prompts.extra_kinds`` and those of ``prompts.augment_kinds``."""
    if kinds is None:
        kinds = [*cfg.extra_kinds, *(k for k in cfg.augment_kinds if k in EXTRA_KINDS)]
    if isinstance(kinds, str):
        kinds = [kinds]
    bad = [k for k in kinds if k not in EXTRA_KINDS]
    if bad:
        raise ParameterError(f"kinds: {bad[0]!r} is not one of EXTRA_KINDS ({', '.join(EXTRA_KINDS)})")
    return tuple(dict.fromkeys(kinds))
