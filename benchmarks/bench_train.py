"""Training throughput: cached embeddings (clapemo.train) vs a naive loop that re-encodes audio every step.

Same data, same head, same batch size, one run. The data are synthetic clips (2 s harmonic tones with noise at
16 kHz, one of 8 pitches each, paired with 8 class prompts); the audio encoder is the project's default offline
encoder (``clapemo.encoders``: whisper-tiny-layers) when it loads, else a documented stand-in
(log-mel spectrogram + a frozen random projection, mean-pooled: far *cheaper* than any real encoder, so the ratio
it gives is a lower bound). Text prompts are embedded once in both loops (re-encoding them is not the point).

Prints: the one-time embedding cost, steps/s of both loops, their ratio (target >= 20x), the time for 30 epochs
each way, and CPU steps/s of the head alone at the default sizes (d_audio 768 of the default whisper-tiny-layers,
d_text 384, projection 1024, batch 128) for 1 and 2 threads. Both loops run with ``--threads`` torch threads
(default 1).

Then the training step itself (issue 14), at the default sizes, one thread: steps/s of the step before the change
(every pair's clip and prompt projected; a copy of the old loop below) and after it (each distinct clip and prompt
of a batch projected once, ``CLAPHead.pair_logits``), for class-label pairs (8 distinct prompts) and augmented
pairs (80), and whether two runs of the new step give equal weights (determinism). First of all, the price of
portable numerics (issue 26): steps/s in portable float32 vs fast mode (this CPU's kernels) in float32 and
bfloat16, each measured in a process of its own mode, and the bytes one 30-epoch training writes with resume state
every epoch (the old rule) and at the default ``train.checkpoint_every_s``. Last, the wall time of a small plan of independent trainings of the
paper's 30 epochs run serially and through ``clapemo.executor.map_tasks`` with 2 worker processes (target >= 1.8x
on 2 cores), beside what starting the 2 workers costs and what 2 cores give at best on this machine.

Run: ``python benchmarks/bench_train.py [--encoder auto|stand-in] [--clips 128] [--naive-steps 1]
[--plan-runs 4] [--skip-encoder]`` (``make bench`` uses the defaults). ``--encoder stand-in`` gives a quick lower
bound.
"""

from __future__ import annotations

import clapemo  # noqa: F401  - first: its portable-numerics pins must precede NumPy and torch

import csv
import functools
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from clapemo import numerics, train
from clapemo.config import load_config, replace
from clapemo.loss import clip_loss
from clapemo.model import LOGIT_SCALE_MAX, CLAPHead

RATE_HZ = 16000
BATCH = 128
#: embedding sizes of the default encoders (whisper-tiny-layers, MiniLM): the sizes the training step runs at
D_AUDIO, D_TEXT = 768, 384
PITCHES_HZ = (110, 140, 170, 200, 230, 260, 290, 320)
PROMPTS = [f"prompt {i}" for i in range(len(PITCHES_HZ))]


def clips(rng: np.random.Generator, n_clips: int) -> tuple[list[np.ndarray], np.ndarray]:
    labels = rng.integers(0, len(PITCHES_HZ), n_clips)
    t = np.arange(int(2.0 * RATE_HZ)) / RATE_HZ
    waves = []
    for lab in labels:
        f0 = PITCHES_HZ[lab] * (1 + 0.02 * rng.standard_normal())
        x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6)) * 0.1
        waves.append((x + 0.01 * rng.standard_normal(t.size)).astype(np.float32))
    return waves, labels


class StandIn:
    """Log-mel (librosa) + frozen random projection to 384-d, mean over frames."""

    name, dim, sample_rate_hz = "stand-in log-mel+random projection", 384, RATE_HZ

    def __init__(self) -> None:
        self.w = np.random.default_rng(0).standard_normal((64, self.dim)).astype(np.float32) / 8

    def embed(self, waves: list[np.ndarray]) -> np.ndarray:
        import librosa

        out = []
        for x in waves:
            mel = librosa.feature.melspectrogram(y=x, sr=RATE_HZ, n_fft=400, hop_length=160, n_mels=64)
            out.append((np.log(mel + 1e-6).T @ self.w).mean(0))
        return np.stack(out).astype(np.float32)


