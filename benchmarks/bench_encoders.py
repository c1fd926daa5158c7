"""Benchmark of the frozen encoders (``make bench``): throughput, cache hit vs miss, and a linear probe.

1. Throughput on CPU (or the configured device): clips/s and real-time factor (audio seconds per wall second)
   for whisper-tiny, resemblyzer and cnn14 (random weights: same cost as trained ones) on synthetic 3 s clips.
2. Cache: ``embed_audio`` on a manifest of wav files, first call (miss: load + encode + write) vs second call
   (hit: hash + read), printed as a ratio.
3. ``--probe``: emotion linear probe (logistic regression on standardised embeddings, speaker-independent
   5-fold GroupKFold) on a synthetic corpus, one row per audio encoder: the evidence for the default encoder.

Usage::

    python benchmarks/bench_encoders.py                       # 1 + 2
    python benchmarks/bench_encoders.py --probe --synth-root data/synth --profile default --corpus synth-cremad
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from clapemo import encoders as E  # noqa: E402
from clapemo.config import EncodersConfig  # noqa: E402

AUDIO = ("whisper-tiny", "resemblyzer", "cnn14")


def _clip(rate: int, duration_s: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * rate)) / rate
    f0 = rng.uniform(100, 250) * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 8))
    return (0.1 * voiced * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t) ** 2)
            + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


def throughput(n_clips: int, duration_s: float, device: str) -> None:
    print(f"## throughput: {n_clips} clips of {duration_s:g} s, device={device}, torch threads="
          f"{__import__('torch').get_num_threads()}")
    print(f"{'encoder':<14}{'dim':>6}{'load s':>9}{'clips/s':>10}{'RTF (x real time)':>20}")
    for name in AUDIO:
        cfg = EncodersConfig(audio=name, allow_random_weights=True, device=device, batch_size=8)
        t0 = time.perf_counter()
        enc = E.audio_encoder(cfg)
        load_s = time.perf_counter() - t0
        clips = [_clip(enc.sample_rate_hz, duration_s, i) for i in range(n_clips)]
        enc.embed(clips[:1])  # warm-up
        t0 = time.perf_counter()
        enc.embed(clips)
        wall = time.perf_counter() - t0
        print(f"{name:<14}{enc.dim:>6}{load_s:>9.2f}{n_clips / wall:>10.2f}{n_clips * duration_s / wall:>20.1f}")
    t0 = time.perf_counter()
    tenc = E.text_encoder(EncodersConfig(device=device))
    prompts = [f"{a} {b} {c}" for a in ("low", "high") for b in ("pitch", "intensity", "speech rate")
               for c in ("angry", "sad", "happy", "neutral", "fearful", "disgust")] * 2
    tenc.embed(prompts[:2])
    t1 = time.perf_counter()
    tenc.embed(prompts)
    print(f"{'minilm (text)':<14}{tenc.dim:>6}{t1 - t0:>9.2f}{len(prompts) / (time.perf_counter() - t1):>10.1f}"
          f"{'(texts/s)':>20}")


def cache(n_clips: int, duration_s: float, name: str, device: str) -> None:
    import pandas as pd
    import soundfile as sf

    with tempfile.TemporaryDirectory() as tmp:
        rate = 16000
        paths = []
        for i in range(n_clips):
            p = Path(tmp) / f"c{i}.wav"
            sf.write(p, _clip(rate, duration_s, 100 + i), rate)
            paths.append(str(p))
        manifest = pd.DataFrame({"path": paths})
        cfg = EncodersConfig(audio=name, allow_random_weights=True, device=device, cache_dir=str(Path(tmp) / "c"))
        E.audio_encoder(cfg)  # load outside the timing
        t0 = time.perf_counter()
        first = E.embed_audio(manifest, cfg, progress=False)
        miss = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = E.embed_audio(manifest, cfg, progress=False)
        hit = time.perf_counter() - t0
        assert np.array_equal(first, second)
    print(f"## cache ({name}, {n_clips} wav clips of {duration_s:g} s): miss {miss:.2f} s "
          f"({n_clips / miss:.1f} clips/s), hit {hit:.3f} s ({n_clips / hit:.0f} clips/s): "
          f"hit is {miss / hit:.0f}x faster")


def probe(synth_root: str, profile: str, corpus: str, encoders: list[str], cache_dir: str, device: str,
          max_clips: int = 0) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from clapemo import synth

    manifest = synth.load(corpus, Path(synth_root) / profile)
    manifest = manifest[manifest["label"].notna()].reset_index(drop=True)
    if max_clips and len(manifest) > max_clips:  # evenly spaced rows: every speaker and label stays in
        manifest = manifest.iloc[np.linspace(0, len(manifest) - 1, max_clips).round().astype(int)]
        manifest = manifest.reset_index(drop=True)
    y = manifest["label"].to_numpy()
    groups = manifest["speaker"].to_numpy()
    labels = sorted(set(y))
    print(f"## linear probe: {corpus} ({profile}), {len(y)} clips, {len(set(groups))} speakers, "
          f"{len(labels)} classes (chance {1 / len(labels):.3f}); 5-fold GroupKFold by speaker")
    print(f"{'encoder':<14}{'dim':>6}{'accuracy':>10}{'UA':>8}{'+-':>7}{'embed s':>9}")
    for name in encoders:
        cfg = EncodersConfig(audio=name, allow_random_weights=True, device=device, cache_dir=cache_dir)
        t0 = time.perf_counter()
        x = E.embed_audio(manifest, cfg, progress=False)
        embed_s = time.perf_counter() - t0
        accs, uas = [], []
        for train, test in GroupKFold(n_splits=5).split(x, y, groups):
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.1))
            clf.fit(x[train], y[train])
            pred = clf.predict(x[test])
            accs.append(float(np.mean(pred == y[test])))
            uas.append(float(balanced_accuracy_score(y[test], pred)))
        print(f"{name:<14}{x.shape[1]:>6}{np.mean(accs):>10.3f}{np.mean(uas):>8.3f}{np.std(uas):>7.3f}"
              f"{embed_s:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=3.0)
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--probe", action="store_true", help="run the linear probe instead of 1 + 2")
    parser.add_argument("--synth-root", default="data/synth")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--corpus", default="synth-cremad")
    parser.add_argument("--encoders", nargs="+", default=list(AUDIO))
    parser.add_argument("--cache-dir", default="data/cache/embeddings")
    parser.add_argument("--max-clips", type=int, default=0, help="probe on an evenly spaced subset (0 = all)")
    args = parser.parse_args()
    if args.probe:
        probe(args.synth_root, args.profile, args.corpus, args.encoders, args.cache_dir, args.device, args.max_clips)
        return
    throughput(args.clips, args.duration_s, args.device)
    cache(args.clips * 4, args.duration_s, "resemblyzer", args.device)


if __name__ == "__main__":
    main()
