"""Planning: the corpora (recording specs, profiles, label codes, sentences) and every random choice of every clip
(speakers, labels, prosody, espeak parameters), made from seeded generators before any rendering."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from clapemo.datasets import cremad as _cremad
from clapemo.datasets import ravdess as _ravdess
from clapemo.emotions import CORPUS_LABELS
from clapemo.errors import ParameterError
from clapemo.synth.signal import EVENT_KINDS
from clapemo.synth.voices import (
    BASE_F0_HZ,
    BASE_F0_SD_ST,
    BASE_RATE_WPM,
    EMOTION_PROSODY,
    FEMALE_VOICES,
    MALE_VOICES,
    espeak_pitch,
)

__all__ = ["CORPORA", "SPEECH_CORPORA", "VOICE_ORDER", "CorpusSpec", "CORPUS_SPECS", "PROFILES", "RAW_LABELS",
           "count_syllables", "plan_corpus", "seed_of", "rng_of"]

SPEECH_CORPORA: tuple[str, ...] = (
    "synth-mosei", "synth-iemocap", "synth-meld", "synth-cremad", "synth-ravdess", "synth-mosi")
CORPORA: tuple[str, ...] = SPEECH_CORPORA + ("synth-4d",)

#: order in which corpora pick voice identities (the most constrained first); fixed, so plans never depend on
#: which corpora are generated
VOICE_ORDER: tuple[str, ...] = ("synth-ravdess", "synth-iemocap", "synth-cremad", "synth-meld", "synth-mosi",
                                "synth-mosei", "synth-4d")

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

# Sentences: the RAVDESS and CREMA-D twins say their real corpora's sentences (the real loaders' tables, so a twin
# loads through clapemo.datasets with the same texts); the others have their own; the text never depends on the
# label (no lexical route to the emotion).
_RAVDESS_STATEMENTS: dict[str, str] = dict(_ravdess.STATEMENTS)  # "01"/"02" -> statement
_CREMAD_SENTENCES: dict[str, str] = dict(_cremad.SENTENCES)  # the twelve sentence codes -> sentence
#: the real CREMA-D loader's default test fold (its ``load(test_fold=0)``)
_CREMAD_TEST_FOLD = 0
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

    >>> count_syllables("Kids are talking by the door")
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


def seed_of(*parts: Any) -> int:
    """A 64-bit seed from any parts (stable across processes and Python versions)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def rng_of(*parts: Any) -> np.random.Generator:
    return np.random.default_rng(seed_of(*parts))

# --------------------------------------------------------------------------------------------------------------
# Planning: every random choice is made here, from seeded generators, before any rendering
# --------------------------------------------------------------------------------------------------------------
def _speakers(corpus: str, sexes: list[str], seed: int, used: dict) -> list[dict]:
    """Speakers of a corpus, voice identities not used by earlier corpora while any remain."""
    spec = CORPUS_SPECS[corpus]
    rng = rng_of(seed, corpus, "speakers")
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
    rng = rng_of(seed, corpus, "split")
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
    rng = rng_of(seed, "prosody")
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
        "espeak_pitch": int(round(espeak_pitch(shift))),
        "espeak_range": int(round(min(max(50 * range_factor, 0), 100))),
        "espeak_rate_wpm": int(round(min(max(rate_wpm, 80), 450))),
        "effort_tilt": float(np.clip(0.06 * level_rel, -0.4, 0.8)),
        "lead_s": float(rng.uniform(*spec.lead_s)),
        "trail_s": float(rng.uniform(*spec.trail_s)),
        "seed": seed_of(seed, "espeak"),
        "noise_seed": seed_of(seed, "noise"),
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
    rng = rng_of(seed, corpus, "clips")
    rows: list[dict] = []

    def add(uid: str, relpath: str, spk: int, label: str | None, raw: str | None, text: str, intensity: float,
            split: str, extra: dict | None = None) -> dict:
        clip_seed = seed_of(seed, corpus, uid)
        plan = _prosody_plan(corpus=corpus, label=label or "neutral", speaker=speakers[spk], text=text,
                             intensity=intensity, seed=clip_seed, spec=spec)
        rows.append({"utterance_id": f"{corpus}/{uid}", "relpath": relpath, "dataset": corpus,
                     "speaker": names[spk], "sex": speakers[spk]["sex"], "label": label, "raw_label": raw,
                     "text": text, "split": split, "extra": extra or {}, "plan": plan,
                     "room": {"seed": speakers[spk]["room_seed"], "rt60_s": speakers[spk]["rt60_s"],
                              "wet": spec.wet}})
        return rows[-1]

    # the RAVDESS and CREMA-D twins split like the real loaders (actor folds); the others by _speaker_split
    if corpus == "synth-ravdess":
        _ravdess_clips(add, size)
    elif corpus == "synth-cremad":
        _cremad_clips(add, size, profile=profile, speakers=speakers, names=names, rng=rng)
    else:
        _other_clips(add, corpus, size, speakers=speakers, names=names, rng=rng, seed=seed,
                     split=_speaker_split(corpus, speakers, seed))
    return rows


#: ``add(uid, relpath, speaker index, label, raw label, text, intensity, split, extra=None) -> row``: plans one
#: clip of the corpus and appends it (:func:`plan_corpus`)
_Add = Callable[..., dict]


