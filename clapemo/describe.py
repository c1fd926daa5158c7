"""Your own audio in the words of the acoustic prompts: measured properties and the bin of every prompt kind.

:func:`describe` measures each file (``clapemo.features.extract_table``: pitch, intensity, speech and
articulation rate; cached per file) and names the bin of each acoustic prompt kind, e.g. ``pitch`` = ``"high
male pitch"``, ``intensity`` = ``"low intensity"``, and all four together in ``description`` (the phrase part of
the ``combined`` prompt). Given a ``label`` it adds the full prompt of every kind (``"high male pitch anger"``).

The cuts between bins are those of a trained run (``run=``: its fitted quantile thresholds, or the fixed cuts of
its config) or the fixed cuts of ``config`` (default: the reconstructed literature values); the measurement
settings are those of the run's config when a run is given, so a clip is described the way the run saw its
training clips. A file that cannot be measured keeps its row, with the message in ``error``; a batch never
fails on one bad file.

Outputs (:func:`write_table`, ``-o``) are checked before the work starts (a folder, a read-only place, a name
without ``.csv``/``.json`` are refused at once); an existing file is replaced only when it is a table clapemo
wrote (its header starts with ``path,name`` and ends with ``error``; JSON: records of those fields) or with
``--force`` (``overwrite=True``); a symbolic link is written through (its target is replaced, the link stays);
the file gets the permissions of the umask. File names that are not UTF-8 (``caf\xe9.wav``) are measured
through a UTF-8 alias and shown backslash-escaped (:func:`clapemo.files.display_path`).

Settings of a trained run: ``--config/--overlay/--set`` with ``--run`` (``describe``, ``index``, ``classify``)
are layered over the run's stored config where the command reads it (:data:`RUN_SETTINGS`: the fixed cuts of a
run without fitted ones, the prompt wording, the zero-shot template, caches and device; :func:`layered_run`),
and refused with a ConfigError naming the key otherwise (``train.epochs`` does not apply to a trained run).
Without a run they apply as to every command. ``--corpus`` must name a corpus the run has cuts for
(:func:`run_thresholds`).

Syllables (``--syllables``, ``features.syllables``): ``nuclei`` (the default, the paper's) or ``asr`` (Whisper
tiny.en transcribes each file, CMUdict counts); ``transcript`` is refused (:func:`check_syllables`): own audio
comes without a text.

``clapemo describe FILES|DIR ... [--label L] [--run NAME] [--syllables asr] [-o out.csv|out.json] [--force]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clapemo.errors import DataError, ParameterError
from clapemo.schema import ACOUSTIC_KINDS, PROMPT_KINDS, PROPERTY_COLUMNS, SYLLABLES_COLUMN

__all__ = [
    "FIXED_CUT_KEYS",
    "RUN_SETTINGS",
    "WORD_KINDS",
    "audio_files",
    "bin_words",
    "add_syllables_argument",
    "check_syllables",
    "check_table_output",
    "cli",
    "describe",
    "layered_run",
    "print_table",
    "run_changes",
    "run_from_cli",
    "run_thresholds",
    "syllables_override",
    "write_table",
]

#: the acoustic kinds whose bin words are reported (the combined prompt is their union: ``description``)
WORD_KINDS: tuple[str, ...] = tuple(k for k in ACOUSTIC_KINDS if k != "combined")
#: the fixed cuts of a config (``prompts`` section): what a run without fitted (quantile) cuts bins with
FIXED_CUT_KEYS: tuple[str, ...] = ("prompts.pitch_cuts_hz", "prompts.pitch2_cut_hz", "prompts.intensity_cut_db",
                                   "prompts.speech_rate_cut_syl_per_s", "prompts.articulation_rate_cut_syl_per_s")
#: what each own-audio command reads of a trained run's config, hence the keys that ``--config``, ``--overlay``
#: and ``--set`` may change with ``--run`` (layered over the run's stored config, :func:`layered_run`); any other
#: key is refused. The run's encoders, projections, measurement settings and binning scheme are the trained model
#: and stay as trained; where its files live and how it is computed (caches, device, batch size) may change, and
#: so may how syllables are counted (``features.syllables``, ``--syllables``): own audio has no transcript, so a
#: run whose rates were counted from transcripts describes with ``asr`` (or ``nuclei``), chosen by the user.
RUN_SETTINGS: dict[str, tuple[str, ...]] = {
    "describe": (*FIXED_CUT_KEYS, "prompts.emotion_words", "prompts.form", "prompts.sentence_template",
                 "prompts.sentence_label_template", "features.syllables", "features.cache_dir", "train.runs_dir"),
    "index": (*FIXED_CUT_KEYS, "features.syllables", "features.cache_dir", "encoders.cache_dir",
              "encoders.batch_size", "encoders.device", "train.runs_dir"),
    "classify": ("evaluate.zero_shot_template", "prompts.emotion_words", "encoders.cache_dir",
                 "encoders.batch_size", "encoders.device", "train.runs_dir"),
}


def audio_files(inputs: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """Files and folders -> audio files, each file once.

    A folder gives its audio files recursively (sorted, by the suffixes of ``clapemo.features.AUDIO_SUFFIXES``),
    including symbolic links of those suffixes that reach no file (broken, or a loop): their rows record the
    error. A file is kept as given, whatever its suffix (so a bad file is reported, not skipped); a path that does
    not exist is kept too (its row records the error). The same file named twice (``a/b.wav`` and ``a/./b.wav``,
    a folder and a file in it, a link and its target) is listed once, under its first name.
    """
    from clapemo.features import AUDIO_SUFFIXES
    from clapemo.files import display_path

    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    out: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES
                          and (p.is_file() or (p.is_symlink() and not p.is_dir())))
        else:
            out.append(path)
    if not out:
        raise DataError(f"no audio files in {[display_path(i) for i in inputs]} (looked for "
                        f"{', '.join(AUDIO_SUFFIXES)})")
    unique: dict[str, Path] = {}
    for p in out:
        unique.setdefault(os.path.realpath(p), p)
    return list(unique.values())


def run_thresholds(model: Any = None, *, config: Any = None, corpus: str | None = None) -> Any:
    """The cuts to describe audio with: the run's, else the fixed cuts of ``config``.

    Parameters
    ----------
    model : TrainedCLAP, optional
        A loaded run (:func:`clapemo.runs.load`): its fitted quantile thresholds when it has them, else the fixed
        cuts of its config's ``prompts`` section.
    config : Config or PromptsConfig, optional
        Used without a run (default: the reconstructed fixed cuts).
    corpus : str, optional
        For a run with per-corpus quantile thresholds: whose cuts to use (required when there are several). For
        a run with one set of cuts it may name a corpus the run was trained on (``train.corpora``).

    Returns
    -------
    clapemo.prompts.Thresholds

    Raises
    ------
    ParameterError
        ``corpus`` names no corpus the run has cuts for (the message names those it has), or is given without a
        run; a run that bins per speaker.
    """
    from clapemo.prompts import SexThresholds, SpeakerThresholds, Thresholds

    if model is None:
        if corpus is not None:
            raise ParameterError(f"corpus = {corpus!r} chooses among the per-corpus cuts of a trained run; "
                                 "without a run the cuts are the config's fixed ones (prompts.*_cut*): leave "
                                 "corpus (--corpus) out, or give the run (--run)")
        prompts_cfg = getattr(config, "prompts", config)
        return Thresholds.from_config(prompts_cfg)
    th = model.thresholds
    if isinstance(th, SpeakerThresholds):
        raise ParameterError(f"run {model.run_dir} bins per speaker (prompts.quantile_scope = per_speaker): "
                             "the cuts of a clip depend on its speaker's other clips; use "
                             "clapemo.prompts.prompts_table on a table of the speaker's clips")
    if isinstance(th, dict):
        if corpus is None and len(th) == 1:
            return next(iter(th.values()))
        if corpus not in th:
            got = "none given" if corpus is None else f"got {corpus!r}, which is none of them"
            raise ParameterError(f"run {model.run_dir} has per-corpus thresholds ({', '.join(sorted(th))}); pass "
                                 f"corpus= (--corpus) to choose one ({got})")
        return th[corpus]
    cuts = Thresholds.from_config(model.config.prompts) if th is None else (
        th.pooled if isinstance(th, SexThresholds) else th)
    corpora = [str(c) for c in model.config.train.corpora]
    if corpus is not None and corpus not in corpora:
        has = (f"one set of cuts ({cuts.origin}) for the corpora it was trained on ({', '.join(corpora)})"
               if corpora else f"one set of cuts ({cuts.origin}) and was trained on no named corpus")
        raise ParameterError(f"corpus = {corpus!r}: run {model.run_dir} has {has}; corpus (--corpus) chooses "
                             "among per-corpus cuts (prompts.quantile_scope = per_corpus): leave it out"
                             + (", or name one of those" if corpora else ""))
    return cuts


def _phrase(kind: str, bin_: str, levels: int) -> str:
    """The words of a bin at the run's number of levels (``"high male pitch"``; 3 levels:
    ``"normal intensity"``)."""
    from clapemo.prompts import bin_phrases

    return bin_phrases(kind, levels)[bin_].replace("{emotion}", "").strip()


def bin_words(props: Any, *, thresholds: Any) -> dict[str, str | None]:
    """The bin phrase of each kind of :data:`WORD_KINDS` (``"high male pitch"``) and ``description`` (all four
    properties, in the combined prompt's order and separator); None where the property is missing.

    Parameters
    ----------
    props : AcousticProperties, mapping or table row with the property fields
    thresholds : clapemo.prompts.Thresholds
    """
    from clapemo.prompts import COMBINED_KINDS, COMBINED_SEPARATOR, PROPERTY_OF_KIND, bin_name

    out: dict[str, str | None] = {}
    for kind in WORD_KINDS:
        value = props[PROPERTY_OF_KIND[kind]] if hasattr(props, "__getitem__") else getattr(
            props, PROPERTY_OF_KIND[kind])
        b = bin_name(None if _missing(value) else float(value), kind, thresholds=thresholds)
        out[kind] = None if b is None else _phrase(kind, b, thresholds.levels)
    parts = [out[k] for k in COMBINED_KINDS if out.get(k)]
    out["description"] = COMBINED_SEPARATOR.join(parts) if parts else None
    return out


def _missing(value: Any) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def check_syllables(features_config: Any, *, model: Any = None, command: str = "describe") -> None:
    """Refuse ``features.syllables = transcript`` for own audio, which comes without a transcript: the message
    names ``asr`` (Whisper tiny.en transcribes each file) and ``nuclei`` (the paper's method).

    Raises
    ------
    ParameterError
        ``features_config.syllables`` is ``"transcript"``.
    """
    if getattr(features_config, "syllables", "nuclei") != "transcript":
        return
    whose = (f"run {model.run_dir} counted its syllables from transcripts (features.syllables = transcript)"
             if model is not None else "features.syllables = transcript counts the syllables of a known text")
    raise ParameterError(f"{whose}, and the audio files given to {command} have none: pass --syllables asr "
                         "(Whisper tiny.en transcribes each file; --set features.syllables=asr) or --syllables "
                         "nuclei (the paper's syllable nuclei)")


def add_syllables_argument(parser: argparse.ArgumentParser) -> None:
    """``--syllables nuclei|transcript|asr``: ``features.syllables`` for this command (:func:`syllables_override`
    turns it into a ``--set``, so that it layers over a run's config like every other key)."""
    from clapemo.schema import SYLLABLE_METHODS

    parser.add_argument("--syllables", choices=SYLLABLE_METHODS, default=None,
                        help="how syllables (speech and articulation rate) are counted: nuclei (Praat's syllable "
                             "nuclei, the paper's, the default) or asr (the words Whisper tiny.en hears, counted "
                             "with CMUdict); transcript needs a text, which own audio has not")


def syllables_override(ns: argparse.Namespace) -> None:
    """Turn a parsed ``--syllables`` into the last ``--set features.syllables=...``."""
    if getattr(ns, "syllables", None):
        ns.set = [*ns.set, f"features.syllables={ns.syllables}"]


def _words_frame(features: Any, thresholds: Any, *, label: str | None, prompts_config: Any) -> Any:
    """Bin words (and, with a label, prompts) per row of a features table."""
    import pandas as pd

    from clapemo.prompts import prompt

    rows = []
    for _, row in features.iterrows():
        ok = row["error"] is None
        words = bin_words(row, thresholds=thresholds) if ok else {k: None for k in (*WORD_KINDS, "description")}
        if label is not None:
            for kind in PROMPT_KINDS:
                words[f"prompt_{kind}"] = prompt(row, label, kind, prompts_config, thresholds=thresholds) \
                    if ok or kind == "class_label" else None
        rows.append(words)
    return pd.DataFrame(rows, index=features.index)


def describe(inputs: str | os.PathLike | Sequence[str | os.PathLike], *, label: str | None = None,
             run: Any = None, runs_dir: str | os.PathLike | None = None, config: Any = None,
             corpus: str | None = None, n_jobs: int = 1, progress: bool = True) -> pd.DataFrame:  # noqa: F821
    """Acoustic properties and prompt words of audio files.

    Parameters
    ----------
    inputs : path or sequence of paths
        Audio files and/or folders (searched recursively, see :func:`audio_files`).
    label : str, optional
        A canonical emotion (``clapemo.emotions.EMOTIONS``, e.g. ``"angry"``): adds the full prompt of every kind
        (``prompt_class_label`` ... ``prompt_combined``).
    run : str, Path or TrainedCLAP, optional
        A trained run (name, id, prefix or folder; :func:`clapemo.runs.resolve_run`) whose cuts and measurement
        settings are used.
    runs_dir : path, optional
        Where run names are looked up (default ``runs``).
    config : Config, optional
        Without a run: the features settings and fixed cuts (default: the built-in defaults). With a run, a
        ParameterError: a run's settings change through :func:`layered_run`.
    corpus : str, optional
        Run with per-corpus quantile thresholds: whose cuts (see :func:`run_thresholds`).
    n_jobs : int
        Feature-extraction worker processes (1: in this process; -1: all cores).
    progress : bool
        Progress bar over the files being measured.

    Returns
    -------
    DataFrame, one row per file in input order: ``path``, ``name`` (file name), the property columns
    (:data:`clapemo.schema.PROPERTY_COLUMNS`; with ``features.syllables = asr`` then ``syllables_method``), the
    bin words ``pitch``, ``pitch2``, ``intensity``, ``speech_rate``, ``articulation_rate`` and ``description``;
    with a label ``label`` and ``prompt_<kind>`` for every prompt kind; then ``thresholds`` (their origin: ``fixed`` or ``quantile:...``) and ``error`` (None, or
    the message of a file that could not be measured; its other columns are then empty).
    """
    import pandas as pd

    from clapemo import features as F
    from clapemo.config import Config
    from clapemo.files import display_path, named_message, readable_paths
    from clapemo.prompts import emotion_word

    if run is not None and config is not None:
        raise ParameterError("config applies without a run only (a run describes with its own settings); to "
                             "change a run's cuts or prompt wording, pass run=clapemo.describe.layered_run(model, "
                             "{...}, command='describe')")
    model = _load_model(run, runs_dir=runs_dir)
    settings = model.config if model is not None else (config if config is not None else Config())
    prompts_cfg = settings.prompts if isinstance(settings, Config) else getattr(settings, "prompts", None)
    if label is not None:
        emotion_word(label, prompts_cfg)  # a ParameterError naming the known labels, before any work
    thresholds = run_thresholds(model, config=settings, corpus=corpus)
    check_syllables(getattr(settings, "features", settings), model=model)
    files = audio_files(inputs)
    shown = [display_path(p) for p in files]
    with readable_paths(files) as readable:  # names that are not UTF-8: measured through a UTF-8 alias
        table = F.extract_table(readable, config=getattr(settings, "features", settings), n_jobs=n_jobs,
                                progress=progress)
    table["path"] = shown
    errors = [named_message(e, alias=a, path=p) for e, a, p in zip(table["error"], readable, files)]
    table["error"] = pd.Series(errors, index=table.index, dtype=object)
    words = _words_frame(table, thresholds, label=label, prompts_config=prompts_cfg)
    out = pd.DataFrame({"path": table["path"], "name": [display_path(Path(p).name) for p in files]})
    out = pd.concat([out, table[[*PROPERTY_COLUMNS, *[c for c in table.columns if c == SYLLABLES_COLUMN]]], words],
                    axis=1)
    if label is not None:
        out.insert(len(PROPERTY_COLUMNS) + 2, "label", label)
    out["thresholds"] = thresholds.origin
    out["error"] = table["error"]
    return out


def _load_model(run: Any, *, runs_dir: Any) -> Any:
    if run is None or hasattr(run, "head"):
        return run
    from clapemo import runs

    return runs.load(run, runs_dir=runs_dir)


def _dotted(data: Any) -> dict[str, Any]:
    """A nested config mapping -> ``{"section.key": value}`` (a mapping-valued key such as
    ``prompts.emotion_words`` stays one value; a top-level key such as ``name`` stays as it is)."""
    from clapemo.config import Config, to_dict

    sections = {k for k, v in to_dict(Config()).items() if isinstance(v, dict)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in sections and isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def run_changes(ns: argparse.Namespace, model: Any) -> dict[str, Any]:
    """The settings that parsed ``--config/--overlay/--set`` options ask of a trained run: ``{"section.key":
    value}``, every key of the ``--overlay`` files and of ``--set``, and the keys of the ``--config`` file (its
    ``base:`` chain resolved) whose values differ from the run's stored config (a config that merely matches the
    run asks nothing of it). Values are checked as every command checks them (:func:`clapemo.config.
    config_from_args`: unknown keys and bad values are a ConfigError)."""
    from clapemo.config import anchored, config_from_args, parse_overrides, read_overlay, to_dict

    if not (ns.config or ns.overlay or ns.set):
        return {}
    config_from_args(ns)  # every key known, every value valid: the errors every command gives
    changes: dict[str, Any] = {}
    if ns.config:
        given = _dotted(to_dict(anchored(config_from_args(argparse.Namespace(config=ns.config, overlay=[],
                                                                             set=[])))))
        stored = _dotted(to_dict(model.config))
        changes.update({k: v for k, v in given.items() if stored.get(k) != v})
    for file in ns.overlay:
        changes.update(_dotted(read_overlay(file)))
    changes.update(_dotted(parse_overrides(ns.set)))
    return changes


def layered_run(model: Any, changes: dict[str, Any], *, command: str) -> Any:
    """A trained run with settings layered over its stored config: what ``--config/--overlay/--set`` do with
    ``--run``.

    Parameters
    ----------
    model : TrainedCLAP
        A loaded run (:func:`clapemo.runs.load`).
    changes : dict
        ``{"section.key": value}`` (:func:`run_changes`); a mapping value (``prompts.emotion_words``) is merged
        into the run's.
    command : {"describe", "index", "classify"}
        Whose settings may change (:data:`RUN_SETTINGS`).

    Returns
    -------
    TrainedCLAP, the same head with the layered config (``model`` itself when nothing changes).

    Raises
    ------
    ConfigError
        A key the command does not read of a trained run (``train.epochs``: the message names the key and what
        the command uses); a fixed cut (``prompts.intensity_cut_db``) of a run that bins with cuts fitted on its
        training clips; a value the layered config refuses (its cross-field rules).
    """
    import dataclasses

    from clapemo.config import replace
    from clapemo.errors import ConfigError

    if command not in RUN_SETTINGS:
        raise ParameterError(f"command = {command!r} must be one of {', '.join(RUN_SETTINGS)}")
    fitted = model.thresholds is not None
    uses = [k for k in RUN_SETTINGS[command] if not (fitted and k in FIXED_CUT_KEYS)]
    for key in changes:
        if fitted and key in FIXED_CUT_KEYS and key in RUN_SETTINGS[command]:
            raise ConfigError(f"{key} does not apply to run {model.run_dir}: it bins with cuts fitted on its "
                              "training clips (prompts.binning = quantile), not with the fixed cuts of "
                              f"prompts.*_cut*; {command} without --run uses fixed cuts")
    refused = [k for k in changes if k not in uses]
    if refused:
        keys = refused[0] if len(refused) == 1 else f"{', '.join(refused[:-1])} and {refused[-1]}"
        raise ConfigError(f"{keys} {'does' if len(refused) == 1 else 'do'} not apply to a trained run ({command} "
                          f"uses: {', '.join(uses)}; the run's encoders, training, measurement settings and "
                          "binning are the trained model)")
    if not changes:
        return model
    return dataclasses.replace(model, config=replace(model.config, **changes))


def run_from_cli(ns: argparse.Namespace, *, command: str) -> Any:
    """The trained run of parsed ``--run/--runs-dir/--config/--overlay/--set`` options
    (:func:`clapemo.runs.add_run_arguments`), loaded, with the settings those options give layered over its
    stored config (:func:`run_changes`, :func:`layered_run`): they apply, or they are refused."""
    from clapemo import runs

    if ns.config or ns.overlay or ns.set:
        from clapemo.config import config_from_args

        config_from_args(ns)  # a bad key or value is refused before the run is looked up
    model = runs.load(runs.run_from_args(ns))
    return layered_run(model, run_changes(ns, model), command=command)


def _is_clapemo_table(path: Path) -> bool:
    """Whether the file at ``path`` is a table :func:`write_table` wrote: CSV whose header starts with
    ``path,name`` and ends with ``error``; JSON: a list of records with those first and last fields."""
    import csv

    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
            if path.suffix.lower() == ".csv":
                line = head.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
                columns = next(csv.reader([line]), [])
                return len(columns) >= 3 and columns[:2] == ["path", "name"] and columns[-1] == "error"
            records = json.loads(head + fh.read())
    except (OSError, ValueError):
        return False
    return isinstance(records, list) and all(
        isinstance(r, dict) and list(r)[:2] == ["path", "name"] and list(r)[-1] == "error" for r in records)


def check_table_output(path: str | os.PathLike, *, overwrite: bool = False, what: str = "-o") -> Path:
    """Check, before any work, that :func:`write_table` may write ``path``; returns where the write lands.

    Rules: the name ends with ``.csv`` or ``.json``; it is not a folder and its folder can be written
    (:func:`clapemo.files.check_output_file`); an existing file is replaced only when it is a table clapemo wrote
    (:func:`write_table`'s header) or ``overwrite`` is set (``--force``). A symbolic link is written through.

    Raises
    ------
    ParameterError
        The suffix.
    DataError
        The target is a folder, cannot be written, or is a file clapemo did not write.
    """
    from clapemo.files import check_output_file, display_path

    path = Path(path)
    if path.suffix.lower() not in (".csv", ".json"):
        raise ParameterError(f"{what} {display_path(path)!r} must end with .csv or .json")
    target = check_output_file(path, what=what)
    if (target.exists() or target.is_symlink()) and not overwrite and not _is_clapemo_table(target):
        raise DataError(f"{what} {display_path(path)} exists and is not a table clapemo wrote (no "
                        "'path,name,...,error' header); clapemo does not overwrite it: pass --force "
                        "(overwrite=True) to replace it, or choose another file")
    return target


def write_table(table: Any, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a table atomically as ``.csv`` or ``.json`` (records; NaN -> null), by the suffix of ``path``.

    The rules of :func:`check_table_output` apply (a file clapemo did not write is replaced only with
    ``overwrite``); stale temporaries of earlier writes of ``path`` killed before their rename are removed.
    Returns ``path``.
    """
    from clapemo.files import atomic_write_text, remove_stale_temporaries

    target = check_table_output(path, overwrite=overwrite, what="output")
    remove_stale_temporaries(target.parent, target=target.name)
    if target.suffix.lower() == ".csv":
        atomic_write_text(target, table.to_csv(index=False))
    else:
        atomic_write_text(target, json.dumps(json.loads(table.to_json(orient="records")), indent=1) + "\n")
    return Path(path)


def print_table(table: Any, columns: Sequence[str]) -> None:
    """Print the given columns of a table to stdout (floats rounded to 2 decimals, missing values blank)."""
    import pandas as pd

    shown = table[[c for c in columns if c in table.columns]].copy()
    for col in shown.columns:
        if shown[col].dtype.kind == "f":
            shown[col] = shown[col].round(2)
        elif shown[col].dtype == object:
            shown[col] = shown[col].where(shown[col].notna(), "")
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                           "display.max_colwidth", 80):
        print(shown.to_string(index=False))


def cli(argv: Sequence[str]) -> int:
    """``clapemo describe FILES|DIR ... [--label L] [--run NAME] [-o out.csv|.json]``."""
    from clapemo.runs import runs_dir_from_args

    parser = argparse.ArgumentParser(prog="clapemo describe", description="Measure your own audio (pitch, "
                                     "intensity, speech and articulation rate) and print the bin words of every "
                                     "acoustic prompt kind; with --label, the full prompts too. With --run, "
                                     "--config/--overlay/--set are layered over the run's config where describe "
                                     "reads it (fixed cuts, prompt wording, caches); other keys are refused.")
    parser.add_argument("inputs", nargs="+", help="audio files or folders (searched recursively)")
    parser.add_argument("--label", default=None, help="canonical emotion (angry, happy, sad, neutral, ...): adds "
                        "the full prompts")
    parser.add_argument("--run", default=None,
                        help="use this trained run's cuts and settings (name, id or folder)")
    parser.add_argument("--runs-dir", default=None, help="folder of the runs (default: train.runs_dir, runs)")
    parser.add_argument("--corpus", default=None, help="run with per-corpus quantile cuts: whose cuts to use")
    parser.add_argument("-o", "--output", default=None,
                        help="write the table to .csv or .json instead of printing")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing -o file even when it is not a table clapemo wrote")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="feature worker processes (-1: all cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_syllables_argument(parser)
    from clapemo.config import add_config_arguments, config_from_args

    add_config_arguments(parser)
    ns = parser.parse_args(list(argv))
    syllables_override(ns)
    from clapemo.files import display_path

    if ns.output:
        check_table_output(ns.output, overwrite=ns.force)  # before any work
    if ns.run is not None:  # --config/--overlay/--set layered over the run's config, or refused
        run, config = run_from_cli(ns, command="describe"), None
    else:
        run, config = None, (config_from_args(ns) if (ns.config or ns.overlay or ns.set) else None)
        runs_dir_from_args(ns)  # a --runs-dir that is no folder is refused, with or without a run
    table = describe(ns.inputs, label=ns.label, run=run, config=config, corpus=ns.corpus, n_jobs=ns.jobs,
                     progress=not ns.quiet)
    if ns.output:
        print(display_path(write_table(table, ns.output, overwrite=ns.force)))
    else:
        print_table(table, ["name", "duration_s", "f0_mean_hz", "intensity_db", "speech_rate_syl_per_s",
                             "articulation_rate_syl_per_s", "description"]
                     + ([f"prompt_{k}" for k in ("pitch", "intensity")] if ns.label else []) + ["error"])
    n_bad = int(table["error"].notna().sum())
    if n_bad:
        print(f"{n_bad} of {len(table)} files could not be measured (see the error column)", file=sys.stderr)
    return 0
