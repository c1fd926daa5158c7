"""The prompts table: every prompt kind for every utterance of a table (:func:`prompts_table`), binned by fixed,
pooled, per-corpus, per-speaker or per-sex cuts."""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np

from clapemo.config import PromptsConfig
from clapemo.emotions import EMOTIONS
from clapemo.errors import ParameterError
from clapemo.prompts.fit import fit_speakers, is_missing_label, sex_values, speaker_keys
from clapemo.prompts.kinds import (
    BIN_PHRASES,
    COMBINED_KINDS,
    EXTRA_KINDS,
    KINDS,
    PROPERTY_OF_KIND,
    chosen_extra_kinds,
    column_of,
)
from clapemo.prompts.render import (
    bin_index,
    clean_values,
    combine_phrases,
    label_prompt,
    prompt_word,
    render_prompt,
)
from clapemo.prompts.thresholds import (
    SexThresholds,
    SpeakerThresholds,
    Thresholds,
    check_levels,
    prompts_section,
    resolve_thresholds,
)
from clapemo.schema import SEXES

__all__ = ["table_kinds", "prompts_table"]

log = logging.getLogger(__name__)


def table_kinds(config: PromptsConfig | None = None, *, kinds: Sequence[str] | None = None) -> tuple[str, ...]:
    """The prompt columns :func:`prompts_table` writes for a config: :data:`KINDS`, then the extra kinds
    (``kinds``, else ``prompts.extra_kinds`` and the extra kinds of ``prompts.augment_kinds``)."""
    return (*KINDS, *chosen_extra_kinds(prompts_section(config), kinds))


def _table_prompts(table: Any, words: np.ndarray, cuts: Thresholds, cfg: PromptsConfig,
                   extra: Sequence[str] = (), sexes: np.ndarray | None = None,
                   sex_cuts: Mapping[str, Sequence[float]] | None = None) -> dict[str, np.ndarray]:
    """Prompt columns (object arrays, None where skipped) for rows that all use the same cuts.

    With ``sex_cuts`` (sex -> level cuts of F0), a row whose ``sexes`` entry has cuts is binned by them for
    ``pitch2`` and by (its sex, its level) for ``pitch``; the other rows by ``cuts`` (F0 alone).
    """
    n, levels = len(table), cfg.levels
    phrases: dict[str, np.ndarray] = {}
    out: dict[str, np.ndarray] = {"class_label": np.array([label_prompt(w, cfg) for w in words], dtype=object)}
    for kind in (*PROPERTY_OF_KIND, *extra):
        column = column_of(kind)
        values = clean_values(table[column].to_numpy(dtype=object), column)
        idx = bin_index(values, cuts.cuts(kind))
        if sex_cuts and kind in ("pitch", "pitch2"):
            for s, sex in enumerate(SEXES):
                rows = np.flatnonzero(sexes == sex) if sex in sex_cuts else np.array([], dtype=int)
                level = bin_index(values[rows], sex_cuts[sex]) if rows.size else rows
                idx[rows] = np.where(level < 0, -1, level + (s * levels if kind == "pitch" else 0))
        bins = BIN_PHRASES[(kind, levels)]
        names = tuple(bins)
        out[kind] = np.array([render_prompt(kind, None if i < 0 else names[i], w, cfg)
                              for i, w in zip(idx, words)], dtype=object)
        phrases[kind] = np.array([None if i < 0 else bins[names[i]] for i in idx], dtype=object)
    out["combined"] = np.array([combine_phrases([phrases[k][r] for k in COMBINED_KINDS], words[r], cfg)
                                for r in range(n)], dtype=object)
    return out


