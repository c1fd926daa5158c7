"""The corpus chapter's views: summaries, the cuts, property and bin-occupancy plots, Table 2 from the data.

Every function takes tidy pandas tables with the columns of the contracts in ``CONTRIBUTING.md`` (the manifest,
the features table, the prompts table) and returns a DataFrame, a pandas ``Styler`` or a matplotlib ``Figure``.
Figures are built with :class:`matplotlib.figure.Figure` rather than ``pyplot``, so a notebook cell that returns
one shows it exactly once. Given the not-run table of :func:`corpus_table` (no corpora), each returns a
:class:`clapemo.book.notes.Note` saying what is missing.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from clapemo.book.config import emotion_corpora
from clapemo.book.notes import Note, tolerates_not_run
from clapemo.book.progress import quiet_progress
from clapemo.errors import DataError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from clapemo.config import Config

__all__ = ["PROPERTIES", "PROMPT_KINDS", "corpus_table", "corpus_summary", "thresholds", "cuts_table",
           "plot_properties_by_emotion", "prompt_bin", "bin_occupancy", "style_occupancy", "plot_bin_occupancy",
           "table2_examples", "style_table2", "show"]

PROPERTIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "f0_mean_hz": ("average pitch (F0, Hz)", ("pitch", "pitch2")),
    "intensity_db": ("average intensity (dB)", ("intensity",)),
    "speech_rate_syl_per_s": ("speech rate (syllables / s)", ("speech_rate",)),
    "articulation_rate_syl_per_s": ("articulation rate (syllables / s of phonation)", ("articulation_rate",)),
}

#: the acoustic prompt kinds, in the order of the paper's Table 2 (pitch2 is the two-bin variant)
PROMPT_KINDS: tuple[str, ...] = ("pitch", "pitch2", "intensity", "speech_rate", "articulation_rate")

_KIND_TITLES = {
    "class_label": "Class label (CL)",
    "pitch": "Pitch",
    "pitch2": "Pitch, two bins (variant)",
    "intensity": "Intensity",
    "speech_rate": "Speech rate",
    "articulation_rate": "Articulation rate",
}

#: the bins of each kind in the paper's Table 2 order ("{emotion}" follows the words)
_BIN_ORDER = {
    "pitch": ("high female pitch", "low female pitch", "high male pitch", "low male pitch"),
    "pitch2": ("high pitch", "low pitch"),
    "intensity": ("high intensity", "low intensity"),
    "speech_rate": ("high speech rate", "low speech rate"),
    "articulation_rate": ("high articulation rate", "low articulation rate"),
}

_KIND_PROPERTY = {kind: col for col, (_, kinds) in PROPERTIES.items() for kind in kinds}


def corpus_table(config: "Config") -> "pd.DataFrame":
    """Manifest + acoustic properties + prompts of every emotion corpus the config provides (``clapemo.corpora``).

    With ``prompts.binning = "quantile"`` the cuts are fitted on the training split of these corpora (as training
    does) and applied to every clip. Progress bars are kept out of the notebook page. A config that provides no
    emotion corpus (``data.source: real`` without ``data.roots``) gives an empty table whose ``attrs["not_run"]``
    says what it needs; the other views then show that note.
    """
    import pandas as pd

    from clapemo import corpora, prompts

    names = emotion_corpora(config)
    if not names:
        table = pd.DataFrame()
        table.attrs["not_run"] = (f"not run: needs emotion corpora (data.source = {config.data.source!r} and "
                                  "data.roots names none); add their folders as data.roots.<name>")
        return table
    with quiet_progress():
        if config.prompts.binning != "quantile":
            return corpora.annotated(names, config)
        table = corpora.with_features(corpora.manifest(names, config), config)
        train = corpora.select_split(table, "train", config)
        cuts = prompts.fit_thresholds(train, config.prompts)
        return corpora.with_prompts(table, config, thresholds=cuts)


def _require(table: "pd.DataFrame", columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{what} needs columns {missing}; the table has {list(table.columns)}")


@tolerates_not_run
def corpus_summary(table: "pd.DataFrame") -> "pd.DataFrame":
    """One row per corpus: clips, speakers, emotion classes, hours of audio, mean clip length, failures.

    Parameters
    ----------
    table : DataFrame with ``dataset``, ``speaker``, ``label`` and ``duration_s`` (``error`` optional).

    Returns
    -------
    DataFrame indexed by corpus, plus a final ``all`` row.
    """
    import pandas as pd

    _require(table, ["dataset", "speaker", "label", "duration_s"], "corpus_summary")
    failed = table["error"].notna() if "error" in table.columns else pd.Series(False, index=table.index)
    rows = []
    for name, group in [*table.groupby("dataset", sort=False), ("all", table)]:
        rows.append({
            "corpus": name,
            "clips": len(group),
            "speakers": group["speaker"].nunique(),
            "classes": group["label"].nunique(),
            "hours": group["duration_s"].sum() / 3600.0,
            "mean clip (s)": group["duration_s"].mean(),
            "female share": (group["sex"] == "female").mean() if "sex" in group else float("nan"),
            "failed extractions": int(failed.loc[group.index].sum()),
        })
    out = pd.DataFrame(rows).set_index("corpus")
    return out.round({"hours": 3, "mean clip (s)": 2, "female share": 2})


def thresholds(config: "Config", table: "pd.DataFrame | None" = None) -> dict[str, list[float]]:
    """The cuts each property is binned at: property column -> sorted cut values (``"f0_mean_hz/2"``: the
    two-bin pitch cut).

    ``fixed`` binning reads them from ``config.prompts`` (reconstructed values); ``quantile`` binning fits them
    on the training split of ``table`` with ``clapemo.prompts.fit_thresholds`` (pooled over corpora, for display).
    """
    from clapemo import corpora, prompts

    if config.prompts.binning == "quantile":
        if table is None:
            raise ParameterError("thresholds: quantile binning needs the table the cuts are fitted on")
        train = corpora.select_split(table, "train", config)
        cuts = prompts.fit_thresholds(train, config.prompts, by="pooled")
    else:
        cuts = prompts.Thresholds.from_config(config.prompts)
    return {
        "f0_mean_hz": [float(c) for c in cuts.cuts("pitch")],
        "f0_mean_hz/2": [float(c) for c in cuts.cuts("pitch2")],
        "intensity_db": [float(c) for c in cuts.cuts("intensity")],
        "speech_rate_syl_per_s": [float(c) for c in cuts.cuts("speech_rate")],
        "articulation_rate_syl_per_s": [float(c) for c in cuts.cuts("articulation_rate")],
    }


def cuts_table(config: "Config", table: "pd.DataFrame | None" = None) -> "pd.DataFrame":
    """The cuts used to bin each property, with their unit and where they come from.

    Returns
    -------
    DataFrame with columns ``prompt``, ``property``, ``cuts``, ``bins``, ``origin``.
    """
    import pandas as pd

    cuts = thresholds(config, table)
    origin = ("reconstructed (config: prompts)" if config.prompts.binning == "fixed"
              else "quantiles of the training split")
    rows = []
    for kind, key in (("pitch", "f0_mean_hz"), ("pitch2", "f0_mean_hz/2"), ("intensity", "intensity_db"),
                      ("speech_rate", "speech_rate_syl_per_s"),
                      ("articulation_rate", "articulation_rate_syl_per_s")):
        column = key.split("/")[0]
        unit = PROPERTIES[column][0].split("(")[-1].rstrip(")").split(",")[-1].strip()
        rows.append({"prompt": _KIND_TITLES[kind], "property": PROPERTIES[column][0],
                     "cuts": ", ".join(f"{c:.4g} {unit}" for c in cuts[key]),
                     "bins": ", ".join(b.replace(" pitch", "").replace(" intensity", "").replace(
                         " speech rate", "").replace(" articulation rate", "") for b in reversed(_BIN_ORDER[kind])),
                     "origin": origin})
    return pd.DataFrame(rows).set_index("prompt")


def _label_order(labels: Iterable[Any]) -> list[str]:
    from clapemo.emotions import EMOTIONS

    present = {str(x) for x in labels if x is not None and x == x}
    return [e for e in EMOTIONS if e in present] + sorted(present - set(EMOTIONS))


@tolerates_not_run
def plot_properties_by_emotion(table: "pd.DataFrame", config: "Config | None" = None, *,
                               cuts: dict[str, list[float]] | None = None) -> "Figure":
    """The four acoustic properties per emotion (box plots, split by speaker sex) with the bin cuts as lines.

    Parameters
    ----------
    table : DataFrame with ``label`` and the four property columns (``sex`` optional: used as hue).
    config : the experiment config; its cuts are drawn (see :func:`thresholds`). ``cuts`` overrides it.

    Returns
    -------
    Figure with four stacked panels (pitch, intensity, speech rate, articulation rate).
    """
    import seaborn as sns
    from matplotlib.figure import Figure

    _require(table, ["label", *PROPERTIES], "plot_properties_by_emotion")
    if cuts is None:
        cuts = thresholds(config, table) if config is not None else {}
    data = table[table["label"].notna()].copy()
    order = _label_order(data["label"])
    hue = "sex" if "sex" in data.columns and data["sex"].notna().any() else None
    if hue:
        data["sex"] = data["sex"].fillna("unknown")
    fig = Figure(figsize=(max(9.0, 0.75 * len(order) + 3), 13), layout="constrained")
    axes = fig.subplots(len(PROPERTIES), 1, sharex=True)
    for ax, (column, (title, _)) in zip(axes, PROPERTIES.items()):
        with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib's deprecated `vert`
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*vert.*")
            sns.boxplot(data=data, x="label", y=column, hue=hue, order=order, ax=ax, fliersize=1.5, linewidth=0.8,
                        hue_order=[h for h in ("female", "male", "unknown") if hue and h in set(data["sex"])]
                        or None, palette="Set2" if hue else None, legend=ax is axes[0])
        for value in cuts.get(column, []):
            ax.axhline(value, color="crimson", lw=1.2, ls="-")
        for value in cuts.get(f"{column}/2", []):
            ax.axhline(value, color="crimson", lw=1.0, ls="--")
        ax.set_ylabel(title)
        ax.set_xlabel("")
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xlabel("emotion")
    axes[-1].tick_params(axis="x", rotation=30)
    if cuts:
        fig.suptitle("Acoustic properties per emotion; red lines: the bin cuts (dashed: two-bin pitch)",
                     fontsize=11)
    return fig


def prompt_bin(prompts: "pd.Series", class_labels: "pd.Series") -> "pd.Series":
    """The bin words of each acoustic prompt: ``"high intensity anger"`` with label word ``"anger"`` ->
    ``"high intensity"``. Missing prompts stay missing."""
    import pandas as pd

    out = []
    for text, word in zip(prompts, class_labels):
        if not isinstance(text, str) or not isinstance(word, str):
            out.append(None)
        elif text.endswith(" " + word):
            out.append(text[: -len(word) - 1].strip())
        else:
            raise DataError(f"prompt {text!r} does not end with its class-label word {word!r}")
    return pd.Series(out, index=prompts.index, dtype="object")


@tolerates_not_run
def bin_occupancy(table: "pd.DataFrame", *, kinds: Sequence[str] = PROMPT_KINDS) -> "pd.DataFrame":
    """Share of each emotion's clips in each bin of each acoustic prompt kind.

    Parameters
    ----------
    table : DataFrame with ``label``, ``class_label`` and the prompt columns named in ``kinds``.

    Returns
    -------
    DataFrame indexed by emotion, columns a MultiIndex (prompt kind, bin words); each kind's shares sum to 1
    over the clips whose prompt exists; a final column ``clips`` counts the emotion's clips.
    """
    import pandas as pd

    _require(table, ["label", "class_label", *kinds], "bin_occupancy")
    data = table[table["label"].notna()]
    order = _label_order(data["label"])
    blocks = []
    for kind in kinds:
        bins = prompt_bin(data[kind], data["class_label"])
        share = pd.crosstab(data["label"], bins, normalize="index")
        known = [b for b in _BIN_ORDER.get(kind, ()) if b in share.columns]
        share = share[known + sorted(set(share.columns) - set(known))]
        share.columns = pd.MultiIndex.from_product([[_KIND_TITLES.get(kind, kind)], share.columns])
        blocks.append(share)
    out = pd.concat(blocks, axis=1).reindex(order).fillna(0.0)
    out[("", "clips")] = data["label"].value_counts().reindex(order).astype(int)
    out.index.name = "emotion"
    out.columns.names = ["prompt", "bin"]
    return out


@tolerates_not_run
def style_occupancy(occupancy: "pd.DataFrame"):
    """:func:`bin_occupancy` as a percentage heat table."""
    shares = [c for c in occupancy.columns if c[1] != "clips"]
    return (occupancy.style.format("{:.0%}", subset=shares).format("{:d}", subset=[("", "clips")])
            .background_gradient(cmap="Blues", subset=shares, vmin=0.0, vmax=1.0))


@tolerates_not_run
def plot_bin_occupancy(occupancy: "pd.DataFrame") -> "Figure":
    """:func:`bin_occupancy` as an annotated heat map: emotions down, the bins of each prompt kind across."""
    import numpy as np
    import seaborn as sns
    from matplotlib.figure import Figure

    shares = occupancy[[c for c in occupancy.columns if c[1] != "clips"]]
    labels = [f"{b}" for _, b in shares.columns]
    fig = Figure(figsize=(max(8.0, 0.62 * shares.shape[1] + 2.5), 0.42 * len(shares) + 2.6), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(shares.to_numpy(dtype=float) * 100, ax=ax, cmap="Blues", vmin=0, vmax=100, annot=True, fmt=".0f",
                annot_kws={"fontsize": 8}, cbar_kws={"label": "% of the emotion's clips", "shrink": 0.7},
                xticklabels=labels, yticklabels=[f"{e} ({n})" for e, n in
                                                 zip(occupancy.index, occupancy[("", "clips")])])
    ax.set_ylabel("emotion (clips)")
    ax.set_xlabel("")
    ax.tick_params(axis="x", rotation=60, labelsize=9)
    edges = np.cumsum([sum(1 for c in shares.columns if c[0] == kind)
                       for kind in dict.fromkeys(c[0] for c in shares.columns)])
    for x in edges[:-1]:
        ax.axvline(x, color="black", lw=1.5)
    for start, kind in zip([0, *edges[:-1]], dict.fromkeys(c[0] for c in shares.columns)):
        ax.text((start + edges[list(dict.fromkeys(c[0] for c in shares.columns)).index(kind)]) / 2, -0.3, kind,
                ha="center", va="bottom", fontsize=9, fontweight="bold")
    return fig


@tolerates_not_run
def table2_examples(table: "pd.DataFrame", *, kinds: Sequence[str] = ("class_label", *PROMPT_KINDS)) -> "pd.DataFrame":
    """The paper's Table 2 filled from the data: each prompt template, how many clips got it, and one real
    prompt with the clip it describes and the measured value behind it.

    The example for a bin is its most common emotion's first clip (table order), so it is stable across runs.

    Returns
    -------
    DataFrame with columns ``property, prompt, clips, share, example prompt, example clip, measured``.
    """
    import pandas as pd

    _require(table, ["utterance_id", "label", "class_label", *kinds], "table2_examples")
    data = table[table["label"].notna()]
    rows = []
    for kind in kinds:
        if kind == "class_label":
            bins = pd.Series("", index=data.index)
        else:
            bins = prompt_bin(data[kind], data["class_label"])
        valid = bins.notna()
        order = [b for b in _BIN_ORDER.get(kind, ("",)) if b in set(bins[valid])]
        order += sorted(set(bins[valid]) - set(order))
        for b in order:
            members = data[valid & (bins == b)]
            top = members["label"].value_counts().index[0]
            example = members[members["label"] == top].iloc[0]
            column = _KIND_PROPERTY.get(kind)
            measured = ""
            if column is not None and column in example and example[column] == example[column]:
                unit = PROPERTIES[column][0].split("(")[-1].rstrip(")")
                measured = f"{example[column]:.4g} {unit.split(',')[-1].strip()}"
            rows.append({
                "property": _KIND_TITLES.get(kind, kind),
                "prompt": f"{b} {{emotion}}".strip(),
                "clips": len(members),
                "share": len(members) / max(int(valid.sum()), 1),
                "example prompt": example[kind],
                "example clip": example["utterance_id"],
                "measured": measured,
            })
    return pd.DataFrame(rows)


@tolerates_not_run
def style_table2(examples: "pd.DataFrame"):
    """:func:`table2_examples` with the property shown once per group."""
    shown = examples.copy()
    shown.loc[shown["property"].duplicated(), "property"] = ""
    return shown.style.format({"share": "{:.0%}"}).hide(axis="index")



def show(fig: "Figure") -> "Figure":
    """Return ``fig`` detached from pyplot (so a notebook cell shows it once, even if made with pyplot)."""
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # pragma: no cover - pyplot unavailable: nothing to detach
        pass
    return fig
