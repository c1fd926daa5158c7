"""The backend comparisons of the corpus chapter: Praat against pYIN (pitch) and Praat against librosa
(intensity), on the same clips."""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

from clapemo.book.notes import Note, not_run_reason, tolerates_not_run
from clapemo.book.progress import quiet_progress
from clapemo.book.views import thresholds
from clapemo.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from clapemo.config import Config

__all__ = ["compare_pitch_backends", "compare_intensity_backends"]


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


def _measure(clips: "pd.DataFrame", fcfg: Any) -> tuple["pd.DataFrame", float]:
    """The features table of ``clips`` (no cache, one process, after a warm-up call on the first clip, so the
    seconds are real and exclude one-off compilation) and the seconds per clip."""
    from clapemo import features

    features.extract_table(clips.iloc[:1], config=fcfg, n_jobs=1, use_cache=False, progress=False)
    start = time.perf_counter()
    out = features.extract_table(clips, config=fcfg, n_jobs=1, use_cache=False, progress=False)
    return out, (time.perf_counter() - start) / len(clips)


def _prompt_thresholds(config: "Config", table: "pd.DataFrame") -> Any:
    """The prompt cuts the chapter bins with: the config's fixed cuts, or (``quantile`` binning) the cuts fitted
    on the table's training split, pooled (as :func:`clapemo.book.views.thresholds` shows them)."""
    from clapemo import corpora, prompts

    if config.prompts.binning == "quantile":
        train = corpora.select_split(table, "train", config)
        return prompts.fit_thresholds(train, config.prompts, by="pooled")
    return prompts.Thresholds.from_config(config.prompts)


def intensity_sentence(summary: "pd.DataFrame", ref: str, other: str, cut_db: Sequence[float]) -> str:
    """What the intensity comparison says, from its numbers (the chapter types none)."""
    row = summary.loc[other]
    n = int(row["clips"])
    cuts = " and ".join(f"{c:g} dB" for c in cut_db)
    r = float(row[f"correlation with {ref}"])
    correlation = (f"correlation {r:.3f}" if math.isfinite(r)
                   else "correlation undefined: fewer than 3 clips or no spread")
    same = float(row[f"same intensity bin as {ref}"])
    n_moved = int(round((1.0 - same) * n))
    moved = ("every clip gets the same intensity prompt from both" if n_moved == 0 else
             f"{n_moved} of the {n} clips get another intensity prompt")
    ratio = row["seconds per clip"] / summary.loc[ref, "seconds per clip"]
    return (f"On {n} clips, {other}'s intensity lies {row[f'mean difference vs {ref} (dB)']:+.2f} dB from {ref}'s "
            f"on average (mean |difference| {row[f'mean |difference| vs {ref} (dB)']:.2f} dB, {correlation}); "
            f"at the {cuts} cut {moved} ({100 * same:.0f} % in the same bin). Measuring every property with "
            f"{other}'s intensity takes {ratio:.2f} times {ref}'s seconds per clip.")


def _compare_intensity_backends(manifest: "pd.DataFrame", config: "Config", *, n: int = 40,
                                backends: Sequence[str] = ("praat", "librosa"),
                                ) -> tuple["pd.DataFrame", "Figure", Note]:
    """Average intensity of ``n`` clips by each intensity backend, both on Praat's dB re 2e-5 scale: agreement
    with the first backend (``clapemo.features.compare_backends``), and seconds per clip.

    Extraction runs without the feature cache and in one process, so the seconds are real; they are the seconds
    of the whole property set with that intensity backend (the pitch and syllable analysis are the same).

    Returns
    -------
    summary : DataFrame, one row per backend: ``clips``, ``seconds per clip``, ``mean intensity (dB)``, the mean
        and mean absolute difference from the first backend (dB, this backend minus the first), the correlation
        with it, and the share of clips in the same intensity bin (the prompt cut, 60 dB by default).
    figure : scatter of the second backend's intensity against the first's, with the identity line and the cut.
    sentence : a :class:`~clapemo.book.notes.Note` saying what the numbers say.
    """
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    from clapemo import features

    if len(backends) != 2:
        raise ParameterError(f"backends = {tuple(backends)!r}: give two intensity backends (reference first)")
    clips = _pick(manifest, n)
    tables, seconds = {}, {}
    with quiet_progress():
        for backend in backends:
            fcfg = dataclasses.replace(config.features, intensity_backend=backend)
            tables[backend], seconds[backend] = _measure(clips, fcfg)
    ref, other = backends
    cuts = _prompt_thresholds(config, manifest)
    cut_db = [float(c) for c in cuts.cuts("intensity")]
    rows = []
    for backend in backends:
        agreement = features.compare_backends(tables[ref], tables[backend], thresholds=cuts,
                                              names=(ref, backend)).loc["intensity"]
        values = tables[backend]["intensity_db"].to_numpy(dtype=float)
        rows.append({
            "backend": backend,
            "clips": int(agreement["n_clips"]),
            "seconds per clip": seconds[backend],
            "mean intensity (dB)": float(np.nanmean(values)) if np.isfinite(values).any() else float("nan"),
            f"mean difference vs {ref} (dB)": agreement["mean_difference"],
            f"mean |difference| vs {ref} (dB)": agreement["mean_abs_difference"],
            f"correlation with {ref}": agreement["pearson_r"],
            f"same intensity bin as {ref}": agreement["same_bin_fraction"],
        })
    summary = pd.DataFrame(rows).set_index("backend")
    sentence = Note(intensity_sentence(summary, ref, other, cut_db))

    fig = Figure(figsize=(6.5, 6), layout="constrained")
    ax = fig.subplots()
    x = tables[ref]["intensity_db"].to_numpy(dtype=float)
    y = tables[other]["intensity_db"].to_numpy(dtype=float)
    ax.scatter(x, y, s=14, alpha=0.7)
    finite = np.concatenate([x, y, cut_db])
    finite = finite[np.isfinite(finite)]
    lo, hi = finite.min() - 3.0, finite.max() + 3.0
    ax.plot([lo, hi], [lo, hi], color="grey", lw=1)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    for value in cut_db:
        ax.axvline(value, color="crimson", lw=0.8, alpha=0.6)
        ax.axhline(value, color="crimson", lw=0.8, alpha=0.6)
    ax.set_xlabel(f"average intensity, {ref} (dB re 2e-5)")
    ax.set_ylabel(f"average intensity, {other} (dB re 2e-5)")
    ax.set_title("Intensity backends per clip (grey: agreement; red: the prompt cut)", fontsize=10)
    return summary.round(3), fig, sentence


def _tolerates_not_run_parts(n_parts: int) -> Callable[[Callable], Callable]:
    """Like :func:`clapemo.book.notes.tolerates_not_run`, for a helper returning ``n_parts`` things: given a
    not-run table it returns that many notes."""
    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(first: Any, *args: Any, **kwargs: Any) -> Any:
            reason = not_run_reason(first)
            if reason is not None:
                return (Note(reason),) * n_parts
            return fn(first, *args, **kwargs)

        return wrapper

    return decorate


compare_intensity_backends = _tolerates_not_run_parts(3)(_compare_intensity_backends)