def prompts_table(table: Any, config: PromptsConfig | None = None, *, thresholds: Any = None,
                  kinds: Sequence[str] | None = None) -> Any:
    """Every prompt kind for every utterance.

    Parameters
    ----------
    table : DataFrame, n rows
        ``utterance_id``, ``label`` and the property columns (a features table joined with its manifest);
        ``dataset`` too when ``thresholds`` is per corpus; ``speaker`` (and ``dataset``) and ``sex`` for
        per-speaker thresholds, ``sex`` for per-sex ones; the column of every extra kind.
    config : PromptsConfig, Config or None
    thresholds : Thresholds, mapping corpus -> Thresholds, SpeakerThresholds or SexThresholds, optional
        Fitted cuts (see :func:`fit_thresholds`). Without them the config's fixed cuts are used; in quantile mode
        that is an error. A speaker missing from :class:`SpeakerThresholds` is binned by cuts fitted on its own
        clips in ``table``.
    kinds : sequence of :data:`EXTRA_KINDS` names, optional
        Extra prompt columns to add (default: ``prompts.extra_kinds`` and the extra kinds of
        ``prompts.augment_kinds``); their cuts must be in the thresholds.

    Returns
    -------
    DataFrame, n rows, input order
        ``utterance_id, label, class_label, pitch, pitch2, intensity, speech_rate, articulation_rate, combined``,
        then the extra kinds; prompt columns are object dtype with ``None`` where skipped (null in parquet;
        pandas may read it back as NaN). Rows whose label is None (captioned general
        audio) are not emotion rows: all their prompt columns are None (training uses the caption as is) and they
        are not counted as skipped. ``attrs["skipped"]``: kind -> number of emotion rows without that prompt;
        ``attrs["n_emotion_rows"]``; ``attrs["thresholds"]``: the cuts used (``Thresholds.to_dict`` form,
        corpus -> dict, or the scoped ``to_dict`` form with the speakers fitted here included).
    """
    import pandas as pd

    cfg = prompts_section(config)
    extra = chosen_extra_kinds(cfg, kinds)
    _check_columns(table, extra)
    single = _pooled_cuts(table, cfg, thresholds)
    labels = _labels(table)
    is_emotion = np.array([v is not None for v in labels], dtype=bool)
    n = len(table)
    out_kinds = (*KINDS, *extra)
    columns = {kind: np.full(n, None, dtype=object) for kind in out_kinds}
    rows = np.flatnonzero(is_emotion)
    emo = table.iloc[rows]
    groups, used, sexes = _groups(emo, thresholds, single)
    if rows.size:
        words = np.array([prompt_word(labels[r], cfg) for r in rows], dtype=object)
        for pos, cuts, sex_cuts in groups:
            if pos.size == 0:
                continue
            part = _table_prompts(emo.iloc[pos], words[pos], cuts, cfg, extra,
                                  sexes=None if sex_cuts is None else sexes[pos], sex_cuts=sex_cuts)
            for kind in out_kinds:
                columns[kind][rows[pos]] = part[kind]
        intensity = clean_values(emo["intensity_db"].to_numpy(dtype=object), "intensity_db")
        if np.any(~np.isnan(intensity)) and np.nanmax(intensity) <= 0:
            log.warning("every intensity_db is <= 0: this looks like dBFS, but the intensity cuts are on Praat's "
                        "dB scale (re 2e-5); every clip falls in the low-intensity bin")

    out = pd.DataFrame({"utterance_id": table["utterance_id"].astype(object).to_numpy(),
                        "label": np.array(labels, dtype=object)})
    for kind in out_kinds:
        out[kind] = pd.Series(columns[kind], dtype=object)
    out.attrs["skipped"] = {kind: int(sum(columns[kind][r] is None for r in rows)) for kind in out_kinds}
    out.attrs["n_emotion_rows"] = int(rows.size)
    out.attrs["thresholds"] = used
    return out


