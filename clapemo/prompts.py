"""Acoustic prompts (paper section 3.2, Table 2) and prompt augmentation.

A prompt describes one emotional utterance in words: its class label, optionally preceded by the bin of one
acoustic property, e.g. ``"high intensity anger"``. Prompt generation is a pure function of the utterance's
acoustic properties (:mod:`clapemo.features`), its canonical label and the cuts between bins.

Kinds
-----
=====================  =====================================================  ==============================
kind                   bins (in :data:`TEMPLATES` order)                     property
=====================  =====================================================  ==============================
``class_label``        the label alone: ``"anger"``                           none
``pitch``              low male / high male / low female / high female pitch  ``f0_mean_hz`` (F0 alone, 3 cuts)
``pitch2``             low / high pitch                                        ``f0_mean_hz`` (1 cut)
``intensity``          low / high intensity                                    ``intensity_db``
``speech_rate``        low / high speech rate                                  ``speech_rate_syl_per_s``
``articulation_rate``  low / high articulation rate                            ``articulation_rate_syl_per_s``
``combined``           all four properties in one prompt (the paper found it   all of the above
                       worse than augmentation): ``"high female pitch, low
                       intensity, high speech rate, low articulation rate
                       anger"``
=====================  =====================================================  ==============================

Prompt augmentation (:func:`augment`) pairs a clip separately with 5 prompts: ``class_label``, ``pitch``
(4 bins), ``intensity``, ``speech_rate``, ``articulation_rate``, in that order (:data:`AUGMENT_KINDS`).

Bin edges
---------
Every cut belongs to the bin above it: ``value < cut`` -> the lower bin, ``value >= cut`` -> the upper bin. For
the 4 pitch bins with cuts ``c0 <= c1 <= c2``: ``f0 < c0`` low male, ``c0 <= f0 < c1`` high male,
``c1 <= f0 < c2`` low female, ``f0 >= c2`` high female.

Default cuts (reconstructed)
----------------------------
The paper's text lost its numbers. The defaults in :class:`clapemo.config.PromptsConfig` are our
**reconstruction**, not values verified against the authors' code: pitch 132.5 / 180 / 210 Hz (4 bins),
170 Hz (2 bins), intensity 60 dB, speech rate 3.12 syllables/s, articulation rate 4.0 syllables/s. The
intensity cut is on Praat's scale (dB re 2e-5 with sample values read as pascals; speech is about 55-80 dB), not
librosa's dBFS (which is <= 0 and would put every clip in the low bin; :func:`prompts_table` warns when every
intensity is <= 0 dB).

Quantile (data-centric) binning
-------------------------------
With ``prompts.binning = "quantile"`` the cuts come from training data (the paper's future work):
:func:`fit_thresholds` sets the 4-bin pitch cuts at the quartiles (25th, 50th, 75th percentiles) of F0 and every
2-bin cut (pitch2, intensity, speech rate, articulation rate) at the median, pooled over all rows or per corpus
(``prompts.quantile_scope``). Fit once on the training split, save with the run (:func:`save_thresholds`), and
apply the saved :class:`Thresholds` to test data unchanged (:func:`prompts_table` ``thresholds=``). Without fitted
thresholds, quantile mode raises :class:`~clapemo.errors.ParameterError`.

Missing properties
------------------
A property that is missing (None, NaN, +-inf; or F0 <= 0 Hz, the "unvoiced" marker of some pitch trackers) gives
no prompt of the kinds that need it: :func:`prompt` returns ``None``, :func:`augment` leaves that prompt out
(the list is shorter than 5, order kept), and :func:`prompts_table` writes ``None`` and counts it in
``df.attrs["skipped"]``. The ``combined`` prompt lists only the properties that are present; it is skipped only
when none is. A negative rate is invalid data and raises :class:`~clapemo.errors.DataError`.

Emotion wording
---------------
The canonical label maps to the word used in prompts through :data:`clapemo.emotions.PROMPT_WORDS`
(``angry`` -> ``anger``), overridden per label by ``prompts.emotion_words``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from clapemo.config import PromptsConfig
from clapemo.emotions import EMOTIONS, PROMPT_WORDS
from clapemo.errors import ConfigError, DataError, ParameterError

__all__ = [
    "KINDS",
    "AUGMENT_KINDS",
    "TEMPLATES",
    "COMBINED_TEMPLATE",
    "COMBINED_SEPARATOR",
    "PROPERTY_OF_KIND",
    "Thresholds",
    "validate_templates",
    "emotion_word",
    "bin_name",
    "prompt",
    "augment",
    "fit_thresholds",
    "save_thresholds",
    "load_thresholds",
    "prompts_table",
    "cli",
]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------------
# Prompts as data (paper Table 2)
# --------------------------------------------------------------------------------------------------------------

#: every prompt kind, in the column order of the prompts table
KINDS: tuple[str, ...] = (
    "class_label", "pitch", "pitch2", "intensity", "speech_rate", "articulation_rate", "combined",
)

#: the 5 prompts of prompt augmentation, class label first
AUGMENT_KINDS: tuple[str, ...] = ("class_label", "pitch", "intensity", "speech_rate", "articulation_rate")

#: kind -> bin name -> template; bins are listed from the lowest to the highest value
TEMPLATES: dict[str, dict[str, str]] = {
    "class_label": {"label": "{emotion}"},
    "pitch": {
        "low_male": "low male pitch {emotion}",
        "high_male": "high male pitch {emotion}",
        "low_female": "low female pitch {emotion}",
        "high_female": "high female pitch {emotion}",
    },
    "pitch2": {"low": "low pitch {emotion}", "high": "high pitch {emotion}"},
    "intensity": {"low": "low intensity {emotion}", "high": "high intensity {emotion}"},
    "speech_rate": {"low": "low speech rate {emotion}", "high": "high speech rate {emotion}"},
    "articulation_rate": {"low": "low articulation rate {emotion}", "high": "high articulation rate {emotion}"},
}

#: the combined prompt: the bin phrases of :data:`COMBINED_KINDS` joined by :data:`COMBINED_SEPARATOR`
COMBINED_TEMPLATE = "{properties} {emotion}"
COMBINED_SEPARATOR = ", "
COMBINED_KINDS: tuple[str, ...] = ("pitch", "intensity", "speech_rate", "articulation_rate")

#: kind -> the AcousticProperties field it bins
PROPERTY_OF_KIND: dict[str, str] = {
    "pitch": "f0_mean_hz",
    "pitch2": "f0_mean_hz",
    "intensity": "intensity_db",
    "speech_rate": "speech_rate_syl_per_s",
    "articulation_rate": "articulation_rate_syl_per_s",
}

_N_BINS = {"class_label": 1, "pitch": 4, "pitch2": 2, "intensity": 2, "speech_rate": 2, "articulation_rate": 2}
_PLACEHOLDER = "{emotion}"


def _placeholders(template: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as err:
        raise ParameterError(f"template {template!r} is not a valid format string ({err})") from None


def validate_templates(templates: Mapping[str, Mapping[str, str]]) -> None:
    """Check a templates table: every kind present with its number of bins, one ``{emotion}`` each.

    Acoustic templates must end with ``{emotion}`` so that their bin phrase (the text before it) can be reused
    in the combined prompt. Raises :class:`~clapemo.errors.ParameterError` naming the kind, bin and rule.
    """
    missing = sorted(set(_N_BINS) - set(templates))
    if missing:
        raise ParameterError(f"templates: kind {missing[0]!r} is missing (kinds needed: {sorted(_N_BINS)})")
    for kind, bins in templates.items():
        if kind not in _N_BINS:
            raise ParameterError(f"templates: unknown kind {kind!r} (known: {sorted(_N_BINS)})")
        if len(bins) != _N_BINS[kind]:
            raise ParameterError(f"templates[{kind!r}] has {len(bins)} bins, expected {_N_BINS[kind]}")
        for name, template in bins.items():
            where = f"templates[{kind!r}][{name!r}] = {template!r}"
            if not isinstance(template, str):
                raise ParameterError(f"{where} must be a str")
            fields = _placeholders(template)
            if fields != ["emotion"]:
                raise ParameterError(f"{where} must contain the placeholder {_PLACEHOLDER} exactly once and no "
                                     f"other placeholder (found {fields})")
            if kind != "class_label" and (not template.endswith(" " + _PLACEHOLDER)
                                          or not template[: -len(_PLACEHOLDER)].strip()):
                raise ParameterError(f"{where} must be '<bin phrase> {_PLACEHOLDER}'")
    if _placeholders(COMBINED_TEMPLATE) != ["properties", "emotion"]:
        raise ParameterError(f"COMBINED_TEMPLATE = {COMBINED_TEMPLATE!r} needs {{properties}} then {{emotion}}")


validate_templates(TEMPLATES)  # at import: a template without its {emotion} placeholder raises here

_BIN_NAMES = {kind: tuple(bins) for kind, bins in TEMPLATES.items()}
_PHRASES = {kind: {name: t[: -len(_PLACEHOLDER)].strip() for name, t in bins.items()}
            for kind, bins in TEMPLATES.items() if kind != "class_label"}

# --------------------------------------------------------------------------------------------------------------
# Thresholds: the cuts actually used
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """The cuts between bins actually used to form prompts (save them with every run).

    Attributes
    ----------
    pitch_cuts_hz : tuple of 3 floats, non-decreasing (4 pitch bins)
    pitch2_cut_hz, intensity_cut_db, speech_rate_cut_syl_per_s, articulation_rate_cut_syl_per_s : float
    origin : str
        Where the cuts come from: ``"fixed"`` (config; reconstructed literature values), ``"quantile:pooled"``
        or ``"quantile:<corpus>"``.
    n_fit : int
        Rows the quantiles were fitted on (0 for fixed cuts).
    """

    pitch_cuts_hz: tuple[float, float, float]
    pitch2_cut_hz: float
    intensity_cut_db: float
    speech_rate_cut_syl_per_s: float
    articulation_rate_cut_syl_per_s: float
    origin: str = "fixed"
    n_fit: int = 0

    def __post_init__(self) -> None:
        try:
            cuts = tuple(float(c) for c in self.pitch_cuts_hz)
        except (TypeError, ValueError):
            raise ParameterError(f"pitch_cuts_hz = {self.pitch_cuts_hz!r} must be 3 numbers") from None
        if len(cuts) != 3 or not all(math.isfinite(c) for c in cuts) or list(cuts) != sorted(cuts):
            raise ParameterError(f"pitch_cuts_hz = {self.pitch_cuts_hz!r} must be 3 finite, non-decreasing "
                                 "numbers (low male | high male | low female | high female)")
        object.__setattr__(self, "pitch_cuts_hz", cuts)
        for name in ("pitch2_cut_hz", "intensity_cut_db", "speech_rate_cut_syl_per_s",
                     "articulation_rate_cut_syl_per_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ParameterError(f"{name} = {value!r} must be a finite number")
            object.__setattr__(self, name, float(value))

    @classmethod
    def from_config(cls, config: PromptsConfig | None = None) -> "Thresholds":
        """The fixed cuts of a config section (defaults: the reconstructed literature values)."""
        cfg = _section(config)
        return cls(pitch_cuts_hz=tuple(cfg.pitch_cuts_hz), pitch2_cut_hz=cfg.pitch2_cut_hz,
                   intensity_cut_db=cfg.intensity_cut_db, speech_rate_cut_syl_per_s=cfg.speech_rate_cut_syl_per_s,
                   articulation_rate_cut_syl_per_s=cfg.articulation_rate_cut_syl_per_s, origin="fixed")

    def cuts(self, kind: str) -> tuple[float, ...]:
        """The cuts of one acoustic kind, ascending."""
        if kind == "pitch":
            return self.pitch_cuts_hz
        return ({"pitch2": self.pitch2_cut_hz, "intensity": self.intensity_cut_db,
                 "speech_rate": self.speech_rate_cut_syl_per_s,
                 "articulation_rate": self.articulation_rate_cut_syl_per_s}[kind],)

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict."""
        out = dataclasses.asdict(self)
        out["pitch_cuts_hz"] = list(self.pitch_cuts_hz)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Thresholds":
        """Inverse of :meth:`to_dict`; unknown or missing keys raise :class:`~clapemo.errors.ConfigError`."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"thresholds must be a mapping, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown thresholds key {unknown[0]!r} (known: {sorted(names)})")
        required = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
        absent = sorted(required - set(data))
        if absent:
            raise ConfigError(f"thresholds key {absent[0]!r} is missing")
        return cls(**dict(data))


def _section(config: Any) -> PromptsConfig:
    """Accept None, a PromptsConfig, or a whole Config (its ``prompts`` section)."""
    if config is None:
        return PromptsConfig()
    if isinstance(config, PromptsConfig):
        return config
    if isinstance(getattr(config, "prompts", None), PromptsConfig):
        return config.prompts
    raise ParameterError(f"config must be a PromptsConfig, a Config or None, got {type(config).__name__}")


def _resolve_thresholds(cfg: PromptsConfig, thresholds: Thresholds | None) -> Thresholds:
    if thresholds is not None:
        if not isinstance(thresholds, Thresholds):
            raise ParameterError(f"thresholds must be a Thresholds, got {type(thresholds).__name__}")
        return thresholds
    if cfg.binning == "quantile":
        raise ParameterError("prompts.binning = 'quantile' needs fitted thresholds: call "
                             "fit_thresholds(<training features>, config) once and pass thresholds=...")
    return Thresholds.from_config(cfg)


# --------------------------------------------------------------------------------------------------------------
# One utterance
# --------------------------------------------------------------------------------------------------------------


def emotion_word(label: str, config: PromptsConfig | None = None) -> str:
    """The word a canonical label takes in prompts (``"angry"`` -> ``"anger"``), config overrides first."""
    cfg = _section(config)
    if not isinstance(label, str) or label not in EMOTIONS:
        raise ParameterError(f"label = {label!r} is not a canonical emotion (known: {', '.join(EMOTIONS)})")
    word = cfg.emotion_words.get(label, PROMPT_WORDS[label])
    if not isinstance(word, str) or not word.strip():
        raise ParameterError(f"prompts.emotion_words[{label!r}] = {word!r} must be a non-empty str")
    return word


def _get_property(props: Any, name: str) -> Any:
    if isinstance(props, Mapping):
        if name not in props:
            raise ParameterError(f"props has no {name!r} (needs the AcousticProperties fields)")
        return props[name]
    if hasattr(props, "index") and hasattr(props, "__getitem__") and not dataclasses.is_dataclass(props):
        try:  # pandas Series (a table row)
            return props[name]
        except KeyError:
            raise ParameterError(f"props has no {name!r} (needs the AcousticProperties fields)") from None
    if hasattr(props, name):
        return getattr(props, name)
    raise ParameterError(f"props ({type(props).__name__}) has no {name!r}: pass an AcousticProperties, a "
                         "mapping or a table row")


def _clean_values(values: np.ndarray, name: str) -> np.ndarray:
    """Float array with NaN for every missing value; raises on invalid negative rates."""
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):  # None / pd.NA inside an object array
        x = np.array([_to_float(v, name) for v in np.asarray(values, dtype=object).ravel()], dtype=float)
    x = np.where(np.isfinite(x), x, np.nan)
    if name == "f0_mean_hz":
        x = np.where(x > 0, x, np.nan)
    elif name != "intensity_db" and np.any(x < 0):
        bad = x[x < 0][0]
        raise DataError(f"{name} = {float(bad)!r} is negative; a rate must be >= 0 (or NaN when unknown)")
    return x


def _to_float(value: Any, name: str) -> float:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{name} = {value!r} is not a number") from None


def _bin_index(values: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """Bin of each value: the number of cuts <= value (value < cut -> lower bin). NaN -> -1."""
    idx = np.searchsorted(np.asarray(cuts, dtype=float), np.nan_to_num(values, nan=0.0), side="right")
    return np.where(np.isnan(values), -1, idx)


def bin_name(value: float | None, kind: str, *, thresholds: Thresholds) -> str | None:
    """The bin (a key of ``TEMPLATES[kind]``) of one property value, or None when it is missing."""
    if kind not in PROPERTY_OF_KIND:
        raise ParameterError(f"kind = {kind!r} has no bins (acoustic kinds: {list(PROPERTY_OF_KIND)})")
    x = _clean_values(np.array([np.nan if value is None else value], dtype=object), PROPERTY_OF_KIND[kind])
    i = int(_bin_index(x, thresholds.cuts(kind))[0])
    return None if i < 0 else _BIN_NAMES[kind][i]


def _combine(phrases: Sequence[str | None], word: str) -> str | None:
    present = [p for p in phrases if p is not None]
    if not present:
        return None
    return COMBINED_TEMPLATE.format(properties=COMBINED_SEPARATOR.join(present), emotion=word)


def prompt(props: Any, label: str, kind: str, config: PromptsConfig | None = None, *,
           thresholds: Thresholds | None = None) -> str | None:
    """The prompt of one kind for one utterance.

    Parameters
    ----------
    props : AcousticProperties, mapping or table row
        Needs the field(s) of the kind (see :data:`PROPERTY_OF_KIND`); ``class_label`` needs none.
    label : str
        Canonical label (in :data:`clapemo.emotions.EMOTIONS`).
    kind : str
        One of :data:`KINDS`.
    config : PromptsConfig, Config or None
        Cuts (fixed binning) and emotion wording.
    thresholds : Thresholds, optional
        Cuts to use instead of the config's; required for acoustic kinds when ``binning = "quantile"``.

    Returns
    -------
    str or None
        e.g. ``"low male pitch anger"``; ``None`` when the property is missing (the prompt is skipped).
    """
    cfg = _section(config)
    if kind not in KINDS:
        raise ParameterError(f"kind = {kind!r} is not a prompt kind (known: {', '.join(KINDS)})")
    word = emotion_word(label, cfg)
    if kind == "class_label":
        return TEMPLATES["class_label"]["label"].format(emotion=word)
    cuts = _resolve_thresholds(cfg, thresholds)
    if kind == "combined":
        phrases = []
        for k in COMBINED_KINDS:
            b = bin_name(_get_property(props, PROPERTY_OF_KIND[k]), k, thresholds=cuts)
            phrases.append(None if b is None else _PHRASES[k][b])
        return _combine(phrases, word)
    b = bin_name(_get_property(props, PROPERTY_OF_KIND[kind]), kind, thresholds=cuts)
    return None if b is None else TEMPLATES[kind][b].format(emotion=word)


def augment(props: Any, label: str, config: PromptsConfig | None = None, *,
            thresholds: Thresholds | None = None) -> list[str]:
    """The prompt-augmentation prompts of one utterance: :data:`AUGMENT_KINDS`, class label first.

    Returns 5 prompts, or fewer when a property is missing (that prompt is left out, order kept).
    """
    cfg = _section(config)
    cuts = _resolve_thresholds(cfg, thresholds)
    out = [prompt(props, label, kind, cfg, thresholds=cuts) for kind in AUGMENT_KINDS]
    return [p for p in out if p is not None]


# --------------------------------------------------------------------------------------------------------------
# Quantile thresholds
# --------------------------------------------------------------------------------------------------------------


def _is_missing_label(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fit_one(table: Any, origin: str) -> Thresholds:
    cuts: dict[str, Any] = {}
    for kind, q in (("pitch", (0.25, 0.5, 0.75)), ("pitch2", (0.5,)), ("intensity", (0.5,)),
                    ("speech_rate", (0.5,)), ("articulation_rate", (0.5,))):
        name = PROPERTY_OF_KIND[kind]
        x = _clean_values(table[name].to_numpy(dtype=object), name)
        x = x[~np.isnan(x)]
        if x.size < 2:
            raise ParameterError(f"fit_thresholds ({origin}): {name} has {x.size} usable value(s); quantile cuts "
                                 "need at least 2")
        cuts[kind] = [float(v) for v in np.quantile(x, q)]  # linear interpolation (numpy's default)
    return Thresholds(pitch_cuts_hz=tuple(cuts["pitch"]), pitch2_cut_hz=cuts["pitch2"][0],
                      intensity_cut_db=cuts["intensity"][0], speech_rate_cut_syl_per_s=cuts["speech_rate"][0],
                      articulation_rate_cut_syl_per_s=cuts["articulation_rate"][0], origin=origin,
                      n_fit=int(len(table)))


def fit_thresholds(features_df: Any, config: PromptsConfig | None = None, *,
                   by: str | None = None) -> Thresholds | dict[str, Thresholds]:
    """Quantile cuts fitted on training data (data-centric binning).

    Pitch 4-bin cuts are the quartiles of F0; every 2-bin cut is the median of its property. Quantiles use
    numpy's linear interpolation over the present values (missing ones are ignored). When the table has a
    ``label`` column, rows without a label (captioned general audio) are ignored. Pass only the training split;
    the result is then applied unchanged to test data.

    Parameters
    ----------
    features_df : DataFrame
        The property columns (and ``dataset`` for ``by="per_corpus"``).
    config : PromptsConfig, Config or None
        ``quantile_scope`` is the default of ``by``.
    by : {"pooled", "per_corpus"}, optional

    Returns
    -------
    Thresholds, or dict corpus -> Thresholds for ``by="per_corpus"``.
    """
    cfg = _section(config)
    by = cfg.quantile_scope if by is None else by
    if by not in ("pooled", "per_corpus"):
        raise ParameterError(f"by = {by!r} must be 'pooled' or 'per_corpus'")
    missing = [c for c in sorted(set(PROPERTY_OF_KIND.values())) if c not in features_df.columns]
    if missing:
        raise ParameterError(f"features_df lacks column {missing[0]!r}")
    table = features_df
    if "label" in table.columns:
        table = table[~table["label"].map(_is_missing_label).to_numpy(dtype=bool)]
    if len(table) == 0:
        raise ParameterError("fit_thresholds: no emotion rows to fit on")
    if by == "pooled":
        return _fit_one(table, "quantile:pooled")
    if "dataset" not in table.columns:
        raise ParameterError("fit_thresholds(by='per_corpus') needs a 'dataset' column")
    return {str(name): _fit_one(group, f"quantile:{name}")
            for name, group in table.groupby("dataset", sort=True, dropna=False)}


def save_thresholds(thresholds: Thresholds | Mapping[str, Thresholds], path: str | Path) -> Path:
    """Write fitted (or fixed) thresholds as JSON, pooled or per corpus; returns the path."""
    if isinstance(thresholds, Thresholds):
        data = {"scope": "pooled", "thresholds": thresholds.to_dict()}
    elif isinstance(thresholds, Mapping) and all(isinstance(t, Thresholds) for t in thresholds.values()):
        data = {"scope": "per_corpus", "thresholds": {k: t.to_dict() for k, t in thresholds.items()}}
    else:
        raise ParameterError("thresholds must be a Thresholds or a mapping corpus -> Thresholds")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def load_thresholds(path: str | Path) -> Thresholds | dict[str, Thresholds]:
    """Read what :func:`save_thresholds` wrote."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"thresholds file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict) or data.get("scope") not in ("pooled", "per_corpus") or "thresholds" not in data:
        raise DataError(f"{path}: expected {{'scope': 'pooled'|'per_corpus', 'thresholds': ...}}")
    if data["scope"] == "pooled":
        return Thresholds.from_dict(data["thresholds"])
    return {k: Thresholds.from_dict(v) for k, v in data["thresholds"].items()}


