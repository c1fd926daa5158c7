"""Voice tables: espeak-ng variants with their measured F0 and sex, the speaker baselines, the PITCH mapping,
and the per-emotion prosody distributions (:data:`EMOTION_PROSODY`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["MALE_VOICES", "FEMALE_VOICES", "BASE_F0_HZ", "BASE_F0_SD_ST", "BASE_RATE_WPM", "ProsodyDist",
           "EMOTION_PROSODY", "espeak_pitch"]

# --------------------------------------------------------------------------------------------------------------
# Voices. F0 (Hz) of each variant at espeak PITCH 50, measured once with Praat on "en-us" (flutter off).
# Sex: the variant file's ``gender`` line; variants without one (Gene, ed, john, ...) are counted male from their
# ``pitch`` line (< 130 Hz) and measured F0 (81-123 Hz).
# --------------------------------------------------------------------------------------------------------------
MALE_VOICES: dict[str, float] = {
    "m1": 92.0, "m2": 99.4, "m3": 103.1, "m4": 92.2, "m5": 100.9, "m6": 99.8, "m7": 104.4, "m8": 84.3,
    "Andy": 94.9, "Lee": 94.8, "Denis": 98.0, "Diogo": 103.8, "Henrique": 107.2, "antonio": 109.0,
    "miguel": 109.4, "sandro": 97.5, "travis": 100.5, "victor": 93.9, "Gene": 93.9, "Gene2": 114.0,
    "Jacky": 110.5, "Mario": 104.4, "Mike": 88.5, "ed": 123.3, "gustave": 104.1, "iven": 98.8, "john": 100.6,
    "pablo": 110.8, "quincy": 83.2, "robert": 95.4, "grandpa": 101.6, "paul": 84.0, "ian": 81.2,
    "kaukovalta": 99.6, "Reed": 115.1, "edward": 100.7,
}
FEMALE_VOICES: dict[str, float] = {
    "f1": 177.6, "f2": 193.0, "f3": 207.8, "f4": 177.9, "f5": 202.5, "Alicia": 246.0, "Andrea": 242.0,
    "Annie": 234.3, "anika": 266.8, "belinda": 227.6, "grandma": 195.5, "linda": 227.2, "steph": 183.0,
}
#: espeak PITCH p moves F0 by about a*(p-50) + b*(p-50)**2 semitones (measured on 67 variants: -7.2 st at 0,
#: +9.0 st at 100); values outside 0..100 are clamped by espeak.
_PITCH_A, _PITCH_B = 0.162, 0.00036
#: speaker baseline F0 (Hz, geometric mean) and the between-speaker sd in semitones
BASE_F0_HZ = {"male": 115.0, "female": 205.0}
BASE_F0_SD_ST = 2.0
#: speaker baseline espeak rate (words/min). espeak's default 175 wpm measured ~5 syl/s articulation rate with the
#: syllable-nuclei method; 145 wpm puts a neutral utterance near 4.3 syl/s, inside the range reported for read
#: English and around the articulation-rate cut (4.0 syl/s) of DESIGN.md, so emotions fall on both sides of it.
BASE_RATE_WPM = 145.0


@dataclass(frozen=True)
class ProsodyDist:
    """Prosody of one emotion relative to the speaker's neutral voice: (mean, sd) of each parameter.

    ``pitch_st``: F0 level shift (semitones); ``range_log2``: pitch-range factor (log2); ``rate_log2``: speaking
    rate factor (log2); ``level_db``: level change (dB); ``pause_prob``: probability of a 250-700 ms pause at each
    word boundary (mean only; scaled by emotional intensity relative to the neutral 0.04).
    """

    pitch_st: tuple[float, float]
    range_log2: tuple[float, float]
    rate_log2: tuple[float, float]
    level_db: tuple[float, float]
    pause_prob: float


#: Per-emotion prosody distributions. Directions: Murray & Arnott (1993) Table 1, Scherer (2003) Table 2,
#: Juslin & Laukka (2003) Table 7 (see the module docstring); magnitudes are our plausible choices.
EMOTION_PROSODY: dict[str, ProsodyDist] = {
    # label           pitch st      range log2    rate log2       level dB     pause p
    "neutral":      ProsodyDist((0.0, 1.5), (0.0, 0.35), (0.0, 0.15), (0.0, 2.5), 0.04),
    "calm":         ProsodyDist((-1.0, 1.5), (-0.4, 0.35), (-0.20, 0.15), (-3.0, 2.5), 0.08),
    "happy":        ProsodyDist((3.0, 2.0), (0.5, 0.40), (0.10, 0.18), (3.0, 3.0), 0.04),
    "excited":      ProsodyDist((4.0, 2.0), (0.6, 0.40), (0.22, 0.18), (5.0, 3.0), 0.03),
    "sad":          ProsodyDist((-1.5, 1.5), (-0.6, 0.35), (-0.28, 0.18), (-4.0, 2.5), 0.14),
    "angry":        ProsodyDist((3.0, 2.0), (0.4, 0.40), (0.12, 0.18), (6.0, 3.0), 0.03),
    "fearful":      ProsodyDist((4.0, 2.0), (-0.1, 0.45), (0.25, 0.20), (1.0, 3.0), 0.10),
    "disgust":      ProsodyDist((-2.0, 1.8), (0.2, 0.40), (-0.35, 0.18), (-2.0, 3.0), 0.10),
    "surprised":    ProsodyDist((4.5, 2.0), (0.7, 0.40), (0.05, 0.20), (3.0, 3.0), 0.05),
    "frustrated":   ProsodyDist((1.5, 1.8), (0.2, 0.40), (0.05, 0.18), (3.0, 3.0), 0.08),
    "disappointed": ProsodyDist((-1.0, 1.5), (-0.4, 0.35), (-0.18, 0.18), (-3.0, 2.5), 0.12),
    "positive":     ProsodyDist((1.5, 2.0), (0.25, 0.40), (0.06, 0.18), (1.5, 3.0), 0.05),
    "negative":     ProsodyDist((-0.5, 2.0), (-0.2, 0.40), (-0.10, 0.18), (-1.0, 3.0), 0.09),
}



def espeak_pitch(shift_st: float) -> float:
    """espeak PITCH (0-100) that moves a variant's F0 by ``shift_st`` semitones (quadratic fit, clamped)."""
    disc = _PITCH_A ** 2 + 4 * _PITCH_B * shift_st
    d = (-_PITCH_A + math.sqrt(max(disc, 0.0))) / (2 * _PITCH_B)
    return float(min(max(50.0 + d, 0.0), 100.0))
