"""The embedded default data: a synthetic emotional-speech benchmark rendered with espeak-ng.

No real emotion corpus can be downloaded where this project is built, so :func:`generate` renders six synthetic
twins of the paper's emotion corpora (Table 1 label sets) and a captioned general-audio stand-in for "4D":

============== ========================================= ======= ==================================================
corpus         labels (``clapemo.emotions.CORPUS_LABELS``) rate    recording character (gain / noise / room)
============== ========================================= ======= ==================================================
synth-mosei    mosei (9)                                  44.1 kHz webcam: small room, fan noise, 7 kHz low-pass
synth-iemocap  iemocap (9)                                16 kHz  studio stage, head-worn mic, mild reverb
synth-meld     meld (7)                                   32 kHz  TV soundtrack: louder, room tone + hum, reverb
synth-cremad   cremad (6)                                 16 kHz  booth, close mic, low noise
synth-ravdess  ravdess (8, with calm)                     48 kHz  studio, very clean, long lead/trail silence
synth-mosi     mosi (neutral / positive / negative)       22.05 kHz webcam, brown noise, 6 kHz low-pass
synth-4d       none; natural-language captions           44.1 kHz synthetic sound events + neutral speech
============== ========================================= ======= ==================================================

How a clip is made
------------------
* **Speaker** = an espeak-ng voice variant (``m1``..``m8``, ``f1``..``f5`` and named variants; sex known from the
  variant) in an English dialect (``en-us``, ``en-029``, ``en-gb-scotland`` ...) plus a per-speaker baseline
  F0 (male log-normal around 115 Hz, female around 205 Hz, sd 2 semitones), rate, pitch range and gain. A voice
  identity (dialect, variant) is given to one corpus only while unused identities remain.
* **Emotion** = a *distribution* of prosody relative to the speaker's neutral baseline (:data:`EMOTION_PROSODY`):
  pitch level (semitones), pitch range (log2 factor), speaking rate (log2 factor), level (dB), probability of a
  pause at each word boundary. Directions follow the vocal-affect literature: Murray & Arnott (1993, JASA 93(2),
  Table 1: anger/happiness/fear raise pitch and widen range, sadness and disgust lower pitch and slow down, fear
  speeds up, disgust is much slower), Scherer (2003, Speech Communication 40, Table 2: high-arousal emotions raise
  F0 mean, F0 variability, intensity and rate; sadness and boredom/calm lower them), Juslin & Laukka (2003,
  Psychological Bulletin 129(5), Table 7: anger and happiness fast/loud/high/variable, sadness and tenderness slow/
  soft/low/flat, fear fast and high with less variability). Sizes are our own plausible choices, and the spreads are
  deliberately wide (plus speaker baselines and emotional intensity), so no single property identifies an emotion.
  Each clip draws its parameters with ``np.random.default_rng`` seeded from (seed, corpus, clip id), so the result
  does not depend on the order or process in which clips are rendered.
* **Rendering**: espeak-ng (library and voice data from the ``espeakng-loader`` wheel, through ctypes) at
  22.05 kHz with RATE/PITCH/RANGE set per clip and SSML ``<break>`` pauses; then a vocal-effort spectral tilt,
  lead/trail silence, resampling to the corpus rate, level normalisation of the active speech to the intended level
  on Praat's scale (dB re 2e-5, samples as pascals), a corpus-specific room (exponentially decaying noise impulse
  response), channel low-pass, background noise, a soft limiter and 16-bit PCM.
* **Determinism**: espeak-ng keeps state between calls (its pitch *flutter* index, echo buffer and the random
  generator of roughness/breath), so this module runs it on a private copy of the voice-variant files with
  ``flutter 0``, ``echo 0 0`` and ``roughness 0`` (our own room replaces the echo) and reseeds espeak's generator
  before each clip. Same seed and config give byte-identical WAVs and manifests.

Layout: ``<root>/<profile>/<corpus>/manifest.csv`` (paths relative to the corpus folder) and the WAVs (RAVDESS and
CREMA-D twins use their real corpora's file naming); a ``.complete`` marker is written last. espeak-ng is
GPL-3.0-or-later; so is this project.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.config import SynthConfig
from clapemo.emotions import CORPUS_LABELS
from clapemo.errors import DataError, ParameterError

__all__ = [
    "CORPORA", "SPEECH_CORPORA", "EMOTION_PROSODY", "PROFILES", "MALE_VOICES", "FEMALE_VOICES",
    "ProsodyDist", "generate", "load", "render", "count_syllables", "cli",
]

GENERATOR_VERSION = 1
ESPEAK_RATE_HZ = 22050
MARKER = ".complete"
MANIFEST = "manifest.csv"

SPEECH_CORPORA: tuple[str, ...] = (
    "synth-mosei", "synth-iemocap", "synth-meld", "synth-cremad", "synth-ravdess", "synth-mosi")
CORPORA: tuple[str, ...] = SPEECH_CORPORA + ("synth-4d",)

#: order in which corpora pick voice identities (the most constrained first); fixed, so plans never depend on
#: which corpora are generated
VOICE_ORDER: tuple[str, ...] = ("synth-ravdess", "synth-iemocap", "synth-cremad", "synth-meld", "synth-mosi",
                                "synth-mosei", "synth-4d")

SCHEMA = ["utterance_id", "path", "dataset", "speaker", "sex", "label", "raw_label", "text", "start_s", "end_s",
          "split"]

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


# --------------------------------------------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusSpec:
    """How one synthetic corpus is recorded (all levels on Praat's scale, dB re 2e-5)."""

    sample_rate_hz: int
    dialects: tuple[str, ...]
    level_db: float            # active-speech level of a neutral utterance of an average speaker
    speaker_level_sd_db: float
    noise_db: float            # background noise level
    noise_color: str           # white | pink | brown
    hum_hz: float              # 0 = no mains hum
    rt60_s: tuple[float, float]
    wet: float                 # reverberant / direct gain
    lowpass_hz: float          # 0 = none
    lead_s: tuple[float, float]
    trail_s: tuple[float, float]
    label_weights: dict[str, float]
    test_fraction: float = 0.2


CORPUS_SPECS: dict[str, CorpusSpec] = {
    "synth-mosei": CorpusSpec(44100, ("en", "en-029", "en-gb-scotland", "en-gb-x-gbclan", "en-us-nyc"), 61.0, 3.0, 30.0,
                              "pink", 0.0, (0.25, 0.45), 0.20, 7000.0, (0.05, 0.40), (0.05, 0.40),
                              {"happy": .22, "sad": .12, "angry": .10, "neutral": .16, "surprised": .06,
                               "disgust": .07, "fearful": .05, "excited": .11, "frustrated": .11}),
    "synth-iemocap": CorpusSpec(16000, ("en-us", "en-us-nyc"), 60.0, 2.5, 26.0, "pink", 0.0, (0.30, 0.50), 0.12, 0.0,
                                (0.10, 0.30), (0.10, 0.30),
                                {"neutral": .20, "frustrated": .17, "excited": .12, "happy": .10, "sad": .14,
                                 "angry": .14, "surprised": .04, "fearful": .04, "disappointed": .05}),
    "synth-meld": CorpusSpec(32000, ("en-us-nyc", "en-us", "en-029"), 64.0, 3.0, 36.0, "brown", 60.0, (0.40, 0.70), 0.25,
                             0.0, (0.00, 0.20), (0.00, 0.20),
                             {"neutral": .36, "happy": .18, "surprised": .13, "angry": .11, "sad": .08,
                              "fearful": .07, "disgust": .07}),
    "synth-cremad": CorpusSpec(16000, ("en-us", "en-029", "en-us-nyc"), 61.0, 2.5, 24.0, "white", 0.0,
                               (0.15, 0.25), 0.08, 0.0, (0.20, 0.50), (0.20, 0.50),
                               {lab: 1.0 for lab in CORPUS_LABELS["cremad"]}),
    "synth-ravdess": CorpusSpec(48000, ("en-us",), 62.0, 2.0, 18.0, "white", 0.0, (0.10, 0.20), 0.05, 0.0,
                                (0.50, 1.00), (0.40, 0.90), {lab: 1.0 for lab in CORPUS_LABELS["ravdess"]}),
    "synth-mosi": CorpusSpec(22050, ("en-us", "en"), 62.0, 3.0, 32.0, "brown", 50.0, (0.25, 0.50), 0.18, 6000.0,
                             (0.05, 0.30), (0.05, 0.30), {"positive": .45, "negative": .40, "neutral": .15}),
    "synth-4d": CorpusSpec(44100, ("en", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd"), 60.0, 3.0, 28.0,
                           "pink", 0.0, (0.20, 0.80), 0.20, 0.0, (0.10, 0.50), (0.10, 0.50), {}, 0.1),
}

#: clips (or RAVDESS actors x repetitions), speakers per corpus, per profile
PROFILES: dict[str, dict[str, dict[str, int]]] = {
    "tiny": {"synth-mosei": {"clips": 12, "speakers": 4}, "synth-iemocap": {"clips": 12, "speakers": 4},
             "synth-meld": {"clips": 10, "speakers": 4}, "synth-cremad": {"clips": 8, "speakers": 4},
             "synth-ravdess": {"actors": 2, "repetitions": 1, "full": 0}, "synth-mosi": {"clips": 8, "speakers": 4},
             "synth-4d": {"clips": 12, "speakers": 4}},
    "default": {"synth-mosei": {"clips": 700, "speakers": 60}, "synth-iemocap": {"clips": 600, "speakers": 10},
                "synth-meld": {"clips": 550, "speakers": 12}, "synth-cremad": {"clips": 500, "speakers": 40},
                "synth-ravdess": {"actors": 24, "repetitions": 1, "full": 1},
                "synth-mosi": {"clips": 320, "speakers": 30}, "synth-4d": {"clips": 640, "speakers": 24}},
    "large": {"synth-mosei": {"clips": 3500, "speakers": 200}, "synth-iemocap": {"clips": 3000, "speakers": 20},
              "synth-meld": {"clips": 2750, "speakers": 30}, "synth-cremad": {"clips": 2500, "speakers": 91},
              "synth-ravdess": {"actors": 24, "repetitions": 2, "full": 1},
              "synth-mosi": {"clips": 1600, "speakers": 89}, "synth-4d": {"clips": 3200, "speakers": 60}},
}

# Raw label codes in each real corpus's own vocabulary (canonical -> raw).
RAW_LABELS: dict[str, dict[str, str]] = {
    "synth-ravdess": {"neutral": "01", "calm": "02", "happy": "03", "sad": "04", "angry": "05", "fearful": "06",
                      "disgust": "07", "surprised": "08"},
    "synth-cremad": {"angry": "ANG", "disgust": "DIS", "fearful": "FEA", "happy": "HAP", "neutral": "NEU",
                     "sad": "SAD"},
    "synth-iemocap": {"neutral": "neu", "happy": "hap", "excited": "exc", "sad": "sad", "angry": "ang",
                      "frustrated": "fru", "fearful": "fea", "surprised": "sur", "disappointed": "disappointed"},
    "synth-meld": {"neutral": "neutral", "happy": "joy", "sad": "sadness", "angry": "anger",
                   "surprised": "surprise", "fearful": "fear", "disgust": "disgust"},
}

# Sentences: each corpus has its own, and the text never depends on the label (no lexical route to the emotion).
_RAVDESS_STATEMENTS = ("Boats are drifting near the pier.", "Cats are sleeping near the pier.")
_CREMAD_SENTENCES = {
    "BUS": "The bus leaves at half past nine.", "WIN": "I left the window open this morning.",
    "PAP": "The papers are on the kitchen table.", "TRN": "We are taking the train on Sunday.",
    "BOX": "There is a box beside the front door.", "RAN": "It rained for most of the week.",
    "KEY": "I cannot remember where I put the keys.", "SHP": "The shop closes early on Mondays.",
    "CUP": "She poured another cup of tea.", "LST": "That is the last one on the list.",
    "BRG": "They are building a new bridge downtown.", "PHN": "My phone is in the other room.",
}
_CONVERSATION = {
    "synth-iemocap": (("I", "you", "we", "they", "my brother", "your mother", "the neighbours"),
                      ("told me about", "were talking about", "forgot about", "asked about", "kept the",
                       "found out about", "brought up"),
                      ("the wedding", "the letter", "the car", "the job in Boston", "the house", "the phone call",
                       "the old photographs", "the train tickets"),
                      ("last night", "this morning", "after dinner", "at the station", "on the way home",
                       "before the weekend", "yesterday")),
    "synth-meld": (("Okay so", "Listen,", "Hey,", "Wait,", "You know what,", "Alright,", "So"),
                   ("he moved", "she left", "I put", "we ordered", "they painted", "you borrowed", "he took"),
                   ("the couch", "the coffee", "my sweater", "the big chair", "the apartment keys", "the pizza",
                    "her guitar", "the blue lamp"),
                   ("across the hall", "into the kitchen", "at the coffee house", "before the party",
                    "this afternoon", "on Thursday", "downstairs")),
    "synth-mosei": (("In this video", "Today", "So basically", "For this review", "On my channel", "Honestly",
                     "First of all"),
                    ("I am going to talk about", "we will look at", "I tested", "I compared", "I want to explain",
                     "we go through", "I tried out"),
                    ("the new camera", "this recipe", "the election results", "a travel backpack",
                     "the phone update", "my morning routine", "this software", "the city budget"),
                    ("in some detail", "step by step", "for a few weeks", "over the summer", "from start to finish",
                     "in two parts", "at home")),
    "synth-mosi": (("The movie", "This film", "The story", "The second half", "The main actor", "The script",
                    "The ending"),
                   ("was about", "talked about", "showed", "followed", "focused on", "was set around",
                    "described"),
                   ("a family in a small town", "two brothers", "a long road trip", "a detective",
                    "a group of students", "an old farmhouse", "a soldier coming home"),
                   ("in the nineteen fifties", "for two hours", "from the beginning", "most of the time",
                    "in the last scene", "during the winter", "after the war")),
    "synth-4d": (("A person", "Someone", "The speaker", "A voice"),
                 ("reads out", "describes", "mentions", "explains"),
                 ("the train timetable", "a cooking recipe", "the weather forecast", "a shopping list",
                  "the museum hours", "the directions"),
                 ("slowly", "in a quiet room", "to the listener", "once again")),
}

_MELD_NAMES = ("Rory", "Dana", "Milo", "Tess", "Owen", "Priya", "Gus", "Nell", "Theo", "Ivy", "Cal", "June", "Ray",
               "Lena", "Sol", "Maud", "Abe", "Kit", "Ned", "Zoe", "Hal", "Bea", "Lou", "Fay", "Roy", "Ada", "Vic",
               "Eve", "Sam", "Joy")


# --------------------------------------------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------------------------------------------
def count_syllables(text: str) -> int:
    """Syllables of an English text by a vowel-group rule (silent final e, -ed/-es endings); for ground truth.

    >>> count_syllables("Boats are drifting near the pier.")
    7
    """
    total = 0
    for word in re.findall(r"[a-z']+", text.lower()):
        w = word.replace("'", "")
        n = len(re.findall(r"[aeiouy]+", w))
        if n > 1 and w.endswith("e") and not w.endswith(("le", "ee", "ye", "ie")):
            n -= 1
        if n > 1 and w.endswith("ed") and not w.endswith(("ted", "ded")):
            n -= 1
        if n > 1 and w.endswith("es") and not re.search(r"(s|x|z|ch|sh|ge|ce)es$", w):
            n -= 1
        total += max(n, 1)
    return total


def _seed(*parts: Any) -> int:
    """A 64-bit seed from any parts (stable across processes and Python versions)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _rng(*parts: Any) -> np.random.Generator:
    return np.random.default_rng(_seed(*parts))


def _espeak_pitch(shift_st: float) -> float:
    """espeak PITCH (0-100) that moves a variant's F0 by ``shift_st`` semitones (quadratic fit, clamped)."""
    disc = _PITCH_A ** 2 + 4 * _PITCH_B * shift_st
    d = (-_PITCH_A + math.sqrt(max(disc, 0.0))) / (2 * _PITCH_B)
    return float(min(max(50.0 + d, 0.0), 100.0))


# --------------------------------------------------------------------------------------------------------------
# espeak-ng through ctypes (one engine per process)
# --------------------------------------------------------------------------------------------------------------
def _private_espeak_home(data: Path) -> Path:
    """A shared, reusable copy of espeak-ng's data folder with state-free voice variants (built once, atomically).

    Everything but ``voices/!v`` is a symlink to the wheel's data; each variant gets ``flutter 0``, ``echo 0 0``
    and ``roughness 0`` appended. Lives in ``$XDG_CACHE_HOME/clapemo`` (default ``~/.cache/clapemo``), keyed by
    the data folder and this module's generator version, so worker processes reuse it and nothing is left behind.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clapemo"
    home = cache / f"espeak-ng-{hashlib.sha256(f'{data.resolve()}|{GENERATOR_VERSION}'.encode()).hexdigest()[:12]}"
    if (home / "espeak-ng-data" / "voices" / "!v").is_dir():
        return home
    cache.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
    mirror = build / "espeak-ng-data"
    (mirror / "voices" / "!v").mkdir(parents=True)
    for item in data.iterdir():
        if item.name != "voices":
            os.symlink(item.resolve(), mirror / item.name)
    for item in (data / "voices").iterdir():
        if item.name != "!v":
            os.symlink(item.resolve(), mirror / "voices" / item.name)
    for variant in (data / "voices" / "!v").iterdir():
        text = variant.read_text(encoding="utf-8", errors="replace")
        # state-free rendering: no pitch flutter, no built-in echo, no random roughness
        (mirror / "voices" / "!v" / variant.name).write_text(text + "\nflutter 0\necho 0 0\nroughness 0\n",
                                                             encoding="utf-8")
    try:
        os.rename(build, home)
    except OSError:  # another process finished first: use theirs
        shutil.rmtree(build, ignore_errors=True)
    return home


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """espeak-ng in synchronous mode on a private, deterministic copy of the voice variants."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise DataError("clapemo.synth needs the 'espeakng-loader' wheel: pip install espeakng-loader") from err
        data = Path(espeakng_loader.get_data_path())
        self._home = _private_espeak_home(data)
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        rate = lib.espeak_Initialize(2, 0, str(self._home).encode(), 0x8000)  # 2 = synchronous; don't exit()
        if rate != ESPEAK_RATE_HZ:
            raise DataError(f"espeak-ng initialisation from {data} returned {rate}, expected {ESPEAK_RATE_HZ}")
        self._chunks: list[np.ndarray] = []

        def _collect(wav, n, events):  # noqa: ARG001 - ctypes signature
            if n > 0:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = _CALLBACK(_collect)  # keep a reference: ctypes must not free it
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib

    def synth(self, ssml: str, *, voice: str, rate_wpm: int, pitch: int, pitch_range: int, seed: int) -> np.ndarray:
        """Render SSML; returns int16 samples at 22050 Hz."""
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise DataError(f"espeak-ng has no voice {voice!r}")
        for pid, value in ((1, rate_wpm), (2, 100), (3, pitch), (4, pitch_range), (7, 0)):
            lib.espeak_SetParameter(pid, int(value), 0)
        lib.espeak_ng_SetRandSeed(seed % (2 ** 31))
        self._chunks = []
        data = ssml.encode("utf-8")
        lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 0x1 | 0x10, None, None)  # POS_CHARACTER; UTF8 | SSML
        lib.espeak_Synchronize()
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)


