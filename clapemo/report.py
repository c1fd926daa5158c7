"""What the notebooks and the book show: tables, figures and a screenshot of the built report.

The notebooks hold no logic: each code cell makes one call into ``clapemo``. The calls that are not a pipeline
stage of their own (summaries, plots, the side-by-side styled tables) live here, so they are tested like the
rest of the package.

Every function takes tidy pandas tables with the columns of the contracts in ``CONTRIBUTING.md`` (the manifest,
the features table, the prompts table) and returns a DataFrame, a pandas ``Styler`` or a matplotlib ``Figure``.
Figures are built with :class:`matplotlib.figure.Figure` rather than ``pyplot``, so a notebook cell that returns
one shows it exactly once.

Command line (used by ``make check-book``)::

    python -m clapemo.report screenshot book/_build/html/report.html book/screenshot.png
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from clapemo.errors import ClapEmoError, DataError, ParameterError

# Notebooks import this module first. tqdm.auto (imported deep inside transformers) warns that ipywidgets is
# missing, and the warning, with the interpreter's path in it, would land on the report's pages.
warnings.filterwarnings("ignore", message="IProgress not found")

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from clapemo.config import Config

__all__ = [
    "PROPERTIES",
    "PROMPT_KINDS",
    "project_root",
    "experiment_config",
    "emotion_corpora",
    "corpus_table",
    "quiet_progress",
    "corpus_summary",
    "thresholds",
    "cuts_table",
    "plot_properties_by_emotion",
    "prompt_bin",
    "bin_occupancy",
    "style_occupancy",
    "plot_bin_occupancy",
    "table2_examples",
    "compare_pitch_backends",
    "table3_side_by_side",
    "table4_side_by_side",
    "figure2_side_by_side",
    "format_table3",
    "format_table4",
    "format_figure2",
    "format_claims",
    "format_spread",
    "provenance",
    "show",
    "BOOK_PAGES",
    "check_book",
    "screenshot",
    "find_chromium",
]

#: property column -> (axis label, prompt kind(s) whose bins it sets)
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


# ---------------------------------------------------------------------------------------------------------------
# Configuration for a notebook run
# ---------------------------------------------------------------------------------------------------------------


def project_root(start: str | Path | None = None) -> Path:
    """The folder holding ``configs/`` and ``pyproject.toml``, searched upwards from ``start`` (default: cwd).

    A notebook opened in JupyterLab runs in ``notebooks/``; papermill runs it from the project root. Both find
    the same root, so relative paths in configs mean the same thing.
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "configs").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    raise DataError(f"no clapemo project (a folder with configs/ and pyproject.toml) at or above {here}")


def _absolute_paths(section: Any, root: Path) -> dict:
    """Dotted overrides that make every relative ``path=True`` field of ``section`` absolute under ``root``."""
    out: dict = {}
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if dataclasses.is_dataclass(value):
            out.update({f"{f.name}.{k}": v for k, v in _absolute_paths(value, root).items()})
        elif f.metadata.get("path"):
            if isinstance(value, str) and value and not Path(value).is_absolute():
                candidate = root / value
                # output folders always; inputs (checkpoints, model folders) only when they exist under root, so a
                # model name such as "google-bert/bert-base-uncased" is left alone
                if candidate.exists() or f.name.endswith(("_dir", "_root")):
                    out[f.name] = str(candidate)
            elif isinstance(value, dict):
                out[f.name] = {k: str(root / v) if isinstance(v, str) and not Path(v).is_absolute() else v
                               for k, v in value.items()}
    return out


