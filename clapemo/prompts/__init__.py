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

Modules
-------
:mod:`~clapemo.prompts.kinds` (prompts as data: templates, level words, voice-quality phrases, bin phrases),
:mod:`~clapemo.prompts.thresholds` (:class:`Thresholds` and its scoped forms, saved as JSON),
:mod:`~clapemo.prompts.render` (the prompts of one utterance), :mod:`~clapemo.prompts.fit` (quantile cuts
fitted on training data), :mod:`~clapemo.prompts.table` (the prompts table); this package re-exports their
public names and holds the ``clapemo prompts`` command (:func:`cli`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from clapemo.config import add_config_arguments, config_from_args
from clapemo.errors import DataError, ParameterError
from clapemo.prompts.fit import fit_thresholds, speaker_key
from clapemo.prompts.kinds import (
    AUGMENT_KINDS,
    COMBINED_KINDS,
    COMBINED_SEPARATOR,
    COMBINED_TEMPLATE,
    EXTRA_KINDS,
    KINDS,
    LEVEL_QUANTILES,
    LEVEL_WORDS,
    PROPERTY_OF_KIND,
    SENTENCE_LABEL_TEMPLATE,
    SENTENCE_TEMPLATE,
    SENTENCE_WORDS,
    TEMPLATES,
    bin_phrases,
    validate_templates,
)
from clapemo.prompts.render import augment, bin_name, emotion_word, prompt, sentence_word
from clapemo.prompts.table import prompts_table, table_kinds
from clapemo.prompts.thresholds import (
    SexThresholds,
    SpeakerThresholds,
    Thresholds,
    load_thresholds,
    save_thresholds,
    thresholds_from_dict,
)

__all__ = [
    "KINDS",
    "AUGMENT_KINDS",
    "TEMPLATES",
    "COMBINED_TEMPLATE",
    "COMBINED_SEPARATOR",
    "COMBINED_KINDS",
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
