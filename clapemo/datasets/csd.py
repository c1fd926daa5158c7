"""Reading CMU-MultimodalSDK computational sequences (``.csd`` HDF5 files) and the CMU-MOSI/MOSEI plumbing.

A ``.csd`` file holds one top group named after the sequence (e.g. ``"All Labels"``,
``"Opinion Segment Labels"``) with ``data/<video_id>/features`` (n_segments × d) and
``data/<video_id>/intervals`` (n_segments × 2, start/end seconds in the full video), plus a ``metadata`` group.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from clapemo.datasets import manifest
from clapemo.datasets.partial import warn_partial
from clapemo.errors import DataError, ParameterError

#: default split rule when no split map is given: crc32(video_id) % 10 -> train (0-6), dev (7), test (8-9)
HASH_SPLITS: tuple[str, ...] = ("train",) * 7 + ("dev",) + ("test",) * 2


def read_csd(path: os.PathLike | str, *, name: str, n_features: int) -> tuple[str, dict]:
    """Read a computational sequence.

    Parameters
    ----------
    path : the ``.csd`` file.
    name : corpus name, for messages.
    n_features : expected feature width per segment.

    Returns
    -------
    (sequence_name, {video_id: (features (n, n_features) float64, intervals (n, 2) float64)})
    """
    import h5py

    try:
        fh = h5py.File(path, "r")
    except OSError as err:
        raise DataError(f"{name}: {path} is not a readable HDF5 .csd file ({err})") from None
    with fh:
        tops = list(fh.keys())
        if len(tops) != 1:
            raise DataError(f"{name}: {path} must hold one top group (the computational sequence), got {tops}")
        top = fh[tops[0]]
        if "data" not in top:
            raise DataError(f"{name}: {path} has no '{tops[0]}/data' group; expected the CMU-MultimodalSDK layout "
                            "<sequence>/data/<video_id>/{features,intervals}")
        out = {}
        for vid, group in top["data"].items():
            if "features" not in group or "intervals" not in group:
                raise DataError(f"{name}: {path}: video {vid!r} lacks 'features' or 'intervals'")
            feats = np.asarray(group["features"][()], dtype=np.float64)
            ivs = np.asarray(group["intervals"][()], dtype=np.float64)
            if feats.ndim != 2 or feats.shape[1] != n_features:
                raise DataError(f"{name}: {path}: video {vid!r} features have shape {feats.shape}; expected "
                                f"(n_segments, {n_features})")
            if ivs.shape != (feats.shape[0], 2):
                raise DataError(f"{name}: {path}: video {vid!r} intervals have shape {ivs.shape}; expected "
                                f"({feats.shape[0]}, 2)")
            bad = ~(np.isfinite(ivs).all(axis=1) & (ivs[:, 0] >= 0) & (ivs[:, 1] > ivs[:, 0]))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError(f"{name}: {path}: video {vid!r} segment {i} has interval {ivs[i].tolist()}; "
                                "expected 0 <= start < end")
            out[vid] = (feats, ivs)
    if not out:
        raise DataError(f"{name}: {path} holds no videos")
    return tops[0], out


def find_labels(name: str, root: Path, labels_file: str | None, default: str) -> Path:
    """The label ``.csd`` file: ``labels_file`` (relative to root, or absolute) or ``default`` under root."""
    if labels_file is not None:
        path = Path(labels_file)
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise DataError(f"{name}: label file not found: {path}")
        return path
    direct = root / default
    if direct.is_file():
        return direct
    found = sorted(root.rglob(default))
    if not found:
        raise DataError(f"{name}: no {default} under {root} (pass labels_file= to point at the label .csd)")
    return found[0]


def find_audio_dir(name: str, root: Path, audio_dir: str | None, candidates: tuple[str, ...]) -> Path:
    """The folder of full-length ``{video_id}.wav`` files."""
    options = (audio_dir,) if audio_dir is not None else candidates
    for rel in options:
        path = Path(rel) if Path(rel).is_absolute() else root / rel
        if path.is_dir():
            return path
    raise DataError(f"{name}: no full-length audio folder; looked for {', '.join(str(root / c) for c in options)} "
                    "(pass audio_dir=)")


def resolve_splits(name: str, split_map: Mapping[str, str] | str | os.PathLike | None):
    """A function video_id -> split: from ``split_map`` (mapping or JSON file of video_id -> split) or the hash
    rule :data:`HASH_SPLITS`."""
    if split_map is None:
        return lambda vid: HASH_SPLITS[zlib.crc32(vid.encode()) % len(HASH_SPLITS)]
    if not isinstance(split_map, Mapping):
        path = Path(split_map)
        try:
            split_map = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise ParameterError(f"{name}: split_map {str(path)!r} must be a JSON object video_id -> split "
                                 f"({err})") from None
        if not isinstance(split_map, dict):
            raise ParameterError(f"{name}: split_map {str(path)!r} must hold a JSON object video_id -> split")
    mapping = dict(split_map)

    def split_of(vid: str) -> str:
        if vid not in mapping:
            raise DataError(f"{name}: video {vid!r} has no entry in split_map")
        return str(mapping[vid])

    return split_of


def segment_rows(name: str, labels: dict, audio_dir: Path, split_of, label_of) -> tuple[list, list]:
    """Rows for every (video, segment) of a CMU corpus, and the ``(utterance_id, reason)`` of those without audio.

    ``split_of(video_id) -> split``; ``label_of(features_row) -> (label, raw_label, extra_columns)``.
    Used by :mod:`~clapemo.datasets.mosi` and :mod:`~clapemo.datasets.mosei`.
    """
    rows, skipped = [], []
    for vid in sorted(labels):
        feats, ivs = labels[vid]
        path = audio_dir / f"{vid}.wav"
        present = path.is_file()
        split = split_of(vid)
        for i in range(len(feats)):
            uid = f"{name}/{vid}[{i}]"
            if not present:
                skipped.append((uid, f"{path}: missing"))
                continue
            label, raw, extras = label_of(feats[i])
            rows.append({
                "utterance_id": uid, "path": str(path), "dataset": name, "speaker": vid, "sex": None,
                "label": label, "raw_label": raw, "text": None, "start_s": float(ivs[i, 0]),
                "end_s": float(ivs[i, 1]), "split": split, "video_id": vid, "segment": i, **extras,
            })
    return rows, skipped


def report_missing(name: str, skipped: list, missing: str, *, root: Path | None = None,
                   audio_dir: Path | None = None, rows: list | None = None) -> None:
    """Raise (``missing="error"``) or warn (``"skip"``, a :class:`~clapemo.datasets.PartialCorpusWarning` naming
    the videos without audio) about segments whose full-length audio is absent."""
    files = list(dict.fromkeys(reason.removesuffix(": missing") for _, reason in skipped))
    if not skipped or missing == "error":
        manifest.report_missing(name, skipped, files, missing, source="named in the label .csd", unit="segment",
                                stacklevel=4)
        return
    warn_partial(name, root if root is not None else "the corpus folder", what="videos",
                 missing=[Path(f).stem for f in files],
                 present=list(dict.fromkeys(r["video_id"] for r in rows or [])),
                 detail=f"no {{video_id}}.wav in {audio_dir}; left out {len(skipped)} segment(s), see "
                        "df.attrs['skipped']", stacklevel=4)
