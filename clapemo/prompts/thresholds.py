"""The cuts actually used to form prompts: :class:`Thresholds` (pooled, or one per corpus),
:class:`SpeakerThresholds` and :class:`SexThresholds`; the config section they come from and the choice of cuts
for a call; their saved (JSON) form."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from clapemo.config import PromptsConfig
from clapemo.errors import ConfigError, DataError, ParameterError
from clapemo.prompts.kinds import EXTRA_KINDS, LEVEL_WORDS, PROPERTY_OF_KIND
from clapemo.schema import SEXES

__all__ = [
    "CUT_FIELDS", "Thresholds", "SpeakerThresholds", "SexThresholds", "prompts_section", "check_levels",
    "resolve_thresholds", "thresholds_from_dict", "save_thresholds", "load_thresholds",
]

#: Thresholds field of each 1-cut (2-level) kind
CUT_FIELDS: dict[str, str] = {"pitch2": "pitch2_cut_hz", "intensity": "intensity_cut_db",
                              "speech_rate": "speech_rate_cut_syl_per_s",
                              "articulation_rate": "articulation_rate_cut_syl_per_s"}


def _finite_cuts(value: Any, n: int, name: str) -> tuple[float, ...]:
    try:
        cuts = tuple(float(c) for c in value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} = {value!r} must be {n} finite, non-decreasing numbers") from None
    if (len(cuts) != n or not all(math.isfinite(c) for c in cuts) or list(cuts) != sorted(cuts)
            or any(isinstance(c, bool) for c in value)):
        raise ParameterError(f"{name} = {value!r} must be {n} finite, non-decreasing numbers")
    return cuts


@dataclass(frozen=True)
class Thresholds:
    """The cuts between bins actually used to form prompts (save them with every run).

    Attributes
    ----------
    pitch_cuts_hz : tuple of ``2 * levels - 1`` floats, non-decreasing (3 for the paper's 4 pitch bins)
        The male levels, the male | female cut, the female levels.
    pitch2_cut_hz, intensity_cut_db, speech_rate_cut_syl_per_s, articulation_rate_cut_syl_per_s : float
        One cut each with 2 levels; a tuple of ``levels - 1`` non-decreasing floats otherwise.
    origin : str
        Where the cuts come from: ``"fixed"`` (config; reconstructed literature values), ``"quantile:pooled"``,
        ``"quantile:<corpus>"``, ``"quantile:speaker:<dataset>/<speaker>"`` ...
    n_fit : int
        Rows the quantiles were fitted on (0 for fixed cuts).
    levels : int
        Bins per property (:data:`LEVEL_WORDS`); 2 = the paper's.
    extra_cuts : dict kind -> tuple of ``levels - 1`` floats
        Cuts of the :data:`EXTRA_KINDS` that were fitted (empty by default).

    ``to_dict`` leaves out ``levels`` and ``extra_cuts`` at their defaults, so the paper's thresholds files are
    unchanged.
    """

    pitch_cuts_hz: tuple[float, ...]
    pitch2_cut_hz: float | tuple[float, ...]
    intensity_cut_db: float | tuple[float, ...]
    speech_rate_cut_syl_per_s: float | tuple[float, ...]
    articulation_rate_cut_syl_per_s: float | tuple[float, ...]
    origin: str = "fixed"
    n_fit: int = 0
    levels: int = 2
    extra_cuts: Mapping[str, tuple[float, ...]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        levels = self.levels
        if isinstance(levels, bool) or levels not in LEVEL_WORDS:
            raise ParameterError(f"levels = {levels!r} must be one of {list(LEVEL_WORDS)}")
        n_pitch = 2 * levels - 1
        try:
            cuts = tuple(float(c) for c in self.pitch_cuts_hz)
        except (TypeError, ValueError):
            raise ParameterError(f"pitch_cuts_hz = {self.pitch_cuts_hz!r} must be {n_pitch} numbers") from None
        if len(cuts) != n_pitch or not all(math.isfinite(c) for c in cuts) or list(cuts) != sorted(cuts):
            where = ("(low male | high male | low female | high female)" if levels == 2
                     else f"({levels} male levels | {levels} female levels)")
            raise ParameterError(f"pitch_cuts_hz = {self.pitch_cuts_hz!r} must be {n_pitch} finite, "
                                 f"non-decreasing numbers {where}")
        object.__setattr__(self, "pitch_cuts_hz", cuts)
        for name in CUT_FIELDS.values():
            value = getattr(self, name)
            if levels == 2:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise ParameterError(f"{name} = {value!r} must be a finite number")
                object.__setattr__(self, name, float(value))
            else:
                object.__setattr__(self, name, _finite_cuts(value, levels - 1, name))
        if not isinstance(self.extra_cuts, Mapping):
            raise ParameterError(f"extra_cuts = {self.extra_cuts!r} must map kind -> cuts")
        extra = {}
        for kind, value in self.extra_cuts.items():
            if kind not in EXTRA_KINDS:
                raise ParameterError(f"extra_cuts: {kind!r} is not one of EXTRA_KINDS ({', '.join(EXTRA_KINDS)})")
            extra[kind] = _finite_cuts(value, levels - 1, f"extra_cuts[{kind!r}]")
        object.__setattr__(self, "extra_cuts", extra)

    def __hash__(self) -> int:  # the mapping fields are dicts; hash the saved form
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @classmethod
    def from_config(cls, config: PromptsConfig | None = None) -> "Thresholds":
        """The fixed cuts of a config section (defaults: the reconstructed literature values)."""
        cfg = prompts_section(config)
        return cls(pitch_cuts_hz=tuple(cfg.pitch_cuts_hz), pitch2_cut_hz=cfg.pitch2_cut_hz,
                   intensity_cut_db=cfg.intensity_cut_db, speech_rate_cut_syl_per_s=cfg.speech_rate_cut_syl_per_s,
                   articulation_rate_cut_syl_per_s=cfg.articulation_rate_cut_syl_per_s, origin="fixed")

    def cuts(self, kind: str) -> tuple[float, ...]:
        """The cuts of one acoustic kind, ascending (``pitch``: the 4-bin kind's; every other: its levels')."""
        if kind == "pitch":
            return self.pitch_cuts_hz
        if kind in CUT_FIELDS:
            value = getattr(self, CUT_FIELDS[kind])
            return (value,) if self.levels == 2 else value
        if kind in EXTRA_KINDS:
            if kind not in self.extra_cuts:
                raise ParameterError(f"these thresholds ({self.origin}) have no cuts for kind {kind!r}: fit them "
                                     f"with fit_thresholds(..., kinds=[{kind!r}]) or prompts.extra_kinds")
            return self.extra_cuts[kind]
        raise ParameterError(f"kind = {kind!r} has no cuts (acoustic kinds: {[*PROPERTY_OF_KIND, *EXTRA_KINDS]})")

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dict."""
        out = dataclasses.asdict(self)
        out["pitch_cuts_hz"] = list(self.pitch_cuts_hz)
        for name in CUT_FIELDS.values():
            if isinstance(out[name], tuple):
                out[name] = list(out[name])
        if self.levels == 2:
            del out["levels"]
        if self.extra_cuts:
            out["extra_cuts"] = {k: list(v) for k, v in self.extra_cuts.items()}
        else:
            del out["extra_cuts"]
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
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        absent = sorted(required - set(data))
        if absent:
            raise ConfigError(f"thresholds key {absent[0]!r} is missing")
        return cls(**dict(data))


def _thresholds_map(data: Any, what: str) -> dict[str, Thresholds]:
    if not isinstance(data, Mapping) or not data or not all(
            isinstance(k, str) and isinstance(t, Thresholds) for k, t in data.items()):
        raise ParameterError(f"{what} must be a non-empty mapping str -> Thresholds")
    levels = {t.levels for t in data.values()}
    extras = {tuple(sorted(t.extra_cuts)) for t in data.values()}
    if len(levels) > 1 or len(extras) > 1:
        raise ParameterError(f"{what}: every Thresholds must have the same levels and extra kinds")
    return dict(data)


@dataclass(frozen=True)
class SpeakerThresholds:
    """Per-speaker quantile cuts (``prompts.quantile_scope = "per_speaker"``, speaker normalisation).

    Attributes
    ----------
    speakers : dict ``"<dataset>/<speaker>"`` (:func:`speaker_key`) -> Thresholds
        Each training speaker's own cuts. :func:`prompts_table` bins a speaker missing here by cuts fitted on
        its own clips in the table being binned (an unseen test speaker).
    """

    speakers: Mapping[str, Thresholds]
    scope = "per_speaker"

    def __post_init__(self) -> None:
        object.__setattr__(self, "speakers", _thresholds_map(self.speakers, "SpeakerThresholds.speakers"))

    def __hash__(self) -> int:  # the mapping fields are dicts; hash the saved form
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def levels(self) -> int:
        return next(iter(self.speakers.values())).levels

    @property
    def extra_kinds(self) -> tuple[str, ...]:
        return tuple(next(iter(self.speakers.values())).extra_cuts)

    def to_dict(self) -> dict:
        """``{"scope": "per_speaker", "thresholds": {speaker: Thresholds.to_dict()}}`` (the saved form)."""
        return {"scope": self.scope, "thresholds": {k: t.to_dict() for k, t in self.speakers.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SpeakerThresholds":
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, Mapping) or data.get("scope") != cls.scope or set(data) != {"scope", "thresholds"}:
            raise ConfigError("per-speaker thresholds must be {'scope': 'per_speaker', 'thresholds': {...}}")
        return cls(speakers={str(k): Thresholds.from_dict(v) for k, v in data["thresholds"].items()})


@dataclass(frozen=True)
class SexThresholds:
    """Pitch cuts per sex, every other property pooled (``prompts.quantile_scope = "per_sex"``).

    Attributes
    ----------
    pooled : Thresholds
        Cuts of every kind fitted on all rows; used for every property but pitch, and for the pitch of clips
        whose sex is unknown or has no cuts here.
    pitch_cuts_by_sex_hz : dict sex -> tuple of ``levels - 1`` floats
        The level cuts of F0 within each sex (``pitch`` and ``pitch2``; the sex word comes from the ``sex``
        column).
    """

    pooled: Thresholds
    pitch_cuts_by_sex_hz: Mapping[str, tuple[float, ...]]
    scope = "per_sex"

    def __post_init__(self) -> None:
        if not isinstance(self.pooled, Thresholds):
            raise ParameterError(f"SexThresholds.pooled must be a Thresholds, got {type(self.pooled).__name__}")
        if not isinstance(self.pitch_cuts_by_sex_hz, Mapping):
            raise ParameterError("SexThresholds.pitch_cuts_by_sex_hz must map sex -> cuts")
        cuts = {}
        for sex, value in self.pitch_cuts_by_sex_hz.items():
            if sex not in SEXES:
                raise ParameterError(f"SexThresholds.pitch_cuts_by_sex_hz: {sex!r} is not one of {list(SEXES)}")
            cuts[sex] = _finite_cuts(value, self.pooled.levels - 1, f"pitch_cuts_by_sex_hz[{sex!r}]")
        object.__setattr__(self, "pitch_cuts_by_sex_hz", cuts)

    def __hash__(self) -> int:  # the mapping fields are dicts; hash the saved form
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    @property
    def levels(self) -> int:
        return self.pooled.levels

    def to_dict(self) -> dict:
        """``{"scope": "per_sex", "thresholds": pooled, "pitch_cuts_by_sex_hz": {...}}`` (the saved form)."""
        return {"scope": self.scope, "thresholds": self.pooled.to_dict(),
                "pitch_cuts_by_sex_hz": {k: list(v) for k, v in self.pitch_cuts_by_sex_hz.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SexThresholds":
        """Inverse of :meth:`to_dict`."""
        keys = {"scope", "thresholds", "pitch_cuts_by_sex_hz"}
        if not isinstance(data, Mapping) or data.get("scope") != cls.scope or set(data) != keys:
            raise ConfigError(f"per-sex thresholds must be a mapping with keys {sorted(keys)} and scope 'per_sex'")
        return cls(pooled=Thresholds.from_dict(data["thresholds"]),
                   pitch_cuts_by_sex_hz=dict(data["pitch_cuts_by_sex_hz"]))


def prompts_section(config: Any) -> PromptsConfig:
    """The prompts section of ``config``: the defaults for None, a PromptsConfig itself, or a whole Config's
    ``prompts`` section; anything else is a :class:`~clapemo.errors.ParameterError`."""
    if config is None:
        return PromptsConfig()
    if isinstance(config, PromptsConfig):
        return config
    if isinstance(getattr(config, "prompts", None), PromptsConfig):
        return config.prompts
    raise ParameterError(f"config must be a PromptsConfig, a Config or None, got {type(config).__name__}")


def check_levels(cfg: PromptsConfig, levels: int, origin: str) -> None:
    """Raise a :class:`~clapemo.errors.ParameterError` when thresholds of ``levels`` levels (fitted as
    ``origin``) do not match ``prompts.levels``."""
    if levels != cfg.levels:
        raise ParameterError(f"thresholds ({origin}) have {levels} levels but prompts.levels = {cfg.levels}: fit "
                             "them with this config (fit_thresholds(<training features>, config))")


def resolve_thresholds(cfg: PromptsConfig, thresholds: Thresholds | None) -> Thresholds:
    """The pooled cuts one utterance is binned by: ``thresholds`` (checked against ``cfg``), else the config's
    fixed cuts; quantile binning without fitted thresholds, or per-speaker / per-sex ones, raise."""
    if thresholds is not None:
        if isinstance(thresholds, (SpeakerThresholds, SexThresholds)):
            raise ParameterError(f"{type(thresholds).__name__} bin whole tables (speaker / sex columns): use "
                                 "prompts_table(...)")
        if not isinstance(thresholds, Thresholds):
            raise ParameterError(f"thresholds must be a Thresholds, got {type(thresholds).__name__}")
        check_levels(cfg, thresholds.levels, thresholds.origin)
        return thresholds
    if cfg.binning == "quantile":
        raise ParameterError("prompts.binning = 'quantile' needs fitted thresholds: call "
                             "fit_thresholds(<training features>, config) once and pass thresholds=...")
    return Thresholds.from_config(cfg)


def thresholds_from_dict(data: Mapping[str, Any] | None) -> Any:
    """A checkpoint's ``thresholds`` entry (``to_dict`` form) back to its object; None stays None.

    ``Thresholds.to_dict()`` -> :class:`Thresholds`; corpus -> dict -> dict corpus -> Thresholds;
    ``{"scope": "per_speaker" | "per_sex", ...}`` -> :class:`SpeakerThresholds` / :class:`SexThresholds`.
    """
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ConfigError(f"thresholds must be a mapping, got {type(data).__name__}")
    if "pitch_cuts_hz" in data:
        return Thresholds.from_dict(data)
    scope = data.get("scope")
    if scope == SpeakerThresholds.scope:
        return SpeakerThresholds.from_dict(data)
    if scope == SexThresholds.scope:
        return SexThresholds.from_dict(data)
    return {str(k): Thresholds.from_dict(v) for k, v in data.items()}


def save_thresholds(thresholds: Any, path: str | Path) -> Path:
    """Write fitted (or fixed) thresholds as JSON: pooled, per corpus, per speaker or per sex; returns the path."""
    if isinstance(thresholds, Thresholds):
        data = {"scope": "pooled", "thresholds": thresholds.to_dict()}
    elif isinstance(thresholds, (SpeakerThresholds, SexThresholds)):
        data = thresholds.to_dict()
    elif isinstance(thresholds, Mapping) and all(isinstance(t, Thresholds) for t in thresholds.values()):
        data = {"scope": "per_corpus", "thresholds": {k: t.to_dict() for k, t in thresholds.items()}}
    else:
        raise ParameterError("thresholds must be a Thresholds, a mapping corpus -> Thresholds, a "
                             "SpeakerThresholds or a SexThresholds")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def load_thresholds(path: str | Path) -> Any:
    """Read what :func:`save_thresholds` wrote."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"thresholds file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    scopes = ("pooled", "per_corpus", SpeakerThresholds.scope, SexThresholds.scope)
    if not isinstance(data, dict) or data.get("scope") not in scopes or "thresholds" not in data:
        raise DataError(f"{path}: expected {{'scope': {' | '.join(repr(s) for s in scopes)}, 'thresholds': ...}}")
    if data["scope"] == "pooled":
        return Thresholds.from_dict(data["thresholds"])
    if data["scope"] == "per_corpus":
        return {k: Thresholds.from_dict(v) for k, v in data["thresholds"].items()}
    return thresholds_from_dict(data)
