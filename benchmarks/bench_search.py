"""Benchmark of clapemo.search: index throughput (clips/s) and query latency at 10,000 clips.

1. **Index throughput**: ``--clips`` speech-like clips of ``--seconds`` s are indexed with an untrained run (epochs
   0; its speed is that of a trained one) on the default encoders, with empty caches (cold: decode, Whisper,
   the four properties), then indexed again unchanged (warm: only content digests) and after one file changed.
2. **Query latency**: an index of ``--items`` clips with random unit embeddings (the speed of search does not
   depend on what the vectors mean) at the paper's projection width 1024, searched with 1 and 5 queries, k = 10,
   warm (the run and the text encoder loaded, the query texts in the embedding cache): ``load_index`` from disk,
   the whole ``search`` call, and its matmul + top-k alone beside a full ``argsort`` of the scores.

Prints the numbers and ratios measured in this one run. Run: ``make bench`` or
``python benchmarks/bench_search.py [--clips 48] [--items 10000]``.
"""

from __future__ import annotations

import clapemo  # noqa: F401  - first: its portable-numerics pins must precede NumPy and torch

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_features import speech_like


def _config(tmp: Path, projection_dim: int):
    from clapemo.config import load_config, replace

    return replace(load_config(None), **{
        "features.cache_dir": str(tmp / "cache" / "features"), "encoders.cache_dir": str(tmp / "cache" / "emb"),
        "encoders.device": "cpu", "train.device": "cpu", "train.epochs": 0, "train.projection_dim": projection_dim,
        "train.runs_dir": str(tmp / "runs")})


def _untrained_run(tmp: Path, projection_dim: int, name: str) -> Path:
    from clapemo import encoders, train

    cfg = _config(tmp, projection_dim)
    d_audio = encoders.audio_encoder(cfg.encoders).dim
    d_text = encoders.embed_texts(["x"], cfg.encoders).shape[1]
    rng = np.random.default_rng(0)
    return train.fit_embeddings(rng.normal(size=(4, d_audio)), rng.normal(size=(2, d_text)), np.arange(4),
                                np.arange(4) % 2, config=cfg, run_dir=tmp / "runs" / name, progress=False)


def bench_index(tmp: Path, *, clips: int, seconds: float) -> None:
    import soundfile as sf

    from clapemo import search

    rng = np.random.default_rng(0)
    folder = tmp / "audio"
    folder.mkdir()
    for i in range(clips):
        sf.write(str(folder / f"c{i:04d}.wav"), speech_like(rng, duration_s=seconds, rate_hz=16000), 16000)
    run = _untrained_run(tmp, 1024, "index-run")
    from clapemo.train import load_run

    model = load_run(run)
    times = {}
    for label, action in (("cold", None), ("unchanged", None), ("one changed", "change")):
        if action == "change":
            sf.write(str(folder / "c0000.wav"), speech_like(rng, duration_s=seconds, rate_hz=16000), 16000)
        t0 = time.perf_counter()
        idx = search.index(folder, run=model, output=tmp / "index", progress=False)
        times[label] = time.perf_counter() - t0
        print(f"index {label:>11}: {clips} clips in {times[label]:.2f} s = {clips / times[label]:.1f} clips/s "
              f"(embedded {idx.meta['last_run']['embedded']}, errors {idx.meta['n_errors']})")
    audio_s = clips * seconds
    print(f"index cold: {audio_s / times['cold']:.1f} s of audio per wall second; a re-run of an unchanged folder "
          "is "
          f"{times['cold'] / times['unchanged']:.0f}x faster than the first")


def bench_query(tmp: Path, *, items: int, repeats: int) -> None:
    import pandas as pd

    from clapemo import search

    run = _untrained_run(tmp, 1024, "query-run")
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(items, 1024)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    records = [{c: None for c in search.ENTRY_COLUMNS} for _ in range(items)]
    for i, rec in enumerate(records):
        rec.update(utterance_id=f"clip{i:05d}", path=f"/nowhere/clip{i:05d}.wav", sha256=f"{i:064x}",
                   duration_s=3.0, description="high male pitch, low intensity")
    out = tmp / "big-index"
    meta = {"format": search.INDEX_FORMAT, "run_id": run.name, "run_dir": str(run), "dim": 1024, "parts": []}
    meta["parts"].append(search.write_part(out, emb, records))  # the index's own writer; no audio needed
    search.write_meta(out, meta)

    t0 = time.perf_counter()
    idx = search.load_index(out)
    load_s = time.perf_counter() - t0
    one, five = ["high pitch anger"], ["high pitch anger", "low intensity sad", "high speech rate happy",
                                       "low male pitch neutral", "high female pitch fear"]
    t0 = time.perf_counter()
    idx.search(five, k=10)  # first call: loads the run and the text encoder, fills the text cache
    first_s = time.perf_counter() - t0

    def timed(fn) -> float:
        samples = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return statistics.median(samples)

    search_1 = timed(lambda: idx.search(one, k=10))
    search_5 = timed(lambda: idx.search(five, k=10))
    q = idx.embed_queries(five)
    topk = timed(lambda: search.top_k(q @ idx.embeddings.T, 10))
    argsort = timed(lambda: np.argsort(-(q @ idx.embeddings.T), axis=1, kind="stable")[:, :10])
    embed = timed(lambda: idx.embed_queries(five))
    assert isinstance(idx.table, pd.DataFrame)
    print(f"query, {items} clips x 1024: load_index {load_s * 1e3:.0f} ms; first search (loads the run; the text "
          f"encoder is already loaded by the index part) {first_s:.2f} s")
    print(f"query warm (median of {repeats}): 1 query {search_1 * 1e3:.1f} ms, 5 queries {search_5 * 1e3:.1f} ms "
          f"({search_1 * 5 / search_5:.1f}x cheaper per query together); of which query embedding "
          f"{embed * 1e3:.1f} "
          f"ms, matmul + top-k {topk * 1e3:.2f} ms vs matmul + full argsort {argsort * 1e3:.2f} ms "
          f"({argsort / topk:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=48, help="clips indexed for the throughput")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each clip")
    parser.add_argument("--items", type=int, default=10_000, help="clips in the query-latency index")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_index(Path(tmp), clips=args.clips, seconds=args.seconds)
        bench_query(Path(tmp), items=args.items, repeats=args.repeats)


if __name__ == "__main__":
    main()
