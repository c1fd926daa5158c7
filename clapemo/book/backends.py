"""The pitch-backend comparison of the corpus chapter: Praat against pYIN on the same clips."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Sequence

from clapemo.book.notes import tolerates_not_run
from clapemo.book.progress import quiet_progress
from clapemo.book.views import thresholds
from clapemo.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from clapemo.config import Config

__all__ = ["compare_pitch_backends"]


def _pick(manifest: "pd.DataFrame", n: int) -> "pd.DataFrame":
    """``n`` clips spread evenly over the manifest, stratified by corpus (deterministic)."""
    import numpy as np

    if n <= 0:
        raise ParameterError(f"n = {n} clips: must be at least 1")
    if len(manifest) <= n:
        return manifest
    index = np.unique(np.linspace(0, len(manifest) - 1, n).round().astype(int))
    ordered = manifest.sort_values(["dataset", "utterance_id"]) if "dataset" in manifest else manifest
    return ordered.iloc[index]


def _compare_pitch_backends(manifest: "pd.DataFrame", config: "Config", *, n: int = 40,
                           backends: Sequence[str] = ("praat", "pyin")) -> tuple["pd.DataFrame", "Figure"]:
    """Average F0 of ``n`` clips by each pitch backend: agreement with the first backend, and seconds per clip.

    Extraction runs without the feature cache and in one process, so the seconds are real. ``pyin``'s
    one-off compilation is excluded by a warm-up call on the first clip.

    Returns
    -------
    summary : DataFrame, one row per backend: ``seconds per clip``, ``median |diff| (semitones)`` and the share
        of clips whose four-bin and two-bin pitch prompts match the first backend's.
    figure : scatter of the second backend's F0 against the first's, with the pitch cuts.
    """
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    from clapemo import features

    clips = _pick(manifest, n)
    f0: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    with quiet_progress():
        for backend in backends:
            fcfg = dataclasses.replace(config.features, pitch_backend=backend)
            features.extract_table(clips.iloc[:1], config=fcfg, n_jobs=1, use_cache=False, progress=False)
            start = time.perf_counter()
            out = features.extract_table(clips, config=fcfg, n_jobs=1, use_cache=False, progress=False)
            seconds[backend] = (time.perf_counter() - start) / len(clips)
            f0[backend] = out["f0_mean_hz"].to_numpy(dtype=float)
    cuts = thresholds(config)
    ref = backends[0]

    def bins(values: np.ndarray, edges: list[float]) -> np.ndarray:
        return np.where(np.isnan(values), -1, np.digitize(values, edges))

    rows = []
    for backend in backends:
        both = ~np.isnan(f0[backend]) & ~np.isnan(f0[ref])
        semitones = 12 * np.abs(np.log2(f0[backend][both] / f0[ref][both]))
        rows.append({
            "backend": backend,
            "clips": len(clips),
            "voiced clips": int((~np.isnan(f0[backend])).sum()),
            "seconds per clip": seconds[backend],
            f"median |diff| vs {ref} (semitones)": float(np.median(semitones)) if both.any() else float("nan"),
            f"same 4-bin pitch prompt as {ref}": float(np.mean(
                bins(f0[backend], cuts["f0_mean_hz"]) == bins(f0[ref], cuts["f0_mean_hz"]))),
            f"same 2-bin pitch prompt as {ref}": float(np.mean(
                bins(f0[backend], cuts["f0_mean_hz/2"]) == bins(f0[ref], cuts["f0_mean_hz/2"]))),
        })
    summary = pd.DataFrame(rows).set_index("backend").round(3)

    fig = Figure(figsize=(6.5, 6), layout="constrained")
    ax = fig.subplots()
    other = backends[1] if len(backends) > 1 else backends[0]
    ax.scatter(f0[ref], f0[other], s=14, alpha=0.7)
    finite = np.concatenate([f0[ref], f0[other]])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        lo, hi = finite.min() * 0.9, finite.max() * 1.1
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    for value in cuts["f0_mean_hz"]:
        ax.axvline(value, color="crimson", lw=0.8, alpha=0.6)
        ax.axhline(value, color="crimson", lw=0.8, alpha=0.6)
    ax.set_xlabel(f"average F0, {ref} (Hz)")
    ax.set_ylabel(f"average F0, {other} (Hz)")
    ax.set_title("Pitch backends per clip (grey: agreement; red: the four-bin cuts)", fontsize=10)
    return summary, fig




_compare_pitch_backends.__clapemo_pair__ = True  # type: ignore[attr-defined]
compare_pitch_backends = tolerates_not_run(_compare_pitch_backends)
