"""One clip: :func:`extract` measures the acoustic properties of an utterance (paper section 3.2) and returns an
:class:`~clapemo.features.properties.AcousticProperties`.

Each clip is analysed with one intensity track (shared by intensity and the syllable nuclei), the F0-mean
pitch track, and the syllable-nuclei voicing track of de Jong & Wempe's script
(:mod:`clapemo.features.syllables`, which gives the syllable count, the phonation time and hence the speech and
articulation rates); with ``voice_quality`` also the measures of :mod:`clapemo.features.voice`.

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
* **Syllables** (``n_syllables``, hence the speech and articulation rates): ``FeaturesConfig.syllables``:
  ``"nuclei"`` (**default**, the paper's Praat method, :func:`~clapemo.features.syllables.syllable_nuclei`),
  ``"transcript"`` (the syllables of the ``text`` said in the clip, CMUdict:
  :func:`~clapemo.features.syllables.text_syllables`) or ``"asr"`` (those of what Whisper tiny.en hears,
  :mod:`clapemo.features.asr`). The phonation time and the pauses are the nuclei's silence detection in all three.
* **Intensity** (``intensity_db``): two backends, chosen by ``FeaturesConfig.intensity_backend``, both on
  **Praat's dB re 2e-5** scale (sample values are taken as pascals, so ``intensity_db = 10 log10(mean(x**2) /
  4e-10)`` for a stationary signal; a full-scale sine is about 91 dB, a sine of RMS 0.02 is 60 dB, speech at a
  typical recording level 55-80 dB), so the reconstructed 60 dB prompt cut means the same whichever is used:

  - ``"praat"`` (**default**): the syllable-nuclei intensity track (``To Intensity: 50, 0, "yes"``, minimum
    pitch raised to ``6.4 / duration`` for clips shorter than Praat's window), energy-averaged over its frames.
  - ``"librosa"``: ``librosa.feature.rms`` (frame 2048, hop 512), energy-averaged, in dB re 2e-5 (the paper's
    route). librosa's dBFS (<= 0 dB) is *not* used: the 60 dB cut only makes sense on Praat's scale.

  :func:`~clapemo.features.compare.compare_backends` reports how two backends' tables agree (correlation, mean
  difference, same bin).

The DC offset (the clip's mean) is removed before any measurement. Sample rates: any rate from 8000 Hz up is
accepted (``audio.MIN_SAMPLE_RATE_HZ``, the admission rule). Clips above ``analysis_rate_hz`` are downsampled to
it (soxr) before analysis (speech properties live well below 8 kHz; this bounds the cost per second of audio);
lower rates are analysed as they are, provided the Nyquist frequency is above ``f0_max_hz`` and the voicing
ceiling (450 Hz).

Bad input (the package docstring lists every rule) raises a :class:`~clapemo.errors.DataError` naming the file
or ``audio``. A clip that is audible but has no voiced frame is *not* an error: its F0 is NaN, its syllable count
is 0 and its rates are 0.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from clapemo.audio import admit, as_mono, load, resample
from clapemo.config import Config, FeaturesConfig, section
from clapemo.errors import DataError, ParameterError
from clapemo.features.asr import transcribe_samples
from clapemo.features.properties import AcousticProperties
from clapemo.features.syllables import VOICING_PITCH, syllable_nuclei, text_syllables
from clapemo.features.voice import voice_quality

__all__ = ["extract", "REFERENCE_PA", "INTENSITY_MIN_PITCH_HZ"]

#: Praat's intensity reference: sample values are read as pascals, 0 dB = 2e-5 Pa.
REFERENCE_PA = 2e-5
#: Minimum pitch of the intensity track (de Jong & Wempe v2: ``To Intensity: 50, 0, "yes"``).
INTENSITY_MIN_PITCH_HZ = 50.0


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


def _analyse(x: np.ndarray, rate_hz: int, cfg: FeaturesConfig, name: str, text: str | None) -> AcousticProperties:
    """All properties of a validated mono signal (float32, shape (n_samples,)); ``text``: :func:`extract`'s."""
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
        return _measure_sound(x, rate_hz, cfg, name, sound, duration, text)
    except parselmouth.PraatError as err:
        message = " ".join(str(err).split())
        raise DataError(f"{name}: Praat cannot analyse this clip of {duration:.3f} s ({message})") from None


def _measure_sound(x: np.ndarray, rate_hz: int, cfg: FeaturesConfig, name: str, sound: Any,
                   duration: float, text: str | None) -> AcousticProperties:
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

    n_syll, phonation, n_pauses = syllable_nuclei(sound, intensity=intensity, config=cfg)
    if cfg.syllables != "nuclei":  # the count of the words said; the phonation time stays the nuclei's
        n_syll = text_syllables(text if text is not None else transcribe_samples([x], sample_rate_hz=rate_hz)[0])
    extra = (voice_quality(sound, f0_hz=f0, n_pauses=n_pauses, duration_s=duration, config=cfg)
             if cfg.voice_quality else {})
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
            end_s: float | None = None, text: str | None = None) -> AcousticProperties:
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
    text : str, optional
        What is said in the clip, whose syllables are the count when ``config.syllables`` is ``"transcript"``
        (required there) or ``"asr"`` (the recogniser's text: :func:`~clapemo.features.extract_table` passes
        its batched, cached transcripts; None = transcribe the clip here,
        :func:`clapemo.features.asr.transcribe_samples`). Not used by ``"nuclei"``.

    Returns
    -------
    AcousticProperties
        With ``config.voice_quality`` also its voice-quality fields (else they are None).

    Raises
    ------
    DataError
        Bad audio (the rules: :mod:`clapemo.features`); the message names the file or ``audio``.
    ParameterError
        Missing ``sample_rate_hz`` for an array, a segment given with an array, or no ``text`` (or one that is
        not a str) with ``config.syllables = "transcript"``.
    """
    cfg = section(config, FeaturesConfig)
    if cfg.syllables == "transcript" and not isinstance(text, str):
        raise ParameterError(f"text = {text!r}: features.syllables = 'transcript' counts the syllables of the "
                             "text said in the clip; pass it as text=..., or use syllables = 'asr' (speech "
                             "recognition) or 'nuclei'")
    if isinstance(audio, (str, os.PathLike)):
        x, rate = load(audio, sample_rate_hz=sample_rate_hz, start_s=start_s, end_s=end_s)
        return _analyse(x, rate, cfg, str(audio), text)
    if start_s is not None or end_s is not None:
        raise ParameterError("start_s / end_s apply to a file path; slice the array instead")
    if sample_rate_hz is None:
        raise ParameterError("sample_rate_hz is required when audio is an array (the rate of its samples, Hz)")
    if (isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer))
            or sample_rate_hz <= 0):
        raise ParameterError(f"sample_rate_hz = {sample_rate_hz!r} must be a positive integer (Hz)")
    x = as_mono(audio, name="audio")
    return _analyse(x, int(sample_rate_hz), cfg, "audio", text)
