"""What is measured: :class:`AcousticProperties` of one clip, and the columns of the features table.

The field names are those of ``clapemo.schema`` (``PROPERTY_COLUMNS``, ``EXTRA_PROPERTY_COLUMNS``); importing this
module checks that they still match.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from clapemo.schema import EXTRA_PROPERTY_COLUMNS, PROPERTY_COLUMNS

__all__ = ["AcousticProperties", "PROPERTY_FIELDS", "EXTRA_FIELDS", "TABLE_COLUMNS", "EXTRA_TABLE_COLUMNS"]


@dataclass(frozen=True)
class AcousticProperties:
    """The acoustic properties of one utterance.

    Attributes
    ----------
    duration_s : float
        Duration of the analysed audio in seconds.
    f0_mean_hz : float
        Mean F0 over voiced frames, Hz; NaN when no frame is voiced.
    intensity_db : float
        Energy-averaged intensity, dB re 2e-5 (Praat's scale; sample values taken as pascals).
    speech_rate_syl_per_s : float
        ``n_syllables / duration_s``.
    articulation_rate_syl_per_s : float
        ``n_syllables / phonation_time_s``; NaN when the phonation time is 0.
    n_syllables : int
        Number of syllables: the syllable nuclei (de Jong & Wempe v2; ``FeaturesConfig.syllables = "nuclei"``,
        the default), or those of the words said (``"transcript"``, ``"asr"``).
    phonation_time_s : float
        Total sounding (non-pause) time in seconds.
    voiced_fraction : float
        Fraction of pitch frames that are voiced, in [0, 1].
    f0_sd_st, jitter_local_pct, shimmer_local_pct, hnr_db, pause_rate_per_s : float or None
        The voice-quality fields (:mod:`clapemo.features.voice`): ``None`` = not measured (``voice_quality``
        off), NaN = measured but undefined for this clip.
    """

    duration_s: float
    f0_mean_hz: float
    intensity_db: float
    speech_rate_syl_per_s: float
    articulation_rate_syl_per_s: float
    n_syllables: int
    phonation_time_s: float
    voiced_fraction: float
    f0_sd_st: float | None = None
    jitter_local_pct: float | None = None
    shimmer_local_pct: float | None = None
    hnr_db: float | None = None
    pause_rate_per_s: float | None = None

    def to_dict(self) -> dict:
        """The fields as a plain dict (JSON-serialisable; NaN stays a float NaN); voice-quality fields only
        where measured (not None)."""
        return {name: value for name, value in dataclasses.asdict(self).items()
                if name not in EXTRA_FIELDS or value is not None}


#: The voice-quality fields, measured with ``FeaturesConfig.voice_quality`` (``schema.EXTRA_PROPERTY_COLUMNS``).
EXTRA_FIELDS: tuple[str, ...] = EXTRA_PROPERTY_COLUMNS
#: The always-measured fields (``schema.PROPERTY_COLUMNS``).
PROPERTY_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(AcousticProperties)
                                         if f.name not in EXTRA_FIELDS)
if PROPERTY_FIELDS != PROPERTY_COLUMNS or not set(EXTRA_FIELDS) <= {f.name for f in
                                                                   dataclasses.fields(AcousticProperties)}:
    raise ImportError("clapemo.features.AcousticProperties does not match clapemo.schema's property columns")
#: Columns of the table returned by :func:`~clapemo.features.extract_table`, in order (``voice_quality`` off).
TABLE_COLUMNS: tuple[str, ...] = ("utterance_id", "path", *PROPERTY_FIELDS, "error")
#: Columns of the table with ``voice_quality`` on: the voice-quality fields go before ``error``.
EXTRA_TABLE_COLUMNS: tuple[str, ...] = ("utterance_id", "path", *PROPERTY_FIELDS, *EXTRA_FIELDS, "error")
