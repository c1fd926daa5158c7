"""The facts every stage shares, declared once: table columns, prompt kinds, the four-class merge, the split rule.

Modules import these names instead of spelling the lists again (``clapemo.config``, ``clapemo.corpora``,
``clapemo.prompts``, ``clapemo.train``, ``clapemo.evaluate``, the loaders and the book all agree because they read
the same tuple).

Tables
------
* The **manifest** (one row per utterance, or per audio-caption pair): :data:`MANIFEST_COLUMNS` in that order;
  caption sets add :data:`CAPTION_COLUMN`; extra ground-truth columns may follow.
* The **features** table of ``clapemo.features.extract_table``: ``utterance_id``, ``path``,
  :data:`PROPERTY_COLUMNS`, with ``features.voice_quality`` :data:`EXTRA_PROPERTY_COLUMNS`, with a
  ``features.syllables`` other than ``nuclei`` :data:`SYLLABLES_COLUMN`, ``error``.
* The **prompts** table of ``clapemo.prompts.prompts_table``: ``utterance_id``, ``label``, :data:`PROMPT_KINDS`,
  then the :data:`EXTRA_PROMPT_KINDS` asked for. Each acoustic kind bins one property column
  (:data:`PROPERTY_OF_KIND`, :data:`EXTRA_PROPERTY_OF_KIND`).

Splits
------
:func:`split_values`: a missing ``split`` counts as ``"train"`` (a corpus without a split is all training data).
Values other than :data:`STANDARD_SPLITS` are *folds* (e.g. RAVDESS's speaker-independent folds).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MANIFEST_COLUMNS", "STRING_COLUMNS", "CAPTION_COLUMN", "PROPERTY_COLUMNS", "EXTRA_PROPERTY_COLUMNS",
    "PROMPT_KINDS", "EXTRA_PROMPT_KINDS", "ALL_PROMPT_KINDS", "ACOUSTIC_KINDS", "PAPER_KINDS",
    "PAPER_ACOUSTIC_KINDS", "AUGMENT_KINDS", "COMBINED_KINDS", "AUGMENT_KIND", "TRAIN_PROMPT_KINDS",
    "PROPERTY_OF_KIND", "EXTRA_PROPERTY_OF_KIND", "SYLLABLE_METHODS", "SYLLABLES_COLUMN", "FOUR_CLASSES",
    "FOUR_CLASS_MERGE", "STANDARD_SPLITS", "SEXES",
    "merge_four_class", "split_values",
]

#: the manifest schema, in column order
MANIFEST_COLUMNS: tuple[str, ...] = ("utterance_id", "path", "dataset", "speaker", "sex", "label", "raw_label",
                                     "text", "start_s", "end_s", "split")
#: manifest columns that hold str or None (``start_s``/``end_s`` are float seconds, NaN = whole file)
STRING_COLUMNS: tuple[str, ...] = tuple(c for c in MANIFEST_COLUMNS if c not in ("start_s", "end_s"))
#: the extra column of caption corpora (4D): the caption text; their ``label`` is None
CAPTION_COLUMN = "caption"
#: ``sex`` values (or None)
SEXES: tuple[str, ...] = ("male", "female")

#: the acoustic-property columns of ``clapemo.features.extract_table`` (units in the names)
PROPERTY_COLUMNS: tuple[str, ...] = ("duration_s", "f0_mean_hz", "intensity_db", "speech_rate_syl_per_s",
                                     "articulation_rate_syl_per_s", "n_syllables", "phonation_time_s",
                                     "voiced_fraction")
#: the voice-quality and variability columns ``extract_table`` adds with ``features.voice_quality = true``
#: (chapter 6, "more properties"): F0 standard deviation in semitones, local jitter and shimmer in percent,
#: harmonics-to-noise ratio in dB, pauses (silences >= features.min_pause_s between sounding stretches) per second
#: of the clip's total duration
EXTRA_PROPERTY_COLUMNS: tuple[str, ...] = ("f0_sd_st", "jitter_local_pct", "shimmer_local_pct", "hnr_db",
                                           "pause_rate_per_s")
#: how ``n_syllables`` (hence the speech and articulation rates) is counted, ``features.syllables``: ``nuclei``
#: (the paper's Praat syllable nuclei, the default), ``transcript`` (the manifest's text, CMUdict), ``asr`` (the
#: text Whisper tiny.en hears, CMUdict); the phonation time is the nuclei's silence detection in all three
SYLLABLE_METHODS: tuple[str, ...] = ("nuclei", "transcript", "asr")
#: the column of the features table that names the method that counted (``transcript`` or ``asr``); absent at the
#: default ``nuclei``, so that the default table, its cache entries and every digest built on it are unchanged
SYLLABLES_COLUMN = "syllables_method"

#: the prompt columns of ``clapemo.prompts.prompts_table`` (paper Table 2, plus the 2-bin pitch and the combined
#: prompt the paper mentions). With :data:`EXTRA_PROMPT_KINDS`, the one spelling of the prompt kinds: the lists
#: below, ``clapemo.config``'s defaults and choices and ``clapemo.prompts`` are built from these two
PROMPT_KINDS: tuple[str, ...] = ("class_label", "pitch", "pitch2", "intensity", "speech_rate",
                                 "articulation_rate", "combined")
#: the voice-quality prompt kinds (chapter 6; their words: ``clapemo.prompts.EXTRA_KINDS``), in the order of
#: :data:`EXTRA_PROPERTY_COLUMNS`; ``prompts_table`` adds their columns after :data:`PROMPT_KINDS` when asked
EXTRA_PROMPT_KINDS: tuple[str, ...] = ("pitch_variability", "jitter", "shimmer", "hnr", "pause_rate")
#: every prompt column a prompts table may hold
ALL_PROMPT_KINDS: tuple[str, ...] = (*PROMPT_KINDS, *EXTRA_PROMPT_KINDS)
#: the prompt kinds that describe a measured property
ACOUSTIC_KINDS: tuple[str, ...] = tuple(k for k in PROMPT_KINDS if k != "class_label")
#: the paper's five prompts, class label first: the class label, the 4-bin pitch and the three 2-bin properties
#: (Table 3's EAR queries; the default of ``evaluate.ear_query_kinds``)
PAPER_KINDS: tuple[str, ...] = tuple(k for k in PROMPT_KINDS if k not in ("pitch2", "combined"))
#: prompt augmentation (PA): each clip paired with these prompts, class label first (the paper's five; the default
#: of ``prompts.augment_kinds``)
AUGMENT_KINDS: tuple[str, ...] = PAPER_KINDS
#: the paper's four acoustic prompts (Figure 2's properties): :data:`PAPER_KINDS` without the class label
PAPER_ACOUSTIC_KINDS: tuple[str, ...] = tuple(k for k in PAPER_KINDS if k != "class_label")
#: the properties the ``combined`` prompt lists, in this order
COMBINED_KINDS: tuple[str, ...] = PAPER_ACOUSTIC_KINDS
#: the value of ``train.prompt_kind`` that means prompt augmentation (:data:`AUGMENT_KINDS`)
AUGMENT_KIND = "augment"
#: what ``train.prompt_kind`` may be: one prompt kind, or ``augment`` (PA)
TRAIN_PROMPT_KINDS: tuple[str, ...] = (*PROMPT_KINDS, AUGMENT_KIND)
#: each acoustic kind of :data:`PROMPT_KINDS` but ``combined`` -> the :data:`PROPERTY_COLUMNS` column it bins (the
#: 4-bin ``pitch`` and the 2-bin ``pitch2`` both bin F0)
PROPERTY_OF_KIND: dict[str, str] = {"pitch": "f0_mean_hz", "pitch2": "f0_mean_hz", "intensity": "intensity_db",
                                    "speech_rate": "speech_rate_syl_per_s",
                                    "articulation_rate": "articulation_rate_syl_per_s"}
#: each voice-quality kind of :data:`EXTRA_PROMPT_KINDS` -> the :data:`EXTRA_PROPERTY_COLUMNS` column it bins
EXTRA_PROPERTY_OF_KIND: dict[str, str] = dict(zip(EXTRA_PROMPT_KINDS, EXTRA_PROPERTY_COLUMNS))

#: the standard IEMOCAP 4-class set (the paper's EAR collection), and the merge that makes it
FOUR_CLASSES: tuple[str, ...] = ("happy", "sad", "angry", "neutral")
FOUR_CLASS_MERGE: dict[str, str] = {"excited": "happy"}

STANDARD_SPLITS: frozenset[str] = frozenset({"train", "dev", "test"})


def merge_four_class(labels: Any) -> Any:
    """Map canonical labels onto the 4-class set: ``excited`` -> ``happy``; labels outside the set -> None.

    Parameters
    ----------
    labels : pandas Series of canonical labels (or None)

    Returns
    -------
    Series, same index: the merged label, None where the clip is not one of :data:`FOUR_CLASSES`.
    """
    merged = labels.replace(FOUR_CLASS_MERGE)
    return merged.where(merged.isin(FOUR_CLASSES), None)


def split_values(splits: Any) -> Any:
    """The ``split`` column with the rule applied: a missing value (None/NaN) is ``"train"``."""
    return splits.where(splits.notna(), "train").astype(object)
