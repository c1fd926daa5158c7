"""The corpus chapter's syllable-count table: each way of counting syllables (``features.syllables``: the paper's
nuclei, the transcript, speech recognition) against the syllables of what was said, on the benchmark's clips
(the generator's text) and on real recorded speech with transcripts where the machine has some
(:func:`speech_with_transcripts`).

Real speech: Debian's ``pocketsphinx-testdata`` package (``apt-get install pocketsphinx-testdata``) installs
pocketsphinx's test recordings under ``/usr/share/pocketsphinx/test/data``: five LibriVox read-speech sentences
(Jane Austen, *Sense and Sensibility*, 2.9-7.1 s) and five short "cards" utterances (1.1-3.5 s), 16 kHz mono,
each with its transcript (``librivox/transcription``, ``cards/cards.transcription``). The same files ship in the
pocketsphinx source distribution on PyPI (``test/data``); ``CLAPEMO_SPEECH_DATA`` may point at such a folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from clapemo.book.notes import tolerates_not_run
from clapemo.book.progress import quiet_progress
from clapemo.errors import ParameterError
from clapemo.schema import SYLLABLE_METHODS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from clapemo.config import Config

__all__ = ["compare_syllable_methods", "speech_with_transcripts", "SPEECH_DATA_ENV", "DEBIAN_SPEECH_DIR",
           "SPEECH_SETS", "BENCHMARK_SET"]

#: environment variable naming a pocketsphinx ``test/data`` folder (instead of Debian's)
SPEECH_DATA_ENV = "CLAPEMO_SPEECH_DATA"
DEBIAN_SPEECH_DIR = Path("/usr/share/pocketsphinx/test/data")
#: the set name of the synthetic twins' clips (all corpora together) in the table
BENCHMARK_SET = "benchmark (generator's text)"
#: (subfolder, transcription file) of each set of real recordings
SPEECH_SETS = (("librivox", "transcription"), ("cards", "cards.transcription"))


def _speech_dir() -> Path | None:
    for candidate in (os.environ.get(SPEECH_DATA_ENV), DEBIAN_SPEECH_DIR):
        if candidate and (Path(candidate) / "librivox" / "transcription").is_file():
            return Path(candidate)
    return None


def speech_with_transcripts(root: str | os.PathLike | None = None) -> "pd.DataFrame":
    """The real recordings with transcripts this machine has, as a manifest.

    Parameters
    ----------
    root : path, optional
        A pocketsphinx ``test/data`` folder (holding ``librivox/`` and ``cards/``); default
        ``$CLAPEMO_SPEECH_DATA``, else Debian's ``/usr/share/pocketsphinx/test/data``.

    Returns
    -------
    DataFrame, one row per clip (LibriVox, then cards, in the transcription files' order)
        ``utterance_id`` (``<set>/<name>``), ``path``, ``dataset`` (``pocketsphinx-librivox``,
        ``pocketsphinx-cards``), ``text`` (the transcript). Empty, with ``attrs["not_run"]`` saying what to
        install, when none is found.
    """
    import pandas as pd

    folder = Path(root) if root is not None else _speech_dir()
    columns = ["utterance_id", "path", "dataset", "text"]
    if folder is None or not (folder / "librivox" / "transcription").is_file():
        frame = pd.DataFrame(columns=columns)
        frame.attrs["not_run"] = ("not run: no real speech with transcripts on this machine (apt-get install "
                                  f"pocketsphinx-testdata, or set {SPEECH_DATA_ENV} to pocketsphinx's test/data)")
        return frame
    rows = []
    for subfolder, transcription in SPEECH_SETS:
        for line in (folder / subfolder / transcription).read_text().splitlines():
            match = re.match(r"\s*<s>(.*)</s>\s*\(([^)]+)\)\s*$", line)
            if match:
                text, name = match.group(1).strip(), match.group(2).strip()
                rows.append({"utterance_id": f"{subfolder}/{name}", "dataset": f"pocketsphinx-{subfolder}",
                             "path": str(folder / subfolder / f"{name}.wav"), "text": text})
    return pd.DataFrame(rows, columns=columns)


def _spread_evenly(table: "pd.DataFrame", n: int | None) -> "pd.DataFrame":
    """``n`` rows spread evenly over ``table`` sorted by dataset and utterance (all when ``n`` is None)."""
    import numpy as np

    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ParameterError(f"n = {n!r} clips: must be a positive integer (or None: every clip with a text)")
    ordered = table.sort_values([c for c in ("dataset", "utterance_id") if c in table.columns])
    if n is None or len(ordered) <= n:
        return ordered
    return ordered.iloc[np.unique(np.linspace(0, len(ordered) - 1, n).round().astype(int))]


def _plot(errors: "pd.DataFrame") -> "Figure":
    """Per-clip count error (counted - reference) per set and method: points over a box."""
    import numpy as np
    from matplotlib.figure import Figure

    groups = list(errors.groupby(["set", "method"], sort=False))
    fig = Figure(figsize=(max(6.0, 0.9 * len(groups) + 2), 4.2), layout="constrained")
    ax = fig.subplots()
    values = [g["error"].dropna().to_numpy(dtype=float) for _, g in groups]
    ax.boxplot(values, widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # a fixed jitter: the figure is the same on every build
    for k, v in enumerate(values, start=1):
        ax.scatter(k + rng.uniform(-0.15, 0.15, v.size), v, s=10, alpha=0.6)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xticks(range(1, len(groups) + 1), [f"{s}\n{m}" for (s, m), _ in groups], fontsize=8)
    ax.set_ylabel("syllables counted - syllables said, per clip")
    ax.set_title("Syllable-count error per clip, by set and method", fontsize=10)
    return fig


def _compare_syllable_methods(table: "pd.DataFrame", config: "Config", *, n: int | None = 200,
                              methods: Sequence[str] = SYLLABLE_METHODS, real_speech: bool = True,
                              ) -> tuple["pd.DataFrame", "Figure"]:
    """Syllable-count error of each method on the chapter's clips and on real speech with transcripts.

    Parameters
    ----------
    table : DataFrame
        The chapter's corpus table (:func:`clapemo.book.corpus_table`): its clips with a ``text`` are counted
        (the synthetic twins' is the generator's text; their corpora form one set, :data:`BENCHMARK_SET`, a
        real corpus is a set of its own).
    config : Config
        Its ``features`` section measures (each method replaces ``syllables``); the features cache is used.
    n : int or None
        At most this many of the table's clips, spread evenly over its corpora (None: all).
    methods : sequence of str
        The methods compared (:data:`clapemo.schema.SYLLABLE_METHODS`).
    real_speech : bool
        Add :func:`speech_with_transcripts` when the machine has it.

    Returns
    -------
    summary : DataFrame indexed by (set, method)
        :func:`clapemo.features.syllable_accuracy` (clips, totals, total error %, mean |error| and its spread).
    figure : the per-clip errors (:func:`clapemo.features.syllable_errors`) per set and method.
    """
    import pandas as pd

    from clapemo import features

    with_text = table.loc[table["text"].map(lambda t: isinstance(t, str) and bool(t.strip()))] \
        if "text" in table.columns else table.iloc[:0]
    clips = _spread_evenly(with_text, n)
    clips = clips.assign(syllable_set=[BENCHMARK_SET if str(d).startswith("synth-") else str(d)
                                       for d in clips.get("dataset", pd.Series("", index=clips.index))])
    if real_speech:
        speech = speech_with_transcripts()
        clips = pd.concat([clips, speech.assign(syllable_set=speech["dataset"])], ignore_index=True)
    with quiet_progress():
        errors = features.syllable_errors(clips, methods=methods, config=config.features, by="syllable_set")
    return features.syllable_accuracy(errors).round(3), _plot(errors)


_compare_syllable_methods.__clapemo_pair__ = True  # type: ignore[attr-defined]
compare_syllable_methods = tolerates_not_run(_compare_syllable_methods)