_ENGINE: _Espeak | None = None


def _engine() -> _Espeak:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Espeak()
    return _ENGINE


# --------------------------------------------------------------------------------------------------------------
# Signal processing (deterministic given the clip's generator)
# --------------------------------------------------------------------------------------------------------------
def _resample(x: np.ndarray, from_hz: int, to_hz: int) -> np.ndarray:
    if from_hz == to_hz:
        return x
    try:
        import soxr
    except ImportError:  # pragma: no cover - soxr comes with librosa
        from scipy.signal import resample_poly

        ratio = Fraction(to_hz, from_hz)
        return resample_poly(x, ratio.numerator, ratio.denominator)
    return soxr.resample(x, from_hz, to_hz, quality="HQ")


def _active_rms(x: np.ndarray, rate_hz: int) -> float:
    """RMS over 20 ms frames within 30 dB of the loudest frame (the speech, not the silences)."""
    hop = max(int(0.02 * rate_hz), 1)
    n = len(x) // hop
    if n == 0:
        return float(np.sqrt(np.mean(x ** 2) + 1e-20))
    power = np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-20
    keep = power > power.max() * 1e-3
    return float(np.sqrt(power[keep].mean()))


def _noise(rng: np.random.Generator, n: int, color: str) -> np.ndarray:
    white = rng.standard_normal(n)
    if color == "white":
        return white
    from scipy.signal import lfilter

    if color == "pink":  # -3 dB/octave: a standard 3-pole/3-zero approximation
        out = lfilter([0.049922035, -0.095993537, 0.050612699, -0.004408786],
                      [1.0, -2.494956002, 2.017265875, -0.522189400], white)
    else:  # brown-ish: leaky integrator, -6 dB/octave above ~10 Hz
        out = lfilter([1.0], [1.0, -0.997], white)
    return out / (np.std(out) + 1e-12)


