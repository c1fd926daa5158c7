"""Chapter 01's audio-representation table: how the default frozen audio representation was chosen (issue 18).

:func:`representation_table` runs :func:`clapemo.probe.validation_probe` (a speaker-independent validation split
carved from the **train** split of each corpus the chapters test; their test splits are never read) on the
candidates of :data:`clapemo.probe.BOOK_CANDIDATES` (the earlier default and the chosen one, each also centred
per speaker) and shows the validation accuracy per corpus with the mean over corpora;
:func:`representation_finding` states what the numbers show. The full comparison (more layers and mixes,
three validation draws, clips/s) is ``python benchmarks/bench_encoders.py --probe``.

The embeddings come from the embedding cache (the chosen representation's are the ones training reads anyway);
the probes themselves are small logistic regressions, refitted on every build.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clapemo.book.notes import Note

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clapemo.config import Config

__all__ = ["representation_table", "style_representations", "representation_finding", "MEAN_COLUMN"]

#: the column with the mean over corpora
MEAN_COLUMN = "mean over corpora"


def _corpora(config: "Config") -> list[str]:
    """The corpora the chapters test (Figure 2's, Table 4's target, Table 3's collection) that the config
    provides, as loaded, in that order."""
    from clapemo.corpora import resolve_name
    from clapemo.experiments import provided_emotion_corpora

    ev = config.evaluate
    provided = provided_emotion_corpora(config)
    wanted = [resolve_name(n, config) for n in [*ev.prompt_analysis_corpora, ev.ser_target, ev.ear_collection]]
    return [n for n in dict.fromkeys(wanted) if n in provided]


def _is_configured(candidate: Any, config: "Config") -> bool:
    """Whether a candidate's ``EncodersConfig`` embeds as ``config.encoders`` does (same encoder identity)."""
    from clapemo.encoders import encoder_id

    return (encoder_id(candidate, modality="audio") == encoder_id(config.encoders, modality="audio")
            and candidate.speaker_centring == config.encoders.speaker_centring)


def representation_table(config: "Config", *, seed: int = 0) -> Any:
    """Validation accuracy of each candidate representation per corpus, and its mean over the corpora.

    Parameters
    ----------
    config : the chapter's config (corpora, features, encoders device and cache).
    seed : the validation draw (:func:`clapemo.probe.validation_split`).

    Returns
    -------
    DataFrame indexed by representation (name ``representation``): one column per corpus and
    :data:`MEAN_COLUMN` (accuracy in [0, 1]), ``this config`` (True for the representation ``config.encoders``
    embeds with); ``attrs["probes"]``: the probe rows (sizes, unweighted accuracy); ``attrs["skipped"]``: corpus
    -> why it could not be probed (too few training speakers). A :class:`Note` when no corpus can be probed.
    """
    from clapemo import probe

    corpora = _corpora(config)
    if not corpora:
        return Note("not run: the config provides none of the corpora the chapters test "
                    "(evaluate.prompt_analysis_corpora, ser_target, ear_collection)")
    import pandas as pd

    from clapemo.errors import DataError

    candidates = probe.candidate_encoders(config, probe.BOOK_CANDIDATES)
    frames, skipped = [], {}
    for corpus in corpora:
        try:
            frames.append(probe.validation_probe(corpora=[corpus], config=config, representations=candidates,
                                                 seed=seed))
        except DataError as err:  # e.g. too few training speakers to carve validation speakers from
            skipped[corpus] = str(err)
    if not frames:
        return Note("not run: no corpus allows a speaker-independent validation split ("
                    + "; ".join(f"{c}: {why}" for c, why in skipped.items()) + ")")
    rows = pd.concat(frames, ignore_index=True)
    table = rows.pivot_table(index="representation", columns="corpus", values="accuracy", sort=False)
    table = table.reindex(list(candidates))
    table[MEAN_COLUMN] = table.mean(axis=1)
    table["this config"] = [_is_configured(candidates[name], config) for name in table.index]
    table.index.name = "representation"
    table.columns.name = None
    table.attrs["probes"] = rows
    table.attrs["skipped"] = skipped
    return table


def style_representations(table: Any) -> Any:
    """The table of :func:`representation_table` for the book: accuracy in %, the config's own row marked."""
    if isinstance(table, Note):
        return table
    shown = table.drop(columns=["this config"]).mul(100)
    shown.index = [f"{name}  (this config)" if mine else name for name, mine in table["this config"].items()]
    shown.index.name = "representation (validation accuracy, %)"
    return shown.style.format("{:.1f}")


def representation_finding(table: Any) -> str:
    """One or two sentences on the table of :func:`representation_table`, generated from its numbers."""
    if isinstance(table, Note):
        return table.text
    mean = table[MEAN_COLUMN]
    plain = mean[[not name.endswith("centred per speaker") for name in mean.index]]
    best = plain.idxmax()
    parts = [f"On validation speakers carved from the training splits ({', '.join(table.columns[:-2])}; their "
             f"test splits are never read), {best} reads the emotion best without speaker information: "
             f"{100 * plain[best]:.1f} % on average"]
    others = [f"{100 * v:.1f} % for {name}" for name, v in plain.items() if name != best]
    if others:
        parts[0] += ", against " + ", ".join(others)
    centred = f"{best}, centred per speaker"
    if centred in mean.index:
        parts.append(f"Centring each speaker's embeddings (encoders.speaker_centring, which needs the speaker of "
                     f"every clip) changes that to {100 * mean[centred]:.1f} % "
                     f"({100 * (mean[centred] - plain[best]):+.1f} points)")
    skipped = table.attrs.get("skipped") or {}
    if skipped:
        parts.append("Not probed: " + "; ".join(f"{c} ({why})" for c, why in skipped.items()))
    mine = [name for name, flag in table["this config"].items() if flag]
    if mine:
        parts.append(f"This configuration embeds with {mine[0]}")
    return ". ".join(parts) + "."
