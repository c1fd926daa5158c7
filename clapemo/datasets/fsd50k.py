"""FSD50K (Fonseca et al. 2022): 51K Freesound clips tagged with 200 AudioSet classes (part of the "4D").

Layout (the Zenodo release, zips extracted)::

    <root>/FSD50K.ground_truth/dev.csv     (fname, labels, mids, split)   <root>/FSD50K.dev_audio/{fname}.wav
    <root>/FSD50K.ground_truth/eval.csv    (fname, labels, mids)          <root>/FSD50K.eval_audio/{fname}.wav

FSD50K has tags, not captions. As in CLAP's training data, the caption is the clip's tags made readable
(:func:`tags_caption`): ``Electric_guitar,Guitar,Music`` -> ``"Electric guitar, Guitar, Music"``. One row per
clip: ``utterance_id = fsd50k/<dev|eval>/<fname>#1``. ``split``: dev rows by their ``split`` column
(train -> train, val -> dev), eval rows -> test.

Partial trees: a part (``dev``, ``eval``) is present when its csv and its audio folder both are; by default the
parts present are loaded and a :class:`~clapemo.datasets.PartialCorpusWarning` names the others; ``parts=``
insists on the ones named. No part present is a :class:`DataError` naming the folder and the layout.
"""

from __future__ import annotations

import os

from clapemo.datasets.manifest import build_manifest, corpus_root, read_csv_rows, split_missing
from clapemo.datasets.partial import nothing_usable, warn_partial
from clapemo.errors import DataError, ParameterError

NAME = "fsd50k"
DEV_SPLITS: dict[str, str] = {"train": "train", "val": "dev"}
LABEL_MAP: dict[str, str] = {}  # caption set: no emotion labels
#: part -> csv columns it must have
PARTS: dict[str, tuple[str, ...]] = {"dev": ("fname", "labels", "mids", "split"),
                                     "eval": ("fname", "labels", "mids")}
LAYOUT = "FSD50K.ground_truth/{dev,eval}.csv and FSD50K.{dev,eval}_audio/{fname}.wav"


def tags_caption(labels: str) -> str:
    """Readable caption from an FSD50K ``labels`` cell (comma-separated AudioSet names with underscores)."""
    tags = [t.strip().replace("_", " ") for t in labels.split(",") if t.strip()]
    return ", ".join(tags)


def load(root: str | os.PathLike, *, parts: tuple[str, ...] | list[str] | None = None, missing: str = "error"):
    """Manifest of FSD50K clips with tag captions.

    Parameters
    ----------
    root : folder holding ``FSD50K.ground_truth/`` and the ``FSD50K.dev_audio/``, ``FSD50K.eval_audio/`` folders.
    parts : which of ``dev``, ``eval`` to read (each must be present); default: those present, with a
        :class:`~clapemo.datasets.PartialCorpusWarning` naming the others.
    missing : ``"error"`` or ``"skip"`` for rows whose audio file is absent.

    Returns
    -------
    Manifest with ``caption`` and extras ``file_name``, ``tags`` (the raw ``labels`` cell), ``mids``.
    """
    if parts is not None and (not parts or any(p not in PARTS for p in parts)):
        raise ParameterError(f"{NAME}: parts={parts!r} must be a non-empty subset of {list(PARTS)}")
    root = corpus_root(NAME, root, expect=LAYOUT)
    gt = root / "FSD50K.ground_truth"
    absent = {}
    for part in PARTS if parts is None else parts:
        why = [f"no FSD50K.ground_truth/{part}.csv"] if not (gt / f"{part}.csv").is_file() else []
        why += [f"no FSD50K.{part}_audio/ folder"] if not (root / f"FSD50K.{part}_audio").is_dir() else []
        if why:
            absent[part] = " and ".join(why)
    if parts is not None and absent:
        part, why = next(iter(absent.items()))
        raise DataError(f"{NAME}: part {part!r} was asked for but is absent under {root}: {why}")
    parts = [p for p in PARTS if p not in absent] if parts is None else list(parts)
    if not parts:
        raise nothing_usable(NAME, root, expect=LAYOUT, found="; ".join(absent.values()))
    warn_partial(NAME, root, what="parts", missing=list(absent), present=parts,
                 detail="; ".join(f"{p}: {w}" for p, w in absent.items()))
    rows = []
    for part in parts:
        required = PARTS[part]
        csv_path = gt / f"{part}.csv"
        for lineno, rec in read_csv_rows(csv_path, name=NAME, required=required):
            fname = (rec["fname"] or "").strip()
            caption = tags_caption(rec["labels"] or "")
            if not fname or not caption:
                raise DataError(f"{NAME}: {csv_path} line {lineno}: fname and labels must be non-empty")
            if part == "dev":
                raw_split = (rec["split"] or "").strip()
                if raw_split not in DEV_SPLITS:
                    raise DataError(f"{NAME}: {csv_path} line {lineno}: split {raw_split!r} is not one of "
                                    f"{list(DEV_SPLITS)}")
                split = DEV_SPLITS[raw_split]
            else:
                split = "test"
            rows.append({
                "utterance_id": f"{NAME}/{part}/{fname}#1",
                "path": str(root / f"FSD50K.{part}_audio" / f"{fname}.wav"), "dataset": NAME, "speaker": None,
                "sex": None, "label": None, "raw_label": None, "text": None, "start_s": None, "end_s": None,
                "split": split, "caption": caption, "file_name": fname, "tags": rec["labels"], "mids": rec["mids"],
            })
    rows, skipped = split_missing(rows, name=NAME, missing=missing)
    return build_manifest(rows, name=NAME, caption=True, extra=("file_name", "tags", "mids"), skipped=skipped,
                          empty_hint=f"the csv files in {gt} list no clips")
