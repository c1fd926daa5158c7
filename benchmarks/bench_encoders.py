"""Benchmark of the frozen encoders (``make bench``): throughput, cache hit vs miss, and a linear probe.

1. Throughput on CPU (or the configured device): clips/s and real-time factor (audio seconds per wall second)
   for whisper-tiny-layers (the default), whisper-tiny, resemblyzer, cnn14 (random weights: same cost as
   trained ones) and the eGeMAPS functionals on synthetic 3 s clips.
2. Whisper's front end: the log-mel input of the encoder context only (:func:`clapemo.encoders.whisper.log_mel`)
   vs the feature extractor's 30 s padded spectrogram cut to the context (the path before), on its own and inside
   the default encoder; the features are asserted bitwise equal.
3. Cache: ``embed_audio`` on a manifest of wav files, first call (miss: load + encode + write) vs second call
   (hit: hash + read), printed as a ratio.
4. ``--probe``: how the default audio representation is chosen. :func:`clapemo.probe.validation_probe` (a
   speaker-independent validation split carved from each corpus's *train* split; the test splits are never
   read) over every candidate of :data:`clapemo.probe.AUDIO_CANDIDATES` and the appended ones of
   :data:`clapemo.probe.APPENDED_CANDIDATES` (the default + eGeMAPS functionals), each also centred per
   speaker, for three validation draws; prints the accuracy per corpus, the mean, the lowest and highest draw,
   and each candidate's clips/s on the benchmark's own clips (embedding-cache misses only; run on a cold cache
   for speed).

Usage::

    python benchmarks/bench_encoders.py                       # 1 + 2 + 3
    python benchmarks/bench_encoders.py --probe --synth-root data/synth --profile default
"""

from __future__ import annotations

import clapemo  # noqa: F401  - first: its portable-numerics pins must precede NumPy and torch

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

AUDIO = ("whisper-tiny-layers", "whisper-tiny", "resemblyzer", "cnn14", "egemaps")


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
    print(f"{'encoder':<20}{'dim':>6}{'load s':>9}{'clips/s':>10}{'RTF (x real time)':>20}")
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
        print(f"{name:<20}{enc.dim:>6}{load_s:>9.2f}{n_clips / wall:>10.2f}{n_clips * duration_s / wall:>20.1f}")
    t0 = time.perf_counter()
    tenc = E.text_encoder(EncodersConfig(device=device))
    prompts = [f"{a} {b} {c}" for a in ("low", "high") for b in ("pitch", "intensity", "speech rate")
               for c in ("angry", "sad", "happy", "neutral", "fearful", "disgust")] * 2
    tenc.embed(prompts[:2])
    t1 = time.perf_counter()
    tenc.embed(prompts)
    print(f"{'minilm (text)':<20}{tenc.dim:>6}{t1 - t0:>9.2f}{len(prompts) / (time.perf_counter() - t1):>10.1f}"
          f"{'(texts/s)':>20}")


def _log_mel_padded(features, chunks, seconds):
    """The path before :func:`clapemo.encoders.whisper.log_mel`: the 30 s padded spectrogram, cut."""
    feats = features(chunks, sampling_rate=16000, return_tensors="np").input_features
    return np.ascontiguousarray(feats[:, :, :seconds * 100], dtype=np.float32)


