"""How closely two measurements of the same clips agree: :func:`compare_backends`, e.g. the default (Praat) pitch
and intensity against the paper's librosa route (``pitch_backend="pyin"``, ``intensity_backend="librosa"``), per
acoustic prompt kind: correlation, mean difference and the share of clips that fall in the same prompt bin.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from clapemo.config import PromptsConfig, section
from clapemo.errors import DataError, ParameterError

__all__ = ["compare_backends"]


def compare_backends(table_a: Any, table_b: Any, *, thresholds: Any = None, config: Any = None,
                     names: tuple[str, str] = ("a", "b")) -> "pd.DataFrame":  # noqa: F821
    """How closely two measurements of the same clips agree, per acoustic prompt kind.

    Typical use: ``extract_table`` once with the defaults (Praat) and once with ``pitch_backend="pyin"``,
    ``intensity_backend="librosa"`` (the paper's librosa route), then compare.

    Parameters
    ----------
    table_a, table_b : DataFrame
        Features tables (:func:`~clapemo.features.table.extract_table`), matched on ``utterance_id`` (rows
        only in one are ignored; ``utterance_id`` must be unique in each).
    thresholds : clapemo.prompts.Thresholds, optional
        The bin cuts; default: the fixed cuts of ``config`` (a ``PromptsConfig``, a ``Config`` or None).
    names : (str, str)
        Labels of the two tables, used in the ``compared`` column.

    Returns
    -------
    pandas.DataFrame, shape (5, 8), one row per acoustic kind (``pitch, pitch2, intensity, speech_rate,
    articulation_rate``; index ``kind``), columns: ``property``; ``n_clips`` (clips with a finite value in both
    tables); ``pearson_r`` (NaN with fewer than 3 clips or no spread); ``mean_difference`` (b - a, in the
    property's unit); ``mean_abs_difference``; ``same_bin_fraction`` (fraction of those clips that fall in the
    same prompt bin, cuts as in ``clapemo.prompts``: ``value < cut`` is the lower bin); ``n_bins``;
    ``compared`` (``"b vs a"``).
    """
    import pandas as pd

    from clapemo.prompts import PROPERTY_OF_KIND, Thresholds

    if thresholds is None:
        thresholds = Thresholds.from_config(None if config is None else section(config, PromptsConfig))
    if not isinstance(thresholds, Thresholds):
        raise ParameterError(f"thresholds = {type(thresholds).__name__} must be a clapemo.prompts.Thresholds")
    frames = []
    for name, table in zip(names, (table_a, table_b)):
        if not isinstance(table, pd.DataFrame) or "utterance_id" not in table.columns:
            raise ParameterError(f"table {name!r} must be a features DataFrame with an 'utterance_id' column")
        if table["utterance_id"].duplicated().any():
            dup = table.loc[table["utterance_id"].duplicated(), "utterance_id"].iloc[0]
            raise DataError(f"table {name!r}: utterance_id {dup!r} appears more than once")
        frames.append(table.set_index("utterance_id"))
    a, b = frames
    common = a.index.intersection(b.index, sort=False)
    rows = []
    for kind, prop in PROPERTY_OF_KIND.items():
        for name, frame in zip(names, frames):
            if prop not in frame.columns:
                raise DataError(f"table {name!r} has no {prop!r} column (needed for the {kind} prompts)")
        x = pd.to_numeric(a.loc[common, prop], errors="coerce").to_numpy(dtype=np.float64)
        y = pd.to_numeric(b.loc[common, prop], errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        cuts = np.asarray(thresholds.cuts(kind), dtype=np.float64)
        same = np.searchsorted(cuts, x, side="right") == np.searchsorted(cuts, y, side="right")
        r = (float(np.corrcoef(x, y)[0, 1]) if x.size >= 3 and np.std(x) > 0 and np.std(y) > 0 else math.nan)
        rows.append({"kind": kind, "property": prop, "n_clips": int(x.size), "pearson_r": r,
                     "mean_difference": float(np.mean(y - x)) if x.size else math.nan,
                     "mean_abs_difference": float(np.mean(np.abs(y - x))) if x.size else math.nan,
                     "same_bin_fraction": float(np.mean(same)) if x.size else math.nan,
                     "n_bins": int(cuts.size + 1), "compared": f"{names[1]} vs {names[0]}"})
    return pd.DataFrame(rows).set_index("kind")
