"""Zero-shot speech emotion recognition of your own audio with a trained run.

Each label becomes a class prompt (``clapemo.evaluate.class_prompts``: the run's ``evaluate.zero_shot_template``
filled with the label's prompt word, e.g. ``angry`` -> ``"anger"``), embedded with the run's text projection; each
file is embedded with its audio projection. The probabilities are the softmax over the labels of the run's
learned logit scale times the cosine similarities (CLIP's zero-shot rule), so they are what the trained model
itself would assign. A file that cannot be embedded keeps its row with the message in ``error``, and never gets a
class: a file that is missing, not a regular file (a FIFO is refused before it is opened), unreadable or truncated
(``clapemo.audio.load``), or that the admission rule refuses (``clapemo.audio.admit``, the rule feature
extraction applies too: a sample rate below 8000 Hz, less than 0.1 s of audio, silence), e.g.
``"DataError: clip.wav: 0.05 s of audio (800 samples at 16000 Hz), shorter than the min_duration_s = 0.1 s
minimum"``.

``--set evaluate.zero_shot_template="a person feeling {emotion}"`` (or ``--config``/``--overlay``) changes the
class prompts of the run (``clapemo.describe.layered_run``); a key classify does not read of a trained run
(``train.epochs``) is a ConfigError.

``clapemo classify FILES|DIR ... --run NAME [--labels angry happy sad neutral] [-o out.csv|.json]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from clapemo.errors import ParameterError

__all__ = ["DEFAULT_LABELS", "class_probabilities", "classify", "cli"]

#: the labels classified by default: the 4-class set of the paper's EAR collection
#: (``clapemo.schema.FOUR_CLASSES``), in the order the command line lists them
DEFAULT_LABELS: tuple[str, ...] = ("angry", "happy", "sad", "neutral")


def class_probabilities(audio_emb: np.ndarray, class_emb: np.ndarray, *, logit_scale: float) -> np.ndarray:
    """Softmax over classes of ``logit_scale * cosine(audio, class)``.

    Parameters
    ----------
    audio_emb : ndarray, shape (n, d)
    class_emb : ndarray, shape (c, d)
    logit_scale : float
        The run's ``exp(logit_scale)`` (``TrainedCLAP.head.scale()``), > 0.

    Returns
    -------
    ndarray, float64, shape (n, c); rows sum to 1.
    """
    from scipy.special import softmax

    a = np.asarray(audio_emb, dtype=np.float64)
    t = np.asarray(class_emb, dtype=np.float64)
    if a.ndim != 2 or t.ndim != 2 or a.shape[1] != t.shape[1]:
        raise ParameterError(f"audio_emb {a.shape} and class_emb {t.shape} must be 2-D with the same width")
    if not np.isfinite(logit_scale) or logit_scale <= 0:
        raise ParameterError(f"logit_scale = {logit_scale!r} must be a positive number")
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    t = t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
    return softmax(float(logit_scale) * (a @ t.T), axis=1)


def classify(inputs: str | os.PathLike | Sequence[str | os.PathLike], *, run: Any,
             labels: Sequence[str] = DEFAULT_LABELS, runs_dir: str | os.PathLike | None = None,
             progress: bool = True) -> pd.DataFrame:  # noqa: F821
    """Zero-shot emotion probabilities of audio files.

    Parameters
    ----------
    inputs : path or sequence of paths
        Audio files and/or folders (searched recursively; ``clapemo.describe.audio_files``).
    run : str, Path or TrainedCLAP
        The trained run (name, id, prefix or folder; :func:`clapemo.runs.resolve_run`).
    labels : sequence of str
        Canonical emotions (``clapemo.emotions.EMOTIONS``), at least 2, distinct.
    runs_dir : path, optional
        Where run names are looked up (default ``runs``).
    progress : bool
        Progress bar over the files.

    Returns
    -------
    DataFrame, one row per file in input order: ``path``, ``name``, ``prediction`` (the most probable label;
    ties go to the earlier label), ``p_<label>`` for each label (summing to 1), ``error`` (None, or
    ``"<ErrorType>: <file>: <rule>"``, why the file could not be embedded, the admission rule's refusals included;
    its other columns are then empty).
    """
    import pandas as pd

    from clapemo import runs
    from clapemo.describe import audio_files
    from clapemo.evaluate import class_prompts
    from clapemo.files import display_path

    labels = [str(label) for label in labels]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ParameterError(f"labels = {labels} must be at least 2 distinct canonical emotions")
    model = run if hasattr(run, "head") else runs.load(run, runs_dir=runs_dir)
    prompts = class_prompts(labels, template=model.config.evaluate.zero_shot_template,
                            words=model.config.prompts.emotion_words)
    class_emb = model.embed_texts(prompts)
    scale = float(model.head.scale().detach())
    files = audio_files(inputs)
    from clapemo.search import embed_files  # per-file errors, the same rule as the index

    rows = []
    from clapemo.executor import progress_bar

    bar = progress_bar(total=len(files), desc="classify", unit="clip", enabled=progress)
    for start in range(0, len(files), 64):
        chunk = [str(p) for p in files[start:start + 64]]
        emb, errors = embed_files(model, chunk)
        ok = [i for i, e in enumerate(errors) if e is None]
        probs = class_probabilities(emb[ok], class_emb, logit_scale=scale) if ok else np.zeros((0, len(labels)))
        by_row = dict(zip(ok, probs))
        for i, path in enumerate(chunk):
            p = by_row.get(i)
            row = {"path": display_path(path), "name": display_path(Path(path).name),
                   "prediction": labels[int(np.argmax(p))] if p is not None else None}
            row.update({f"p_{label}": (float(p[j]) if p is not None else np.nan)
                        for j, label in enumerate(labels)})
            row["error"] = errors[i]
            rows.append(row)
        bar.update(len(chunk))
    bar.close()
    columns = ["path", "name", "prediction", *[f"p_{label}" for label in labels], "error"]
    table = pd.DataFrame(rows, columns=columns)
    for col in ("prediction", "error"):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table


def cli(argv: Sequence[str]) -> int:
    """``clapemo classify FILES|DIR ... --run NAME [--labels ...] [-o out.csv|.json]``."""
    from clapemo.describe import check_table_output, print_table, run_from_cli, write_table
    from clapemo.files import display_path
    from clapemo.runs import add_run_arguments

    parser = argparse.ArgumentParser(prog="clapemo classify", description="Zero-shot emotion recognition of your "
                                     "own audio with a trained run: probabilities per label. --config/--overlay/"
                                     "--set are layered over the run's config where classify reads it "
                                     "(evaluate.zero_shot_template, prompts.emotion_words, encoder caches and "
                                     "device); other keys are refused.")
    parser.add_argument("inputs", nargs="+", help="audio files or folders (searched recursively)")
    parser.add_argument("--labels", nargs="+", default=list(DEFAULT_LABELS),
                        help="canonical emotions to choose from (default: angry happy sad neutral)")
    parser.add_argument("-o", "--output", default=None,
                        help="write the table to .csv or .json instead of printing")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing -o file even when it is not a table clapemo wrote")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_run_arguments(parser)
    ns = parser.parse_args(list(argv))
    if ns.output:
        check_table_output(ns.output, overwrite=ns.force)  # before any work
    model = run_from_cli(ns, command="classify")  # --config/--overlay/--set layered over the run's, or refused
    table = classify(ns.inputs, run=model, labels=ns.labels, progress=not ns.quiet)
    if ns.output:
        print(display_path(write_table(table, ns.output, overwrite=ns.force)))
    else:
        print_table(table, ["name", "prediction", *[f"p_{label}" for label in ns.labels], "error"])
    n_bad = int(table["error"].notna().sum())
    if n_bad:
        print(f"{n_bad} of {len(table)} files could not be embedded (see the error column)", file=sys.stderr)
    return 0