def _check_columns(table: Any, extra: Sequence[str]) -> None:
    """The columns :func:`prompts_table` needs: ids, labels, the properties and those of the extra kinds."""
    needed = ["utterance_id", "label", *sorted(set(PROPERTY_OF_KIND.values()))]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ParameterError(f"table lacks column {missing[0]!r} (needs {needed}; join the manifest for 'label')")
    missing = [EXTRA_KINDS[k]["column"] for k in extra if EXTRA_KINDS[k]["column"] not in table.columns]
    if missing:
        raise ParameterError(f"table lacks column {missing[0]!r}, needed by the extra prompt kinds {list(extra)} "
                             "(measure it with features.voice_quality = true)")


def _pooled_cuts(table: Any, cfg: PromptsConfig, thresholds: Any) -> Thresholds | None:
    """Check the thresholds of a table against the config; the one set of cuts for every row (given, or the
    config's fixed cuts), None for per-corpus, per-speaker and per-sex thresholds."""
    if isinstance(thresholds, (SpeakerThresholds, SexThresholds)):
        check_levels(cfg, thresholds.levels, thresholds.scope)
        return None
    if isinstance(thresholds, Mapping):
        if not all(isinstance(t, Thresholds) for t in thresholds.values()):
            raise ParameterError("thresholds mapping must map corpus -> Thresholds")
        if "dataset" not in table.columns:
            raise ParameterError("per-corpus thresholds need a 'dataset' column in table")
        for t in thresholds.values():
            check_levels(cfg, t.levels, t.origin)
        return None
    return resolve_thresholds(cfg, thresholds)


def _labels(table: Any) -> list:
    """The ``label`` column as a list, None for rows without a label; a label that is not canonical raises."""
    labels = [None if is_missing_label(v) else v for v in table["label"].tolist()]
    bad = sorted({v for v in labels if v is not None and (not isinstance(v, str) or v not in EMOTIONS)}, key=str)
    if bad:
        raise ParameterError(f"label {bad[0]!r} is not a canonical emotion (known: {', '.join(EMOTIONS)})")
    return labels


def _groups(emo: Any, thresholds: Any, single: Thresholds | None) -> tuple[list, Any, np.ndarray | None]:
    """How the emotion rows ``emo`` are binned: ``(groups, used, sexes)``, with groups a list of (positions in
    ``emo``, Thresholds, sex -> F0 level cuts or None), ``used`` the cuts in their saved form (speakers unseen in
    training fitted here on their own clips) and ``sexes`` the rows' sex values (None without sex cuts)."""
    if single is not None:
        return [(np.arange(len(emo)), single, None)], single.to_dict(), None
    if isinstance(thresholds, SpeakerThresholds):
        keys, sexes = speaker_keys(emo), sex_values(emo)
        speakers = dict(thresholds.speakers)
        unseen = sorted(set(keys) - set(speakers))
        if unseen:  # test speakers: normalised by their own clips (see the package docstring)
            log.info("%d speaker(s) without training cuts are binned by their own clips' quantiles", len(unseen))
            speakers.update(fit_speakers(emo[np.isin(keys, unseen)], thresholds.levels, thresholds.extra_kinds))
        groups = [(np.flatnonzero(keys == key), speakers[key], {s: speakers[key].cuts("pitch2") for s in SEXES})
                  for key in sorted(set(keys))]
        return groups, SpeakerThresholds(speakers=speakers).to_dict(), sexes
    if isinstance(thresholds, SexThresholds):
        groups = [(np.arange(len(emo)), thresholds.pooled, thresholds.pitch_cuts_by_sex_hz)]
        return groups, thresholds.to_dict(), sex_values(emo)
    datasets = emo["dataset"].astype(object).to_numpy()
    unknown = sorted({str(d) for d in datasets} - set(thresholds))
    if unknown:
        raise ParameterError(f"no thresholds for dataset {unknown[0]!r} (have: {sorted(thresholds)})")
    groups = [(np.flatnonzero(datasets.astype(str) == name), t, None) for name, t in thresholds.items()]
    return groups, {k: t.to_dict() for k, t in thresholds.items()}, None
