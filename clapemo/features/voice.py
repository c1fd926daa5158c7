"""Voice quality and variability (chapter 6; ``FeaturesConfig.voice_quality = true``): the five
:data:`~clapemo.features.properties.EXTRA_FIELDS` (``clapemo.schema.EXTRA_PROPERTY_COLUMNS``), through Praat's
commands (:func:`voice_quality`). Off by default, when none of this is measured and the table and cache are as
before.

* ``f0_sd_st``: sample standard deviation (n - 1) of F0 in semitones over the voiced frames of the *same*
  pitch track as ``f0_mean_hz`` (either backend); Praat's ``Pitch: Get standard deviation: 0, 0,
  "semitones"`` gives the same number on the praat track. The reference (1 Hz, or the clip's mean) does not
  matter: a standard deviation ignores a constant shift of the values.
* ``jitter_local_pct`` / ``shimmer_local_pct``: ``Sound: To PointProcess (periodic, cc): f0_min_hz,
  f0_max_hz``, then ``PointProcess: Get jitter (local): 0, 0, 0.0001, 0.02, 1.3`` and ``Sound & PointProcess:
  Get shimmer (local): 0, 0, 0.0001, 0.02, 1.3, 1.6`` (Praat's standard arguments), times 100.
* ``hnr_db``: ``Sound: To Harmonicity (cc): 0.01, f0_min_hz, 0.1, 1.0`` and ``Harmonicity: Get mean: 0, 0``
  (Praat leaves out the -200 dB frames of silence).
* ``pause_rate_per_s``: pauses per second of the clip's total duration; the pauses are the silences of at
  least ``min_pause_s`` *between* sounding stretches of the syllable-nuclei silence detection (the v2 script's
  ``npause = nsounding - 1``: leading and trailing silence is no pause; :mod:`clapemo.features.syllables`).

A clip without a voiced frame on the F0 track gets NaN for the four voice measures (as for ``f0_mean_hz``);
so does a measure Praat leaves undefined (too few periods, a clip too short for a window) or cannot compute.
The pause rate is defined for every measurable clip. Cost (measured, one process on the 2-core shared machine,
20 speech-like 3 s clips at 16 kHz as in ``benchmarks/bench_features.py``, best of 3): 20 ms of CPU per clip
without, 204 ms with the switch (10x); 175 ms of it is ``To Harmonicity (cc)``, whose periodicity search runs
up to the Nyquist frequency, 10 ms the point process.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from clapemo.config import FeaturesConfig

__all__ = ["voice_quality", "PERIOD_FLOOR_S", "PERIOD_CEILING_S", "MAX_PERIOD_FACTOR", "MAX_AMPLITUDE_FACTOR",
           "HNR_TIME_STEP_S", "HNR_SILENCE_THRESHOLD", "HNR_PERIODS_PER_WINDOW"]

#: Praat's standard jitter/shimmer arguments: shortest and longest period (s), maximum period factor, maximum
#: amplitude factor (``Get jitter (local): 0, 0, 0.0001, 0.02, 1.3``; shimmer adds 1.6).
PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR, MAX_AMPLITUDE_FACTOR = 0.0001, 0.02, 1.3, 1.6
#: ``To Harmonicity (cc)`` settings besides the minimum pitch (= ``f0_min_hz``): time step (s), silence
#: threshold, periods per window.
HNR_TIME_STEP_S, HNR_SILENCE_THRESHOLD, HNR_PERIODS_PER_WINDOW = 0.01, 0.1, 1.0


def _praat_number(command: Callable[[], Any]) -> float:
    """A Praat query's value, NaN where Praat leaves it undefined or cannot compute it (too few periods, a clip
    shorter than the analysis window): a missing property, not a bad clip."""
    import parselmouth

    try:
        value = float(command())
    except parselmouth.PraatError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def voice_quality(sound: Any, *, f0_hz: np.ndarray, n_pauses: int, duration_s: float,
                  config: FeaturesConfig) -> dict[str, float]:
    """The voice-quality fields of one clip (module docstring).

    Parameters
    ----------
    sound : parselmouth.Sound
        The clip (DC removed, at the analysis rate).
    f0_hz : np.ndarray, shape (n_frames,)
        The F0-mean track, Hz, NaN where unvoiced.
    n_pauses : int
        Pauses of the syllable-nuclei silence detection.
    duration_s : float
        The clip's duration, seconds.
    config : FeaturesConfig
        ``f0_min_hz`` and ``f0_max_hz`` are used.

    Returns
    -------
    dict
        ``f0_sd_st``, ``jitter_local_pct``, ``shimmer_local_pct``, ``hnr_db``, ``pause_rate_per_s`` (floats).
    """
    import parselmouth
    from parselmouth.praat import call

    pause_rate = n_pauses / duration_s
    voiced = f0_hz[np.isfinite(f0_hz)]
    if voiced.size == 0:
        return dict(f0_sd_st=math.nan, jitter_local_pct=math.nan, shimmer_local_pct=math.nan, hnr_db=math.nan,
                    pause_rate_per_s=pause_rate)
    # semitones re 1 Hz; n - 1 as Praat's "Get standard deviation" (the reference cancels out of the sd)
    f0_sd = float(np.std(12.0 * np.log2(voiced), ddof=1)) if voiced.size >= 2 else math.nan
    try:
        periods = call(sound, "To PointProcess (periodic, cc)", config.f0_min_hz, config.f0_max_hz)
    except parselmouth.PraatError:
        periods = None
    jitter = shimmer = math.nan
    if periods is not None:
        jitter = _praat_number(lambda: call(periods, "Get jitter (local)", 0, 0, PERIOD_FLOOR_S, PERIOD_CEILING_S,
                                            MAX_PERIOD_FACTOR))
        shimmer = _praat_number(lambda: call([sound, periods], "Get shimmer (local)", 0, 0, PERIOD_FLOOR_S,
                                             PERIOD_CEILING_S, MAX_PERIOD_FACTOR, MAX_AMPLITUDE_FACTOR))
    # "Get mean" of a Harmonicity averages the frames above -200 dB (Praat's code for silent frames)
    hnr = _praat_number(lambda: call(sound.to_harmonicity_cc(
        time_step=HNR_TIME_STEP_S, minimum_pitch=config.f0_min_hz, silence_threshold=HNR_SILENCE_THRESHOLD,
        periods_per_window=HNR_PERIODS_PER_WINDOW), "Get mean", 0, 0))
    return dict(f0_sd_st=f0_sd, jitter_local_pct=100.0 * jitter, shimmer_local_pct=100.0 * shimmer, hnr_db=hnr,
                pause_rate_per_s=pause_rate)