def encoders_or_stand_in(config, which: str):
    if which == "stand-in":
        return StandIn(), np.random.default_rng(1).standard_normal((len(PROMPTS), 384)).astype(np.float32)
    try:
        from clapemo import encoders

        audio = encoders.audio_encoder(config.encoders)
        audio.embed([np.zeros(RATE_HZ, np.float32)])  # load and warm up
        text_emb = encoders.text_encoder(config.encoders).embed(PROMPTS)
        return audio, np.asarray(text_emb, np.float32)
    except Exception as err:  # noqa: BLE001 - the benchmark must run without the optional encoders
        print(f"(clapemo.encoders unavailable: {type(err).__name__}: {err}; using the stand-in encoder)")
        return StandIn(), np.random.default_rng(1).standard_normal((len(PROMPTS), 384)).astype(np.float32)


def naive_steps_per_s(audio_enc, waves, text_emb, labels, config, n_steps: int) -> float:
    """Re-encode the batch's audio every step, then the same head update as clapemo.train."""
    torch.manual_seed(0)
    tc = config.train
    head = CLAPHead(audio_enc.dim, text_emb.shape[1], projection_dim=tc.projection_dim, dropout=tc.dropout)
    opt = torch.optim.Adam(head.parameters(), lr=tc.learning_rate)
    g = torch.Generator().manual_seed(0)
    text_t = torch.from_numpy(text_emb)
    t0 = time.perf_counter()
    for _ in range(n_steps):
        idx = torch.randperm(len(waves), generator=g)[:BATCH].numpy()
        audio = torch.from_numpy(audio_enc.embed([waves[i] for i in idx]))
        lpa, lpt = head(audio, text_t[torch.from_numpy(labels[idx])])
        loss = clip_loss(lpa, lpt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            head.logit_scale.clamp_(0, LOGIT_SCALE_MAX)
    return n_steps / (time.perf_counter() - t0)


def cached_steps_per_s(audio_emb, text_emb, clip_index, text_index, config, epochs) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        run = train.fit_embeddings(audio_emb, text_emb, clip_index, text_index, config=config,
                                   run_dir=Path(tmp) / "run", progress=False)
        with open(run / "log.csv") as fh:
            seconds = sum(float(r["seconds"]) for r in csv.DictReader(fh))
    steps_per_epoch = len(clip_index) // BATCH + (len(clip_index) % BATCH >= 2)
    return epochs * steps_per_epoch / seconds


def old_step_steps_per_s(audio_emb, text_emb, clip_index, text_index, config, n_steps: int) -> float:
    """The training step before issue 14: project every pair's rows (duplicates included), float32."""
    torch.manual_seed(0)
    tc = config.train
    head = CLAPHead(audio_emb.shape[1], text_emb.shape[1], projection_dim=tc.projection_dim, dropout=tc.dropout)
    opt = torch.optim.Adam(head.parameters(), lr=tc.learning_rate, fused=True)
    audio_t, text_t = torch.from_numpy(audio_emb), torch.from_numpy(text_emb)
    clip_t, text_t_idx = torch.from_numpy(clip_index), torch.from_numpy(text_index)
    order = torch.randperm(len(clip_index), generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    for step in range(n_steps):
        idx = order[(step * BATCH) % (len(order) - BATCH):][:BATCH]
        lpa, lpt = head(audio_t[clip_t[idx]], text_t[text_t_idx[idx]])
        loss = clip_loss(lpa, lpt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            head.logit_scale.clamp_(0, LOGIT_SCALE_MAX)
    return n_steps / (time.perf_counter() - t0)


def step_comparison(config, rng: np.random.Generator) -> None:
    n_clips = BATCH * 20
    audio = rng.standard_normal((n_clips, D_AUDIO)).astype(np.float32)
    epochs = 2
    for name, n_texts, per_clip in (("class-label pairs", 8, 1), ("augmented pairs (5 per clip)", 80, 5)):
        text = rng.standard_normal((n_texts, D_TEXT)).astype(np.float32)
        clip_index = np.repeat(np.arange(n_clips), per_clip)
        text_index = rng.integers(0, n_texts, len(clip_index))
        steps = epochs * (len(clip_index) // BATCH)
        with numerics.blas_products():
            before = old_step_steps_per_s(audio, text, clip_index, text_index, config, steps)
        after = cached_steps_per_s(audio, text, clip_index, text_index, replace(config, **{
            "train.epochs": epochs, "train.num_threads": 1}), epochs)
        print(f"training step ({numerics.mode()} numerics), {name}: before {before:.1f} steps/s; after: distinct "
              f"rows once {after:.1f} steps/s ({after / before:.2f}x)", flush=True)
    # determinism of the new step: two runs, equal weights
    text = rng.standard_normal((8, D_TEXT)).astype(np.float32)
    ci, ti = np.arange(n_clips), rng.integers(0, 8, n_clips)
    cfg = replace(config, **{"train.epochs": 1, "train.num_threads": 1})
    with tempfile.TemporaryDirectory() as tmp:
        runs = [train.fit_embeddings(audio, text, ci, ti, config=cfg, run_dir=Path(tmp) / f"r{i}",
                                     progress=False) for i in range(2)]
        same = (runs[0] / "checkpoint.pt").read_bytes() == (runs[1] / "checkpoint.pt").read_bytes()
    print(f"deterministic: two runs give byte-identical checkpoints: {same}")


def _written_bytes() -> int:
    """Bytes this process has passed to write() so far (Linux /proc/self/io ``wchar``); -1 elsewhere."""
    try:
        with open("/proc/self/io") as fh:
            return int(next(line for line in fh if line.startswith("wchar")).split()[1])
    except (OSError, StopIteration):
        return -1


def numerics_child(precision: str) -> dict:
    """In a process of one numerics mode: training steps/s at the default sizes (class-label and augmented
    pairs) and the bytes one 30-epoch training writes, with resume state every epoch (the old rule) and at most
    every ``train.checkpoint_every_s`` (the default)."""
    rng = np.random.default_rng(0)
    config = replace(load_config(None), **{"train.batch_size": BATCH, "train.device": "cpu", "train.num_threads": 1,
                                           "train.precision": precision})
    n_clips = BATCH * 20
    audio = rng.standard_normal((n_clips, D_AUDIO)).astype(np.float32)
    out: dict = {}
    for name, n_texts, per_clip in (("class_label", 8, 1), ("augmented", 80, 5)):
        text = rng.standard_normal((n_texts, D_TEXT)).astype(np.float32)
        clip_index = np.repeat(np.arange(n_clips), per_clip)
        out[name] = cached_steps_per_s(audio, text, clip_index, rng.integers(0, n_texts, len(clip_index)),
                                       replace(config, **{"train.epochs": 2}), 2)
    text = rng.standard_normal((8, D_TEXT)).astype(np.float32)
    small = BATCH * 4
    for key, every_s in (("bytes_every_epoch", 0.0), ("bytes_default", None)):
        cfg = replace(config, **{"train.epochs": 30, **({} if every_s is None else
                                                       {"train.checkpoint_every_s": every_s})})
        with tempfile.TemporaryDirectory() as tmp:
            before = _written_bytes()
            train.fit_embeddings(audio[:small], text, np.arange(small), rng.integers(0, 8, small), config=cfg,
                                 run_dir=Path(tmp) / "run", progress=False)
            out[key] = _written_bytes() - before
    return out


def numerics_comparison() -> None:
    """Portable float32 vs fast (this CPU's kernels) float32 and bfloat16: steps/s, and bytes per training."""
    import json
    import os
    import subprocess
    import sys

    results = {}
    for mode, precision in (("portable", "float32"), ("fast", "float32"), ("fast", "bfloat16")):
        proc = subprocess.run([sys.executable, __file__, "--numerics-child", precision], capture_output=True,
                              text=True, env={**os.environ, numerics.MODE_ENV: mode}, check=True)
        results[(mode, precision)] = json.loads(proc.stdout.strip().splitlines()[-1])
    portable = results[("portable", "float32")]
    for kind in ("class_label", "augmented"):
        cells = ", ".join(f"{m} {p} {r[kind]:.1f}" for (m, p), r in results.items())
        print(f"training steps/s, {kind} pairs (one thread, default sizes): {cells}; fast bfloat16 / portable "
              f"{results[('fast', 'bfloat16')][kind] / portable[kind]:.2f}x", flush=True)
    print(f"bytes one 30-epoch training writes: resume state every epoch {portable['bytes_every_epoch'] / 1e6:.1f} "
          f"MB, at most every train.checkpoint_every_s (default) {portable['bytes_default'] / 1e6:.1f} MB "
          f"({portable['bytes_every_epoch'] / max(portable['bytes_default'], 1):.0f}x less)", flush=True)


def _matmul_seconds(n: int) -> float:
    torch.set_num_threads(1)
    a, b = torch.randn(512, 1024), torch.randn(1024, 1024)
    t0 = time.perf_counter()
    for _ in range(n):
        a @ b
    return time.perf_counter() - t0


def matmul_scaling(n: int = 200) -> float:
    """Throughput of 2 one-thread processes over 1, on pure matrix products: what 2 cores give at best here."""
    from clapemo.executor import map_tasks

    one = _matmul_seconds(n)
    both = map_tasks(_matmul_seconds, [n, n], n_workers=2, progress=False)  # timed inside: no pool start
    return 2 * one / max(both)


def plan_task(seed: int, *, root: str, n_pairs: int, epochs: int) -> int:
    """One training of a plan (module level: worker processes import it); returns its checkpoint size."""
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal((n_pairs, D_AUDIO)).astype(np.float32)
    text = rng.standard_normal((64, D_TEXT)).astype(np.float32)
    cfg = replace(load_config(None), **{"train.batch_size": BATCH, "train.device": "cpu", "train.num_threads": 1,
                                        "train.epochs": epochs, "train.seed": seed})
    run = train.fit_embeddings(audio, text, np.arange(n_pairs), rng.integers(0, 64, n_pairs), config=cfg,
                               run_dir=Path(root) / f"run{seed}", progress=False)
    return (run / "checkpoint.pt").stat().st_size


def _import_train(i: int) -> int:
    import clapemo.train  # noqa: F401  (what a plan's worker imports first)

    return i


def plan_comparison(n_runs: int, epochs: int = 30) -> None:
    from clapemo.executor import map_tasks

    t0 = time.perf_counter()
    map_tasks(_import_train, range(2), n_workers=2, progress=False)
    start_s = time.perf_counter() - t0
    times = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            task = functools.partial(plan_task, root=tmp, n_pairs=BATCH * 30, epochs=epochs)
            t0 = time.perf_counter()
            map_tasks(task, range(n_runs), n_workers=workers, progress=False)
            times[workers] = time.perf_counter() - t0
    print(f"plan of {n_runs} trainings ({epochs} epochs of {BATCH * 30} pairs each): serial {times[1]:.1f} s, "
          f"2 workers {times[2]:.1f} s, speed-up {times[1] / times[2]:.2f}x   (target >= 1.8x on 2 cores)")
    print(f"  (starting 2 workers and importing the training module: {start_s:.1f} s of the parallel wall time)")
    print(f"  (the machine's ceiling: 2 processes of one-thread matrix products vs 1: {matmul_scaling():.2f}x)")


def run_folder_sizes() -> None:
    """Bytes of a finished run folder (default sizes) with and without the optimizer state in checkpoint.pt."""
    rng = np.random.default_rng(0)
    n = BATCH * 4
    cfg = replace(load_config(None), **{"train.batch_size": BATCH, "train.device": "cpu", "train.num_threads": 1,
                                        "train.epochs": 1})
    with tempfile.TemporaryDirectory() as tmp:
        run = train.fit_embeddings(rng.standard_normal((n, D_AUDIO)).astype(np.float32),
                                   rng.standard_normal((8, D_TEXT)).astype(np.float32), np.arange(n),
                                   rng.integers(0, 8, n), config=cfg, run_dir=Path(tmp) / "run", progress=False)
        after = sum(p.stat().st_size for p in run.iterdir())
        ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
        head = CLAPHead(D_AUDIO, D_TEXT, projection_dim=1024)
        opt = torch.optim.Adam(head.parameters(), fused=True)
        head(torch.zeros(2, D_AUDIO), torch.zeros(2, D_TEXT))[0].sum().backward()
        opt.step()  # creates the Adam moments the unfinished checkpoint carries
        ckpt["optimizer"] = opt.state_dict()
        torch.save(ckpt, Path(tmp) / "with_optimizer.pt")
        before = after - (run / "checkpoint.pt").stat().st_size + (Path(tmp) / "with_optimizer.pt").stat().st_size
    print(f"finished run folder (projection 1024, d_audio {D_AUDIO}, d_text {D_TEXT}): with optimizer state "
          f"{before / 1e6:.1f} MB, weights only {after / 1e6:.1f} MB")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", choices=("auto", "stand-in"), default="auto")
    parser.add_argument("--clips", type=int, default=128)
    parser.add_argument("--naive-steps", type=int, default=1)
    parser.add_argument("--plan-runs", type=int, default=4, help="trainings in the serial-vs-parallel plan")
    parser.add_argument("--skip-encoder", action="store_true",
                        help="skip the cached-vs-naive comparison (the step, plan and size parts only)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both loops (0 = torch's default); 1 is fastest on a busy machine")
    parser.add_argument("--numerics-child", default=None, help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.numerics_child:
        import json

        print(json.dumps(numerics_child(ns.numerics_child)))
        return
    if ns.threads:
        torch.set_num_threads(ns.threads)
    config = replace(load_config(None), **{"train.batch_size": BATCH, "train.device": "cpu",
                                           "train.num_threads": ns.threads})
    rng = np.random.default_rng(0)
    numerics_comparison()
    if ns.skip_encoder:
        step_comparison(config, rng)
        plan_comparison(ns.plan_runs)
        run_folder_sizes()
        return
    waves, labels = clips(rng, ns.clips)
    audio_enc, text_emb = encoders_or_stand_in(config, ns.encoder)
    print(f"audio encoder: {audio_enc.name} ({audio_enc.dim}-d); {ns.clips} clips of 2 s; batch {BATCH}; "
          f"torch threads {torch.get_num_threads()}", flush=True)

    t0 = time.perf_counter()
    audio_emb = audio_enc.embed(waves)  # the one-time cost (the disk cache makes it once per clip, ever)
    embed_s = time.perf_counter() - t0
    # the cached loop sees exactly the same pairs: one per clip per epoch
    epochs = 40
    cached = cached_steps_per_s(audio_emb, text_emb, np.arange(ns.clips), labels,
                                replace(config, **{"train.epochs": epochs}), epochs)
    naive = naive_steps_per_s(audio_enc, waves, text_emb, labels, config, ns.naive_steps)
    steps_30 = 30 * max(ns.clips // BATCH, 1)
    print(f"one-time embedding of {ns.clips} clips: {embed_s:.2f} s ({ns.clips / embed_s:.1f} clips/s)")
    print(f"cached embeddings : {cached:10.1f} steps/s")
    print(f"naive re-encoding : {naive:10.4f} steps/s ({ns.naive_steps} step(s))")
    print(f"ratio cached/naive: {cached / naive:10.0f}x   (target >= 20x)")
    print(f"30 epochs of these pairs: cached {embed_s + steps_30 / cached:.1f} s incl. the one-time embedding, "
          f"naive {steps_30 / naive:.1f} s", flush=True)

    # head-only CPU throughput at the default sizes
    n = BATCH * 40
    a = rng.standard_normal((n, D_AUDIO)).astype(np.float32)
    t = rng.standard_normal((64, D_TEXT)).astype(np.float32)
    ti = rng.integers(0, 64, n)
    for threads in (1, 2):
        cfg = replace(config, **{"train.epochs": 2, "train.num_threads": threads})
        sps = cached_steps_per_s(a, t, np.arange(n), ti, cfg, 2)
        label = f"{threads} thread(s)"
        print(f"head only, d_audio={D_AUDIO} d_text={D_TEXT} projection=1024 batch {BATCH}, {label}: "
              f"{sps:.0f} steps/s")
    step_comparison(config, rng)
    plan_comparison(ns.plan_runs)
    run_folder_sizes()


if __name__ == "__main__":
    main()
