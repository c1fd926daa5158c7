"""Clotho v2 (Drossos et al. 2020): 10-30 s sounds from Freesound, 5 captions each (part of the paper's "4D").

Layout (the Zenodo release, archives extracted)::

    <root>/clotho_captions_development.csv   <root>/development/{file_name}
    <root>/clotho_captions_validation.csv    <root>/validation/{file_name}
    <root>/clotho_captions_evaluation.csv    <root>/evaluation/{file_name}

CSV columns ``file_name, caption_1 .. caption_5``. One manifest row per (audio, caption) pair:
``utterance_id = clotho/<part>/<file_name>#<k>`` (k = 1..5), ``label``/``raw_label`` None, ``caption`` the text.
``split``: development -> train, validation -> dev, evaluation -> test. Every requested part must be present
(pass ``parts=`` to load fewer); an empty caption cell is an error.
"""

from __future__ import annotations

import os

from clapemo.datasets.manifest import build_manifest, corpus_root, read_csv_rows, split_missing
from clapemo.errors import DataError, ParameterError

NAME = "clotho"
#: release part -> manifest split
PARTS: dict[str, str] = {"development": "train", "validation": "dev", "evaluation": "test"}
N_CAPTIONS = 5
LABEL_MAP: dict[str, str] = {}  # caption set: no emotion labels


def load(root: str | os.PathLike, *, parts: tuple[str, ...] | list[str] = tuple(PARTS), missing: str = "error"):
    """Manifest of Clotho audio-caption pairs.

    Parameters
    ----------
    root : folder holding the caption csv files and one audio folder per part.
    parts : which release parts to read (each must be present).
    missing : ``"error"`` or ``"skip"`` for captions whose audio file is absent (skips in ``df.attrs``).

    Returns
    -------
    Manifest with ``caption`` and extras ``file_name``, ``caption_index`` (1-5).
    """
    bad = [p for p in parts if p not in PARTS]
    if not parts or bad:
        raise ParameterError(f"{NAME}: parts={parts!r} must be a non-empty subset of {list(PARTS)}")
    root = corpus_root(NAME, root, expect="clotho_captions_<part>.csv files and <part>/ audio folders")
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