def _ravdess_clips(add: _Add, size: dict) -> None:
    """The RAVDESS twin: the real corpus's file grid (emotion, intensity, statement, repetition, actor) and its
    actor folds (DESIGN.md section 6)."""
    corpus = "synth-ravdess"
    raw = RAW_LABELS[corpus]
    for a in range(1, size["actors"] + 1):
        fold = _ravdess.actor_fold(a)  # the real loader's actor folds (DESIGN.md section 6)
        for label in CORPUS_LABELS["ravdess"]:
            levels = ["01"] if label == "neutral" else (["01", "02"] if size["full"] else ["02"])
            for level in levels:
                for st in (["01", "02"] if size["full"] else ["01"]):
                    for rep in range(1, size["repetitions"] + 1):
                        stem = f"03-01-{raw[label]}-{level}-{st}-{rep:02d}-{a:02d}"
                        add(stem, f"Actor_{a:02d}/{stem}.wav", a - 1, label, raw[label],
                            _RAVDESS_STATEMENTS[st], 0.7 if level == "01" else 1.1,
                            "test" if fold == _ravdess.DEFAULT_TEST_FOLD else "train", {"fold": fold})


def _cremad_clips(add: _Add, size: dict, *, profile: str, speakers: list[dict], names: list[str],
                  rng: np.random.Generator) -> None:
    """The CREMA-D twin: a draw of (actor, sentence, emotion) combinations (every label in the tiny profile),
    levels as in the real corpus, and the real loader's speaker folds."""
    corpus = "synth-cremad"
    raw = RAW_LABELS[corpus]
    combos = [(a, s, lab) for a in range(len(speakers)) for s in _CREMAD_SENTENCES
              for lab in CORPUS_LABELS["cremad"]]
    pick = rng.choice(len(combos), size=min(size["clips"], len(combos)), replace=False)
    if profile == "tiny":  # cover every label
        pick = [next(i for i, c in enumerate(combos) if c[2] == lab and c[0] == j % len(speakers))
                for j, lab in enumerate(CORPUS_LABELS["cremad"])] + list(pick[: size["clips"] - 6])
    for i in sorted({int(i) for i in pick}):  # a set: a coverage pick may equal a random one
        a, s, lab = combos[i]
        fold = a % _cremad.N_FOLDS  # the real loader's speaker folds: (actor - 1001) % 5, actor = 1001 + a
        level = "XX" if lab == "neutral" or rng.random() < 0.7 else str(rng.choice(["LO", "MD", "HI"]))
        intensity = {"LO": 0.5, "MD": 0.8, "HI": 1.2, "XX": 0.9}[level]
        stem = f"{names[a]}_{s}_{raw[lab]}_{level}"
        add(stem, f"AudioWAV/{stem}.wav", a, lab, raw[lab], _CREMAD_SENTENCES[s], intensity,
            "test" if fold == _CREMAD_TEST_FOLD else "train", {"fold": fold})


def _other_clips(add: _Add, corpus: str, size: dict, *, speakers: list[dict], names: list[str],
                 rng: np.random.Generator, seed: int, split: list[str]) -> None:
    """The other corpora: labels with the corpus's imbalance (none for synth-4d, whose clips are speech or a
    sound event), a sentence each, ids and folders in the real corpus's style, speaker splits."""
    spec = CORPUS_SPECS[corpus]
    labels = _labels_for(corpus, size["clips"], rng) if corpus != "synth-4d" else [None] * size["clips"]
    raw_map = RAW_LABELS.get(corpus, {})
    for i, label in enumerate(labels):
        spk = int(rng.integers(len(speakers))) if i >= len(speakers) else i
        text = _sentence(corpus, rng)
        intensity = float(rng.uniform(0.5, 1.2))
        if corpus == "synth-4d":
            kind = "speech" if rng.random() < 0.25 else EVENT_KINDS[int(rng.integers(len(EVENT_KINDS)))]
            uid = f"{i:05d}"
            extra = {"kind": kind, "event_seed": seed_of(seed, corpus, uid, "event"),
                     "event_dur_s": float(rng.uniform(2.5, 5.0))}
            row = add(uid, f"audio/{uid}.wav", spk, None, None, text, 0.0,
                      "test" if rng.random() < spec.test_fraction else "train", extra)
            if kind != "speech":
                row["speaker"] = row["sex"] = row["text"] = None
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


def _corpus_speakers(corpus: str, profile: str, seed: int, used: dict) -> tuple[list[dict], list[str]]:
    size = PROFILES[profile][corpus]
    n = size.get("actors", size.get("speakers"))
    if corpus == "synth-ravdess":  # RAVDESS: odd actors male, even female
        sexes = ["male" if a % 2 else "female" for a in range(1, n + 1)]
    elif corpus == "synth-iemocap":  # one female and one male actor per session
        sexes = ["female" if i % 2 == 0 else "male" for i in range(n)]
    else:
        both = ["female", "male"] * ((n + 1) // 2)
        sexes = [str(s) for s in rng_of(seed, corpus, "sexes").permutation(both)[:n]]
    speakers = _speakers(corpus, sexes, seed, used)
    rng = rng_of(seed, corpus, "names")
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
