"""Synthetic benchmark: generation speed, corpus sizes, and what the rendered prosody measures as.

Usage: ``python benchmarks/bench_synth.py [--profile tiny] [--root data/synth] [--measure]``

Prints per corpus: clips, hours, wall and CPU seconds of generation (a fresh folder each run unless ``--root`` holds
a finished benchmark, which is then only measured). With ``--measure`` also extracts the acoustic properties of
every speech clip with ``clapemo.features`` and prints (1) mean F0 / intensity / speech rate / articulation rate
per emotion and sex, and (2) for each emotion the fraction of clips on the minority side of each DESIGN.md cut
(pitch 4 bins within sex, pitch2 170 Hz, intensity 60 dB, speech rate 3.12, articulation rate 4.0 syl/s): the
within-emotion spread the acoustic prompts need.
"""

from __future__ import annotations

import clapemo  # noqa: F401  - first: its portable-numerics pins must precede NumPy and torch

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clapemo import synth  # noqa: E402
from clapemo.config import SynthConfig  # noqa: E402


def _cpu_s() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(root: Path, n_jobs: int) -> None:
    import numpy as np
    import pandas as pd

    from clapemo import features
    from clapemo.config import FeaturesConfig, PromptsConfig

    frames = [synth.load(c, root) for c in synth.SPEECH_CORPORA]
    manifest = pd.concat(frames, ignore_index=True)
    cfg = FeaturesConfig(cache_dir=str(root / ".features-cache"))
    start = time.perf_counter()
    props = features.extract_table(manifest, config=cfg, n_jobs=n_jobs, progress=False)
    print(f"\nfeatures of {len(props)} clips in {time.perf_counter() - start:.0f} s; "
          f"errors: {props['error'].notna().sum()}")
    table = manifest[["utterance_id", "dataset", "label", "sex"]].merge(
        props.drop(columns=["path"]), on="utterance_id")
    cols = ["f0_mean_hz", "intensity_db", "speech_rate_syl_per_s", "articulation_rate_syl_per_s"]
    summary = table.groupby(["label", "sex"])[cols].agg(["mean", "std"]).round(1)
    summary.insert(0, "n", table.groupby(["label", "sex"]).size())
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\nmeasured properties per emotion and sex (mean, sd):")
        print(summary.to_string())
        print("\nper emotion, both sexes:")
        print(table.groupby("label")[cols].mean().round(2).to_string())
        print("\nper corpus:")
        print(table.groupby("dataset")[cols].mean().round(2).to_string())

    cuts = PromptsConfig()
    low_male, female_lo, female_hi = cuts.pitch_cuts_hz
    male = table["sex"] == "male"
    side = pd.DataFrame({
        "label": table["label"],
        # within sex: male clips split at 132.5 Hz, female clips at 210 Hz (the 4-bin scheme's two sides per sex)
        "pitch4": np.where(male, table["f0_mean_hz"] > low_male, table["f0_mean_hz"] > female_hi),
        "pitch4_f180": np.where(male, np.nan, table["f0_mean_hz"] > female_lo),
        "pitch2": table["f0_mean_hz"] > cuts.pitch2_cut_hz,
        "intensity": table["intensity_db"] > cuts.intensity_cut_db,
        "speech_rate": table["speech_rate_syl_per_s"] > cuts.speech_rate_cut_syl_per_s,
        "articulation_rate": table["articulation_rate_syl_per_s"] > cuts.articulation_rate_cut_syl_per_s,
    })
    high = side.groupby("label").mean(numeric_only=True)
    minority = np.minimum(high, 1 - high).round(2)
    with pd.option_context("display.width", 200):
        print("\nfraction of clips ABOVE each cut, per emotion:")
        print(high.round(2).to_string())
        print("\nminority-side fraction per emotion (0.5 = even split, 0 = never crosses):")
        print(minority.to_string())
        ok = (minority.drop(columns=["pitch2"]) >= 0.1).mean().round(2)
        print("\nshare of emotions with >= 10% of clips on each side:", ok.to_dict())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="tiny", choices=sorted(synth.PROFILES))
    parser.add_argument("--root", default="", help="existing benchmark root (default: a fresh temporary folder)")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--measure", action="store_true", help="also extract and tabulate acoustic properties")
    args = parser.parse_args()
    tmp = None
    if not args.root:
        tmp = tempfile.TemporaryDirectory(prefix="bench-synth-")
    root_arg = args.root or tmp.name
    wall, cpu = time.perf_counter(), _cpu_s()
    root = synth.generate(root=root_arg, config=SynthConfig(profile=args.profile, n_jobs=args.n_jobs),
                          progress=False)
    wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
    total_clips, total_h = 0, 0.0
    for corpus in synth.CORPORA:
        frame = synth.load(corpus, root)
        hours = frame["duration_s"].sum() / 3600
        total_clips += len(frame)
        total_h += hours
        print(f"{corpus:14s} {len(frame):6d} clips {hours:6.2f} h  {frame['sample_rate_hz'].iloc[0]:6d} Hz  "
              f"mean {frame['duration_s'].mean():.2f} s")
    audio_s = total_h * 3600
    print(f"{'total':14s} {total_clips:6d} clips {total_h:6.2f} h; generation wall {wall:.1f} s, CPU {cpu:.1f} s "
          f"on {os.cpu_count()} cores -> {audio_s / max(wall, 1e-9):.0f}x real time (wall), "
          f"{1000 * cpu / max(total_clips, 1):.0f} ms CPU per clip")
    if args.measure:
        measure(Path(root), args.n_jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
