"""Acoustic prompts (paper section 3.2, Table 2) and prompt augmentation.

A prompt describes one emotional utterance in words: its class label, optionally preceded by the bin of one
acoustic property, e.g. ``"high intensity anger"``. Prompt generation is a pure function of the utterance's
acoustic properties (:mod:`clapemo.features`), its canonical label and the cuts between bins.

Kinds
-----
=====================  =====================================================  ==============================
kind                   bins (in :data:`TEMPLATES` order)                     property
=====================  =====================================================  ==============================
``class_label``        the label alone: ``"anger"``                           none
``pitch``              low male / high male / low female / high female pitch  ``f0_mean_hz`` (F0 alone, 3 cuts)
``pitch2``             low / high pitch                                        ``f0_mean_hz`` (1 cut)
``intensity``          low / high intensity                                    ``intensity_db``
``speech_rate``        low / high speech rate                                  ``speech_rate_syl_per_s``
``articulation_rate``  low / high articulation rate                            ``articulation_rate_syl_per_s``
``combined``           all four properties in one prompt (the paper found it   all of the above
                       worse than augmentation): ``"high female pitch, low
                       intensity, high speech rate, low articulation rate
                       anger"``
=====================  =====================================================  ==============================

Prompt augmentation (:func:`augment`) pairs a clip separately with 5 prompts: ``class_label``, ``pitch``
(4 bins), ``intensity``, ``speech_rate``, ``articulation_rate``, in that order (:data:`AUGMENT_KINDS`; chapter 6
changes the list with ``prompts.augment_kinds``).

Bin edges
---------
Every cut belongs to the bin above it: ``value < cut`` -> the lower bin, ``value >= cut`` -> the upper bin. For
the 4 pitch bins with cuts ``c0 <= c1 <= c2``: ``f0 < c0`` low male, ``c0 <= f0 < c1`` high male,
``c1 <= f0 < c2`` low female, ``f0 >= c2`` high female.

Default cuts (reconstructed)
----------------------------
The paper's text lost its numbers. The defaults in :class:`clapemo.config.PromptsConfig` are our
**reconstruction**, not values verified against the authors' code: pitch 132.5 / 180 / 210 Hz (4 bins),
170 Hz (2 bins), intensity 60 dB, speech rate 3.12 syllables/s, articulation rate 4.0 syllables/s. The
intensity cut is on Praat's scale (dB re 2e-5 with sample values read as pascals; speech is about 55-80 dB), not
librosa's dBFS (which is <= 0 and would put every clip in the low bin; :func:`prompts_table` warns when every
intensity is <= 0 dB).

Quantile (data-centric) binning
-------------------------------
With ``prompts.binning = "quantile"`` the cuts come from training data (the paper's future work):
:func:`fit_thresholds` sets the 4-bin pitch cuts at the quartiles (25th, 50th, 75th percentiles) of F0 and every
2-bin cut (pitch2, intensity, speech rate, articulation rate) at the median (``prompts.levels = 2``). Fit once on
the training split, save with the run (:func:`save_thresholds`), and apply the saved thresholds to test data
unchanged (:func:`prompts_table` ``thresholds=``). Without fitted thresholds, quantile mode raises
:class:`~clapemo.errors.ParameterError`.

Binning scopes (``prompts.quantile_scope``)
-------------------------------------------
* ``pooled``: one set of cuts over all training rows (ParaCLAP's choice) -> :class:`Thresholds`.
* ``per_corpus``: cuts per corpus -> dict corpus -> :class:`Thresholds`.
* ``per_speaker`` (speaker normalisation): each speaker's own quantiles -> :class:`SpeakerThresholds`, keyed
  ``"<dataset>/<speaker>"`` (speaker ids repeat across corpora; clips without a speaker form the group
  ``"<dataset>/*"``). A speaker with fewer than 2 usable values of a property gets the cuts of its corpus. **At
  test time a speaker unseen in training is binned by cuts fitted on its own clips in the table being binned**
  (test speakers are disjoint from training speakers in speaker-independent splits, so there is nothing else to
  normalise by; the labels are not used). The 4-bin ``pitch`` kind then takes its male/female word from the
  ``sex`` column and its level from the speaker's own F0 cuts (a high-pitched man is "high male pitch"); clips of
  unknown sex fall back to the speaker's F0-alone cuts.
* ``per_sex`` (ParaSpeechCaps / dataspeech bin pitch per gender): ``pitch`` and ``pitch2`` are binned by the
  quantiles of F0 within the clip's sex (``sex`` column; male/female word from that column); every other property
  is pooled -> :class:`SexThresholds`. Clips of unknown sex (or a sex absent from training) use the pooled cuts.

Levels (``prompts.levels``)
---------------------------
=========  ==========================================  ===============================  ==================
levels     words (lowest first)                        quantiles of the 2-bin kinds      4-bin pitch kind
=========  ==========================================  ===============================  ==================
2          low / high (the paper's)                    50 %                             25 / 50 / 75 %
3          low / normal / high (ParaCLAP's 30/40/30)   30 / 70 %                        15 / 35 / 50 / 65 / 85 %
5          very low / low / normal / high / very high  20 / 40 / 60 / 80 %              10 / 20 ... 90 %
=========  ==========================================  ===============================  ==================

The sex split of the ``pitch`` kind is kept: its cuts are the level quantiles within each half of the F0
distribution (the lower half "male", the upper half "female", split at the median), e.g. "normal male pitch
anger" with 3 levels. Levels other than 2 need quantile binning (a :class:`~clapemo.errors.ConfigError`
otherwise: the literature gives cuts for 2 bins only). With 2 levels prompts and thresholds are exactly the
paper's.

Prompt form (``prompts.form``)
------------------------------
``"phrase"`` (the paper's): ``"high pitch anger"``. ``"sentence"``: ``prompts.sentence_template``
(:data:`SENTENCE_TEMPLATE`, ``"a person speaking with {properties}, sounding {emotion}"``) with the bin phrase(s)
and the emotion adjective of :data:`SENTENCE_WORDS`: ``"a person speaking with high pitch, sounding angry"``;
the class label alone uses ``prompts.sentence_label_template`` (``"a person sounding angry"``); the combined
prompt lists its phrases joined by ``", "``.

More properties (:data:`EXTRA_KINDS`, chapter 6)
------------------------------------------------
=====================  =====================  ================================================================
kind                   column                 2-level phrases (3 and 5 levels: see the table)
=====================  =====================  ================================================================
``pitch_variability``  ``f0_sd_st``           monotone pitch / varied pitch
``jitter``             ``jitter_local_pct``   smooth voice / rough voice
``shimmer``            ``shimmer_local_pct``  steady loudness / wavering loudness
``hnr``                ``hnr_db``             breathy voice / clear voice
``pause_rate``         ``pause_rate_per_s``   few pauses / many pauses
=====================  =====================  ================================================================

They are not in :data:`clapemo.schema.PROMPT_KINDS`; :func:`prompts_table` adds their columns (after the usual
ones) when asked through ``kinds=`` or ``prompts.extra_kinds``, and for the ones named in
``prompts.augment_kinds``. Quantile binning only (no literature cuts); their fitted cuts are
``Thresholds.extra_cuts``. The words are ours (perceptual correlates: jitter -> roughness, low harmonics-to-noise
ratio -> breathiness), data to change in :data:`EXTRA_KINDS`.

Prompt augmentation uses ``prompts.augment_kinds`` (default :data:`AUGMENT_KINDS`, the paper's 5).

Missing properties
------------------
A property that is missing (None, NaN, +-inf; or F0 <= 0 Hz, the "unvoiced" marker of some pitch trackers) gives
no prompt of the kinds that need it: :func:`prompt` returns ``None``, :func:`augment` leaves that prompt out
(the list is shorter than 5, order kept), and :func:`prompts_table` writes ``None`` and counts it in
``df.attrs["skipped"]``. The ``combined`` prompt lists only the properties that are present; it is skipped only
when none is. A negative rate (or jitter, shimmer, F0 sd) is invalid data and raises
:class:`~clapemo.errors.DataError`; intensity and HNR may be negative.

Emotion wording
---------------
The canonical label maps to the word used in prompts through :data:`clapemo.emotions.PROMPT_WORDS`
(``angry`` -> ``anger``), overridden per label by ``prompts.emotion_words`` (phrase form). The sentence form
uses the adjectives of :data:`SENTENCE_WORDS` (``angry``, ``disgusted``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from clapemo.config import PromptsConfig
from clapemo.emotions import EMOTIONS, PROMPT_WORDS
from clapemo.errors import ConfigError, DataError, ParameterError
from clapemo.schema import EXTRA_PROMPT_KINDS

__all__ = [
    "KINDS",
    "AUGMENT_KINDS",
    "TEMPLATES",
    "COMBINED_TEMPLATE",
    "COMBINED_SEPARATOR",
    "PROPERTY_OF_KIND",
    "LEVEL_WORDS",
    "LEVEL_QUANTILES",
    "EXTRA_KINDS",
    "SENTENCE_TEMPLATE",
    "SENTENCE_LABEL_TEMPLATE",
    "SENTENCE_WORDS",
    "Thresholds",
    "SpeakerThresholds",
    "SexThresholds",
    "validate_templates",
    "emotion_word",
    "sentence_word",
    "bin_phrases",
    "bin_name",
    "speaker_key",
    "prompt",
    "augment",
    "fit_thresholds",
    "thresholds_from_dict",
    "save_thresholds",
    "load_thresholds",
    "prompts_table",
    "table_kinds",
    "cli",
]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------------
# Prompts as data (paper Table 2)
# --------------------------------------------------------------------------------------------------------------

#: every prompt kind, in the column order of the prompts table
KINDS: tuple[str, ...] = (
    "class_label", "pitch", "pitch2", "intensity", "speech_rate", "articulation_rate", "combined",
)

#: the 5 prompts of prompt augmentation, class label first (the default of ``prompts.augment_kinds``)
AUGMENT_KINDS: tuple[str, ...] = ("class_label", "pitch", "intensity", "speech_rate", "articulation_rate")

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
COMBINED_KINDS: tuple[str, ...] = ("pitch", "intensity", "speech_rate", "articulation_rate")

#: kind -> the AcousticProperties field it bins
PROPERTY_OF_KIND: dict[str, str] = {
    "pitch": "f0_mean_hz",
    "pitch2": "f0_mean_hz",
    "intensity": "intensity_db",
    "speech_rate": "speech_rate_syl_per_s",
    "articulation_rate": "articulation_rate_syl_per_s",
}

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

#: more properties (chapter 6, quantile binning only): kind -> the column it bins and its bin phrases (lowest
#: first) per number of levels. Our words, chosen as perceptual correlates; no literature fixes them.
EXTRA_KINDS: dict[str, dict[str, Any]] = {
    "pitch_variability": {"column": "f0_sd_st", "phrases": {
        2: ("monotone pitch", "varied pitch"),
        3: ("monotone pitch", "moderately varied pitch", "very varied pitch"),
        5: ("very monotone pitch", "monotone pitch", "moderately varied pitch", "varied pitch",
            "very varied pitch")}},
    "jitter": {"column": "jitter_local_pct", "phrases": {
        2: ("smooth voice", "rough voice"),
        3: ("smooth voice", "slightly rough voice", "rough voice"),
        5: ("very smooth voice", "smooth voice", "slightly rough voice", "rough voice", "very rough voice")}},
    "shimmer": {"column": "shimmer_local_pct", "phrases": {
        2: ("steady loudness", "wavering loudness"),
        3: ("steady loudness", "slightly wavering loudness", "wavering loudness"),
        5: ("very steady loudness", "steady loudness", "slightly wavering loudness", "wavering loudness",
            "very wavering loudness")}},
    "hnr": {"column": "hnr_db", "phrases": {
        2: ("breathy voice", "clear voice"),
        3: ("breathy voice", "slightly breathy voice", "clear voice"),
        5: ("very breathy voice", "breathy voice", "slightly breathy voice", "clear voice", "very clear voice")}},
    "pause_rate": {"column": "pause_rate_per_s", "phrases": {
        2: ("few pauses", "many pauses"),
        3: ("few pauses", "some pauses", "many pauses"),
        5: ("very few pauses", "few pauses", "some pauses", "many pauses", "very many pauses")}},
}

#: the sentence form's defaults (``prompts.sentence_template`` / ``prompts.sentence_label_template``)
SENTENCE_TEMPLATE = "a person speaking with {properties}, sounding {emotion}"
SENTENCE_LABEL_TEMPLATE = "a person sounding {emotion}"
#: the emotion word of the sentence form: an adjective after "sounding"
SENTENCE_WORDS: dict[str, str] = {
    "neutral": "neutral", "calm": "calm", "happy": "happy", "sad": "sad", "angry": "angry", "fearful": "fearful",
    "disgust": "disgusted", "surprised": "surprised", "excited": "excited", "frustrated": "frustrated",
    "disappointed": "disappointed", "positive": "positive", "negative": "negative",
}

_N_BINS = {"class_label": 1, "pitch": 4, "pitch2": 2, "intensity": 2, "speech_rate": 2, "articulation_rate": 2}
_PLACEHOLDER = "{emotion}"
_SEXES: tuple[str, ...] = ("male", "female")  # the order of the pitch bins (clapemo.schema.SEXES)
#: Thresholds field of each 1-cut (2-level) kind
_CUT_FIELD: dict[str, str] = {"pitch2": "pitch2_cut_hz", "intensity": "intensity_cut_db",
                              "speech_rate": "speech_rate_cut_syl_per_s",
                              "articulation_rate": "articulation_rate_cut_syl_per_s"}
#: columns whose values may be negative (dB scales); every other property must be >= 0
_SIGNED_COLUMNS = frozenset({"intensity_db", "hnr_db"})
_MIN_FIT_VALUES = 2  # a quantile cut needs at least two values


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
    if tuple(EXTRA_KINDS) != EXTRA_PROMPT_KINDS:
        raise ParameterError(f"EXTRA_KINDS names {tuple(EXTRA_KINDS)}, but clapemo.schema.EXTRA_PROMPT_KINDS "
                             f"{EXTRA_PROMPT_KINDS}: declare a voice-quality kind in both")
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
        return {f"{k}_{sex}": f"{w} {sex} pitch" for sex in _SEXES for k, w in zip(keys, words)}
    if kind in _PROPERTY_NOUNS:
        return {k: f"{w} {_PROPERTY_NOUNS[kind]}" for k, w in zip(keys, words)}
    return dict(zip(keys, EXTRA_KINDS[kind]["phrases"][levels]))


#: (kind, levels) -> bin name -> bin phrase, lowest bin first
_BINS: dict[tuple[str, int], dict[str, str]] = {(kind, levels): _build_bins(kind, levels)
                                                for kind in (*PROPERTY_OF_KIND, *EXTRA_KINDS)
                                                for levels in LEVEL_WORDS}


def bin_phrases(kind: str, levels: int = 2) -> dict[str, str]:
    """Bin name -> bin phrase of an acoustic kind, lowest bin first (``("pitch2", 3)`` -> low / normal / high).

    With 2 levels the standard kinds give exactly the phrases of :data:`TEMPLATES`.
    """
    if (kind, levels) not in _BINS:
        raise ParameterError(f"kind = {kind!r}, levels = {levels!r}: no bins (acoustic kinds: "
                             f"{[*PROPERTY_OF_KIND, *EXTRA_KINDS]}; levels: {list(LEVEL_WORDS)})")
    return dict(_BINS[(kind, levels)])


def _column_of(kind: str) -> str:
    return PROPERTY_OF_KIND[kind] if kind in PROPERTY_OF_KIND else EXTRA_KINDS[kind]["column"]


# --------------------------------------------------------------------------------------------------------------
# Thresholds: the cuts actually used
# --------------------------------------------------------------------------------------------------------------


def _finite_cuts(value: Any, n: int, name: str) -> tuple[float, ...]:
    try:
        cuts = tuple(float(c) for c in value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} = {value!r} must be {n} finite, non-decreasing numbers") from None
    if (len(cuts) != n or not all(math.isfinite(c) for c in cuts) or list(cuts) != sorted(cuts)
            or any(isinstance(c, bool) for c in value)):
        raise ParameterError(f"{name} = {value!r} must be {n} finite, non-decreasing numbers")
    return cuts


@dataclass(frozen=True)
class Thresholds:
    """The cuts between bins actually used to form prompts (save them with every run).

    Attributes
    ----------
    pitch_cuts_hz : tuple of ``2 * levels - 1`` floats, non-decreasing (3 for the paper's 4 pitch bins)
        The male levels, the male | female cut, the female levels.
    pitch2_cut_hz, intensity_cut_db, speech_rate_cut_syl_per_s, articulation_rate_cut_syl_per_s : float
        One cut each with 2 levels; a tuple of ``levels - 1`` non-decreasing floats otherwise.
    origin : str
        Where the cuts come from: ``"fixed"`` (config; reconstructed literature values), ``"quantile:pooled"``,
        ``"quantile:<corpus>"``, ``"quantile:speaker:<dataset>/<speaker>"`` ...
    n_fit : int
        Rows the quantiles were fitted on (0 for fixed cuts).
    levels : int
        Bins per property (:data:`LEVEL_WORDS`); 2 = the paper's.
    extra_cuts : dict kind -> tuple of ``levels - 1`` floats
        Cuts of the :data:`EXTRA_KINDS` that were fitted (empty by default).

    ``to_dict`` leaves out ``levels`` and ``extra_cuts`` at their defaults, so the paper's thresholds files are
    unchanged.
    """

    pitch_cuts_hz: tuple[float, ...]
    pitch2_cut_hz: float | tuple[float, ...]
    intensity_cut_db: float | tuple[float, ...]
    speech_rate_cut_syl_per_s: float | tuple[float, ...]
    articulation_rate_cut_syl_per_s: float | tuple[float, ...]
    origin: str = "fixed"
    n_fit: int = 0
    levels: int = 2
    extra_cuts: Mapping[str, tuple[float, ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        levels = self.levels
        if isinstance(levels, bool) or levels not in LEVEL_WORDS:
            raise ParameterError(f"levels = {levels!r} must be one of {list(LEVEL_WORDS)}")
        n_pitch = 2 * levels - 1
        try:
            cuts = tuple(float(c) for c in self.pitch_cuts_hz)
        except (TypeError, ValueError):
            raise ParameterError(f"pitch_cuts_hz = {self.pitch_cuts_hz!r} must be {n_pitch} numbers") from None
        if len(cuts) != n_pitch or not all(math.isfinite(c) for c in cuts) or list(cuts) != sorted(cuts):
            where = ("(low male | high male | low female | high female)" if levels == 2
                     else f"({levels} male levels | {levels} female levels)")
            raise ParameterError(f"pitch_cuts_hz = {self.pitch_cuts_hz!r} must be {n_pitch} finite, "
                                 f"non-decreasing numbers {where}")
        object.__setattr__(self, "pitch_cuts_hz", cuts)
        for name in _CUT_FIELD.values():
            value = getattr(self, name)
            if levels == 2:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise ParameterError(f"{name} = {value!r} must be a finite number")
                object.__setattr__(self, name, float(value))
            else:
                object.__setattr__(self, name, _finite_cuts(value, levels - 1, name))
        if not isinstance(self.extra_cuts, Mapping):
            raise ParameterError(f"extra_cuts = {self.extra_cuts!r} must map kind -> cuts")
        extra = {}
        for kind, value in self.extra_cuts.items():
            if kind not in EXTRA_KINDS:
                raise ParameterError(f"extra_cuts: {kind!r} is not one of EXTRA_KINDS ({', '.join(EXTRA_KINDS)})")
            extra[kind] = _finite_cuts(value, levels - 1, f"extra_cuts[{kind!r}]")
        object.__setattr__(self, "extra_cuts", extra)

    def __hash__(self) -> int:  # the mapping fields are dicts; hash the saved form
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @classmethod
    def from_config(cls, config: PromptsConfig | None = None) -> "Thresholds":
        """The fixed cuts of a config section (defaults: the reconstructed literature values)."""
        cfg = _section(config)
        return cls(pitch_cuts_hz=tuple(cfg.pitch_cuts_hz), pitch2_cut_hz=cfg.pitch2_cut_hz,
                   intensity_cut_db=cfg.intensity_cut_db, speech_rate_cut_syl_per_s=cfg.speech_rate_cut_syl_per_s,
                   articulation_rate_cut_syl_per_s=cfg.articulation_rate_cut_syl_per_s, origin="fixed")

    def cuts(self, kind: str) -> tuple[float, ...]:
        """The cuts of one acoustic kind, ascending (``pitch``: the 4-bin kind's; every other: its levels')."""
        if kind == "pitch":
            return self.pitch_cuts_hz
        if kind in _CUT_FIELD:
            value = getattr(self, _CUT_FIELD[kind])
            return (value,) if self.levels == 2 else value
        if kind in EXTRA_KINDS:
            if kind not in self.extra_cuts:
                raise ParameterError(f"these thresholds ({self.origin}) have no cuts for kind {kind!r}: fit them "
                                     f"with fit_thresholds(..., kinds=[{kind!r}]) or prompts.extra_kinds")
            return self.extra_cuts[kind]
        raise ParameterError(f"kind = {kind!r} has no cuts (acoustic kinds: {[*PROPERTY_OF_KIND, *EXTRA_KINDS]})")

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict."""
        out = dataclasses.asdict(self)
        out["pitch_cuts_hz"] = list(self.pitch_cuts_hz)
        for name in _CUT_FIELD.values():
            if isinstance(out[name], tuple):
                out[name] = list(out[name])
        if self.levels == 2:
            del out["levels"]
        if self.extra_cuts:
            out["extra_cuts"] = {k: list(v) for k, v in self.extra_cuts.items()}
        else:
            del out["extra_cuts"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Thresholds":
        """Inverse of :meth:`to_dict`; unknown or missing keys raise :class:`~clapemo.errors.ConfigError`."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"thresholds must be a mapping, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown thresholds key {unknown[0]!r} (known: {sorted(names)})")
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        absent = sorted(required - set(data))
        if absent:
            raise ConfigError(f"thresholds key {absent[0]!r} is missing")
        return cls(**dict(data))


def _thresholds_map(data: Any, what: str) -> dict[str, Thresholds]:
    if not isinstance(data, Mapping) or not data or not all(
            isinstance(k, str) and isinstance(t, Thresholds) for k, t in data.items()):
        raise ParameterError(f"{what} must be a non-empty mapping str -> Thresholds")
    levels = {t.levels for t in data.values()}
    extras = {tuple(sorted(t.extra_cuts)) for t in data.values()}
    if len(levels) > 1 or len(extras) > 1:
        raise ParameterError(f"{what}: every Thresholds must have the same levels and extra kinds")
    return dict(data)


@dataclass(frozen=True)
class SpeakerThresholds:
    """Per-speaker quantile cuts (``prompts.quantile_scope = "per_speaker"``, speaker normalisation).

    Attributes
    ----------
    speakers : dict ``"<dataset>/<speaker>"`` (:func:`speaker_key`) -> Thresholds
        Each training speaker's own cuts. :func:`prompts_table` bins a speaker missing here by cuts fitted on
        its own clips in the table being binned (an unseen test speaker).
    """

    speakers: Mapping[str, Thresholds]
    scope = "per_speaker"

    def __post_init__(self) -> None:
        object.__setattr__(self, "speakers", _thresholds_map(self.speakers, "SpeakerThresholds.speakers"))

    def __hash__(self) -> int:  # the mapping fields are dicts; hash the saved form
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def levels(self) -> int:
        return next(iter(self.speakers.values())).levels

    @property
    def extra_kinds(self) -> tuple[str, ...]:
        return tuple(next(iter(self.speakers.values())).extra_cuts)

    def to_dict(self) -> dict:
        """``{"scope": "per_speaker", "thresholds": {speaker: Thresholds.to_dict()}}`` (the saved form)."""
        return {"scope": self.scope, "thresholds": {k: t.to_dict() for k, t in self.speakers.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SpeakerThresholds":
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, Mapping) or data.get("scope") != cls.scope or set(data) != {"scope", "thresholds"}:
            raise ConfigError("per-speaker thresholds must be {'scope': 'per_speaker', 'thresholds': {...}}")
        return cls(speakers={str(k): Thresholds.from_dict(v) for k, v in data["thresholds"].items()})


@dataclass(frozen=True)
class SexThresholds:
    """Pitch cuts per sex, every other property pooled (``prompts.quantile_scope = "per_sex"``).

    Attributes
    ----------
    pooled : Thresholds
        Cuts of every kind fitted on all rows; used for every property but pitch, and for the pitch of clips
        whose sex is unknown or has no cuts here.
    pitch_cuts_by_sex_hz : dict sex -> tuple of ``levels - 1`` floats
        The level cuts of F0 within each sex (``pitch`` and ``pitch2``; the sex word comes from the ``sex``
        column).
    """

    pooled: Thresholds
    pitch_cuts_by_sex_hz: Mapping[str, tuple[float, ...]]
    scope = "per_sex"

    def __post_init__(self) -> None:
        if not isinstance(self.pooled, Thresholds):
            raise ParameterError(f"SexThresholds.pooled must be a Thresholds, got {type(self.pooled).__name__}")
        if not isinstance(self.pitch_cuts_by_sex_hz, Mapping):
            raise ParameterError("SexThresholds.pitch_cuts_by_sex_hz must map sex -> cuts")
        cuts = {}
        for sex, value in self.pitch_cuts_by_sex_hz.items():
            if sex not in _SEXES:
                raise ParameterError(f"SexThresholds.pitch_cuts_by_sex_hz: {sex!r} is not one of {list(_SEXES)}")
            cuts[sex] = _finite_cuts(value, self.pooled.levels - 1, f"pitch_cuts_by_sex_hz[{sex!r}]")
        object.__setattr__(self, "pitch_cuts_by_sex_hz", cuts)

    def __hash__(self) -> int:  # the mapping fields are dicts; hash the saved form
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def levels(self) -> int:
        return self.pooled.levels

    def to_dict(self) -> dict:
        """``{"scope": "per_sex", "thresholds": pooled, "pitch_cuts_by_sex_hz": {...}}`` (the saved form)."""
        return {"scope": self.scope, "thresholds": self.pooled.to_dict(),
                "pitch_cuts_by_sex_hz": {k: list(v) for k, v in self.pitch_cuts_by_sex_hz.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SexThresholds":
        """Inverse of :meth:`to_dict`."""
        keys = {"scope", "thresholds", "pitch_cuts_by_sex_hz"}
        if not isinstance(data, Mapping) or data.get("scope") != cls.scope or set(data) != keys:
            raise ConfigError(f"per-sex thresholds must be a mapping with keys {sorted(keys)} and scope 'per_sex'")
        return cls(pooled=Thresholds.from_dict(data["thresholds"]),
                   pitch_cuts_by_sex_hz=dict(data["pitch_cuts_by_sex_hz"]))


def _section(config: Any) -> PromptsConfig:
    """Accept None, a PromptsConfig, or a whole Config (its ``prompts`` section)."""
    if config is None:
        return PromptsConfig()
    if isinstance(config, PromptsConfig):
        return config
    if isinstance(getattr(config, "prompts", None), PromptsConfig):
        return config.prompts
    raise ParameterError(f"config must be a PromptsConfig, a Config or None, got {type(config).__name__}")


def _check_levels(cfg: PromptsConfig, levels: int, origin: str) -> None:
    if levels != cfg.levels:
        raise ParameterError(f"thresholds ({origin}) have {levels} levels but prompts.levels = {cfg.levels}: fit "
                             "them with this config (fit_thresholds(<training features>, config))")


def _resolve_thresholds(cfg: PromptsConfig, thresholds: Thresholds | None) -> Thresholds:
    if thresholds is not None:
        if isinstance(thresholds, (SpeakerThresholds, SexThresholds)):
            raise ParameterError(f"{type(thresholds).__name__} bin whole tables (speaker / sex columns): use "
                                 "prompts_table(...)")
        if not isinstance(thresholds, Thresholds):
            raise ParameterError(f"thresholds must be a Thresholds, got {type(thresholds).__name__}")
        _check_levels(cfg, thresholds.levels, thresholds.origin)
        return thresholds
    if cfg.binning == "quantile":
        raise ParameterError("prompts.binning = 'quantile' needs fitted thresholds: call "
                             "fit_thresholds(<training features>, config) once and pass thresholds=...")
    return Thresholds.from_config(cfg)


def _extra_kinds(cfg: PromptsConfig, kinds: Sequence[str] | None) -> tuple[str, ...]:
    """The extra kinds a call adds: ``kinds``, else ``prompts.extra_kinds`` and those of ``augment_kinds``."""
    if kinds is None:
        kinds = [*cfg.extra_kinds, *(k for k in cfg.augment_kinds if k in EXTRA_KINDS)]
    if isinstance(kinds, str):
        kinds = [kinds]
    bad = [k for k in kinds if k not in EXTRA_KINDS]
    if bad:
        raise ParameterError(f"kinds: {bad[0]!r} is not one of EXTRA_KINDS ({', '.join(EXTRA_KINDS)})")
    return tuple(dict.fromkeys(kinds))


def table_kinds(config: PromptsConfig | None = None, *, kinds: Sequence[str] | None = None) -> tuple[str, ...]:
    """The prompt columns :func:`prompts_table` writes for a config: :data:`KINDS`, then the extra kinds
    (``kinds``, else ``prompts.extra_kinds`` and the extra kinds of ``prompts.augment_kinds``)."""
    return (*KINDS, *_extra_kinds(_section(config), kinds))


# --------------------------------------------------------------------------------------------------------------
# One utterance
# --------------------------------------------------------------------------------------------------------------


def emotion_word(label: str, config: PromptsConfig | None = None) -> str:
    """The word a canonical label takes in prompts (``"angry"`` -> ``"anger"``), config overrides first."""
    cfg = _section(config)
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


def _word(label: str, cfg: PromptsConfig) -> str:
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


def _clean_values(values: np.ndarray, name: str) -> np.ndarray:
    """Float array with NaN for every missing value; raises on invalid negative values (rates, percentages)."""
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


def _bin_index(values: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
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
    x = _clean_values(np.array([np.nan if value is None else value], dtype=object), _column_of(kind))
    i = int(_bin_index(x, thresholds.cuts(kind))[0])
    return None if i < 0 else tuple(_BINS[(kind, thresholds.levels)])[i]


def _combine(phrases: Sequence[str | None], word: str, cfg: PromptsConfig | None = None) -> str | None:
    present = [p for p in phrases if p is not None]
    if not present:
        return None
    template = COMBINED_TEMPLATE if cfg is None or cfg.form == "phrase" else cfg.sentence_template
    return template.format(properties=COMBINED_SEPARATOR.join(present), emotion=word)


def _render(kind: str, bin_: str | None, word: str, cfg: PromptsConfig) -> str | None:
    """The prompt of one acoustic kind from its bin (None -> None) and the emotion word of the form."""
    if bin_ is None:
        return None
    if cfg.form == "phrase" and cfg.levels == 2 and kind in TEMPLATES:
        return TEMPLATES[kind][bin_].format(emotion=word)  # the paper's prompts, character for character
    return _combine([_BINS[(kind, cfg.levels)][bin_]], word, cfg)


def _label_prompt(word: str, cfg: PromptsConfig) -> str:
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
    cfg = _section(config)
    if kind not in KINDS and kind not in EXTRA_KINDS:
        raise ParameterError(f"kind = {kind!r} is not a prompt kind (known: {', '.join([*KINDS, *EXTRA_KINDS])})")
    word = _word(label, cfg)
    if kind == "class_label":
        return _label_prompt(word, cfg)
    cuts = _resolve_thresholds(cfg, thresholds)
    if kind == "combined":
        phrases = []
        for k in COMBINED_KINDS:
            b = bin_name(_get_property(props, PROPERTY_OF_KIND[k]), k, thresholds=cuts)
            phrases.append(None if b is None else _BINS[(k, cfg.levels)][b])
        return _combine(phrases, word, cfg)
    b = bin_name(_get_property(props, _column_of(kind)), kind, thresholds=cuts)
    return _render(kind, b, word, cfg)


def augment(props: Any, label: str, config: PromptsConfig | None = None, *,
            thresholds: Thresholds | None = None) -> list[str]:
    """The prompt-augmentation prompts of one utterance: ``prompts.augment_kinds`` (default
    :data:`AUGMENT_KINDS`), in that order.

    Returns one prompt per kind (5 by default), or fewer when a property is missing (that prompt is left out,
    order kept).
    """
    cfg = _section(config)
    cuts = _resolve_thresholds(cfg, thresholds)
    out = [prompt(props, label, kind, cfg, thresholds=cuts) for kind in cfg.augment_kinds]
    return [p for p in out if p is not None]


# --------------------------------------------------------------------------------------------------------------
# Quantile thresholds
# --------------------------------------------------------------------------------------------------------------


def _is_missing_label(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _pitch_quantiles(levels: int) -> tuple[float, ...]:
    """The F0 quantiles of the 4-bin kind's generalisation: the level quantiles within each half of the
    distribution, halves split at the median (2 levels: the quartiles)."""
    q = LEVEL_QUANTILES[levels]
    return (*(p / 2 for p in q), 0.5, *(0.5 + p / 2 for p in q))


def _quantiles(table: Any, column: str, q: Sequence[float], origin: str) -> list[float]:
    x = _clean_values(table[column].to_numpy(dtype=object), column)
    x = x[~np.isnan(x)]
    if x.size < _MIN_FIT_VALUES:
        raise ParameterError(f"fit_thresholds ({origin}): {column} has {x.size} usable value(s); quantile cuts "
                             f"need at least {_MIN_FIT_VALUES}")
    return [float(v) for v in np.quantile(x, q)]  # linear interpolation (numpy's default)


def _fit_one(table: Any, origin: str, levels: int = 2, extra: Sequence[str] = ()) -> Thresholds:
    q = LEVEL_QUANTILES[levels]
    cuts: dict[str, Any] = {"pitch": _quantiles(table, PROPERTY_OF_KIND["pitch"], _pitch_quantiles(levels),
                                                origin)}
    for kind in _CUT_FIELD:
        c = _quantiles(table, PROPERTY_OF_KIND[kind], q, origin)
        cuts[kind] = c[0] if levels == 2 else tuple(c)
    extra_cuts = {kind: tuple(_quantiles(table, EXTRA_KINDS[kind]["column"], q, origin)) for kind in extra}
    return Thresholds(pitch_cuts_hz=tuple(cuts["pitch"]), pitch2_cut_hz=cuts["pitch2"],
                      intensity_cut_db=cuts["intensity"], speech_rate_cut_syl_per_s=cuts["speech_rate"],
                      articulation_rate_cut_syl_per_s=cuts["articulation_rate"], origin=origin,
                      n_fit=int(len(table)), levels=levels, extra_cuts=extra_cuts)


def speaker_key(dataset: Any, speaker: Any) -> str:
    """The per-speaker group of a clip: ``"<dataset>/<speaker>"`` (``"<dataset>/*"`` without a speaker)."""
    spk = "*" if _is_missing_label(speaker) or type(speaker).__name__ == "NAType" else str(speaker)
    return f"{'' if _is_missing_label(dataset) else dataset}/{spk}"


def _speaker_keys(table: Any) -> np.ndarray:
    if "speaker" not in table.columns:
        raise ParameterError("per-speaker thresholds need a 'speaker' column (join the manifest)")
    datasets = table["dataset"].tolist() if "dataset" in table.columns else [None] * len(table)
    return np.array([speaker_key(d, s) for d, s in zip(datasets, table["speaker"].tolist())], dtype=object)


def _sexes(table: Any) -> np.ndarray:
    if "sex" not in table.columns:
        raise ParameterError("per-sex and per-speaker thresholds need a 'sex' column (join the manifest)")
    return np.array([s if isinstance(s, str) and s in _SEXES else None for s in table["sex"].tolist()],
                    dtype=object)


def _fit_speakers(table: Any, levels: int, extra: Sequence[str], *,
                  fallback: Mapping[str, Thresholds] | None = None) -> dict[str, Thresholds]:
    """Thresholds per speaker key; a speaker with too few values takes its corpus's cuts (fitted on ``table``
    unless ``fallback`` gives them)."""
    keys = _speaker_keys(table)
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
    sexes = _sexes(table)
    cuts = {}
    for sex in _SEXES:
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
    property; with 3 / 5 levels the cuts are :data:`LEVEL_QUANTILES` (pitch: :func:`_pitch_quantiles`).
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
    cfg = _section(config)
    by = cfg.quantile_scope if by is None else by
    scopes = ("pooled", "per_corpus", "per_speaker", "per_sex")
    if by not in scopes:
        raise ParameterError(f"by = {by!r} must be one of {', '.join(repr(s) for s in scopes)}")
    extra = _extra_kinds(cfg, kinds)
    needed = sorted(set(PROPERTY_OF_KIND.values())) + [EXTRA_KINDS[k]["column"] for k in extra]
    missing = [c for c in needed if c not in features_df.columns]
    if missing:
        hint = " (an EXTRA_KINDS column: set features.voice_quality = true)" if missing[0] not in \
            PROPERTY_OF_KIND.values() else ""
        raise ParameterError(f"features_df lacks column {missing[0]!r}{hint}")
    table = features_df
    if "label" in table.columns:
        table = table[~table["label"].map(_is_missing_label).to_numpy(dtype=bool)]
    if len(table) == 0:
        raise ParameterError("fit_thresholds: no emotion rows to fit on")
    levels = cfg.levels
    if by == "pooled":
        return _fit_one(table, "quantile:pooled", levels, extra)
    if by == "per_speaker":
        return SpeakerThresholds(speakers=_fit_speakers(table, levels, extra))
    if by == "per_sex":
        return _fit_sexes(table, levels, extra)
    if "dataset" not in table.columns:
        raise ParameterError("fit_thresholds(by='per_corpus') needs a 'dataset' column")
    return {str(name): _fit_one(group, f"quantile:{name}", levels, extra)
            for name, group in table.groupby("dataset", sort=True, dropna=False)}


def thresholds_from_dict(data: Mapping[str, Any] | None) -> Any:
    """A checkpoint's ``thresholds`` entry (``to_dict`` form) back to its object; None stays None.

    ``Thresholds.to_dict()`` -> :class:`Thresholds`; corpus -> dict -> dict corpus -> Thresholds;
    ``{"scope": "per_speaker" | "per_sex", ...}`` -> :class:`SpeakerThresholds` / :class:`SexThresholds`.
    """
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ConfigError(f"thresholds must be a mapping, got {type(data).__name__}")
    if "pitch_cuts_hz" in data:
        return Thresholds.from_dict(data)
    scope = data.get("scope")
    if scope == SpeakerThresholds.scope:
        return SpeakerThresholds.from_dict(data)
    if scope == SexThresholds.scope:
        return SexThresholds.from_dict(data)
    return {str(k): Thresholds.from_dict(v) for k, v in data.items()}


def save_thresholds(thresholds: Any, path: str | Path) -> Path:
    """Write fitted (or fixed) thresholds as JSON: pooled, per corpus, per speaker or per sex; returns the path."""
    if isinstance(thresholds, Thresholds):
        data = {"scope": "pooled", "thresholds": thresholds.to_dict()}
    elif isinstance(thresholds, (SpeakerThresholds, SexThresholds)):
        data = thresholds.to_dict()
    elif isinstance(thresholds, Mapping) and all(isinstance(t, Thresholds) for t in thresholds.values()):
        data = {"scope": "per_corpus", "thresholds": {k: t.to_dict() for k, t in thresholds.items()}}
    else:
        raise ParameterError("thresholds must be a Thresholds, a mapping corpus -> Thresholds, a "
                             "SpeakerThresholds or a SexThresholds")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def load_thresholds(path: str | Path) -> Any:
    """Read what :func:`save_thresholds` wrote."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"thresholds file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    scopes = ("pooled", "per_corpus", SpeakerThresholds.scope, SexThresholds.scope)
    if not isinstance(data, dict) or data.get("scope") not in scopes or "thresholds" not in data:
        raise DataError(f"{path}: expected {{'scope': {' | '.join(repr(s) for s in scopes)}, 'thresholds': ...}}")
    if data["scope"] == "pooled":
        return Thresholds.from_dict(data["thresholds"])
    if data["scope"] == "per_corpus":
        return {k: Thresholds.from_dict(v) for k, v in data["thresholds"].items()}
    return thresholds_from_dict(data)


# --------------------------------------------------------------------------------------------------------------
# The prompts table
# --------------------------------------------------------------------------------------------------------------


def _table_prompts(table: Any, words: np.ndarray, cuts: Thresholds, cfg: PromptsConfig,
                   extra: Sequence[str] = (), sexes: np.ndarray | None = None,
                   sex_cuts: Mapping[str, Sequence[float]] | None = None) -> dict[str, np.ndarray]:
    """Prompt columns (object arrays, None where skipped) for rows that all use the same cuts.

    With ``sex_cuts`` (sex -> level cuts of F0), a row whose ``sexes`` entry has cuts is binned by them for
    ``pitch2`` and by (its sex, its level) for ``pitch``; the other rows by ``cuts`` (F0 alone).
    """
    n, levels = len(table), cfg.levels
    phrases: dict[str, np.ndarray] = {}
    out: dict[str, np.ndarray] = {"class_label": np.array([_label_prompt(w, cfg) for w in words], dtype=object)}
    for kind in (*PROPERTY_OF_KIND, *extra):
        column = _column_of(kind)
        values = _clean_values(table[column].to_numpy(dtype=object), column)
        idx = _bin_index(values, cuts.cuts(kind))
        if sex_cuts and kind in ("pitch", "pitch2"):
            for s, sex in enumerate(_SEXES):
                rows = np.flatnonzero(sexes == sex) if sex in sex_cuts else np.array([], dtype=int)
                level = _bin_index(values[rows], sex_cuts[sex]) if rows.size else rows
                idx[rows] = np.where(level < 0, -1, level + (s * levels if kind == "pitch" else 0))
        names = tuple(_BINS[(kind, levels)])
        out[kind] = np.array([_render(kind, None if i < 0 else names[i], w, cfg) for i, w in zip(idx, words)],
                             dtype=object)
        phrases[kind] = np.array([None if i < 0 else _BINS[(kind, levels)][names[i]] for i in idx], dtype=object)
    out["combined"] = np.array([_combine([phrases[k][r] for k in COMBINED_KINDS], words[r], cfg)
                                for r in range(n)], dtype=object)
    return out


def prompts_table(table: Any, config: PromptsConfig | None = None, *, thresholds: Any = None,
                  kinds: Sequence[str] | None = None) -> Any:
    """Every prompt kind for every utterance.

    Parameters
    ----------
    table : DataFrame, n rows
        ``utterance_id``, ``label`` and the property columns (a features table joined with its manifest);
        ``dataset`` too when ``thresholds`` is per corpus; ``speaker`` (and ``dataset``) and ``sex`` for
        per-speaker thresholds, ``sex`` for per-sex ones; the column of every extra kind.
    config : PromptsConfig, Config or None
    thresholds : Thresholds, mapping corpus -> Thresholds, SpeakerThresholds or SexThresholds, optional
        Fitted cuts (see :func:`fit_thresholds`). Without them the config's fixed cuts are used; in quantile mode
        that is an error. A speaker missing from :class:`SpeakerThresholds` is binned by cuts fitted on its own
        clips in ``table``.
    kinds : sequence of :data:`EXTRA_KINDS` names, optional
        Extra prompt columns to add (default: ``prompts.extra_kinds`` and the extra kinds of
        ``prompts.augment_kinds``); their cuts must be in the thresholds.

    Returns
    -------
    DataFrame, n rows, input order
        ``utterance_id, label, class_label, pitch, pitch2, intensity, speech_rate, articulation_rate, combined``,
        then the extra kinds; prompt columns are object dtype with ``None`` where skipped (null in parquet;
        pandas may read it back as NaN). Rows whose label is None (captioned general
        audio) are not emotion rows: all their prompt columns are None (training uses the caption as is) and they
        are not counted as skipped. ``attrs["skipped"]``: kind -> number of emotion rows without that prompt;
        ``attrs["n_emotion_rows"]``; ``attrs["thresholds"]``: the cuts used (``Thresholds.to_dict`` form,
        corpus -> dict, or the scoped ``to_dict`` form with the speakers fitted here included).
    """
    import pandas as pd

    cfg = _section(config)
    extra = _extra_kinds(cfg, kinds)
    needed = ["utterance_id", "label", *sorted(set(PROPERTY_OF_KIND.values()))]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ParameterError(f"table lacks column {missing[0]!r} (needs {needed}; join the manifest for 'label')")
    missing = [EXTRA_KINDS[k]["column"] for k in extra if EXTRA_KINDS[k]["column"] not in table.columns]
    if missing:
        raise ParameterError(f"table lacks column {missing[0]!r}, needed by the extra prompt kinds {list(extra)} "
                             "(measure it with features.voice_quality = true)")
    scoped = isinstance(thresholds, (SpeakerThresholds, SexThresholds))
    per_corpus = not scoped and isinstance(thresholds, Mapping)
    if per_corpus:
        if not all(isinstance(t, Thresholds) for t in thresholds.values()):
            raise ParameterError("thresholds mapping must map corpus -> Thresholds")
        if "dataset" not in table.columns:
            raise ParameterError("per-corpus thresholds need a 'dataset' column in table")
        for t in thresholds.values():
            _check_levels(cfg, t.levels, t.origin)
    elif scoped:
        _check_levels(cfg, thresholds.levels, thresholds.scope)
    else:
        single = _resolve_thresholds(cfg, thresholds)
        used: Any = single.to_dict()

    labels = [None if _is_missing_label(v) else v for v in table["label"].tolist()]
    bad = sorted({v for v in labels if v is not None and (not isinstance(v, str) or v not in EMOTIONS)}, key=str)
    if bad:
        raise ParameterError(f"label {bad[0]!r} is not a canonical emotion (known: {', '.join(EMOTIONS)})")
    is_emotion = np.array([v is not None for v in labels], dtype=bool)
    n = len(table)
    out_kinds = (*KINDS, *extra)
    columns = {kind: np.full(n, None, dtype=object) for kind in out_kinds}
    rows = np.flatnonzero(is_emotion)
    emo = table.iloc[rows]
    if per_corpus:
        used = {k: t.to_dict() for k, t in thresholds.items()}
        datasets = emo["dataset"].astype(object).to_numpy()
        unknown = sorted({str(d) for d in datasets} - set(thresholds))
        if unknown:
            raise ParameterError(f"no thresholds for dataset {unknown[0]!r} (have: {sorted(thresholds)})")
        groups = [(np.flatnonzero(datasets.astype(str) == name), t, None) for name, t in thresholds.items()]
    elif isinstance(thresholds, SpeakerThresholds):
        keys, sexes = _speaker_keys(emo), _sexes(emo)
        speakers = dict(thresholds.speakers)
        unseen = sorted(set(keys) - set(speakers))
        if unseen:  # test speakers: normalised by their own clips (see the module docstring)
            log.info("%d speaker(s) without training cuts are binned by their own clips' quantiles", len(unseen))
            speakers.update(_fit_speakers(emo[np.isin(keys, unseen)], thresholds.levels, thresholds.extra_kinds))
        used = SpeakerThresholds(speakers=speakers).to_dict()
        groups = [(np.flatnonzero(keys == key), speakers[key], {s: speakers[key].cuts("pitch2") for s in _SEXES})
                  for key in sorted(set(keys))]
    elif isinstance(thresholds, SexThresholds):
        sexes = _sexes(emo)
        used = thresholds.to_dict()
        groups = [(np.arange(rows.size), thresholds.pooled, thresholds.pitch_cuts_by_sex_hz)]
    else:
        groups = [(np.arange(rows.size), single, None)]
    if rows.size:
        words = np.array([_word(labels[r], cfg) for r in rows], dtype=object)
        for pos, cuts, sex_cuts in groups:
            if pos.size == 0:
                continue
            part = _table_prompts(emo.iloc[pos], words[pos], cuts, cfg, extra,
                                  sexes=None if sex_cuts is None else sexes[pos], sex_cuts=sex_cuts)
            for kind in out_kinds:
                columns[kind][rows[pos]] = part[kind]
        intensity = _clean_values(emo["intensity_db"].to_numpy(dtype=object), "intensity_db")
        if np.any(~np.isnan(intensity)) and np.nanmax(intensity) <= 0:
            log.warning("every intensity_db is <= 0: this looks like dBFS, but the intensity cuts are on Praat's "
                        "dB scale (re 2e-5); every clip falls in the low-intensity bin")

    out = pd.DataFrame({"utterance_id": table["utterance_id"].astype(object).to_numpy(),
                        "label": np.array(labels, dtype=object)})
    for kind in out_kinds:
        out[kind] = pd.Series(columns[kind], dtype=object)
    out.attrs["skipped"] = {kind: int(sum(columns[kind][r] is None for r in rows)) for kind in out_kinds}
    out.attrs["n_emotion_rows"] = int(rows.size)
    out.attrs["thresholds"] = used
    return out


# --------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------


def _join_manifest(features: Any, manifest: Any) -> Any:
    if "utterance_id" not in manifest.columns:
        raise DataError("manifest lacks column 'utterance_id'")
    if manifest["utterance_id"].duplicated().any():
        dup = manifest["utterance_id"][manifest["utterance_id"].duplicated()].iloc[0]
        raise DataError(f"manifest has duplicate utterance_id {dup!r}")
    extra = [c for c in ("label", "dataset", "split", "sex")
             if c in manifest.columns and c not in features.columns]
    known = set(manifest["utterance_id"])
    absent = [u for u in features["utterance_id"] if u not in known]
    if absent:
        raise DataError(f"{len(absent)} utterance_id(s) of the features table are not in the manifest, e.g. "
                        f"{absent[0]!r}")
    return features.merge(manifest[["utterance_id", *extra]], on="utterance_id", how="left", sort=False)


def cli(argv: list[str]) -> int:
    """``clapemo prompts features.parquet -o prompts.parquet``."""
    import pandas as pd

    from clapemo.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(prog="clapemo prompts",
                                     description="Turn acoustic properties into acoustic prompts (one column per "
                                     "kind). Default cuts are reconstructed literature values.")
    parser.add_argument("features", help="features table (parquet) from 'clapemo features'")
    parser.add_argument("-o", "--output", required=True, help="prompts table to write (parquet)")
    parser.add_argument("--manifest",
                        help="manifest (parquet) to join 'label' (and dataset, split) by utterance_id")
    add_config_arguments(parser)
    parser.add_argument("--thresholds", help="apply cuts saved by --fit (JSON)")
    parser.add_argument("--fit", metavar="JSON", help="fit quantile cuts on the --fit-split rows, save them here, "
                        "and apply them to all rows")
    parser.add_argument("--fit-split", default="train", help="split whose rows --fit uses (default: train)")
    args = parser.parse_args(argv)
    if args.thresholds and args.fit:
        raise ParameterError("give either --thresholds or --fit, not both")

    cfg = config_from_args(args).prompts
    try:
        features = pd.read_parquet(args.features)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read features table {args.features}: {err}") from None
    if args.manifest:
        try:
            manifest = pd.read_parquet(args.manifest)
        except (OSError, ValueError) as err:
            raise DataError(f"cannot read manifest {args.manifest}: {err}") from None
        features = _join_manifest(features, manifest)
    elif "label" not in features.columns:
        raise DataError(f"{args.features} has no 'label' column: pass --manifest manifest.parquet to join labels")

    thresholds = None
    if args.thresholds:
        thresholds = load_thresholds(args.thresholds)
    elif args.fit:
        if "split" not in features.columns:
            raise DataError("--fit needs a 'split' column (pass --manifest)")
        train = features[features["split"] == args.fit_split]
        if len(train) == 0:
            raise DataError(f"--fit: no rows with split == {args.fit_split!r}")
        thresholds = fit_thresholds(train, cfg)
        save_thresholds(thresholds, args.fit)
        print(f"fitted {cfg.quantile_scope} quantile cuts on {len(train)} '{args.fit_split}' rows -> {args.fit}")

    table = prompts_table(features, cfg, thresholds=thresholds)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(args.output, index=False)
    skipped = table.attrs["skipped"]
    print(f"{len(table)} rows ({table.attrs['n_emotion_rows']} emotion rows) -> {args.output}")
    print("skipped prompts (property missing): "
          + ", ".join(f"{k} {v}" for k, v in skipped.items() if k != "class_label"))
    print("cuts: " + json.dumps(table.attrs["thresholds"], sort_keys=True))
    return 0