def front_end(n_clips: int, duration_s: float, device: str, repeats: int = 3) -> None:
    from unittest import mock

    from clapemo.encoders import whisper, whisper_torch

    enc = E.audio_encoder(EncodersConfig(audio="whisper-tiny-layers", device=device, batch_size=8))
    clips = [_clip(16000, duration_s, 200 + i) for i in range(n_clips)]
    seconds = enc.context_s(len(clips[0]))
    assert np.array_equal(whisper.log_mel(enc.features, clips, seconds),
                          _log_mel_padded(enc.features, clips, seconds))

    def best(fn) -> float:
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    ours = best(lambda: whisper.log_mel(enc.features, clips, seconds))
    before = best(lambda: _log_mel_padded(enc.features, clips, seconds))
    enc_ours = best(lambda: enc.embed(clips))
    with mock.patch.object(whisper_torch, "log_mel", _log_mel_padded):
        enc_before = best(lambda: enc.embed(clips))
    print(f"## whisper front end ({n_clips} clips of {duration_s:g} s, context {seconds} s, best of {repeats}; "
          f"features bitwise equal)")
    print(f"log-mel of the context: {1e3 * ours / n_clips:.1f} ms/clip vs 30 s padded then cut "
          f"{1e3 * before / n_clips:.1f} ms/clip -> {before / ours:.1f}x")
    print(f"whisper-tiny-layers embed: {n_clips / enc_ours:.1f} clips/s vs {n_clips / enc_before:.1f} clips/s "
          f"with the padded front end -> {enc_before / enc_ours:.2f}x")


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


def probe(synth_root: str, profile: str, corpora: list[str], cache_dir: str, device: str,
          seeds: list[int]) -> None:
    import dataclasses

    import pandas as pd

    from clapemo import probe as P
    from clapemo.config import resolve_config

    config = resolve_config("configs/base.yaml", overrides=[
        f"data.synth_root={synth_root}", f"synth.profile={profile}", f"encoders.cache_dir={cache_dir}",
        f"encoders.device={device}"])
    candidates = P.candidate_encoders(config)
    # embed each candidate once (timed: cache misses are the encoder's speed), then probe from the cache
    from clapemo import corpora as C

    clips = pd.concat([C.manifest(c, config, split="train") for c in corpora], ignore_index=True)
    clips = clips[clips["label"].notna()].reset_index(drop=True)
    speed = {}
    for name, enc in candidates.items():
        if enc.speaker_centring:
            continue
        start = time.perf_counter()
        E.embed_audio(clips, dataclasses.replace(enc, speaker_centring=False), progress=False)
        speed[name] = len(clips) / (time.perf_counter() - start)
    representations = dict(candidates)
    for name, parts in P.APPENDED_CANDIDATES.items():  # e.g. the default + eGeMAPS functionals
        for centred in (False, True):
            label = name + (", centred per speaker" if centred else "")
            representations[label] = P.concatenation([candidates[p] for p in parts], speaker_centring=centred)
    rows = pd.concat([P.validation_probe(corpora=corpora, config=config, representations=representations,
                                         seed=seed).assign(seed=seed) for seed in seeds], ignore_index=True)
    wide = rows.pivot_table(index="representation", columns="corpus", values="accuracy", sort=False)
    wide = wide.reindex(list(representations))
    per_draw = rows.groupby(["representation", "seed"], sort=False)["accuracy"].mean().unstack()
    wide["mean"] = wide.mean(axis=1)
    wide["lowest draw"] = per_draw.min(axis=1)
    wide["highest draw"] = per_draw.max(axis=1)
    wide["clips/s (cache miss)"] = [speed.get(name.removesuffix(", centred per speaker"), np.nan)
                                    for name in wide.index]
    sizes = rows.drop_duplicates(["corpus", "seed"]).groupby("corpus")[["n_train", "n_test"]].mean()
    print(f"## validation probe ({profile}): seeds {seeds}; fit / validation clips per corpus (mean over draws):")
    print(sizes.round(0).to_string())
    print(wide.round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=3.0)
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--probe", action="store_true", help="run the linear probe instead of 1 + 2")
    parser.add_argument("--synth-root", default="data/synth")
    parser.add_argument("--profile", default="default")
    parser.add_argument("--corpora", nargs="+", default=["ravdess", "cremad", "iemocap", "meld"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="validation draws")
    parser.add_argument("--cache-dir", default="data/cache/embeddings")
    args = parser.parse_args()
    if args.probe:
        probe(args.synth_root, args.profile, args.corpora, args.cache_dir, args.device, args.seeds)
        return
    throughput(args.clips, args.duration_s, args.device)
    front_end(args.clips * 4, args.duration_s, args.device)
    cache(args.clips * 4, args.duration_s, "resemblyzer", args.device)


if __name__ == "__main__":
    main()
