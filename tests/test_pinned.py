"""Pinned numbers: a small but real end-to-end slice of the tiny profile, recomputed and compared with the
committed values in ``tests/expected/tiny_results.json``.

The slice (well under a minute on 2 cores, one torch thread): the tiny synthetic RAVDESS and IEMOCAP twins are
rendered with espeak-ng, their acoustic properties measured (Praat), their prompts formed, the clips and prompts
encoded (Whisper tiny.en's hidden layers, MiniLM), a CLAP head trained for 2 epochs on the RAVDESS twin's
training split with prompt augmentation (encoder and training in float32, so that no bfloat16 kernel of a
particular CPU enters), then zero-shot SER on its
test split and EAR (P@1, P@5) on the IEMOCAP twin. Any change of a number beyond float tolerance fails with a
list of what moved, and the versions the values were pinned with beside the versions here.

When a change is intended (a new feature, synthesis or training rule), refresh the values with one command and
commit ``tests/expected/tiny_results.json`` with the change::

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m tests.test_pinned --refresh
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import clapemo  # noqa: F401  - first: its portable-numerics pins must precede NumPy and torch (run as a script too)

REPO = Path(__file__).resolve().parents[1]
EXPECTED = Path(__file__).resolve().parent / "expected" / "tiny_results.json"
REFRESH = "HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python -m tests.test_pinned --refresh"
#: no tolerance: under portable numerics (clapemo.numerics) every value is the same bits on any x86-64 CPU with
#: AVX2, so any change is a real change (it used to be rtol 1e-4 for AVX2 vs AVX-512 summation orders)
RTOL, ATOL = 0.0, 0.0
EAR_KINDS = ("class_label", "pitch", "intensity", "speech_rate", "articulation_rate")
FEATURE_COLUMNS = ("duration_s", "f0_mean_hz", "intensity_db", "speech_rate_syl_per_s",
                   "articulation_rate_syl_per_s", "n_syllables", "phonation_time_s", "voiced_fraction")


def _config(folder: Path) -> Any:
    from clapemo.config import load_config

    return load_config(REPO / "configs" / "tiny.yaml", overrides=[
        f"data.synth_root={folder / 'synth'}", f"features.cache_dir={folder / 'cache' / 'features'}",
        f"encoders.cache_dir={folder / 'cache' / 'embeddings'}", f"train.runs_dir={folder / 'runs'}",
        f"evaluate.results_dir={folder / 'results'}", "synth.n_jobs=1", "data.n_jobs=1",
        "train.corpora=[synth-ravdess]", "train.include_4d=false", "train.prompt_kind=augment", "train.epochs=2",
        "train.num_threads=1", "train.n_workers=1", "train.device=cpu", "train.precision=float32",
        "encoders.whisper_precision=float32", "encoders.device=cpu"])


def _number(value: Any) -> Any:
    """JSON-ready: NaN -> None, numpy scalars -> Python, floats kept at full precision."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def compute(folder: str | Path) -> dict:
    """The pinned slice, computed under ``folder`` (synthetic data, caches and the run go there)."""
    import torch

    from clapemo import corpora, evaluate, train
    from clapemo.model import load_run

    folder = Path(folder)
    cfg = _config(folder)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ravdess = corpora.annotated(["synth-ravdess"], cfg)
        run = train.fit(cfg, progress=False)
        model = load_run(run)
        test = corpora.manifest(["synth-ravdess"], cfg, split="test")
        labels = evaluate.corpus_labels("synth-ravdess")
        ser = evaluate.zero_shot_ser(model, test, labels=labels)
        scores = evaluate.cosine_scores(model.embed_manifest(test), model.embed_texts(evaluate.class_prompts(labels)))
        collection = evaluate.ear_collection(cfg, thresholds=model.thresholds)
        ear = evaluate.ear(model, collection, kinds=EAR_KINDS, ks=cfg.evaluate.ks)
        log = (run / "log.csv").read_text().splitlines()
    finally:
        torch.set_num_threads(threads)
    header, last = log[0].split(","), log[-1].split(",")
    return {
        "features": {row["utterance_id"]: {c: _number(row[c]) for c in FEATURE_COLUMNS}
                     for _, row in ravdess.iterrows()},
        "prompts": {row["utterance_id"]: {k: row[k] for k in ("class_label", "pitch", "intensity", "speech_rate",
                                                              "articulation_rate")}
                    for _, row in ravdess.iterrows()},
        "training": {"n_pairs": len(train.pairs(cfg)[0]),
                     # the last epoch's row of log.csv, without its wall time
                     "last_epoch": {h: _number(float(v)) for h, v in zip(header, last) if v and h != "seconds"}},
        "ser": {k: _number(v) for k, v in ser.items()},
        # cosine of each test clip (rows, manifest order) to each class prompt (columns, label order): moves with
        # any change of encoders, projection or training even when the accuracy does not
        "ser_cosines": {uid: dict(zip(labels, map(float, row))) for uid, row in zip(test["utterance_id"], scores)},
        "ear": {f"{r.query_kind}@{r.k}": _number(r.precision) for r in ear.itertuples()},
    }


