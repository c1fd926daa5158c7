"""Training throughput: cached embeddings (clapemo.train) vs a naive loop that re-encodes audio every step.

Same data, same head, same batch size, one run. The data are synthetic clips (2 s harmonic tones with noise at
16 kHz, one of 8 pitches each, paired with 8 class prompts); the audio encoder is the project's default offline
encoder (``clapemo.encoders``, whisper-tiny through CTranslate2) when it loads, else a documented stand-in
(log-mel spectrogram + a frozen random projection, mean-pooled: far *cheaper* than any real encoder, so the ratio
it gives is a lower bound). Text prompts are embedded once in both loops (re-encoding them is not the point).

Prints: the one-time embedding cost, steps/s of both loops, their ratio (target >= 20x), the time for 30 epochs
each way, and CPU steps/s of the head alone at the default sizes (d_audio 384, d_text 384, projection 1024,
batch 128) for 1 and 2 threads. Both loops run with ``--threads`` torch threads (default 1).

Run: ``python benchmarks/bench_train.py [--encoder auto|stand-in] [--clips 128] [--naive-steps 1]``
(``make bench`` uses the defaults). ``--encoder stand-in`` gives a quick lower bound.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from clapemo import train
from clapemo.config import load_config, replace
from clapemo.loss import clip_loss
from clapemo.model import LOGIT_SCALE_MAX, CLAPHead

RATE_HZ = 16000
BATCH = 128
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


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", choices=("auto", "stand-in"), default="auto")
    parser.add_argument("--clips", type=int, default=128)
    parser.add_argument("--naive-steps", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both loops (0 = torch's default); 1 is fastest on a busy machine")
    ns = parser.parse_args()
    if ns.threads:
        torch.set_num_threads(ns.threads)
    config = replace(load_config(None), **{"train.batch_size": BATCH, "train.device": "cpu",
                                           "train.num_threads": ns.threads})
    rng = np.random.default_rng(0)
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
    a = rng.standard_normal((n, 384)).astype(np.float32)
    t = rng.standard_normal((64, 384)).astype(np.float32)
    ti = rng.integers(0, 64, n)
    for threads in (1, 2):
        cfg = replace(config, **{"train.epochs": 2, "train.num_threads": threads})
        sps = cached_steps_per_s(a, t, np.arange(n), ti, cfg, 2)
        label = f"{threads} thread(s)"
        print(f"head only, d_audio=384 d_text=384 projection=1024 batch {BATCH}, {label}: {sps:.0f} steps/s")


if __name__ == "__main__":
    main()
