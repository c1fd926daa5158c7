"""Ceilings beside Table 4 and Figure 2: what a supervised linear probe reads from the same clips (issue 18).

For the corpora a chapter tests (Table 4: ``evaluate.ser_target``; Figure 2: ``evaluate.prompt_analysis_corpora``)
:func:`ceilings_table` shows the accuracy on the corpus's speaker-independent test split of

* a linear probe (:mod:`clapemo.probe`) on the frozen audio embeddings of ``config.encoders``, and the same
  embeddings centred per speaker;
* the probe on the four measured properties, absolute and z-scored per speaker;
* the probe on the prosody the synthetic generator drew (the oracle; synthetic corpora only);
* chance, and the chapter's own best trained model (the highest mean over seeds in its result frame).

Every probe is fitted on the corpus's train split and scored on its test split. The probe rows are cached in
``experiments.results_dir(config, artefact)/ceilings.csv`` (the folder is keyed by the config hash, which the file
repeats), so a warm rebuild reads the file; the embeddings themselves come from the embedding cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clapemo.book.notes import Note, not_run_reason
from clapemo.errors import DataError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clapemo.config import Config

__all__ = ["CEILING_ROWS", "NOT_AVAILABLE", "ceilings_table", "probe_rows"]

#: row key -> label shown in the table, in display order (``{audio}``: ``config.encoders.audio``)
CEILING_ROWS: dict[str, str] = {
    "audio": "linear probe: {audio} embeddings",
    "audio_centred": "linear probe: {audio} embeddings centred per speaker",
    "properties": "linear probe: the four properties, absolute",
    "properties_z": "linear probe: the four properties, z-scored per speaker",
    "oracle": "linear probe: oracle on the drawn prosody",
    "chance": "chance (one over the number of classes)",
    "best_trained": "this chapter's best trained model",
}
#: the oracle's cells on a real-data config
NOT_AVAILABLE = "not available on real corpora"
#: bump when the probe rows change meaning, so old ceilings.csv files are recomputed
CACHE_VERSION = 1
_PROBE_KEYS = ("audio", "audio_centred", "properties", "properties_z", "oracle")
_CORPUS_KEY = {"table4": "ser_target", "figure2": "prompt_analysis_corpora"}


def _chapter_corpora(config: "Config", artefact: str) -> list[str]:
    """The corpora the chapter tests, as loaded (``synth-`` twins); raises ``experiments.NotRun`` when the config
    lacks one."""
    from clapemo import experiments

    if artefact not in _CORPUS_KEY:
        raise ParameterError(f"artefact = {artefact!r}: ceilings are shown beside {sorted(_CORPUS_KEY)} only")
    row = experiments.corpora_used(config, artefacts=[artefact]).iloc[0]
    if row["status"] != "ok":
        raise experiments.NotRun(row["status"])
    return [c.strip() for c in str(row["evaluated_on"]).split(",") if c.strip()]


def probe_rows(config: "Config", *, corpora: list[str]) -> "pd.DataFrame":
    """Every probe row of each corpus (train -> test split): :data:`clapemo.probe.RESULT_COLUMNS` plus ``key``
    (one of the probe keys of :data:`CEILING_ROWS`) and ``corpus_name`` (the name asked for). On a real-data
    config the oracle is not probed (no generator ground truth)."""
    import pandas as pd

    from clapemo import probe

    frames = []
    for corpus in corpora:
        parts = {"audio": probe.audio_probe(corpus=corpus, config=config),
                 "audio_centred": probe.audio_probe(corpus=corpus, config=config, speaker_centring=True),
                 "properties": probe.property_probe(corpus=corpus, config=config),
                 "properties_z": probe.property_probe(corpus=corpus, config=config, per_speaker=True)}
        if config.data.source == "synth":  # every synth-* twin carries the generator's columns
            parts["oracle"] = probe.oracle_probe(corpus=corpus, config=config)
        frames += [frame.assign(key=key, corpus_name=corpus) for key, frame in parts.items()]
    return pd.concat(frames, ignore_index=True)


def _cached_probe_rows(config: "Config", *, corpora: list[str], artefact: str, force: bool) -> "pd.DataFrame":
    """:func:`probe_rows`, read from ``ceilings.csv`` in the artefact's results folder when it was written for this
    config (hash, corpora and cache version match), else computed and written atomically."""
    import pandas as pd

    from clapemo import experiments
    from clapemo.config import config_hash
    from clapemo.files import atomic_write_text

    path = experiments.results_dir(config, artefact) / "ceilings.csv"
    digest = config_hash(config)
    if path.is_file() and not force:
        table = pd.read_csv(path, dtype={"config_hash": str, "corpus_name": str, "key": str})
        stamp = {"config_hash": {digest}, "cache_version": {CACHE_VERSION}}
        if (all(c in table.columns and set(table[c]) == v for c, v in stamp.items())
                and "corpus_name" in table.columns and list(dict.fromkeys(table["corpus_name"])) == list(corpora)):
            return table
    table = probe_rows(config, corpora=corpora).assign(config_hash=digest, cache_version=CACHE_VERSION)
    atomic_write_text(path, table.to_csv(index=False))
    return table


def _best_trained(results: Any, artefact: str, corpora: list[str]) -> tuple[dict[str, float], dict[str, str]]:
    """Per corpus: the chapter's best trained model's mean accuracy over seeds, and what it is."""
    import pandas as pd

    from clapemo.experiments import KIND_NAMES

    values: dict[str, float] = {c: float("nan") for c in corpora}
    notes: dict[str, str] = {}
    if results is None:
        return values, {c: "chapter results not given" for c in corpora}
    reason = not_run_reason(results)
    if reason is not None:
        return values, {c: reason for c in corpora}
    need = ["metric", "seed", "value", "status"] + (["row", "setting"] if artefact == "table4" else
                                                     ["corpus", "prompt_kind"])
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise DataError(f"results of {artefact} lack columns {missing}; pass the chapter's result frame")
    ok = results[(results["metric"] == "accuracy") & (results["status"].fillna("ok").astype(str) == "ok")
                 & results["value"].notna()]
    if artefact == "table4":
        ok = ok[~ok["row"].isin(["Random", "Random (draw)"])].assign(corpus=corpora[0])
        names = ["row", "setting"]
    else:
        names = ["prompt_kind"]
    for corpus in corpora:
        rows = ok[ok["corpus"] == corpus]
        if rows.empty:
            notes[corpus] = "no trained model ran"
            continue
        means = rows.groupby(names, sort=False)["value"].agg(["mean", "count"])
        best = means["mean"].idxmax()
        values[corpus] = float(means.loc[best, "mean"])
        n = int(means.loc[best, "count"])
        what = (f"{best[0]}, {best[1].replace('_', ' ')}" if artefact == "table4"
                else f"{KIND_NAMES.get(best, best)} prompts")
        notes[corpus] = f"{what} (mean of {n} seed{'s' * (n != 1)})"
    return values, notes


def _chance(results: Any, artefact: str, corpora: list[str], probes: "pd.DataFrame") -> dict[str, float]:
    """1 / the number of classes the chapter scores over (its result frame's ``n_classes``), else over the classes
    of the probe's training split."""
    out = {}
    for corpus in corpora:
        n = float("nan")
        if results is not None and not_run_reason(results) is None and "n_classes" in results.columns:
            rows = results if artefact == "table4" else results[results["corpus"] == corpus]
            if rows["n_classes"].notna().any():
                n = float(rows["n_classes"].dropna().iloc[0])
        if n != n:
            n = float(probes.loc[probes["corpus_name"] == corpus, "n_classes"].max())
        out[corpus] = 1.0 / n
    return out


def ceilings_table(config: "Config", *, results: Any = None, artefact: str = "table4", force: bool = False,
                   styled: bool = False) -> Any:
    """The ceilings table of a chapter: probe accuracies on its corpora beside its best trained model.

    Parameters
    ----------
    config : clapemo.config.Config
        The chapter's config (the probes use its ``data``, ``synth``, ``features`` and ``encoders`` sections).
    results : DataFrame, optional
        The chapter's result frame (``experiments.ser_table`` for ``table4``, ``experiments.prompt_analysis``
        for ``figure2``); its best trained model fills the last row. None: that row is NaN.
    artefact : {"table4", "figure2"}
        Which chapter: Table 4 tests ``evaluate.ser_target``, Figure 2 ``evaluate.prompt_analysis_corpora``.
    force : bool
        Recompute the probes even when ``ceilings.csv`` holds them.
    styled : bool
        Return a Styler for the book (accuracy in %, "not available on real corpora" in the oracle's cells on
        a real-data config, a caption) instead of the plain frame.

    Returns
    -------
    DataFrame
        Index: the labels of :data:`CEILING_ROWS` (name ``ceiling``); one column per corpus (accuracy in [0, 1],
        NaN where not available) and ``note`` (what the best trained model is, or why a row is empty);
        ``attrs["probes"]``: the probe rows with sizes and unweighted accuracy. A :class:`~clapemo.book.Note`
        when the config lacks the chapter's corpora.
    """
    import pandas as pd

    from clapemo.experiments import NotRun

    try:
        corpora = _chapter_corpora(config, artefact)
    except NotRun as err:
        return Note(str(err))
    probes = _cached_probe_rows(config, corpora=corpora, artefact=artefact, force=force)
    labels = {key: text.format(audio=config.encoders.audio) for key, text in CEILING_ROWS.items()}
    table = pd.DataFrame(float("nan"), index=pd.Index(list(labels.values()), name="ceiling"), columns=corpora)
    table["note"] = ""
    for r in probes.itertuples():
        table.loc[labels[r.key], r.corpus_name] = float(r.accuracy)
    if config.data.source != "synth":
        table.loc[labels["oracle"], "note"] = NOT_AVAILABLE
    for corpus, value in _chance(results, artefact, corpora, probes).items():
        table.loc[labels["chance"], corpus] = value
    best, notes = _best_trained(results, artefact, corpora)
    for corpus, value in best.items():
        table.loc[labels["best_trained"], corpus] = value
    texts = list(dict.fromkeys(notes.values()))
    table.loc[labels["best_trained"], "note"] = (texts[0] if len(texts) == 1 else
                                                 "; ".join(f"{c}: {t}" for c, t in notes.items()))
    table.attrs["probes"] = probes
    return _style(table, corpora=corpora, oracle_label=labels["oracle"], real=config.data.source != "synth",
                  artefact=artefact) if styled else table


def _style(table: "pd.DataFrame", *, corpora: list[str], oracle_label: str, real: bool, artefact: str) -> Any:
    """Accuracy in % with one decimal; NaN as "–", the oracle's cells on real data as :data:`NOT_AVAILABLE`."""
    text = table.copy().astype(object)
    for corpus in corpora:
        text[corpus] = [("–" if v != v else f"{100 * v:.1f}") for v in table[corpus]]
        if real:
            text.loc[oracle_label, corpus] = NOT_AVAILABLE
    if real:
        text.loc[oracle_label, "note"] = ""
    chapter = {"table4": "Table 4", "figure2": "Figure 2"}[artefact]
    return text.style.set_caption(f"Ceilings beside {chapter}: accuracy (%) on each corpus's test split. Probes: "
                                  "logistic regression fitted on the corpus's train split (speakers disjoint).")