def experiment_config(config_path: str | Path, *, profile: str | None = None, seed: int | None = None,
                      device: str | None = None, output_dir: str | Path | None = None,
                      overrides: Sequence[str] | str = ()) -> "Config":
    """Load the experiment config a notebook runs, with the notebook's parameters applied.

    Parameters
    ----------
    config_path : path of a YAML config, relative to the project root (or absolute).
    profile : synthetic benchmark size (``tiny``, ``default``, ``large``); sets ``synth.profile``. With
        ``tiny``, ``configs/tiny.yaml`` is layered on top when it exists (fewer epochs and seeds).
    seed : seed of the synthetic benchmark (``synth.seed``).
    device : ``auto``, ``cpu`` or ``cuda`` for the encoders and training.
    output_dir : where experiment results go (``evaluate.results_dir``).
    overrides : further ``section.key=value`` strings, applied last; one whitespace-separated string is also
        accepted (``make reproduce SET="train.epochs=3 encoders.audio=resemblyzer"``). An item ending in
        ``.yaml`` is an overlay file: its keys that differ from ``configs/base.yaml`` are layered on the
        experiment's config (``make reproduce SET=configs/real.yaml`` runs every chapter on the real corpora).

    Returns
    -------
    Config
        With every relative path field made absolute under :func:`project_root`, so the notebook behaves the
        same whether it runs from the project root (papermill) or from ``notebooks/`` (JupyterLab).
    """
    from clapemo.config import _deep_merge, _read_yaml, from_dict, Config, replace

    root = project_root()
    base = _read_yaml((root / "configs" / "base.yaml").resolve())

    def overlay(file: str | Path) -> dict:
        """An overlay file's keys that differ from base.yaml (its own ``base:`` chain resolved), name excluded."""
        file = Path(file)
        file = file if file.is_absolute() else root / file
        return {k: v for k, v in _diff(_read_yaml(file.resolve()), base).items() if k != "name"}

    path = Path(config_path)
    path = path if path.is_absolute() else root / path
    data = _read_yaml(path.resolve())
    if profile == "tiny" and (root / "configs" / "tiny.yaml").is_file() and path.name != "tiny.yaml":
        data = _deep_merge(data, overlay("configs/tiny.yaml"))  # fewer epochs and seeds
    if isinstance(overrides, str):
        overrides = overrides.split()
    files = [o for o in overrides if str(o).endswith((".yaml", ".yml"))]
    overrides = [o for o in overrides if o not in files]
    for file in files:
        data = _deep_merge(data, overlay(file))
    items = []
    if profile is not None:
        items.append(f"synth.profile={profile}")
    if seed is not None:
        items.append(f"synth.seed={int(seed)}")
    if device is not None:
        items += [f"encoders.device={device}", f"train.device={device}"]
    if output_dir is not None:
        items.append(f"evaluate.results_dir={output_dir}")
    from clapemo.config import _parse_override

    for item in [*items, *overrides]:
        data = _deep_merge(data, _parse_override(item))
    config = from_dict(Config, data)
    return replace(config, **_absolute_paths(config, root))


def _diff(child: dict, base: dict) -> dict:
    """The keys of ``child`` whose values differ from ``base`` (nested)."""
    out = {}
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            sub = _diff(value, base[key])
            if sub:
                out[key] = sub
        elif key not in base or base[key] != value:
            out[key] = value
    return out


def emotion_corpora(config: "Config") -> list[str]:
    """The six emotion corpora of the paper's Table 1 under this config's data source (``synth-*`` or real)."""
    from clapemo.emotions import EMOTION_CORPORA

    if config.data.source == "synth":
        return [f"synth-{name}" for name in EMOTION_CORPORA]
    return [name for name in EMOTION_CORPORA if name in config.data.roots]


class _DropProgressBars(io.TextIOBase):
    """A stderr stand-in that passes everything through except tqdm progress-bar updates."""

    _BAR = re.compile(r"^\s*[^\n]*\d+%\|.*\|.*(it|clip|s)/s\]?\s*$|^\s*[^\n]*: *\d+%\|.*$")

    def __init__(self, target: Any) -> None:
        self.target = target
        self._after_bar = False

    def write(self, text: str) -> int:
        kept = []
        for part in re.split(r"(?<=[\r\n])", text):
            body = part.strip("\r\n").strip()
            if not body:  # a bare line end: drop it when it closes a bar
                if not self._after_bar:
                    kept.append(part)
                continue
            self._after_bar = bool(self._BAR.match(body))
            if not self._after_bar:
                kept.append(part)
        if kept:
            self.target.write("".join(kept))
        return len(text)

    def flush(self) -> None:
        self.target.flush()


