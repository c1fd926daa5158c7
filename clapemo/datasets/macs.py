"""MACS (Martín-Morató & Mesaros 2021): captions of TAU Urban Acoustic Scenes 2019 clips (part of the "4D").

Layout (``MACS.yaml`` from Zenodo + the TAU Urban Acoustic Scenes 2019 development audio)::

    <root>/MACS.yaml
    <root>/audio/{filename}          (or <root>/TAU-urban-acoustic-scenes-2019-development/audio/; or audio_dir=)

``MACS.yaml`` is ``files: [{filename, annotations: [{annotator_id, sentence, tags}, ...]}, ...]``. One row per
(audio, annotation): ``utterance_id = macs/<file stem>#<k>`` (k = 1-based annotation index), ``caption`` the
sentence. MACS has no split: every row is ``train`` (CLAP trains on all of it). A file entry without
``filename`` or an annotation without ``sentence`` is a :class:`DataError` naming the entry.
"""

from __future__ import annotations

import os
from pathlib import Path

from clapemo.datasets.manifest import build_manifest, corpus_root, split_missing
from clapemo.errors import DataError

NAME = "macs"
ANNOTATIONS = "MACS.yaml"
AUDIO_DIRS: tuple[str, ...] = ("audio", "TAU-urban-acoustic-scenes-2019-development/audio")
SPLIT = "train"
LABEL_MAP: dict[str, str] = {}  # caption set: no emotion labels


def _read_yaml(path: Path):
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        raise DataError(f"{NAME}: {path} is not valid YAML ({err})") from None


def load(root: str | os.PathLike, *, audio_dir: str | None = None, missing: str = "error"):
    """Manifest of MACS audio-caption pairs.

    Parameters
    ----------
    root : folder holding ``MACS.yaml`` and the audio folder.
    audio_dir : folder of the TAU clips (relative to root or absolute); default: the first of
        :data:`AUDIO_DIRS` that exists.
    missing : ``"error"`` or ``"skip"`` for annotations whose audio file is absent.

    Returns
    -------
    Manifest with ``caption`` and extras ``file_name``, ``annotator_id``.
    """
    root = corpus_root(NAME, root, expect=f"{ANNOTATIONS} and audio/ with the TAU Urban Acoustic Scenes clips")
    ann_path = root / ANNOTATIONS
    if not ann_path.is_file():
        raise DataError(f"{NAME}: missing annotation file {ann_path}")
    candidates = (audio_dir,) if audio_dir is not None else AUDIO_DIRS
    adir = next((root / c for c in candidates if (root / c).is_dir()), None)
    if adir is None:
        raise DataError(f"{NAME}: no audio folder; looked for {', '.join(str(root / c) for c in candidates)}")
    data = _read_yaml(ann_path)
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise DataError(f"{NAME}: {ann_path} must hold a mapping with a 'files' list")
    rows = []
    for i, entry in enumerate(data["files"]):
        if not isinstance(entry, dict) or not entry.get("filename") or not isinstance(entry.get("annotations"),
                                                                                      list):
            raise DataError(f"{NAME}: {ann_path} files[{i}] must have 'filename' and an 'annotations' list")
        fname = str(entry["filename"])
        for k, ann in enumerate(entry["annotations"], start=1):
            sentence = ann.get("sentence") if isinstance(ann, dict) else None
            if not isinstance(sentence, str) or not sentence.strip():
                raise DataError(f"{NAME}: {ann_path} files[{i}] ({fname}) annotation {k} has no 'sentence'")
            rows.append({
                "utterance_id": f"{NAME}/{Path(fname).stem}#{k}", "path": str(adir / fname), "dataset": NAME,
                "speaker": None, "sex": None, "label": None, "raw_label": None, "text": None, "start_s": None,
                "end_s": None, "split": SPLIT, "caption": sentence.strip(), "file_name": fname,
                "annotator_id": ann.get("annotator_id"),  # optional metadata; the row is kept either way
            })
    rows, skipped = split_missing(rows, name=NAME, missing=missing)
    return build_manifest(rows, name=NAME, caption=True, extra=("file_name", "annotator_id"), skipped=skipped,
                          empty_hint=f"{ann_path} lists no annotations")