def _room_ir(rng: np.random.Generator, rate_hz: int, rt60_s: float) -> np.ndarray:
    n = int(0.5 * rt60_s * rate_hz)  # the tail down to -30 dB; the rest is under the noise floor
    t = np.arange(n) / rate_hz
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)  # -60 dB at rt60
    ir[: int(0.003 * rate_hz)] = 0.0  # first reflections arrive after ~3 ms
    return ir / np.sqrt(np.sum(ir ** 2))


@functools.lru_cache(maxsize=32)
def _butter_lowpass(rate_hz: int, cutoff_hz: float) -> np.ndarray:
    from scipy.signal import butter

    return butter(4, cutoff_hz, fs=rate_hz, output="sos")


def _lowpass(x: np.ndarray, rate_hz: int, cutoff_hz: float) -> np.ndarray:
    if cutoff_hz <= 0 or cutoff_hz >= rate_hz / 2:
        return x
    from scipy.signal import sosfilt

    return sosfilt(_butter_lowpass(rate_hz, float(cutoff_hz)), x)


def _db_to_amp(level_db: float) -> float:
    """Praat's scale: amplitude (RMS, 'pascals') of a level in dB re 2e-5."""
    return 2e-5 * 10 ** (level_db / 20)


def _fast_len(n: int) -> int:
    from scipy.fft import next_fast_len

    return int(next_fast_len(int(n), real=True))