# --------------------------------------------------------------------------------------------------------------
# The prompts table
# --------------------------------------------------------------------------------------------------------------


def _table_prompts(table: Any, words: np.ndarray, cuts: Thresholds) -> dict[str, np.ndarray]:
    """Prompt columns (object arrays, None where skipped) for rows that all use the same cuts."""
    n = len(table)
    phrases: dict[str, np.ndarray] = {}
    out: dict[str, np.ndarray] = {"class_label": np.array(
        [TEMPLATES["class_label"]["label"].format(emotion=w) for w in words], dtype=object)}
    for kind, name in PROPERTY_OF_KIND.items():
        idx = _bin_index(_clean_values(table[name].to_numpy(dtype=object), name), cuts.cuts(kind))
        names = _BIN_NAMES[kind]
        out[kind] = np.array([None if i < 0 else TEMPLATES[kind][names[i]].format(emotion=w)
                              for i, w in zip(idx, words)], dtype=object)
        phrases[kind] = np.array([None if i < 0 else _PHRASES[kind][names[i]] for i in idx], dtype=object)
    out["combined"] = np.array([_combine([phrases[k][r] for k in COMBINED_KINDS], words[r]) for r in range(n)],
                               dtype=object)
    return out


def prompts_table(table: Any, config: PromptsConfig | None = None, *,
                  thresholds: Thresholds | Mapping[str, Thresholds] | None = None) -> Any:
    """Every prompt kind for every utterance.

    Parameters
    ----------
    table : DataFrame, n rows
        ``utterance_id``, ``label`` and the property columns (a features table joined with its manifest);
        ``dataset`` too when ``thresholds`` is per corpus.
    config : PromptsConfig, Config or None
    thresholds : Thresholds or mapping corpus -> Thresholds, optional
        Fitted cuts (see :func:`fit_thresholds`). Without them the config's fixed cuts are used; in quantile mode
        that is an error.

    Returns
    -------
    DataFrame, n rows, input order
        ``utterance_id, label, class_label, pitch, pitch2, intensity, speech_rate, articulation_rate, combined``;
        prompt columns are object dtype with ``None`` where skipped (null in parquet; pandas may read it back
        as NaN). Rows whose label is None (captioned general
        audio) are not emotion rows: all their prompt columns are None (training uses the caption as is) and they
        are not counted as skipped. ``attrs["skipped"]``: kind -> number of emotion rows without that prompt;
        ``attrs["n_emotion_rows"]``; ``attrs["thresholds"]``: the cuts used (``Thresholds.to_dict`` form, or
        corpus -> dict).
    """
    import pandas as pd

    cfg = _section(config)
    needed = ["utterance_id", "label", *sorted(set(PROPERTY_OF_KIND.values()))]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ParameterError(f"table lacks column {missing[0]!r} (needs {needed}; join the manifest for 'label')")
    per_corpus = isinstance(thresholds, Mapping)
    if per_corpus:
        if not all(isinstance(t, Thresholds) for t in thresholds.values()):
            raise ParameterError("thresholds mapping must map corpus -> Thresholds")
        if "dataset" not in table.columns:
            raise ParameterError("per-corpus thresholds need a 'dataset' column in table")
        used: Any = {k: t.to_dict() for k, t in thresholds.items()}
    else:
        single = _resolve_thresholds(cfg, thresholds)
        used = single.to_dict()

    labels = [None if _is_missing_label(v) else v for v in table["label"].tolist()]
    bad = sorted({v for v in labels if v is not None and (not isinstance(v, str) or v not in EMOTIONS)}, key=str)
    if bad:
        raise ParameterError(f"label {bad[0]!r} is not a canonical emotion (known: {', '.join(EMOTIONS)})")
    is_emotion = np.array([v is not None for v in labels], dtype=bool)
    n = len(table)
    columns = {kind: np.full(n, None, dtype=object) for kind in KINDS}
    rows = np.flatnonzero(is_emotion)
    if rows.size:
        emo = table.iloc[rows]
        words = np.array([emotion_word(labels[r], cfg) for r in rows], dtype=object)
        if per_corpus:
            datasets = emo["dataset"].astype(object).to_numpy()
            unknown = sorted({str(d) for d in datasets} - set(thresholds))
            if unknown:
                raise ParameterError(f"no thresholds for dataset {unknown[0]!r} (have: {sorted(thresholds)})")
            groups = [(np.flatnonzero(datasets.astype(str) == name), t) for name, t in thresholds.items()]
        else:
            groups = [(np.arange(rows.size), single)]
        for pos, cuts in groups:
            if pos.size == 0:
                continue
            part = _table_prompts(emo.iloc[pos], words[pos], cuts)
            for kind in KINDS:
                columns[kind][rows[pos]] = part[kind]
        intensity = _clean_values(emo["intensity_db"].to_numpy(dtype=object), "intensity_db")
        if np.any(~np.isnan(intensity)) and np.nanmax(intensity) <= 0:
            log.warning("every intensity_db is <= 0: this looks like dBFS, but the intensity cuts are on Praat's "
                        "dB scale (re 2e-5); every clip falls in the low-intensity bin")

    out = pd.DataFrame({"utterance_id": table["utterance_id"].astype(object).to_numpy(),
                        "label": np.array(labels, dtype=object)})
    for kind in KINDS:
        out[kind] = pd.Series(columns[kind], dtype=object)
    out.attrs["skipped"] = {kind: int(sum(columns[kind][r] is None for r in rows)) for kind in KINDS}
    out.attrs["n_emotion_rows"] = int(rows.size)
    out.attrs["thresholds"] = used
    return out


