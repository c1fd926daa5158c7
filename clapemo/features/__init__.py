"""Acoustic properties per utterance: pitch, intensity, speech rate and articulation rate (paper section 3.2),
and on request voice quality and variability (F0 sd, jitter, shimmer, HNR, pause rate; chapter 6).

:func:`extract` measures one clip and returns an :class:`AcousticProperties`; :func:`extract_table` measures a
manifest (or a list of files, or a folder) in parallel, with an on-disk cache, and returns the features table
of ``CONTRIBUTING.md``. ``clapemo features <dir|manifest> -o features.parquet`` is the command-line front end
(:func:`cli`).

Modules, one concern each:

* :mod:`~clapemo.features.properties`: what is measured (:class:`AcousticProperties`, the table's columns);
* :mod:`~clapemo.features.clip`: one clip, :func:`extract`: the admission rules, the pitch and intensity
  backends (Praat, or pyin and librosa), the analysis rate;
* :mod:`~clapemo.features.syllables`: syllable count, phonation time and pauses, the syllable nuclei of de Jong &
  Wempe's v2 Praat script (the speech and articulation rates), and the syllables of a text (CMUdict, a rule for
  the words it lacks, numbers read out: :func:`text_syllables`), the count of ``features.syllables =
  transcript`` and ``asr``;
* :mod:`~clapemo.features.asr`: what Whisper tiny.en hears in a clip (:func:`transcribe`: greedy, batched,
  cached per clip and model), for ``features.syllables = asr``;
* :mod:`~clapemo.features.accuracy`: how well each method counts against a reference (:func:`syllable_errors`,
  :func:`syllable_accuracy`);
* :mod:`~clapemo.features.contour`: Praat's queries on a contour, answered bitwise from the object's arrays;
* :mod:`~clapemo.features.voice`: the voice-quality measures (``FeaturesConfig.voice_quality``);
* :mod:`~clapemo.features.table`: many clips, :func:`extract_table`: inputs, the per-clip cache, the parallel
  map (:func:`clapemo.executor.map_tasks`);
* :mod:`~clapemo.features.compare`: :func:`compare_backends`, how two backends' tables agree.

Bad input (:class:`~clapemo.errors.DataError` from :func:`extract`, a row with the message in ``error`` from
:func:`extract_table`): missing/empty/corrupt/undecodable/truncated file or one that is not a regular file (a
FIFO is refused before it is opened), empty or non-finite samples; the admission rule the embedding path shares
(:func:`clapemo.audio.admit`, on the clip at its own rate): a sample rate below 8000 Hz
(``audio.MIN_SAMPLE_RATE_HZ``), a clip shorter than ``min_duration_s``, a silent clip (peak below 2e-5, i.e.
below 0 dB on the intensity scale), a constant signal (DC only: every sample within 2e-5 of its mean); and, for
measurement only, a clipped clip (more than ``max_clipped_fraction`` of the samples stuck at the clip's peak value
in runs of 3 or more); in a manifest, an empty path cell or a ``start_s``/``end_s`` that is not a number. A clip
that is audible but has no voiced frame (noise, music, general audio of the captioned "4D" sets) is *not* an
error: its F0 is NaN, its syllable count is 0 and its rates are 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

from clapemo.errors import DataError, ParameterError
from clapemo.features.clip import INTENSITY_MIN_PITCH_HZ, REFERENCE_PA, extract
from clapemo.features.compare import compare_backends
from clapemo.features.properties import (
    EXTRA_FIELDS,
    EXTRA_TABLE_COLUMNS,
    PROPERTY_FIELDS,
    TABLE_COLUMNS,
    AcousticProperties,
)
from clapemo.features.accuracy import ACCURACY_COLUMNS, syllable_accuracy, syllable_errors
from clapemo.features.asr import model_identity, transcribe, transcribe_samples
from clapemo.features.syllables import (
    MIN_SOUNDING_S,
    VOICING_PITCH,
    number_words,
    rule_syllables,
    syllable_nuclei,
    syllables_by_word,
    text_syllables,
)
from clapemo.features.table import ANALYSIS_VERSION, AUDIO_SUFFIXES, extract_table, read_manifest
from clapemo.features.voice import (
    HNR_PERIODS_PER_WINDOW,
    HNR_SILENCE_THRESHOLD,
    HNR_TIME_STEP_S,
    MAX_AMPLITUDE_FACTOR,
    MAX_PERIOD_FACTOR,
    PERIOD_CEILING_S,
    PERIOD_FLOOR_S,
)

__all__ = ["AcousticProperties", "extract", "extract_table", "compare_backends", "TABLE_COLUMNS",
           "PROPERTY_FIELDS", "EXTRA_FIELDS", "EXTRA_TABLE_COLUMNS", "cli",
           "read_manifest", "syllable_nuclei", "AUDIO_SUFFIXES", "ANALYSIS_VERSION", "REFERENCE_PA",
           "INTENSITY_MIN_PITCH_HZ", "MIN_SOUNDING_S", "VOICING_PITCH", "PERIOD_FLOOR_S", "PERIOD_CEILING_S",
           "MAX_PERIOD_FACTOR", "MAX_AMPLITUDE_FACTOR", "HNR_TIME_STEP_S", "HNR_SILENCE_THRESHOLD",
           "HNR_PERIODS_PER_WINDOW", "text_syllables", "syllables_by_word", "rule_syllables", "number_words",
           "transcribe", "transcribe_samples", "model_identity", "syllable_errors", "syllable_accuracy",
           "ACCURACY_COLUMNS"]


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------


def _check_output(out: Path) -> None:
    """Reject an output path that cannot be written, before any clip is measured."""
    if out.suffix not in (".parquet", ".csv"):
        raise ParameterError(f"--output = {str(out)!r} must end in .parquet or .csv")
    if out.is_dir():
        raise ParameterError(f"--output = {str(out)!r} is a folder; give a file name ending in .parquet or .csv")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ParameterError(f"--output = {str(out)!r}: {str(parent)!r} is a file, not a folder")
            if not os.access(parent, os.W_OK):
                raise ParameterError(f"--output = {str(out)!r}: folder {str(parent)!r} is not writable")
            break


def _terminate_on_sigterm() -> Any:
    """Turn SIGTERM into KeyboardInterrupt while the CLI runs, so a killed run ends as an interrupted one: its
    workers stopped, "interrupted" and exit status 130 (the default action ends this process at once; its
    workers then die by their death signal). Returns the previous handler."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return None


