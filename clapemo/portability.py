"""Proof that the numbers travel: a micro slice of the pipeline, run here and on an emulated older CPU.

:func:`slice_digests` runs every kind of computation the book's numbers go through, at a size an emulator can
afford: the acoustic properties of two short clips (Praat through parselmouth, NumPy), one forward pass of the
default audio encoder (torch, oneDNN, OpenBLAS), of the earlier one (CTranslate2 int8) and of the text encoder, a
few training steps of a small CLAP head (Adam, dropout, the symmetric loss) written and read back as a run, the
retrieval and SER metrics of its similarities, a paired bootstrap, and a scikit-learn probe (OpenBLAS). It returns
the sha256 of each result's bytes, with a few values to read.

:func:`compare` runs that slice in a fresh Python natively and under ``qemu-x86_64 -cpu <model>`` (Debian's
``qemu-user``), which presents an older x86-64 to the process: torch then reports AVX2 and NumPy X86_V3 whatever
this machine has (AVX-512, AMX). With :mod:`clapemo.numerics`' portable pins both must give the same bits;
``clapemo portability`` prints stage by stage and exits 1 when any differs, ``make portability`` runs it and a
slow test asserts it. Emulated vector code runs ~7,000x slower, so the slice is sized to a few minutes there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from clapemo.errors import ClapEmoError, ParameterError

__all__ = ["STAGES", "test_signal", "slice_digests", "compare", "cli"]

#: the stages of the slice, in order
STAGES = ("features", "audio_encoder", "ct2_encoder", "text_encoder", "training", "metrics", "bootstrap", "probe")
_RATE_HZ = 16000


def test_signal(*, f0_hz: float, duration_s: float = 1.2, syllables_per_s: float = 4.0) -> np.ndarray:
    """A speech-like test clip: a harmonic voice at ``f0_hz`` (5 harmonics), amplitude-modulated into syllables.

    Returns
    -------
    np.ndarray of float32, shape (round(duration_s * 16000),), at 16 kHz.
    """
    t = np.arange(int(round(duration_s * _RATE_HZ))) / _RATE_HZ
    voice = sum(np.sin(2 * np.pi * f0_hz * h * t) / h for h in range(1, 6))
    envelope = np.clip(np.sin(np.pi * syllables_per_s * t), 0.0, None) ** 2
    return (0.2 * voice * envelope).astype(np.float32)


def _digest(value: Any) -> str:
    array = np.ascontiguousarray(np.asarray(value))
    return hashlib.sha256(f"{array.dtype.str}{array.shape}".encode() + array.tobytes()).hexdigest()


def _entry(value: Any) -> dict:
    flat = np.asarray(value, dtype=np.float64).ravel()
    return {"sha256": _digest(value), "first": [float(v) for v in flat[:3]]}


def slice_digests(workdir: str | Path) -> dict[str, dict]:
    """Run the micro slice in this process; ``{stage: {"sha256", "first"}}`` for each of :data:`STAGES`.

    ``workdir`` holds the embedding cache and the run of the slice (an empty folder: nothing is reused).
    """
    import torch

    from clapemo import encoders, features, metrics, probe, train, uncertainty
    from clapemo.config import load_config, replace
    from clapemo.model import load_run

    workdir = Path(workdir)
    config = replace(load_config(), **{
        "encoders.cache_dir": str(workdir / "embeddings"), "train.runs_dir": str(workdir / "runs"),
        "train.epochs": 3, "train.batch_size": 8, "train.projection_dim": 32, "train.num_threads": 1,
        "train.checkpoint_every_s": 0.0, "train.device": "cpu", "encoders.device": "cpu"})
    clips = [test_signal(f0_hz=f0) for f0 in (130.0, 215.0)]
    out: dict[str, dict] = {}
    props = [features.extract(clip, sample_rate_hz=_RATE_HZ, config=config) for clip in clips]
    out["features"] = _entry([[p.f0_mean_hz, p.intensity_db, p.n_syllables, p.phonation_time_s,
                               p.speech_rate_syl_per_s, p.voiced_fraction] for p in props])
    audio = encoders.audio_encoder(config.encoders).embed(clips)
    out["audio_encoder"] = _entry(audio)
    # the earlier default, CTranslate2's int8 Whisper (chapter 01 compares it)
    ct2 = encoders.audio_encoder(replace(config, **{"encoders.audio": "whisper-tiny"}).encoders)
    out["ct2_encoder"] = _entry(ct2.embed(clips))
    prompts = ["high pitch anger", "low pitch sad", "high intensity happy", "low speech rate neutral"]
    text = encoders.text_encoder(config.encoders).embed(prompts)
    out["text_encoder"] = _entry(text)
    # a small head trained on the two clips plus fixed noise vectors around them (16 pairs)
    rng = np.random.default_rng(0)
    audio_emb = np.concatenate([audio, audio[[0, 1] * 3] + rng.normal(0, 0.1, (6, audio.shape[1]))]).astype(
        np.float32)
    clip_index = np.repeat(np.arange(8), 2)
    text_index = np.tile(np.arange(4), 4)
    run = train.fit_embeddings(audio_emb, text, clip_index, text_index, config=config,
                               run_dir=workdir / "runs" / "slice", progress=False)
    model = load_run(run)
    weights = torch.cat([p.detach().flatten() for p in model.head.parameters()]).numpy()
    out["training"] = _entry(weights)
    scores = model.project_text(text) @ model.project_audio(audio_emb).T  # (4 queries, 8 clips)
    relevant = (np.arange(4)[:, None] == (np.arange(8)[None, :] % 4))
    predicted = scores.argmax(axis=0)
    out["metrics"] = _entry([metrics.precision_at_k(scores, relevant, 2), metrics.accuracy(
        list(np.arange(8) % 4), list(predicted)), *scores.ravel()])
    diff = uncertainty.paired_difference(rng.random((3, 20)), rng.random((3, 20)), n_boot=200, seed=0)
    out["bootstrap"] = _entry([diff.mean, diff.low, diff.high, diff.se, diff.share_above])
    labels = ["a", "b"] * 4
    fit = probe.fit_probe(x_train=audio_emb, y_train=labels, x_test=audio_emb[::-1], y_test=labels[::-1])
    out["probe"] = _entry([float(value) for _, value in sorted(fit.items())])
    return out


def _run_slice(prefix: Sequence[str], *, timeout_s: float) -> tuple[dict, float]:
    """The slice in a fresh interpreter (``prefix`` e.g. the emulator), through ``python -m clapemo portability
    --slice-only``; returns (digests, wall seconds)."""
    with tempfile.TemporaryDirectory(prefix="clapemo-slice-") as tmp:
        out = Path(tmp) / "slice.json"
        cmd = [*prefix, sys.executable, "-m", "clapemo", "portability", "--slice-only", "--out", str(out),
               "--workdir", tmp]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                  env={**os.environ, "TQDM_DISABLE": "1"})
        except subprocess.TimeoutExpired:
            raise ClapEmoError(f"the slice did not finish within {timeout_s:.0f} s: {' '.join(cmd)}") from None
        if proc.returncode != 0 or not out.is_file():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise ClapEmoError(f"the slice failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
        return json.loads(out.read_text()), time.perf_counter() - start


def compare(*, cpu: str = "Haswell", emulator: str = "qemu-x86_64", timeout_s: float = 1800) -> dict:
    """The slice natively and under ``<emulator> -cpu <cpu>``; returns ``{"native", "emulated", "seconds",
    "differs"}`` (``differs``: the stages whose digests differ)."""
    if shutil.which(emulator) is None:
        raise ClapEmoError(f"the CPU emulator {emulator!r} is not installed; on Debian: apt-get install qemu-user")
    native, native_s = _run_slice([], timeout_s=timeout_s)
    emulated, emulated_s = _run_slice([emulator, "-cpu", cpu], timeout_s=timeout_s)
    differs = [s for s in STAGES if native.get(s, {}).get("sha256") != emulated.get(s, {}).get("sha256")]
    return {"native": native, "emulated": emulated, "seconds": {"native": native_s, "emulated": emulated_s},
            "differs": differs, "cpu": cpu}


def cli(argv: Sequence[str]) -> int:
    """``clapemo portability [--cpu Haswell]``: the micro slice here and on an emulated CPU, bit for bit."""
    parser = argparse.ArgumentParser(prog="clapemo portability", description=(
        "Run a micro slice of the pipeline (features, encoders, a few training steps, metrics) natively and under "
        "qemu-x86_64 -cpu CPU, and compare the results bit for bit. Exit 0: identical; 1: some stage differs."))
    parser.add_argument("--cpu", default="Haswell",
                        help="the emulated CPU model (qemu -cpu; default Haswell: AVX2)")
    parser.add_argument("--emulator", default="qemu-x86_64")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run of the slice")
    parser.add_argument("--slice-only", action="store_true", help="run the slice in this process only")
    parser.add_argument("--out", default=None, help="with --slice-only: write the digests to this JSON file")
    parser.add_argument("--workdir", default=None, help="with --slice-only: an empty folder for its cache and run")
    args = parser.parse_args(list(argv))
    if args.slice_only:
        if not args.workdir:
            raise ParameterError("--slice-only needs --workdir (an empty folder)")
        digests = slice_digests(args.workdir)
        text = json.dumps(digests, indent=1)
        if args.out:
            Path(args.out).write_text(text)
        else:
            print(text)
        return 0
    result = compare(cpu=args.cpu, emulator=args.emulator, timeout_s=args.timeout)
    width = max(len(s) for s in STAGES)
    print(f"{'stage':<{width}}  native vs {args.emulator} -cpu {args.cpu}")
    for stage in STAGES:
        same = stage not in result["differs"]
        print(f"{stage:<{width}}  {'identical' if same else 'DIFFERS'}  {result['native'][stage]['sha256'][:16]}"
              + ("" if same else f" vs {result['emulated'][stage]['sha256'][:16]}"))
    seconds = result["seconds"]
    print(f"\nnative {seconds['native']:.0f} s, emulated {seconds['emulated']:.0f} s")
    if result["differs"]:
        print(f"{len(result['differs'])} stage(s) differ: the numbers are not portable here")
        return 1
    print("every stage gives the same bits on both CPUs")
    return 0