# --------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------


def _join_manifest(features: Any, manifest: Any) -> Any:
    if "utterance_id" not in manifest.columns:
        raise DataError("manifest lacks column 'utterance_id'")
    if manifest["utterance_id"].duplicated().any():
        dup = manifest["utterance_id"][manifest["utterance_id"].duplicated()].iloc[0]
        raise DataError(f"manifest has duplicate utterance_id {dup!r}")
    extra = [c for c in ("label", "dataset", "split", "sex")
             if c in manifest.columns and c not in features.columns]
    known = set(manifest["utterance_id"])
    absent = [u for u in features["utterance_id"] if u not in known]
    if absent:
        raise DataError(f"{len(absent)} utterance_id(s) of the features table are not in the manifest, e.g. "
                        f"{absent[0]!r}")
    return features.merge(manifest[["utterance_id", *extra]], on="utterance_id", how="left", sort=False)


def cli(argv: list[str]) -> int:
    """``clapemo prompts features.parquet -o prompts.parquet``."""
    import pandas as pd

    from clapemo.config import load_config

    parser = argparse.ArgumentParser(prog="clapemo prompts",
                                     description="Turn acoustic properties into acoustic prompts (one column per "
                                     "kind). Default cuts are reconstructed literature values.")
    parser.add_argument("features", help="features table (parquet) from 'clapemo features'")
    parser.add_argument("-o", "--output", required=True, help="prompts table to write (parquet)")
    parser.add_argument("--manifest",
                        help="manifest (parquet) to join 'label' (and dataset, split) by utterance_id")
    parser.add_argument("--config", help="YAML experiment config (default: built-in defaults)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--thresholds", help="apply cuts saved by --fit (JSON)")
    parser.add_argument("--fit", metavar="JSON", help="fit quantile cuts on the --fit-split rows, save them here, "
                        "and apply them to all rows")
    parser.add_argument("--fit-split", default="train", help="split whose rows --fit uses (default: train)")
    args = parser.parse_args(argv)
    if args.thresholds and args.fit:
        raise ParameterError("give either --thresholds or --fit, not both")

    cfg = load_config(args.config, overrides=args.set).prompts
    try:
        features = pd.read_parquet(args.features)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read features table {args.features}: {err}") from None
    if args.manifest:
        try:
            manifest = pd.read_parquet(args.manifest)
        except (OSError, ValueError) as err:
            raise DataError(f"cannot read manifest {args.manifest}: {err}") from None
        features = _join_manifest(features, manifest)
    elif "label" not in features.columns:
        raise DataError(f"{args.features} has no 'label' column: pass --manifest manifest.parquet to join labels")

    thresholds = None
    if args.thresholds:
        thresholds = load_thresholds(args.thresholds)
    elif args.fit:
        if "split" not in features.columns:
            raise DataError("--fit needs a 'split' column (pass --manifest)")
        train = features[features["split"] == args.fit_split]
        if len(train) == 0:
            raise DataError(f"--fit: no rows with split == {args.fit_split!r}")
        thresholds = fit_thresholds(train, cfg)
        save_thresholds(thresholds, args.fit)
        print(f"fitted {cfg.quantile_scope} quantile cuts on {len(train)} '{args.fit_split}' rows -> {args.fit}")

    table = prompts_table(features, cfg, thresholds=thresholds)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(args.output, index=False)
    skipped = table.attrs["skipped"]
    print(f"{len(table)} rows ({table.attrs['n_emotion_rows']} emotion rows) -> {args.output}")
    print("skipped prompts (property missing): "
          + ", ".join(f"{k} {v}" for k, v in skipped.items() if k != "class_label"))
    print("cuts: " + json.dumps(table.attrs["thresholds"], sort_keys=True))
    return 0
