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

Layout: ``<root>/<profile>/<corpus>/manifest.csv`` (paths relative to the corpus folder) and the WAVs; a
``.complete`` marker is written last. :func:`load` reads the manifest through the real loaders' validation
(:func:`clapemo.datasets.manifest.read_manifest_csv`). The RAVDESS and CREMA-D twins are laid out like the real
corpora, so ``clapemo.datasets.load("ravdess", <root>/<profile>/synth-ravdess)`` (and ``"cremad"``) load them too,
with the same clips, labels and splits: ``Actor_XX/03-01-EE-II-SS-RR-AA.wav`` saying RAVDESS's two statements
(odd actors male), and ``AudioWAV/{actor}_{sentence}_{EMO}_{LEVEL}.wav`` saying CREMA-D's twelve sentences (actors
from 1001, ``VideoDemographics.csv`` with ActorID, Sex); both split by their real loaders' speaker folds (fold 0 is
``test``). espeak-ng is GPL-3.0-or-later; so is this project.

Modules: :mod:`~clapemo.synth.voices` (voice and prosody tables), :mod:`~clapemo.synth.engine` (espeak-ng through
ctypes), :mod:`~clapemo.synth.signal` (levels, noise, room, channel, sound events), :mod:`~clapemo.synth.plan`
(corpus specs, profiles and every random choice), :mod:`~clapemo.synth.render` (rendering, :func:`generate`,
:func:`load`).
"""

from __future__ import annotations

import argparse

from clapemo.config import SynthConfig
from clapemo.synth.plan import (
    CORPORA,
    CORPUS_SPECS,
    PROFILES,
    RAW_LABELS,
    SPEECH_CORPORA,
    VOICE_ORDER,
    CorpusSpec,
    count_syllables,
    plan_corpus,
)
from clapemo.synth.render import GENERATOR_VERSION, MANIFEST, MARKER, SCHEMA, generate, is_current, load, render
from clapemo.synth.voices import EMOTION_PROSODY, FEMALE_VOICES, MALE_VOICES, ProsodyDist, espeak_pitch

__all__ = [
    "CORPORA", "SPEECH_CORPORA", "VOICE_ORDER", "EMOTION_PROSODY", "PROFILES", "CORPUS_SPECS", "RAW_LABELS",
    "MALE_VOICES", "FEMALE_VOICES", "ProsodyDist", "CorpusSpec", "GENERATOR_VERSION", "MARKER", "MANIFEST",
    "SCHEMA",
    "generate", "is_current", "load", "render", "plan_corpus", "count_syllables", "espeak_pitch", "cli",
]


def cli(argv: list[str]) -> int:
    """``clapemo synth --profile default --seed 0 -o data/synth`` (or the ``synth`` section of ``--config``)."""
    from dataclasses import replace

    from clapemo.config import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(prog="clapemo synth", description=__doc__.split("\n")[0],
                                     epilog="The flags override the config's synth section and data.synth_root "
                                            "(default: built-in defaults, profile default, seed 0, data/synth).")
    parser.add_argument("--profile", default=None, choices=sorted(PROFILES), help="benchmark size (synth.profile)")
    parser.add_argument("--seed", type=int, default=None, help="generator seed (synth.seed)")
    parser.add_argument("-o", "--output", default=None, help="benchmark root (data.synth_root)")
    parser.add_argument("--n-jobs", type=int, default=None, help="worker processes (-1: all cores)")
    parser.add_argument("--corpora", nargs="*", default=None, help=f"subset of {' '.join(CORPORA)}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    import time

    resolved = config_from_args(args)
    given = {"profile": args.profile, "seed": args.seed, "n_jobs": args.n_jobs,
             "corpora": None if args.corpora is None else list(args.corpora)}
    config = replace(resolved.synth, **{k: v for k, v in given.items() if v is not None})
    output = args.output or resolved.data.synth_root
    start = time.perf_counter()
    out = generate(root=output, config=config, progress=not args.quiet)
    total, hours = 0, 0.0
    for corpus in config.corpora or CORPORA:
        frame = load(corpus, out)
        total += len(frame)
        hours += frame["duration_s"].sum() / 3600
        print(f"{corpus:14s} {len(frame):6d} clips {frame['duration_s'].sum() / 3600:6.2f} h")
    print(f"{'total':14s} {total:6d} clips {hours:6.2f} h in {time.perf_counter() - start:.1f} s -> {out}")
    return 0