def _reverb(x: np.ndarray, *, rate_hz: int, room: dict) -> np.ndarray:
    """Direct sound plus ``wet`` times the room's diffuse tail."""
    if room["wet"] <= 0:
        return x
    ir = _room_ir(np.random.default_rng(room["seed"]), rate_hz, room["rt60_s"])
    size = _fast_len(len(x) + len(ir))
    tail = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[: len(x)]
    return x + room["wet"] * tail


def _finish(x: np.ndarray, *, rate_hz: int, spec: CorpusSpec, rng: np.random.Generator) -> np.ndarray:
    """Channel low-pass, background noise and hum, soft limiter -> int16 at the corpus rate."""
    x = _lowpass(x, rate_hz, spec.lowpass_hz)
    noise = _noise(rng, len(x), spec.noise_color) * _db_to_amp(spec.noise_db + rng.normal(0, 1.5))
    if spec.hum_hz > 0:
        t = np.arange(len(x)) / rate_hz
        noise = noise + _db_to_amp(spec.noise_db - 6) * np.sqrt(2) * np.sin(2 * np.pi * spec.hum_hz * t)
    x = x + noise
    # soft limiter above 0.9 full scale (loud takes clip gently, as real loud recordings do)
    over = np.abs(x) > 0.9
    if over.any():
        x = np.where(over, np.sign(x) * (0.9 + 0.1 * np.tanh((np.abs(x) - 0.9) / 0.1)), x)
    return np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype(np.int16)


def _speech(plan: dict) -> np.ndarray:
    """espeak rendering + vocal-effort tilt + lead/trail silence, float at the espeak rate."""
    ssml = plan["ssml"]
    raw = _engine().synth(ssml, voice=plan["espeak_voice"], rate_wpm=plan["espeak_rate_wpm"],
                          pitch=plan["espeak_pitch"], pitch_range=plan["espeak_range"], seed=plan["seed"])
    x = raw.astype(np.float64) / 32768.0
    # vocal effort: louder speech has a flatter spectrum (more high-frequency energy), softer speech a steeper one
    k = plan["effort_tilt"]
    x = x + k * np.diff(x, prepend=0.0)
    lead = np.zeros(int(plan["lead_s"] * ESPEAK_RATE_HZ))
    trail = np.zeros(int(plan["trail_s"] * ESPEAK_RATE_HZ))
    return np.concatenate([lead, x, trail])


