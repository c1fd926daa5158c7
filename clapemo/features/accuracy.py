"""How well each way of counting syllables (``features.syllables``) counts: per clip against a reference count
(:func:`syllable_errors`), and summarised per method and set (:func:`syllable_accuracy`).

The reference is the syllables of what was said, from the manifest's ``text`` (CMUdict:
:func:`clapemo.features.syllables.text_syllables`; for the synthetic benchmark the generator's text, for real
recordings their transcript), or a column of counts named by ``reference``. Counted from that same text, the
``transcript`` method agrees with the reference by construction: its row shows what the reference is, not an
error of the method (the error of the dictionary itself is not measured here).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np

from clapemo.config import Config, FeaturesConfig, section
from clapemo.errors import DataError, ParameterError
from clapemo.features.syllables import text_syllables
from clapemo.features.table import extract_table
from clapemo.schema import SYLLABLE_METHODS

__all__ = ["syllable_errors", "syllable_accuracy", "ACCURACY_COLUMNS"]

#: the columns of :func:`syllable_accuracy`, after the group column(s)
ACCURACY_COLUMNS: tuple[str, ...] = (
    "clips", "failed", "reference syllables", "counted syllables", "total error %", "mean |error|",
    "mean |error| %", "error sd", "median |error|", "p90 |error|", "max |error|", "exact share")


def _reference_counts(manifest: Any, reference: str) -> Any:
    """The reference count of each row (float, NaN where unknown)."""
    import pandas as pd

    if reference == "text":
        if "text" not in manifest.columns:
            raise DataError(f"manifest has no 'text' column (columns: {list(manifest.columns)}): the reference "
                            "count is the syllables of each clip's text")
        return pd.Series([float(text_syllables(t)) if isinstance(t, str) and t.strip() else math.nan
                          for t in manifest["text"]], index=manifest.index, dtype="float64")
    if reference not in manifest.columns:
        raise ParameterError(f"reference = {reference!r} is neither 'text' nor a column of the manifest "
                             f"(columns: {list(manifest.columns)})")
    return pd.to_numeric(manifest[reference], errors="coerce").astype("float64")


def syllable_errors(manifest: Any, *, methods: Sequence[str] = SYLLABLE_METHODS,
                    config: FeaturesConfig | Config | None = None, reference: str = "text", by: str = "dataset",
                    n_jobs: int = 1, use_cache: bool = True) -> "pd.DataFrame":  # noqa: F821
    """Each clip's syllable count by each method beside its reference count.

    Parameters
    ----------
    manifest : DataFrame
        ``path`` (and ``utterance_id``, ``start_s``, ``end_s`` when present, as :func:`~clapemo.features.
        extract_table` reads them), ``text``, and the ``by`` column when present. Rows without a reference are
        left out (they cannot be scored).
    methods : sequence of str
        Values of ``features.syllables`` (:data:`clapemo.schema.SYLLABLE_METHODS`).
    config : FeaturesConfig or Config, optional
        The other measurement settings (default: the defaults); its ``syllables`` is replaced by each method.
    reference : str
        ``"text"``: the syllables of the ``text`` cell (CMUdict); else a column of reference counts.
    by : str
        The column naming each clip's set (default ``dataset``); ``"all"`` for every clip when it is absent.
    n_jobs, use_cache
        As :func:`~clapemo.features.extract_table`.

    Returns
    -------
    DataFrame, one row per (clip, method)
        ``utterance_id``, ``set``, ``method``, ``duration_s``, ``reference``, ``counted`` (NaN where the clip
        failed), ``error`` (``counted - reference``), ``failed`` (the row's message, or None).
    """
    import pandas as pd

    cfg = section(config, FeaturesConfig)
    unknown = [m for m in methods if m not in SYLLABLE_METHODS]
    if unknown or not methods:
        raise ParameterError(f"methods = {list(methods)!r} must name one or more of {list(SYLLABLE_METHODS)}")
    ref = _reference_counts(manifest, reference)
    rows = manifest.loc[ref.notna()].copy()
    ref = ref.loc[ref.notna()]
    sets = rows[by].astype(str) if by in rows.columns else pd.Series("all", index=rows.index)
    ids = rows["utterance_id"] if "utterance_id" in rows.columns else rows["path"]
    frames = []
    for method in methods:
        table = extract_table(rows, config=dataclasses.replace(cfg, syllables=method), n_jobs=n_jobs,
                              use_cache=use_cache, progress=False)
        counted = table["n_syllables"].astype("float64").to_numpy()
        frames.append(pd.DataFrame({
            "utterance_id": ids.to_numpy(), "set": sets.to_numpy(), "method": method,
            "duration_s": table["duration_s"].to_numpy(dtype=float), "reference": ref.to_numpy(),
            "counted": counted, "error": counted - ref.to_numpy(), "failed": table["error"].to_numpy()}))
    if not frames or not len(rows):
        return pd.DataFrame(columns=["utterance_id", "set", "method", "duration_s", "reference", "counted",
                                     "error", "failed"])
    return pd.concat(frames, ignore_index=True)


def syllable_accuracy(errors: Any) -> "pd.DataFrame":  # noqa: F821
    """Syllable-count error per set and method, with its per-clip spread.

    Parameters
    ----------
    errors : DataFrame
        :func:`syllable_errors`'s rows (``set``, ``method``, ``reference``, ``counted``, ``error``; failed clips
        have NaN ``counted`` and are counted in ``failed``, not scored).

    Returns
    -------
    DataFrame indexed by (``set``, ``method``), in the order of first appearance, columns
    :data:`ACCURACY_COLUMNS`
        ``clips`` scored, ``failed``; the totals of the reference and the counted syllables and ``total error %``
        ``= 100 (counted - reference) / reference`` (signed: errors of both signs cancel here); ``mean |error|``
        in syllables per clip and as a percentage of the mean reference count (``mean |error| %``); the
        per-clip spread: the standard deviation of the signed error (``error sd``, ddof 0), the median, 90th
        percentile (linear) and largest absolute error, and the share of clips counted exactly.
    """
    import pandas as pd

    out = []
    for (set_name, method), group in errors.groupby(["set", "method"], sort=False):
        scored = group.loc[group["counted"].notna()]
        err = scored["error"].to_numpy(dtype=float)
        ref = scored["reference"].to_numpy(dtype=float)
        n = len(scored)
        absolute = np.abs(err)
        out.append({
            "set": set_name, "method": method, "clips": n, "failed": int(len(group) - n),
            "reference syllables": float(ref.sum()), "counted syllables": float(scored["counted"].sum()),
            "total error %": 100.0 * float(err.sum()) / float(ref.sum()) if n and ref.sum() else math.nan,
            "mean |error|": float(absolute.mean()) if n else math.nan,
            "mean |error| %": 100.0 * float(absolute.mean()) / float(ref.mean()) if n and ref.mean() else math.nan,
            "error sd": float(err.std()) if n else math.nan,
            "median |error|": float(np.median(absolute)) if n else math.nan,
            "p90 |error|": float(np.percentile(absolute, 90)) if n else math.nan,
            "max |error|": float(absolute.max()) if n else math.nan,
            "exact share": float(np.mean(err == 0)) if n else math.nan,
        })
    summary = pd.DataFrame(out, columns=["set", "method", *ACCURACY_COLUMNS])
    return summary.set_index(["set", "method"])
