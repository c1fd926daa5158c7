"""Praat's queries on a contour (an Intensity's dB values, a TextGrid's intervals, a PointProcess's times) answered
from the object's own arrays, bitwise as Praat answers them.

Each Praat query through ``parselmouth.praat.call`` costs ~0.1 ms (the command is looked up by name), and the
syllable nuclei (:mod:`clapemo.features.syllables`) used to ask ~30 per clip. The functions below answer the same
questions from the arrays that Praat holds (``values``, ``x1``, ``dx``), with Praat's own rules and the same
floating-point operations in the same order, so their answers are bitwise Praat's (``tests/test_features.py``
checks them against Praat's queries). A contour of frames is sampled at ``x1_s + i dx_s``, ``i = 0 .. n - 1``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["minimum_between", "extremum_parabolic", "quantile", "point_times_s", "in_interval"]


def _window_frames(x1_s: float, dx_s: float, n_frames: int, tmin_s: float, tmax_s: float) -> tuple[int, int]:
    """0-based [first, last] frame indices whose times lie in [tmin_s, tmax_s] (Praat's "window samples":
    frame i, 1-based, is at ``x1 + (i - 1) dx``); first > last when none does."""
    first = 1.0 + math.ceil((tmin_s - x1_s) / dx_s)
    last = 1.0 + math.floor((tmax_s - x1_s) / dx_s)
    return max(int(first), 1) - 1, min(int(last), n_frames) - 1


def _nearest_value(db: np.ndarray, x1_s: float, dx_s: float, t_s: float) -> float:
    """Praat's "Get value at time" with nearest-sample interpolation (NaN outside the sampled domain)."""
    left_edge = x1_s - 0.5 * dx_s
    if t_s < left_edge or t_s > left_edge + db.size * dx_s:
        return math.nan
    index = (t_s - x1_s) / dx_s + 1.0
    if index < 1.0:
        return float(db[0])
    if index > db.size:
        return float(db[-1])
    return float(db[int(math.floor(index + 0.5)) - 1])


def minimum_between(db: np.ndarray, *, x1_s: float, dx_s: float, tmin_s: float, tmax_s: float) -> float:
    """Praat's ``Get minimum: tmin, tmax, "none"`` of a contour.

    Parameters
    ----------
    db : np.ndarray, shape (n_frames,)
        The contour's values (an Intensity's ``values[0]``).
    x1_s, dx_s : float
        Time of the first frame and the frame step, seconds.
    tmin_s, tmax_s : float
        The time range, seconds; ``tmax_s <= tmin_s`` is read as the whole domain, as Praat does.

    Returns
    -------
    float
        The lowest frame in [tmin, tmax]; with no frame inside, the lower of the nearest frames' values at the
        two ends (NaN when both ends lie outside the sampled domain).
    """
    if tmax_s <= tmin_s:  # Praat reads an empty range as the whole domain
        return float(db.min())
    first, last = _window_frames(x1_s, dx_s, db.size, tmin_s, tmax_s)
    if first > last:
        left, right = _nearest_value(db, x1_s, dx_s, tmin_s), _nearest_value(db, x1_s, dx_s, tmax_s)
        return right if right < left else left  # Praat's std::min: a NaN (outside) right end gives the left
    return float(db[first:last + 1].min())


def extremum_parabolic(db: np.ndarray, *, maximum: bool) -> float:
    """Praat's ``Get maximum`` / ``Get minimum: 0, 0, "parabolic"`` of a whole contour.

    Parameters
    ----------
    db : np.ndarray, shape (n_frames,)
        The contour's values.
    maximum : bool
        True for the maximum, False for the minimum.

    Returns
    -------
    float
        The larger (smaller) end frame, or an interior local extremum refined by the parabola through it and its
        two neighbours, whichever is more extreme.
    """
    best = max(db[0], db[-1]) if maximum else min(db[0], db[-1])
    if db.size < 3:
        return float(best)
    left, mid, right = db[:-2], db[1:-1], db[2:]
    peak = (mid > left) & (mid >= right) if maximum else (mid < left) & (mid <= right)
    if peak.any():
        y0, y1, y2 = left[peak], mid[peak], right[peak]
        dy = 0.5 * (y2 - y0)
        d2y = 2.0 * y1 - y0 - y2
        refined = y1 + 0.5 * dy * dy / d2y
        best = max(best, refined.max()) if maximum else min(best, refined.min())
    return float(best)


def quantile(db: np.ndarray, *, q: float) -> float:
    """Praat's ``Get quantile: 0, 0, q`` of a contour.

    Parameters
    ----------
    db : np.ndarray, shape (n_frames,)
        The contour's values; undefined (non-finite) frames are left out.
    q : float
        The quantile, in [0, 1].

    Returns
    -------
    float
        Linear between the sorted values around rank ``q n + 0.5`` (1-based); NaN without a defined frame.
    """
    values = np.sort(db[np.isfinite(db)])
    n = values.size
    if n == 0:
        return math.nan
    if n == 1:
        return float(values[0])
    place = q * n + 0.5
    left = min(max(int(math.floor(place)), 1), n - 1)
    low, high = values[left - 1], values[left]
    if high == low:
        return float(low)
    return float(low + (place - left) * (high - low))


def point_times_s(points: Any) -> np.ndarray:
    """The times of a Praat PointProcess, in one call (``To Matrix``).

    Parameters
    ----------
    points : parselmouth.Data
        A PointProcess (e.g. what ``Get starting points`` of a TextGrid returns).

    Returns
    -------
    np.ndarray, shape (n_points,)
        Times in seconds. Praat refuses to make a Matrix of a process without points: that is read as no points.
    """
    from parselmouth import PraatError
    from parselmouth.praat import call

    try:
        matrix = call(points, "To Matrix")
    except PraatError as err:
        if "No times" not in str(err):
            raise
        return np.empty(0)
    return np.asarray(matrix.values, dtype=np.float64).ravel()


def in_interval(times_s: np.ndarray, *, starts_s: np.ndarray, ends_s: np.ndarray, grid_end_s: float) -> np.ndarray:
    """Whether each time lies in one of the given TextGrid intervals, by Praat's rule for "Get interval at time".

    Parameters
    ----------
    times_s : array_like, shape (n_times,)
        The times, seconds.
    starts_s, ends_s : np.ndarray, shape (n_intervals,)
        The intervals' bounds, sorted and disjoint.
    grid_end_s : float
        The TextGrid's end time: an interval holds [start, end), the grid's last one also its end.

    Returns
    -------
    np.ndarray of bool, shape (n_times,)
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    if starts_s.size == 0:
        return np.zeros(times_s.shape, dtype=bool)
    j = np.searchsorted(starts_s, times_s, side="right") - 1
    end = ends_s[np.maximum(j, 0)]
    return (j >= 0) & ((times_s < end) | ((times_s == end) & (end == grid_end_s)))