def cli(argv: Sequence[str]) -> int:
    """``clapemo features <dir|manifest> -o features.parquet``: measure and save the features table."""
    from clapemo.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(
        prog="clapemo features",
        description="Measure pitch, intensity, speech rate and articulation rate (with --set "
                    "features.voice_quality=true also F0 sd, jitter, shimmer, HNR and pause rate) of every clip "
                    "of a folder or a manifest (.parquet/.csv), with a per-clip cache; failures are recorded in "
                    "'error'. Syllables: --set features.syllables=transcript (the manifest's text) or asr "
                    "(Whisper tiny.en's transcript) instead of the nuclei.")
    parser.add_argument("input", help="folder of audio files, a manifest (.parquet/.csv/.tsv; relative clip "
                                      "paths are taken from its folder), or one audio file")
    parser.add_argument("-o", "--output", required=True, help="output table (.parquet or .csv)")
    add_config_arguments(parser)
    parser.add_argument("-j", "--jobs", type=int, default=-1, help="worker processes (-1: all cores)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the per-clip cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar (so does TQDM_DISABLE=1)")
    args = parser.parse_args(list(argv))

    cfg = config_from_args(args).features
    out = Path(args.output)
    _check_output(out)
    source = Path(args.input)
    if not source.exists():
        raise DataError(f"{source}: input not found (expected a folder, a manifest or an audio file)")
    manifest = read_manifest(source) if source.is_file() else None
    previous = _terminate_on_sigterm()
    try:
        table = extract_table(manifest if manifest is not None else source, config=cfg, n_jobs=args.jobs,
                              use_cache=not args.no_cache, progress=not args.quiet)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        table.to_parquet(out, index=False)
    else:
        table.to_csv(out, index=False)
    n_bad = int(table["error"].notna().sum())
    print(f"{len(table)} clips -> {out} ({n_bad} with errors)", file=sys.stderr)
    for uid, err in table.loc[table["error"].notna(), ["utterance_id", "error"]].head(5).itertuples(index=False):
        print(f"  {uid}: {err}", file=sys.stderr)
    return 0