@contextlib.contextmanager
def quiet_progress():
    """Keep library progress bars (tqdm, on stderr) out of notebook outputs; warnings and logs still show."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        with contextlib.redirect_stderr(_DropProgressBars(sys.stderr)):
            yield


def corpus_table(config: "Config") -> "pd.DataFrame":
    """Manifest + acoustic properties + prompts of every emotion corpus (``clapemo.corpora``).

    With ``prompts.binning = "quantile"`` the cuts are fitted on the training split of these corpora (as training
    does) and applied to every clip. Progress bars are kept out of the notebook page.
    """
    from clapemo import corpora, prompts

    names = emotion_corpora(config)
    with quiet_progress():
        if config.prompts.binning != "quantile":
            return corpora.annotated(names, config)
        table = corpora.with_features(corpora.manifest(names, config), config)
        train = table[table["split"] == "train"] if "split" in table.columns else table
        cuts = prompts.fit_thresholds(train, config.prompts)
        return corpora.with_prompts(table, config, thresholds=cuts)


# ---------------------------------------------------------------------------------------------------------------
# The corpus and its acoustic properties
# ---------------------------------------------------------------------------------------------------------------


def _require(table: "pd.DataFrame", columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{what} needs columns {missing}; the table has {list(table.columns)}")


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
    from clapemo import prompts

    if config.prompts.binning == "quantile":
        if table is None:
            raise ParameterError("thresholds: quantile binning needs the table the cuts are fitted on")
        train = table[table["split"] == "train"] if "split" in table.columns else table
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


def style_occupancy(occupancy: "pd.DataFrame"):
    """:func:`bin_occupancy` as a percentage heat table."""
    shares = [c for c in occupancy.columns if c[1] != "clips"]
    return (occupancy.style.format("{:.0%}", subset=shares).format("{:d}", subset=[("", "clips")])
            .background_gradient(cmap="Blues", subset=shares, vmin=0.0, vmax=1.0))


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


def style_table2(examples: "pd.DataFrame"):
    """:func:`table2_examples` with the property shown once per group."""
    shown = examples.copy()
    shown.loc[shown["property"].duplicated(), "property"] = ""
    return shown.style.format({"share": "{:.0%}"}).hide(axis="index")


# ---------------------------------------------------------------------------------------------------------------
# Pitch backends
# ---------------------------------------------------------------------------------------------------------------


def _pick(manifest: "pd.DataFrame", n: int) -> "pd.DataFrame":
    """``n`` clips spread evenly over the manifest, stratified by corpus (deterministic)."""
    import numpy as np

    if n <= 0:
        raise ParameterError(f"n = {n} clips: must be at least 1")
    if len(manifest) <= n:
        return manifest
    index = np.unique(np.linspace(0, len(manifest) - 1, n).round().astype(int))
    ordered = manifest.sort_values(["dataset", "utterance_id"]) if "dataset" in manifest else manifest
    return ordered.iloc[index]


def compare_pitch_backends(manifest: "pd.DataFrame", config: "Config", *, n: int = 40,
                           backends: Sequence[str] = ("praat", "pyin")) -> tuple["pd.DataFrame", "Figure"]:
    """Average F0 of ``n`` clips by each pitch backend: agreement with the first backend, and seconds per clip.

    Extraction runs without the feature cache and in one process, so the seconds are real. ``pyin``'s
    one-off compilation is excluded by a warm-up call on the first clip.

    Returns
    -------
    summary : DataFrame, one row per backend: ``seconds per clip``, ``median |diff| (semitones)`` and the share
        of clips whose four-bin and two-bin pitch prompts match the first backend's.
    figure : scatter of the second backend's F0 against the first's, with the pitch cuts.
    """
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    from clapemo import features

    clips = _pick(manifest, n)
    f0: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    with quiet_progress():
        for backend in backends:
            fcfg = dataclasses.replace(config.features, pitch_backend=backend)
            features.extract_table(clips.iloc[:1], config=fcfg, n_jobs=1, use_cache=False, progress=False)
            start = time.perf_counter()
            out = features.extract_table(clips, config=fcfg, n_jobs=1, use_cache=False, progress=False)
            seconds[backend] = (time.perf_counter() - start) / len(clips)
            f0[backend] = out["f0_mean_hz"].to_numpy(dtype=float)
    cuts = thresholds(config)
    ref = backends[0]

    def bins(values: np.ndarray, edges: list[float]) -> np.ndarray:
        return np.where(np.isnan(values), -1, np.digitize(values, edges))

    rows = []
    for backend in backends:
        both = ~np.isnan(f0[backend]) & ~np.isnan(f0[ref])
        semitones = 12 * np.abs(np.log2(f0[backend][both] / f0[ref][both]))
        rows.append({
            "backend": backend,
            "clips": len(clips),
            "voiced clips": int((~np.isnan(f0[backend])).sum()),
            "seconds per clip": seconds[backend],
            f"median |diff| vs {ref} (semitones)": float(np.median(semitones)) if both.any() else float("nan"),
            f"same 4-bin pitch prompt as {ref}": float(np.mean(
                bins(f0[backend], cuts["f0_mean_hz"]) == bins(f0[ref], cuts["f0_mean_hz"]))),
            f"same 2-bin pitch prompt as {ref}": float(np.mean(
                bins(f0[backend], cuts["f0_mean_hz/2"]) == bins(f0[ref], cuts["f0_mean_hz/2"]))),
        })
    summary = pd.DataFrame(rows).set_index("backend").round(3)

    fig = Figure(figsize=(6.5, 6), layout="constrained")
    ax = fig.subplots()
    other = backends[1] if len(backends) > 1 else backends[0]
    ax.scatter(f0[ref], f0[other], s=14, alpha=0.7)
    finite = np.concatenate([f0[ref], f0[other]])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        lo, hi = finite.min() * 0.9, finite.max() * 1.1
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    for value in cuts["f0_mean_hz"]:
        ax.axvline(value, color="crimson", lw=0.8, alpha=0.6)
        ax.axhline(value, color="crimson", lw=0.8, alpha=0.6)
    ax.set_xlabel(f"average F0, {ref} (Hz)")
    ax.set_ylabel(f"average F0, {other} (Hz)")
    ax.set_title("Pitch backends per clip (grey: agreement; red: the four-bin cuts)", fontsize=10)
    return summary, fig


# ---------------------------------------------------------------------------------------------------------------
# Paper beside ours
# ---------------------------------------------------------------------------------------------------------------


def format_spread(mean: float, std: float, *, digits: int = 2, percent: bool = False) -> str:
    """``"0.42 ± 0.03"`` (``std`` missing or zero-count: the mean alone)."""
    scale = 100.0 if percent else 1.0
    if mean != mean:  # NaN
        return "–"
    if std != std:
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"


_QUERY_TITLES = {"class_label": "class label", "pitch": "pitch", "pitch2": "pitch (2 bins)",
                 "intensity": "intensity", "speech_rate": "speech rate", "articulation_rate": "articulation rate",
                 "combined": "combined", "augment": "PA"}
_SETTING_TITLES = {"leave_one_out": "leave one out", "finetune": "finetune"}


#: display order of rows and columns (anything else follows in first-seen order)
_ORDER = {
    "model": ("4D", "4D + [5ED - CL]", "4D + [5ED - PA]"),
    "query": ("class_label", "pitch", "pitch2", "intensity", "speech_rate", "articulation_rate", "combined"),
    "table4": ("Random", "Random (draw)", "4D", "5ED - CL", "4D + [5ED - CL]", "4D + [5ED - PA]", "SoTA"),
    "kind": ("class_label", "pitch", "pitch2", "intensity", "speech_rate", "articulation_rate", "combined",
             "augment"),
    "corpus": ("ravdess", "cremad", "iemocap", "meld", "mosei", "mosi"),
}


def _ordered(values: Iterable[Any], order: str) -> list:
    seen = list(dict.fromkeys(v for v in values if v == v))
    preferred = [v for v in _ORDER[order] if v in seen]
    return preferred + [v for v in seen if v not in preferred]


def _ours_cell(row: "pd.Series", *, percent: bool = False) -> str:
    digits = 1 if percent else 2
    return format_spread(row["ours_mean"], row["ours_sd"], digits=digits, percent=percent)


def _paper_cell(value: float, *, percent: bool = False) -> str:
    if value != value:
        return "–"
    return f"{value * 100:.2f}" if percent else f"{value:.2f}"


def _bold_best(frame: "pd.DataFrame", means: "pd.DataFrame"):
    """Styler of ``frame`` (strings) with the best mean of each row in bold, per source (paper / ours)."""
    import numpy as np

    def style(_: "pd.DataFrame") -> "pd.DataFrame":
        css = frame.copy()
        css.loc[:, :] = ""
        for source in ("paper", "ours"):
            cols = [c for c in frame.columns if c[-1].startswith(source)]
            if not cols:
                continue
            block = means[cols].astype(float)
            for index, values in block.iterrows():
                if values.notna().sum() < 2:
                    continue
                best = np.nanmax(values.to_numpy())
                for col in cols:
                    if values[col] == best:
                        css.loc[index, col] = "font-weight: bold"
        return css

    return frame.style.apply(style, axis=None)


def table3_side_by_side(side: "pd.DataFrame") -> "pd.DataFrame":
    """Table 3 (EAR) as the book shows it: one row per query kind and K, for each model the paper's Precision@K
    and ours (mean ± sd over seeds).

    Parameters
    ----------
    side : ``clapemo.experiments.side_by_side(summary, paper["table3"])`` (columns ``row, query_kind, k,
        ours_mean, ours_sd, ours_n, paper``).

    Returns
    -------
    DataFrame of strings, index (query, P@K), columns (model, ``paper`` | ``ours``); the numeric means are in
    ``.attrs["means"]`` (same shape) for styling.
    """
    import pandas as pd

    _require(side, ["row", "query_kind", "k", "ours_mean", "ours_sd", "paper"], "table3_side_by_side")
    models = _ordered(side["row"], "model")
    queries = _ordered(side["query_kind"], "query")
    ks = sorted(side["k"].dropna().astype(int).unique())
    index = pd.MultiIndex.from_tuples([(_QUERY_TITLES.get(q, q), f"P@{k}") for q in queries for k in ks],
                                      names=["query", "K"])
    n = int(side["ours_n"].max()) if "ours_n" in side and side["ours_n"].notna().any() else 0
    ours_label = f"ours (mean ± sd, {n} seed{'s' * (n != 1)})"
    columns = pd.MultiIndex.from_tuples([(m, src) for m in models for src in ("paper", ours_label)],
                                        names=["model", ""])
    text = pd.DataFrame("–", index=index, columns=columns)
    means = pd.DataFrame(float("nan"), index=index, columns=columns)
    for _, r in side.iterrows():
        key = (_QUERY_TITLES.get(r["query_kind"], r["query_kind"]), f"P@{int(r['k'])}")
        text.loc[key, (r["row"], "paper")] = _paper_cell(r["paper"])
        means.loc[key, (r["row"], "paper")] = r["paper"]
        text.loc[key, (r["row"], ours_label)] = _ours_cell(r)
        means.loc[key, (r["row"], ours_label)] = r["ours_mean"]
    text.attrs["means"] = means
    return text


def format_table3(side: "pd.DataFrame"):
    """:func:`table3_side_by_side` styled: the best model of each query and K in bold, per source."""
    text = table3_side_by_side(side)
    return (_bold_best(text, text.attrs["means"])
            .set_caption("Table 3: emotion audio retrieval on the IEMOCAP twin, precision@K. Bold: the best "
                         "model of each line, separately for the paper and for us."))


def table4_side_by_side(side: "pd.DataFrame") -> "pd.DataFrame":
    """Table 4 (SER on the RAVDESS twin) as the book shows it: one row per training set, for each setting the
    paper's accuracy (%) and ours (mean ± sd over seeds), plus our unweighted accuracy.

    Parameters
    ----------
    side : ``clapemo.experiments.side_by_side(summary, paper["table4"])`` (columns ``row, setting, metric,
        ours_mean, ours_sd, ours_n, paper``).
    """
    import pandas as pd

    _require(side, ["row", "setting", "metric", "ours_mean", "ours_sd", "paper"], "table4_side_by_side")
    rows = _ordered(side["row"], "table4")
    settings = [s for s in ("leave_one_out", "finetune") if s in set(side["setting"])]
    settings += [s for s in dict.fromkeys(side["setting"]) if s not in settings]
    n = int(side["ours_n"].max()) if "ours_n" in side and side["ours_n"].notna().any() else 0
    ours = f"ours (mean ± sd, {n} seed{'s' * (n != 1)})"
    subs = ("paper", ours, "ours, unweighted")
    columns = pd.MultiIndex.from_tuples([(_SETTING_TITLES.get(s, s), c) for s in settings for c in subs],
                                        names=["setting", "accuracy (%)"])
    text = pd.DataFrame("–", index=pd.Index(rows, name="training set"), columns=columns)
    means = pd.DataFrame(float("nan"), index=text.index, columns=columns)
    for _, r in side.iterrows():
        setting = _SETTING_TITLES.get(r["setting"], r["setting"])
        if r["metric"] == "accuracy":
            text.loc[r["row"], (setting, "paper")] = _paper_cell(r["paper"], percent=True)
            means.loc[r["row"], (setting, "paper")] = r["paper"]
            if r["ours_mean"] == r["ours_mean"]:
                text.loc[r["row"], (setting, ours)] = _ours_cell(r, percent=True)
                means.loc[r["row"], (setting, ours)] = r["ours_mean"]
        elif r["metric"] == "unweighted_accuracy" and r["ours_mean"] == r["ours_mean"]:
            text.loc[r["row"], (setting, "ours, unweighted")] = _ours_cell(r, percent=True)
    text.attrs["means"] = means
    return text


def format_table4(side: "pd.DataFrame"):
    """:func:`table4_side_by_side` styled: the best trained row of each setting in bold, per source."""
    text = table4_side_by_side(side)
    means = text.attrs["means"].copy()
    for row in ("Random", "Random (draw)", "SoTA"):  # references, not competitors
        if row in means.index:
            means.loc[row] = float("nan")
    styler = _bold_best_columns(text, means)
    return styler.set_caption("Table 4: speech emotion recognition on the RAVDESS twin, accuracy (%). Bold: the "
                              "best trained model of each column.")


def _bold_best_columns(frame: "pd.DataFrame", means: "pd.DataFrame"):
    """Styler with the maximum of each column of ``means`` in bold."""
    import numpy as np

    def style(_: "pd.DataFrame") -> "pd.DataFrame":
        css = frame.copy()
        css.loc[:, :] = ""
        for col in means.columns:
            values = means[col].astype(float)
            if values.notna().sum() >= 2:
                best = np.nanmax(values.to_numpy())
                css.loc[values == best, col] = "font-weight: bold"
        return css

    return frame.style.apply(style, axis=None)


def figure2_side_by_side(side: "pd.DataFrame") -> "pd.DataFrame":
    """Figure 2's numbers: per corpus and training prompt kind, our accuracy and unweighted accuracy (%, mean ± sd
    over seeds) beside the paper's (not recoverable from its text: shown as "–")."""
    import pandas as pd

    _require(side, ["corpus", "prompt_kind", "metric", "ours_mean", "ours_sd", "paper"], "figure2_side_by_side")
    corpora_ = _ordered(side.loc[side["ours_mean"].notna(), "corpus"], "corpus")
    kinds = _ordered(side.loc[side["ours_mean"].notna(), "prompt_kind"], "kind")
    n = int(side["ours_n"].max()) if "ours_n" in side and side["ours_n"].notna().any() else 0
    subs = ("paper", f"ours (mean ± sd, {n} seed{'s' * (n != 1)})", "ours, unweighted")
    columns = pd.MultiIndex.from_tuples([(c, s) for c in corpora_ for s in subs], names=["corpus", "accuracy (%)"])
    index = pd.Index([_QUERY_TITLES.get(k, k) for k in kinds], name="training prompt")
    text = pd.DataFrame("–", index=index, columns=columns)
    for _, r in side.iterrows():
        if r["corpus"] not in corpora_ or r["prompt_kind"] not in kinds or r["ours_mean"] != r["ours_mean"]:
            continue
        key = _QUERY_TITLES.get(r["prompt_kind"], r["prompt_kind"])
        if r["metric"] == "accuracy":
            text.loc[key, (r["corpus"], subs[0])] = _paper_cell(r["paper"], percent=True)
            text.loc[key, (r["corpus"], subs[1])] = _ours_cell(r, percent=True)
        elif r["metric"] == "unweighted_accuracy":
            text.loc[key, (r["corpus"], subs[2])] = _ours_cell(r, percent=True)
    return text


