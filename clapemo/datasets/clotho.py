"""Clotho v2 (Drossos et al. 2020): 10-30 s sounds from Freesound, 5 captions each (part of the paper's "4D").

Layout (the Zenodo release, archives extracted)::

    <root>/clotho_captions_development.csv   <root>/development/{file_name}
    <root>/clotho_captions_validation.csv    <root>/validation/{file_name}
    <root>/clotho_captions_evaluation.csv    <root>/evaluation/{file_name}

CSV columns ``file_name, caption_1 .. caption_5``. One manifest row per (audio, caption) pair:
``utterance_id = clotho/<part>/<file_name>#<k>`` (k = 1..5), ``label``/``raw_label`` None, ``caption`` the text.
``split``: development -> train, validation -> dev, evaluation -> test. An empty caption cell is an error.

Partial trees: a part is present when its csv and its audio folder both are; by default the parts present are
loaded and a :class:`~clapemo.datasets.PartialCorpusWarning` names the others; ``parts=`` insists on the ones
named. No part present is a :class:`DataError` naming the folder and the layout.
"""

from __future__ import annotations

import os

from clapemo.datasets.manifest import build_manifest, corpus_root, read_csv_rows, split_missing
from clapemo.datasets.partial import nothing_usable, warn_partial
from clapemo.errors import DataError, ParameterError

NAME = "clotho"
#: release part -> manifest split
PARTS: dict[str, str] = {"development": "train", "validation": "dev", "evaluation": "test"}
N_CAPTIONS = 5
LABEL_MAP: dict[str, str] = {}  # caption set: no emotion labels
LAYOUT = "clotho_captions_<part>.csv files and <part>/ audio folders (part: development, validation, evaluation)"


def load(root: str | os.PathLike, *, parts: tuple[str, ...] | list[str] | None = None, missing: str = "error"):
    """Manifest of Clotho audio-caption pairs.

    Parameters
    ----------
    root : folder holding the caption csv files and one audio folder per part.
    parts : which release parts to read (each must be present); default: those present, with a
        :class:`~clapemo.datasets.PartialCorpusWarning` naming the others.
    missing : ``"error"`` or ``"skip"`` for captions whose audio file is absent (skips in ``df.attrs``).

    Returns
    -------
    Manifest with ``caption`` and extras ``file_name``, ``caption_index`` (1-5).
    """
    if parts is not None and (not parts or any(p not in PARTS for p in parts)):
        raise ParameterError(f"{NAME}: parts={parts!r} must be a non-empty subset of {list(PARTS)}")
    root = corpus_root(NAME, root, expect=LAYOUT)
    absent = {}
    for part in PARTS if parts is None else parts:
        why = [f"no clotho_captions_{part}.csv"] if not (root / f"clotho_captions_{part}.csv").is_file() else []
        why += [f"no {part}/ audio folder"] if not (root / part).is_dir() else []
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
    cols = ["file_name"] + [f"caption_{k}" for k in range(1, N_CAPTIONS + 1)]
    for part in parts:
        csv_path = root / f"clotho_captions_{part}.csv"
        for lineno, rec in read_csv_rows(csv_path, name=NAME, required=cols):
            fname = (rec["file_name"] or "").strip()
            if not fname:
                raise DataError(f"{NAME}: {csv_path} line {lineno}: empty file_name")
            for k in range(1, N_CAPTIONS + 1):
                caption = (rec[f"caption_{k}"] or "").strip()
                if not caption:
                    raise DataError(f"{NAME}: {csv_path} line {lineno}: caption_{k} of {fname!r} is empty")
                rows.append({
                    "utterance_id": f"{NAME}/{part}/{fname}#{k}", "path": str(root / part / fname),
                    "dataset": NAME, "speaker": None, "sex": None, "label": None, "raw_label": None, "text": None,
                    "start_s": None, "end_s": None, "split": PARTS[part], "caption": caption, "file_name": fname,
                    "caption_index": k,
                })
    rows, skipped = split_missing(rows, name=NAME, missing=missing)
    return build_manifest(rows, name=NAME, caption=True, extra=("file_name", "caption_index"), skipped=skipped,
                          empty_hint=f"the caption csv files under {root} list no audio")