# --------------------------------------------------------------------------------------------------------------
# Non-speech sound events for synth-4d (each returns float audio at rate_hz and a caption)
# --------------------------------------------------------------------------------------------------------------
def _event(kind: str, rng: np.random.Generator, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    n = int(dur_s * rate_hz)
    t = np.arange(n) / rate_hz
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    if kind == "beep":
        f = float(rng.choice([440.0, 880.0, 1500.0, 2500.0]))
        count = int(rng.integers(2, 6))
        x = np.zeros(n)
        period = dur_s / count
        for i in range(count):
            on = (t >= i * period) & (t < i * period + 0.6 * period * rng.uniform(0.3, 0.8))
            x[on] += np.sin(2 * np.pi * f * t[on])
        height = "high-pitched" if f > 1000 else "low-pitched"
        cap = pick([f"a {height} electronic beep repeats {count} times",
                    f"{count} short {height} beeps from a machine", f"an alarm beeps {count} times"])
    elif kind == "siren":
        f0 = rng.uniform(500, 900)
        rate = rng.uniform(0.3, 1.5)
        phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.4 * np.sin(2 * np.pi * rate * t))) / rate_hz
        x = np.sin(phase) + 0.3 * np.sin(2 * phase)
        cap = pick(["a siren wails, rising and falling", "an emergency vehicle siren passes by",
                    "a police siren sounds in the distance"])
    elif kind == "rain":
        x = _lowpass(_noise(rng, n, "white"), rate_hz, rng.uniform(3000, 8000))
        drops = (rng.random(n) < 0.002) * rng.standard_normal(n) * 4
        x = x + drops
        cap = pick(["rain falls steadily on a roof", "heavy rain pours down outside",
                    "raindrops patter against a window"])
    elif kind == "wind":
        gust = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6.28)) ** 2
        x = _lowpass(_noise(rng, n, "brown"), rate_hz, 800) * gust
        cap = pick(["wind blows in strong gusts", "a gusty wind howls outdoors", "wind rushes past a microphone"])
    elif kind == "engine":
        f = rng.uniform(25, 60)
        x = sum(np.sin(2 * np.pi * f * h * t + rng.uniform(0, 6.28)) / h for h in range(1, 8))
        x = x + 0.3 * _lowpass(_noise(rng, n, "white"), rate_hz, 500)
        cap = pick(["an engine idles with a low rumble", "a truck engine runs steadily",
                    "a motor hums at a constant speed"])
    elif kind == "knock":
        count = int(rng.integers(2, 6))
        x = np.zeros(n)
        for i in range(count):
            start = int((0.2 + i * rng.uniform(0.25, 0.45)) * rate_hz)
            if start >= n:
                break
            m = min(int(0.08 * rate_hz), n - start)
            x[start:start + m] += rng.standard_normal(m) * np.exp(-np.arange(m) / (0.012 * rate_hz))
        x = _lowpass(x, rate_hz, 1200)
        cap = pick([f"someone knocks on a wooden door {count} times", f"{count} knocks on a door",
                    "a person knocks loudly on a door"])
    elif kind == "birds":
        x = np.zeros(n)
        for _ in range(int(rng.integers(4, 12))):
            start = int(rng.uniform(0, max(dur_s - 0.2, 0.1)) * rate_hz)
            m = min(int(rng.uniform(0.05, 0.15) * rate_hz), n - start)
            tt = np.arange(m) / rate_hz
            f = rng.uniform(2500, 5000) + rng.uniform(-8000, 8000) * tt
            x[start:start + m] += np.sin(2 * np.pi * np.cumsum(f) / rate_hz) * np.hanning(m)
        cap = pick(["birds chirp and tweet outside", "a small bird sings repeatedly",
                    "several birds are chirping in the trees"])
    elif kind == "bell":
        f = rng.uniform(300, 900)
        x = sum(np.sin(2 * np.pi * f * r * t) * np.exp(-t / (1.2 / r)) / r for r in (1.0, 2.76, 5.4, 8.93))
        cap = pick(["a bell rings once and slowly fades out", "a church bell chimes", "a metal bell is struck"])
    elif kind == "water":
        x = _lowpass(_noise(rng, n, "pink"), rate_hz, 2500) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))
        cap = pick(["water flows in a small stream", "a tap is running into a sink", "water trickles steadily"])
    elif kind == "clock":
        x = np.zeros(n)
        period = rng.uniform(0.5, 1.0)
        for i in range(int(dur_s / period)):
            start = int(i * period * rate_hz)
            m = min(int(0.01 * rate_hz), n - start)
            x[start:start + m] += rng.standard_normal(m)
        cap = pick(["a clock ticks steadily", "the ticking of a mechanical clock", "a watch ticks in a quiet room"])
    else:  # pragma: no cover - internal list
        raise ParameterError(f"unknown sound event kind {kind!r}")
    x = np.asarray(x, dtype=float)
    fade = min(int(0.02 * rate_hz), n // 2)
    if fade:
        x[:fade] *= np.linspace(0, 1, fade)
        x[-fade:] *= np.linspace(1, 0, fade)
    return x, cap


_EVENT_KINDS = ("beep", "siren", "rain", "wind", "engine", "knock", "birds", "bell", "water", "clock")


# --------------------------------------------------------------------------------------------------------------
# Planning: every random choice is made here, from seeded generators, before any rendering
# --------------------------------------------------------------------------------------------------------------
def _speakers(corpus: str, sexes: list[str], seed: int, used: dict) -> list[dict]:
    """Speakers of a corpus, voice identities not used by earlier corpora while any remain."""
    spec = CORPUS_SPECS[corpus]
    rng = _rng(seed, corpus, "speakers")
    speakers = []
    for sex in sexes:
        pool = FEMALE_VOICES if sex == "female" else MALE_VOICES
        identities = [(d, v) for d in spec.dialects for v in pool]
        order = rng.permutation(len(identities))
        counts = [used.get(identities[j], 0) for j in order]
        dialect, variant = identities[order[int(np.argmin(counts))]]  # first least-used identity
        used[(dialect, variant)] = used.get((dialect, variant), 0) + 1
        speakers.append({
            "sex": sex, "variant": variant, "dialect": dialect,
            "base_f0_hz": BASE_F0_HZ[sex] * 2 ** (rng.normal(0, BASE_F0_SD_ST) / 12),
            "rate_wpm": BASE_RATE_WPM * 2 ** rng.normal(0, 0.12),
            "range_log2": rng.normal(0, 0.25),
            "level_db": rng.normal(0, spec.speaker_level_sd_db),
            "room_seed": int(rng.integers(2 ** 62)),
            "rt60_s": rng.uniform(*spec.rt60_s),
        })
    return speakers


def _speaker_split(corpus: str, speakers: list[dict], seed: int) -> list[str]:
    """Speaker-independent train/test: about test_fraction of the speakers of each sex, at least one overall."""
    rng = _rng(seed, corpus, "split")
    split = ["train"] * len(speakers)
    for sex in ("female", "male"):
        idx = [i for i, s in enumerate(speakers) if s["sex"] == sex]
        k = int(round(CORPUS_SPECS[corpus].test_fraction * len(idx)))
        for i in rng.permutation(idx)[:k]:
            split[int(i)] = "test"
    if "test" not in split and len(speakers) > 1:
        split[-1] = "test"
    return split


def _sentence(corpus: str, rng: np.random.Generator) -> str:
    parts = _CONVERSATION[corpus]
    words = [p[int(rng.integers(len(p)))] for p in parts]
    return " ".join(words).replace(", ", ", ") + "."


def _prosody_plan(*, corpus: str, label: str, speaker: dict, text: str, intensity: float, seed: int,
                  spec: CorpusSpec) -> dict:
    """Draw one clip's prosody and espeak parameters."""
    rng = _rng(seed, "prosody")
    dist = EMOTION_PROSODY[label]
    pitch_st = intensity * dist.pitch_st[0] + rng.normal(0, dist.pitch_st[1])
    range_log2 = intensity * dist.range_log2[0] + rng.normal(0, dist.range_log2[1]) + speaker["range_log2"]
    rate_log2 = intensity * dist.rate_log2[0] + rng.normal(0, dist.rate_log2[1])
    level_rel = intensity * dist.level_db[0] + rng.normal(0, dist.level_db[1])
    pause_prob = float(np.clip(0.04 + intensity * (dist.pause_prob - 0.04), 0.0, 0.5))
    f0_hz = speaker["base_f0_hz"] * 2 ** (pitch_st / 12)
    pool = FEMALE_VOICES if speaker["sex"] == "female" else MALE_VOICES
    shift = 12 * math.log2(f0_hz / pool[speaker["variant"]])
    rate_wpm = speaker["rate_wpm"] * 2 ** rate_log2
    range_factor = 2 ** range_log2
    words = text.rstrip(".").split(" ")
    pieces, n_pauses, pause_total = [words[0]], 0, 0.0
    for w in words[1:]:
        if rng.random() < pause_prob:
            ms = int(rng.uniform(250, 700))
            pieces.append(f'<break time="{ms}ms"/>')
            n_pauses += 1
            pause_total += ms / 1000
        pieces.append(w)
    ssml = "<speak>" + " ".join(pieces) + ".</speak>"
    level_db = spec.level_db + speaker["level_db"] + level_rel
    return {
        "ssml": ssml,
        "espeak_voice": f"{speaker['dialect']}+{speaker['variant']}",
        "espeak_pitch": int(round(_espeak_pitch(shift))),
        "espeak_range": int(round(min(max(50 * range_factor, 0), 100))),
        "espeak_rate_wpm": int(round(min(max(rate_wpm, 80), 450))),
        "effort_tilt": float(np.clip(0.06 * level_rel, -0.4, 0.8)),
        "lead_s": float(rng.uniform(*spec.lead_s)),
        "trail_s": float(rng.uniform(*spec.trail_s)),
        "seed": _seed(seed, "espeak"),
        "noise_seed": _seed(seed, "noise"),
        "gt": {
            "voice": speaker["variant"], "dialect": speaker["dialect"], "emotion_intensity": round(intensity, 4),
            "intended_f0_hz": round(f0_hz, 3), "intended_pitch_st": round(pitch_st, 4),
            "intended_range_factor": round(range_factor, 4), "intended_rate_wpm": round(rate_wpm, 3),
            "intended_rate_factor": round(2 ** rate_log2, 4), "intended_level_db": round(level_db, 3),
            "intended_pause_prob": round(pause_prob, 4), "n_pauses": n_pauses, "pause_total_s": round(pause_total, 3),
            "n_syllables_text": count_syllables(text),
        },
    }


def _labels_for(corpus: str, n: int, rng: np.random.Generator) -> list[str]:
    """Labels with the corpus's (real-like) imbalance; every label appears at least once when n allows."""
    weights = CORPUS_SPECS[corpus].label_weights
    labels = list(CORPUS_LABELS[corpus.removeprefix("synth-")])
    p = np.array([weights[lab] for lab in labels], dtype=float)
    out = labels[:n] + [labels[i] for i in rng.choice(len(labels), size=max(n - len(labels), 0), p=p / p.sum())]
    return [out[i] for i in rng.permutation(len(out))]


def plan_corpus(corpus: str, *, profile: str, seed: int, used: dict | None = None) -> list[dict]:
    """Every clip of one corpus as a dict (manifest fields + rendering parameters); deterministic.

    Parameters
    ----------
    corpus : one of :data:`CORPORA`
    profile : ``tiny``, ``default`` or ``large``
    seed : int
    used : voice identities already taken by earlier corpora (updated in place); ``None`` plans corpora in the
        fixed order of :data:`CORPORA` up to this one.
    """
    if corpus not in CORPORA:
        raise ParameterError(f"corpus={corpus!r} is not one of {list(CORPORA)}")
    if profile not in PROFILES:
        raise ParameterError(f"profile={profile!r} is not one of {list(PROFILES)}")
    if used is None:
        used = {}
        for earlier in VOICE_ORDER[: VOICE_ORDER.index(corpus)]:
            _corpus_speakers(earlier, profile, seed, used)
    spec = CORPUS_SPECS[corpus]
    size = PROFILES[profile][corpus]
    speakers, names = _corpus_speakers(corpus, profile, seed, used)
    rng = _rng(seed, corpus, "clips")
    rows: list[dict] = []

    def add(uid: str, relpath: str, spk: int, label: str | None, raw: str | None, text: str, intensity: float,
            split: str, extra: dict | None = None) -> None:
        clip_seed = _seed(seed, corpus, uid)
        plan = _prosody_plan(corpus=corpus, label=label or "neutral", speaker=speakers[spk], text=text,
                             intensity=intensity, seed=clip_seed, spec=spec)
        rows.append({"utterance_id": f"{corpus}/{uid}", "relpath": relpath, "dataset": corpus,
                     "speaker": names[spk], "sex": speakers[spk]["sex"], "label": label, "raw_label": raw,
                     "text": text, "split": split, "extra": extra or {}, "plan": plan,
                     "room": {"seed": speakers[spk]["room_seed"], "rt60_s": speakers[spk]["rt60_s"],
                              "wet": spec.wet}})

    split = _speaker_split(corpus, speakers, seed) if corpus != "synth-ravdess" else None
    if corpus == "synth-ravdess":
        folds = [{2, 5, 14, 15, 16}, {3, 6, 7, 13, 18}, {10, 11, 12, 19, 20}, {8, 17, 21, 23, 24}, {1, 4, 9, 22}]
        raw = RAW_LABELS[corpus]
        for a in range(1, size["actors"] + 1):
            fold = next(i for i, f in enumerate(folds) if a in f)
            for label in CORPUS_LABELS["ravdess"]:
                levels = ["01"] if label == "neutral" else (["01", "02"] if size["full"] else ["02"])
                for level in levels:
                    for st in (["01", "02"] if size["full"] else ["01"]):
                        for rep in range(1, size["repetitions"] + 1):
                            stem = f"03-01-{raw[label]}-{level}-{st}-{rep:02d}-{a:02d}"
                            add(stem, f"Actor_{a:02d}/{stem}.wav", a - 1, label, raw[label],
                                _RAVDESS_STATEMENTS[int(st) - 1], 0.7 if level == "01" else 1.1,
                                "test" if fold == 0 else "train", {"fold": f"fold{fold}"})
        return rows
    if corpus == "synth-cremad":
        raw = RAW_LABELS[corpus]
        combos = [(a, s, lab) for a in range(len(speakers)) for s in _CREMAD_SENTENCES
                  for lab in CORPUS_LABELS["cremad"]]
        pick = rng.choice(len(combos), size=min(size["clips"], len(combos)), replace=False)
        if profile == "tiny":  # cover every label
            pick = [next(i for i, c in enumerate(combos) if c[2] == lab and c[0] == j % len(speakers))
                    for j, lab in enumerate(CORPUS_LABELS["cremad"])] + list(pick[: size["clips"] - 6])
        for i in sorted(int(i) for i in pick):
            a, s, lab = combos[i]
            level = "XX" if lab == "neutral" or rng.random() < 0.7 else str(rng.choice(["LO", "MD", "HI"]))
            intensity = {"LO": 0.5, "MD": 0.8, "HI": 1.2, "XX": 0.9}[level]
            stem = f"{names[a]}_{s}_{raw[lab]}_{level}"
            add(stem, f"AudioWAV/{stem}.wav", a, lab, raw[lab], _CREMAD_SENTENCES[s], intensity, split[a])
        return rows
    labels = _labels_for(corpus, size["clips"], rng) if corpus != "synth-4d" else [None] * size["clips"]
    raw_map = RAW_LABELS.get(corpus, {})
    for i, label in enumerate(labels):
        spk = int(rng.integers(len(speakers))) if i >= len(speakers) else i
        text = _sentence(corpus, rng)
        intensity = float(rng.uniform(0.5, 1.2))
        if corpus == "synth-4d":
            kind = "speech" if rng.random() < 0.25 else _EVENT_KINDS[int(rng.integers(len(_EVENT_KINDS)))]
            uid = f"{i:05d}"
            extra = {"kind": kind, "event_seed": _seed(seed, corpus, uid, "event"),
                     "event_dur_s": float(rng.uniform(2.5, 5.0))}
            add(uid, f"audio/{uid}.wav", spk, None, None, text, 0.0,
                "test" if rng.random() < spec.test_fraction else "train", extra)
            if kind != "speech":
                rows[-1]["speaker"] = rows[-1]["sex"] = rows[-1]["text"] = None
            continue
        if corpus == "synth-iemocap":
            uid = f"{names[spk]}_{'impro' if rng.random() < 0.5 else 'script'}{int(rng.integers(1, 9)):02d}_" \
                  f"{speakers[spk]['sex'][0].upper()}{i:03d}"
            rel = f"wav/{names[spk]}/{uid}.wav"
        elif corpus == "synth-meld":
            uid = f"dia{i // 8}_utt{i % 8}"
            rel = f"clips/{uid}.wav"
        else:
            uid = f"{names[spk]}_{i:04d}"
            rel = f"wav/{names[spk]}/{uid}.wav"
        raw = raw_map.get(label, label)
        if corpus == "synth-mosi":
            score = 0.0 if label == "neutral" else float(rng.uniform(0.2, 3.0))
            raw = f"{score if label == 'positive' else -score:+.2f}"
            intensity = 0.4 + 0.25 * abs(score)
        add(uid, rel, spk, label, raw, text, intensity, split[spk])
    return rows


def _corpus_speakers(corpus: str, profile: str, seed: int, used: dict) -> tuple[list[dict], list[str]]:
    size = PROFILES[profile][corpus]
    n = size.get("actors", size.get("speakers"))
    if corpus == "synth-ravdess":  # RAVDESS: odd actors male, even female
        sexes = ["male" if a % 2 else "female" for a in range(1, n + 1)]
    elif corpus == "synth-iemocap":  # one female and one male actor per session
        sexes = ["female" if i % 2 == 0 else "male" for i in range(n)]
    else:
        sexes = [str(s) for s in _rng(seed, corpus, "sexes").permutation(["female", "male"] * ((n + 1) // 2))[:n]]
    speakers = _speakers(corpus, sexes, seed, used)
    rng = _rng(seed, corpus, "names")
    if corpus == "synth-ravdess":
        names = [f"Actor_{a:02d}" for a in range(1, n + 1)]
    elif corpus == "synth-cremad":
        names = [str(1001 + i) for i in range(n)]
    elif corpus == "synth-iemocap":
        names = [f"Ses{i // 2 + 1:02d}{s['sex'][0].upper()}" for i, s in enumerate(speakers)]
    elif corpus == "synth-meld":
        names = [_MELD_NAMES[i % len(_MELD_NAMES)] + ("" if i < len(_MELD_NAMES) else str(i)) for i in range(n)]
    else:
        alphabet = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"))
        names = ["".join(rng.choice(alphabet, 11)) for _ in range(n)]
    return speakers, names


# --------------------------------------------------------------------------------------------------------------
# Rendering (runs in worker processes)
# --------------------------------------------------------------------------------------------------------------
def render(row: dict) -> tuple[np.ndarray, int]:
    """Render one planned clip: int16 samples and the corpus sample rate."""
    corpus = row["dataset"]
    spec = CORPUS_SPECS[corpus]
    plan = row["plan"]
    rate = spec.sample_rate_hz
    rng = np.random.default_rng(plan["noise_seed"])
    kind = row["extra"].get("kind", "speech")
    if kind == "speech":  # level and room at the espeak rate, then the corpus rate
        x = _speech(plan)
        x = x * (_db_to_amp(plan["gt"]["intended_level_db"]) / max(_active_rms(x, ESPEAK_RATE_HZ), 1e-12))
        x = _resample(_reverb(x, rate_hz=ESPEAK_RATE_HZ, room=row["room"]), ESPEAK_RATE_HZ, rate)
    else:
        x, _ = _event(kind, np.random.default_rng(row["extra"]["event_seed"]), rate, row["extra"]["event_dur_s"])
        x = x * (_db_to_amp(spec.level_db + float(rng.normal(0, 5))) / max(_active_rms(x, rate), 1e-12))
        x = _reverb(x, rate_hz=rate, room=row["room"])
    return _finish(x, rate_hz=rate, spec=spec, rng=rng), rate


def _render_chunk(rows: list[dict], folder: str) -> list[tuple[str, float]]:
    import soundfile as sf

    out = []
    for row in rows:
        audio, rate = render(row)
        path = Path(folder) / row["relpath"]
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), audio, rate, subtype="PCM_16")
        out.append((row["utterance_id"], len(audio) / rate))
    return out


def _caption(row: dict, rng: np.random.Generator) -> str:
    """A caption for a synth-4d item (sound events carry theirs; speech is described like AudioCaps does)."""
    if row["extra"]["kind"] != "speech":  # the same draws as the rendering, so counts in the caption match
        return _event(row["extra"]["kind"], np.random.default_rng(row["extra"]["event_seed"]),
                      CORPUS_SPECS["synth-4d"].sample_rate_hz, row["extra"]["event_dur_s"])[1]
    who = "a man" if row["sex"] == "male" else "a woman"
    how = ""
    gt = row["plan"]["gt"]
    if rng.random() < 0.4:
        how = " quickly" if gt["intended_rate_wpm"] > 180 else (" slowly" if gt["intended_rate_wpm"] < 150 else "")
    where = ["in a quiet room", "while a fan hums in the background", "into a microphone", "indoors", ""]
    verb = ["speaks", "talks", "is speaking", "reads aloud"][int(rng.integers(4))]
    return f"{who} {verb}{how} {where[int(rng.integers(len(where)))]}".strip()


# --------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------
def _manifest_frame(rows: list[dict], durations: dict[str, float], seed: int) -> Any:
    import pandas as pd

    records = []
    for row in rows:
        rec = {"utterance_id": row["utterance_id"], "path": row["relpath"], "dataset": row["dataset"],
               "speaker": row["speaker"], "sex": row["sex"], "label": row["label"], "raw_label": row["raw_label"],
               "text": row["text"], "start_s": float("nan"), "end_s": float("nan"), "split": row["split"]}
        if row["dataset"] == "synth-4d":
            rec["caption"] = _caption(row, _rng(seed, row["utterance_id"], "caption"))
            rec["kind"] = row["extra"]["kind"]
        if "fold" in row["extra"]:
            rec["fold"] = row["extra"]["fold"]
        rec["sample_rate_hz"] = CORPUS_SPECS[row["dataset"]].sample_rate_hz
        rec["duration_s"] = round(durations[row["utterance_id"]], 6)
        speech = row["extra"].get("kind", "speech") == "speech"
        rec.update({k: (v if speech else None) for k, v in row["plan"]["gt"].items()})
        rec["espeak_voice"] = row["plan"]["espeak_voice"] if speech else None
        for key in ("espeak_pitch", "espeak_range", "espeak_rate_wpm"):
            rec[key] = row["plan"][key] if speech else None
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _n_jobs(n_jobs: int) -> int:
    return max(os.cpu_count() or 1, 1) if n_jobs == -1 else max(n_jobs, 1)


def generate(*, root: str | Path, config: SynthConfig | None = None, progress: bool = True) -> Path:
    """Render the benchmark under ``<root>/<profile>/<corpus>/`` and return ``<root>/<profile>``.

    A corpus whose ``.complete`` marker matches (seed, profile, generator version) is skipped, so re-running is
    instant; any other existing corpus folder is rebuilt.

    Parameters
    ----------
    root : folder of the benchmark (``data.synth_root``)
    config : :class:`~clapemo.config.SynthConfig` (profile, seed, n_jobs, corpora); ``None`` = defaults
    progress : show tqdm bars

    Returns
    -------
    Path : ``<root>/<profile>``, the folder :func:`load` takes.
    """
    config = config or SynthConfig()
    corpora = list(config.corpora) or list(CORPORA)
    unknown = [c for c in corpora if c not in CORPORA]
    if unknown:
        raise ParameterError(f"synth.corpora contains {unknown}; known: {list(CORPORA)}")
    out = Path(root) / config.profile
    out.mkdir(parents=True, exist_ok=True)
    stamp = {"generator_version": GENERATOR_VERSION, "profile": config.profile, "seed": config.seed}
    used: dict = {}
    todo = []
    for corpus in VOICE_ORDER:  # plan in fixed order: voice allocation depends on the earlier corpora
        rows = plan_corpus(corpus, profile=config.profile, seed=config.seed, used=used)
        folder = out / corpus
        marker = folder / MARKER
        if corpus not in corpora:
            continue
        if marker.is_file() and json.loads(marker.read_text()) == stamp:
            continue
        todo.append((corpus, rows, folder))
    if not todo:
        return out
    from tqdm.auto import tqdm

    jobs = _n_jobs(config.n_jobs)
    import multiprocessing as mp

    executor = ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) if jobs > 1 else None
    try:
        for corpus, rows, folder in todo:
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            chunks = [rows[i:i + 24] for i in range(0, len(rows), 24)]
            durations: dict[str, float] = {}
            bar = tqdm(total=len(rows), desc=corpus, unit="clip", disable=not progress)
            if executor is None:
                for chunk in chunks:
                    durations.update(_render_chunk(chunk, str(folder)))
                    bar.update(len(chunk))
            else:
                futures = [executor.submit(_render_chunk, chunk, str(folder)) for chunk in chunks]
                for fut in as_completed(futures):
                    result = fut.result()
                    durations.update(result)
                    bar.update(len(result))
            bar.close()
            frame = _manifest_frame(rows, durations, config.seed)
            frame.to_csv(folder / MANIFEST, index=False, float_format="%.6g", lineterminator="\n")
            (folder / MARKER).write_text(json.dumps(stamp))
    finally:
        if executor is not None:
            executor.shutdown()
    return out


_STR_COLUMNS = ("utterance_id", "path", "dataset", "speaker", "sex", "label", "raw_label", "text", "split",
                "caption", "kind", "fold", "voice", "dialect", "espeak_voice")


def load(name: str, root: str | Path) -> Any:
    """The manifest of one generated corpus (CONTRIBUTING.md schema, then ground-truth columns).

    Parameters
    ----------
    name : ``synth-mosei``, ``synth-iemocap``, ``synth-meld``, ``synth-cremad``, ``synth-ravdess``,
        ``synth-mosi`` or ``synth-4d``
    root : ``<synth_root>/<profile>``, the folder holding the corpus folders (what :func:`generate` returns)

    Returns
    -------
    DataFrame : one row per clip; ``path`` absolute; ``label`` canonical (None for synth-4d, which adds
        ``caption``); ``split`` speaker-independent train/test (synth-ravdess also has ``fold`` fold0..fold4, the
        actor folds of DESIGN.md; fold0 is its test split).
    """
    import pandas as pd

    if name not in CORPORA:
        raise DataError(f"unknown synthetic corpus {name!r}; known: {list(CORPORA)}")
    folder = Path(root) / name
    manifest = folder / MANIFEST
    if not (folder / MARKER).is_file() or not manifest.is_file():
        raise DataError(f"synthetic corpus {name!r} not found (or incomplete) in {folder}: run "
                        f"'clapemo synth -o <synth_root>' or clapemo.synth.generate(root=<synth_root>)")
    frame = pd.read_csv(manifest, dtype={c: "string" for c in _STR_COLUMNS}, keep_default_na=True)
    for col in frame.columns:
        if col in _STR_COLUMNS:
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    frame["path"] = [str((folder / p).resolve()) for p in frame["path"]]
    missing = [c for c in SCHEMA if c not in frame.columns]
    if missing:
        raise DataError(f"{manifest}: missing manifest columns {missing}")
    if name != "synth-4d":
        allowed = set(CORPUS_LABELS[name.removeprefix("synth-")])
        bad = sorted(set(frame["label"]) - allowed)
        if bad:
            raise DataError(f"{manifest}: labels {bad} are not in the {name} label set {sorted(allowed)}")
    return frame


def cli(argv: list[str]) -> int:
    """``clapemo synth --profile default --seed 0 -o data/synth``."""
    parser = argparse.ArgumentParser(prog="clapemo synth", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="default", choices=sorted(PROFILES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default="data/synth", help="benchmark root (data.synth_root)")
    parser.add_argument("--n-jobs", type=int, default=-1, help="worker processes (-1: all cores)")
    parser.add_argument("--corpora", nargs="*", default=[], help=f"subset of {' '.join(CORPORA)}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    import time

    config = SynthConfig(profile=args.profile, seed=args.seed, n_jobs=args.n_jobs, corpora=list(args.corpora))
    start = time.perf_counter()
    out = generate(root=args.output, config=config, progress=not args.quiet)
    total, hours = 0, 0.0
    for corpus in config.corpora or CORPORA:
        frame = load(corpus, out)
        total += len(frame)
        hours += frame["duration_s"].sum() / 3600
        print(f"{corpus:14s} {len(frame):6d} clips {frame['duration_s'].sum() / 3600:6.2f} h")
    print(f"{'total':14s} {total:6d} clips {hours:6.2f} h in {time.perf_counter() - start:.1f} s -> {out}")
    return 0