def format_figure2(side: "pd.DataFrame"):
    """:func:`figure2_side_by_side` with a caption."""
    return figure2_side_by_side(side).style.set_caption(
        "Figure 2 in numbers: SER accuracy (%) after training on 4D + the corpus with one prompt kind. The paper "
        "gives these only as bars, so its column is empty.")


def format_claims(verdicts: "pd.DataFrame"):
    """``clapemo.experiments.claims(...)`` styled: each paper claim, whether it holds here, and by how much."""
    shown = verdicts.drop(columns=["id"], errors="ignore").rename(
        columns={"min_difference": "smallest difference", "min_z": "smallest z"})
    colors = {"holds (clearly)": "#d9f2d9", "holds (within noise)": "#f2f7d9",
              "does not hold (within noise)": "#fbecd5", "does not hold (clearly)": "#f7d4d4"}
    return (shown.style.format({"smallest difference": "{:+.3f}", "smallest z": "{:+.1f}"}, na_rep="–")
            .map(lambda v: f"background-color: {colors.get(v, '')}", subset=["verdict"])
            .hide(axis="index"))


def provenance(configs: "dict[str, Config]") -> "pd.DataFrame":
    """Where each experiment's numbers come from: config name and hash, the settings that matter most, and the
    results folder (relative to the project root when inside it).

    Parameters
    ----------
    configs : display name -> the experiment's config (e.g. ``{"Table 3": config3}``).
    """
    import pandas as pd

    from clapemo.config import config_hash

    root = project_root()
    rows = []
    for title, cfg in configs.items():
        artefact = {"Table 3": "table3", "Table 4": "table4", "Figure 2": "figure2"}.get(title, title)
        folder = Path(cfg.evaluate.results_dir) / artefact / config_hash(cfg)
        try:
            folder = folder.resolve().relative_to(root)
        except ValueError:
            pass
        rows.append({
            "experiment": title, "config": cfg.name, "config hash": config_hash(cfg),
            "data": cfg.data.source + (f" ({cfg.synth.profile}, seed {cfg.synth.seed})"
                                       if cfg.data.source == "synth" else ""),
            "audio encoder": cfg.encoders.audio, "text encoder": cfg.encoders.text,
            "epochs": cfg.train.epochs, "seeds": ", ".join(map(str, cfg.evaluate.seeds)),
            "results folder": str(folder),
        })
    return pd.DataFrame(rows).set_index("experiment").T


