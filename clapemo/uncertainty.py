"""Paired uncertainty of a difference between two models: a hierarchical bootstrap over seeds and test items.

The paper's claims compare two models ("PA beats CL on RAVDESS"). Here every compared pair of models is trained
with the same seeds and scored on the same test items (clips for SER, queries for EAR), so each difference can be
computed *paired*: for seed ``s`` and item ``i`` the outcome difference is ``d[s, i] = a[s, i] - b[s, i]``
(correct 1/0 for SER accuracy, Precision@K of the query for EAR), and the estimate is the mean of ``d``.

Its interval comes from a two-level (hierarchical) bootstrap: draw the seeds with replacement, then, for each
drawn seed, the items with replacement (the same item draw for both models: the pairing is kept), and take the
mean of ``d`` over the draw; the 2.5 and 97.5 percentiles of ``n_boot`` such means give the 95 % interval. The two
levels carry the two sources of variation: training randomness (seeds) and the finite test set (items). The
bootstrap is seeded, so the interval is deterministic.

The *minimum detectable difference* (MDD) at 95 % for a run of this size is the smallest true difference that a
two-sided test at level 0.05 would detect with 80 % power: ``(z_0.975 + z_0.80) * SE`` with ``SE`` the bootstrap
standard error of the mean difference. A difference smaller than the MDD that comes out "within noise" says that
this run is too small to decide, not that there is no difference.

Verdicts (:func:`verdict`): a claim "A > B" *holds* when the interval lies above 0, *does not hold* when it lies
below 0, and is *undecided* otherwise. :func:`verdict_share` tells how firm it is: the share of the bootstrap
resamples on the verdict's side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from clapemo.errors import ParameterError

__all__ = ["PairedDifference", "paired_difference", "verdict", "verdict_share", "Z_95", "Z_POWER_80"]

Z_95 = 1.959963984540054  # two-sided 95 %
Z_POWER_80 = 0.8416212335729143  # one-sided 80 % power


@dataclass(frozen=True)
class PairedDifference:
    """``mean`` difference a - b, its 95 % bootstrap interval ``low``/``high``, bootstrap ``se``, ``mdd`` (minimum
    detectable difference at 95 % with 80 % power), and the numbers of seeds and items it rests on."""

    mean: float
    low: float
    high: float
    se: float
    mdd: float
    n_seeds: int
    n_items: int
    #: share of the bootstrap means above 0 (a - b > 0) and below 0; ties at 0 count in neither
    share_above: float = float("nan")
    share_below: float = float("nan")


def paired_difference(a: Any, b: Any, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> PairedDifference:
    """Mean paired difference ``a - b`` with a hierarchical (seeds, then items) bootstrap interval.

    Parameters
    ----------
    a, b : float arrays (n_seeds, n_items)
        Per-seed, per-item outcomes of the two models, aligned: row ``s`` is the same seed, column ``i`` the same
        test item in both. NaN marks an item a model was not scored on for that seed (left out of that seed's
        mean for both models).
    n_boot : int
        Bootstrap draws.
    level : float in (0, 1)
    seed : int
        Seed of the bootstrap's generator (the interval is deterministic).

    Returns
    -------
    PairedDifference
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim != 2 or a.shape != b.shape:
        raise ParameterError(f"a and b must be 2-D arrays (n_seeds, n_items) of one shape, got {a.shape} and "
                             f"{b.shape}")
    if not 0 < level < 1:
        raise ParameterError(f"level = {level} must be in (0, 1)")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise ParameterError(f"n_boot = {n_boot!r} must be an int >= 100")
    d = a - b
    valid = ~np.isnan(d)
    if not valid.any():
        raise ParameterError("a and b share no scored (seed, item) cell")
    d0 = np.where(valid, d, 0.0)
    n_seeds, n_items = d.shape
    mean = float(d0.sum() / valid.sum())
    rng = np.random.default_rng(seed)
    seed_draw = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
    item_draw = rng.integers(0, n_items, size=(n_boot, n_seeds, n_items))
    sums = d0[seed_draw[..., None], item_draw].sum(axis=(1, 2))
    counts = valid[seed_draw[..., None], item_draw].sum(axis=(1, 2))
    means = sums / np.maximum(counts, 1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    se = float(means.std(ddof=1))
    return PairedDifference(mean=mean, low=float(low), high=float(high), se=se,
                            mdd=float((Z_95 + Z_POWER_80) * se), n_seeds=int(n_seeds),
                            n_items=int(valid.any(axis=0).sum()), share_above=float((means > 0).mean()),
                            share_below=float((means < 0).mean()))


def verdict_share(difference: PairedDifference, result: str) -> float:
    """How firm a verdict is: the share of bootstrap resamples of its deciding comparison on the verdict's side.

    ``holds``: the share above 0; ``does not hold``: the share below 0; ``undecided``: the share on the claim's
    side (above 0), so a reader sees whether it leans towards holding (near 1) or failing (near 0). A verdict
    whose share is near 0.975 sits at the edge of its interval.
    """
    if result == "does not hold":
        return difference.share_below
    if result in ("holds", "undecided"):
        return difference.share_above
    raise ParameterError(f"result = {result!r} must be 'holds', 'does not hold' or 'undecided'")


def verdict(differences: Sequence[PairedDifference]) -> str:
    """A claim made of several "A > B" comparisons that must all hold.

    ``"holds"`` when every interval lies above 0; ``"does not hold"`` when any interval lies below 0;
    ``"undecided"`` otherwise (some interval contains 0 and none is below it).
    """
    if not differences:
        raise ParameterError("verdict needs at least one comparison")
    if any(d.high < 0 for d in differences):
        return "does not hold"
    if all(d.low > 0 for d in differences):
        return "holds"
    return "undecided"