def differences(expected: Any, actual: Any, *, path: str = "", rtol: float = RTOL, atol: float = ATOL) -> list[str]:
    """Readable lines for every value that moved: ``path: expected X, got Y``; floats within tolerance agree."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                out.append(f"{where}: missing (expected {expected[key]!r})")
            elif key not in expected:
                out.append(f"{where}: new (got {actual[key]!r})")
            else:
                out += differences(expected[key], actual[key], path=where, rtol=rtol, atol=atol)
        return out
    both_numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (expected, actual))
    if both_numbers and math.isclose(expected, actual, rel_tol=rtol, abs_tol=atol):
        return []
    if both_numbers:
        rel = abs(actual - expected) / max(abs(expected), 1e-300)
        return [f"{path}: expected {expected!r}, got {actual!r} (relative change {rel:.2g})"]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def _environment() -> dict:
    from clapemo import provenance

    return {"python": provenance.platform.python_version(), "packages": provenance.package_versions(),
            "espeak_ng": {k: v for k, v in provenance.espeak_ng_state().items() if k != "note"}}


def failure_message(lines: list[str], pinned_env: Mapping, here_env: Mapping, *, limit: int = 40) -> str:
    """The report of a failed comparison: what moved (first ``limit`` lines), environment differences, refresh."""
    shown = lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])
    env = differences(pinned_env, here_env, path="environment", rtol=0, atol=0)
    return "\n".join([f"{len(lines)} pinned value(s) moved beyond rtol={RTOL}, atol={ATOL}:", *shown, "",
                      "environment of the pinned values vs here: "
                      + ("same" if not env else "\n  " + "\n  ".join(env)), "",
                      f"if the change is intended, refresh and commit {EXPECTED.relative_to(REPO)}:", f"  {REFRESH}"])


def refresh() -> Path:
    """Recompute the slice and write the expected values (with the environment they came from)."""
    from clapemo.files import atomic_write_text

    with tempfile.TemporaryDirectory(prefix="clapemo-pinned-") as folder:
        values = compute(folder)
    payload = {"_about": f"pinned by tests/test_pinned.py; refresh: {REFRESH}", "_environment": _environment(),
               **values}
    atomic_write_text(EXPECTED, json.dumps(payload, indent=1, sort_keys=True) + "\n")
    return EXPECTED


# ---------------------------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------------------------
def test_differences_name_what_moved_and_accept_float_noise():
    expected = {"a": {"x": 1.0, "s": "low pitch anger"}, "b": [1, 2], "gone": 3}
    actual = {"a": {"x": 1.0 + 1e-7, "s": "high pitch anger"}, "b": [1, 2], "new": None}
    assert differences(expected, actual, rtol=1e-6, atol=0) == [
        "a.s: expected 'low pitch anger', got 'high pitch anger'", "gone: missing (expected 3)",
        "new: new (got None)"]
    assert differences({"x": 1.0}, {"x": 1.0 + 1e-7}) == [  # the default is exact: portable numerics
        "x: expected 1.0, got 1.0000001 (relative change 1e-07)"]
    (moved,) = differences({"p": 0.5}, {"p": 0.6})
    assert moved == "p: expected 0.5, got 0.6 (relative change 0.2)"
    assert differences({"n": None}, {"n": 0.0}) == ["n: expected None, got 0.0"]


def test_tiny_slice_matches_the_pinned_values(tmp_path):
    import pytest

    if not EXPECTED.is_file():
        pytest.fail(f"{EXPECTED.relative_to(REPO)} is missing; create it with: {REFRESH}")
    pinned = json.loads(EXPECTED.read_text())
    actual = compute(tmp_path)
    expected = {k: v for k, v in pinned.items() if not k.startswith("_")}
    lines = differences(expected, actual)
    if lines:
        pytest.fail(failure_message(lines, pinned.get("_environment", {}), _environment()), pytrace=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.test_pinned", description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", action="store_true", help=f"recompute and write {EXPECTED.name}")
    args = parser.parse_args(argv)
    if not args.refresh:
        parser.print_help()
        return 0
    path = refresh()
    print(f"wrote {path.relative_to(REPO)}; review `git diff {path.relative_to(REPO)}` and commit it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