def show(fig: "Figure") -> "Figure":
    """Return ``fig`` detached from pyplot (so a notebook cell shows it once, even if made with pyplot)."""
    try:
        import matplotlib.pyplot as plt

        plt.close(fig)
    except Exception:  # pragma: no cover - pyplot unavailable: nothing to detach
        pass
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Screenshot of the built book (make check-book)
# ---------------------------------------------------------------------------------------------------------------

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``$CHROMIUM`` first), or None."""
    env = os.environ.get("CHROMIUM")
    if env and (shutil.which(env) or Path(env).is_file()):
        return shutil.which(env) or env
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(html: str | Path, png: str | Path, *, width_px: int = 1400, height_px: int = 2000,
               timeout_s: float = 120.0) -> Path:
    """Render ``html`` with headless Chromium and save a PNG of the first ``width_px`` × ``height_px``.

    Raises
    ------
    DataError
        When ``html`` does not exist or Chromium wrote no image.
    ClapEmoError
        When no Chromium is installed (``apt-get install chromium``, or set ``$CHROMIUM``).
    """
    html, png = Path(html).resolve(), Path(png).resolve()
    if not html.is_file():
        raise DataError(f"screenshot: page {html} does not exist (build the book first: make book)")
    if width_px < 100 or height_px < 100:
        raise ParameterError(f"screenshot: window {width_px}x{height_px} px is too small (at least 100x100)")
    browser = find_chromium()
    if browser is None:
        raise ClapEmoError("screenshot: no Chromium found; install it (apt-get install -y chromium) "
                           "or point $CHROMIUM at a Chrome/Chromium executable")
    png.parent.mkdir(parents=True, exist_ok=True)
    if png.exists():
        png.unlink()
    with tempfile.TemporaryDirectory(prefix="clapemo-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", f"--window-size={width_px},{height_px}",
               "--virtual-time-budget=5000", f"--screenshot={png}", html.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, "HOME": profile})
    if not png.is_file() or png.stat().st_size == 0:
        raise DataError(f"screenshot: Chromium wrote no image {png} (exit {proc.returncode}): "
                        f"{proc.stderr.strip()[-500:]}")
    return png


#: the pages of the built book and what each must show (tables / images at least)
BOOK_PAGES: dict[str, dict[str, int]] = {
    "intro.html": {"tables": 0, "images": 0},
    "executed/01_prompt_generation.html": {"tables": 4, "images": 3},
    "executed/02_ear_table.html": {"tables": 3, "images": 0},
    "executed/03_ser_table.html": {"tables": 3, "images": 0},
    "executed/04_prompt_analysis.html": {"tables": 3, "images": 2},
    "executed/05_report.html": {"tables": 4, "images": 1},
    "real_data.html": {"tables": 0, "images": 0},
}


def check_book(html_dir: str | Path, *, pages: dict[str, dict[str, int]] | None = None) -> "pd.DataFrame":
    """Check a built book: every page exists and shows at least the expected number of tables and images, and
    no notebook output holds an error or a traceback.

    Parameters
    ----------
    html_dir : the ``_build/html`` folder of ``jupyter-book build``.
    pages : page -> ``{"tables": n, "images": m}`` minimums (default :data:`BOOK_PAGES`).

    Returns
    -------
    DataFrame, one row per page: ``tables``, ``images``, ``ok``.

    Raises
    ------
    DataError
        Naming every page that is missing or falls short.
    """
    import re

    import pandas as pd

    html_dir = Path(html_dir)
    pages = BOOK_PAGES if pages is None else pages
    rows, problems = [], []
    for page, need in pages.items():
        path = html_dir / page
        if not path.is_file():
            problems.append(f"{page}: missing")
            rows.append({"page": page, "tables": 0, "images": 0, "ok": False})
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        main = text.split('<main', 1)[-1]
        tables = len(re.findall(r"<table\b", main))
        images = len(re.findall(r"<img\b[^>]*src=\"[^\"]*_images/", main))
        bad = [w for w in ("Traceback (most recent call last)", "ename", "output_error") if w in main]
        ok = tables >= need.get("tables", 0) and images >= need.get("images", 0) and not bad
        if not ok:
            problems.append(f"{page}: {tables} tables (need {need.get('tables', 0)}), {images} images "
                            f"(need {need.get('images', 0)}){', errors: ' + ', '.join(bad) if bad else ''}")
        rows.append({"page": page, "tables": tables, "images": images, "ok": ok})
    if problems:
        raise DataError("the built book falls short:\n  " + "\n  ".join(problems))
    return pd.DataFrame(rows).set_index("page")


def main(argv: list[str] | None = None) -> int:
    """``python -m clapemo.report screenshot IN.html OUT.png [--width W --height H]`` or
    ``python -m clapemo.report check [HTML_DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m clapemo.report", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    shot = sub.add_parser("screenshot", help="render a built book page to PNG with headless Chromium")
    shot.add_argument("html")
    shot.add_argument("png")
    shot.add_argument("--width", type=int, default=1400)
    shot.add_argument("--height", type=int, default=2000)
    check = sub.add_parser("check", help="check a built book: every page, its tables and figures, no errors")
    check.add_argument("html_dir", nargs="?", default="book/_build/html")
    ns = parser.parse_args(argv)
    try:
        if ns.command == "check":
            print(check_book(ns.html_dir).to_string())
            print(f"book OK: {ns.html_dir}")
            return 0
        out = screenshot(ns.html, ns.png, width_px=ns.width, height_px=ns.height)
    except ClapEmoError as err:
        print(f"clapemo.report: error: {err}", file=sys.stderr)
        return 2
    print(f"screenshot written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
