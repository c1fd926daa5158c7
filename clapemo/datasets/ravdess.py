"""RAVDESS (Livingstone & Russo 2018): 24 actors, 1440 audio-only speech files, 8 emotions incl. ``calm``.

Layout (the ``Audio_Speech_Actors_01-24.zip`` extracted; the root may also hold its parent folder)::

    <root>/Actor_01/03-01-01-01-01-01-01.wav ... <root>/Actor_24/03-01-08-02-02-02-24.wav

File names are ``MM-VV-EE-II-SS-RR-AA.wav``: modality (01 AV, 02 video, 03 audio), vocal channel (01 speech,
02 song), emotion (:data:`LABEL_MAP`), intensity (01 normal, 02 strong), statement (01/02, :data:`STATEMENTS`),
repetition (01/02), actor (01-24; odd = male, even = female). Only audio-only speech files (03-01-...) are kept;
song files (vocal channel 02) and video files (``.mp4``, modality 01/02) are ignored by rule, not by accident.

Splits: the speaker-independent 5 folds of :data:`FOLDS` (the split of the SoTA result the paper quotes). Every
row carries its integer ``fold`` (0-4), which ``data.test_fold`` re-splits by; ``split`` is ``"test"`` for the
actors of ``test_fold`` (default 0) and ``"train"`` for the others.

Partial trees: the ``Actor_XX`` folders present are loaded and a
:class:`~clapemo.datasets.PartialCorpusWarning` names the absent actors; no ``Actor_XX`` folder at all is a
:class:`DataError` naming the folder and the layout.
"""

from __future__ import annotations

import os
import re

from clapemo.datasets.manifest import build_manifest, corpus_root
from clapemo.datasets.partial import nothing_usable, warn_partial
from clapemo.errors import DataError, ParameterError

NAME = "ravdess"

#: raw emotion code -> canonical label
LABEL_MAP: dict[str, str] = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
}
STATEMENTS: dict[str, str] = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
INTENSITIES: dict[str, str] = {"01": "normal", "02": "strong"}
#: speaker-independent folds (actor numbers), DESIGN.md section 6
FOLDS: tuple[tuple[int, ...], ...] = ((2, 5, 14, 15, 16), (3, 6, 7, 13, 18), (10, 11, 12, 19, 20),
                                      (8, 17, 21, 23, 24), (1, 4, 9, 22))
DEFAULT_TEST_FOLD = 0

_NAME_RE = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.wav$")
_ACTOR_DIR_RE = re.compile(r"^Actor_(\d\d)$")
_FIELD_VALUES = {
    "modality": ("01", "02", "03"), "vocal channel": ("01", "02"), "emotion": tuple(LABEL_MAP),
    "intensity": tuple(INTENSITIES), "statement": tuple(STATEMENTS), "repetition": ("01", "02"),
}
EXPECTED_NAME = "MM-VV-EE-II-SS-RR-AA.wav with two-digit fields, e.g. 03-01-05-01-02-01-12.wav"
LAYOUT = "Actor_01/ ... Actor_24/ with MM-VV-EE-II-SS-RR-AA.wav files (or one folder holding them)"
ACTORS = tuple(range(1, 25))


def actor_fold(actor: int) -> int:
    """Fold index (0-4) of an actor number (1-24)."""
    for i, actors in enumerate(FOLDS):
        if actor in actors:
            return i
    raise DataError(f"{NAME}: actor {actor} is not in 1-24")


def _actor_dirs(root):
    dirs = [d for d in sorted(root.iterdir()) if d.is_dir() and _ACTOR_DIR_RE.match(d.name)]
    if not dirs:  # the zip's own top folder, e.g. Audio_Speech_Actors_01-24/
        dirs = [d for sub in sorted(root.iterdir()) if sub.is_dir()
                for d in sorted(sub.iterdir()) if d.is_dir() and _ACTOR_DIR_RE.match(d.name)]
    return dirs


def parse_name(path: os.PathLike | str) -> dict[str, str]:
    """Split a RAVDESS file name into its seven fields; :class:`DataError` naming the file if it is malformed."""
    base = os.path.basename(path)
    m = _NAME_RE.match(base)
    if not m:
        raise DataError(f"{NAME}: malformed file name {str(path)!r}: expected {EXPECTED_NAME}")
    fields = dict(zip(("modality", "vocal channel", "emotion", "intensity", "statement", "repetition", "actor"),
                      m.groups()))
    for key, allowed in _FIELD_VALUES.items():
        if fields[key] not in allowed:
            raise DataError(f"{NAME}: malformed file name {str(path)!r}: {key} field {fields[key]!r} is not one "
                            f"of {list(allowed)}")
    if not 1 <= int(fields["actor"]) <= 24:
        raise DataError(f"{NAME}: malformed file name {str(path)!r}: actor field {fields['actor']!r} not in 01-24")
    return fields


def load(root: str | os.PathLike, *, test_fold: int = DEFAULT_TEST_FOLD):
    """Manifest of RAVDESS audio-only speech (1440 files in the full corpus).

    Parameters
    ----------
    root : folder holding ``Actor_01`` ... ``Actor_24`` (or a folder holding that folder).
    test_fold : fold (0-4 of :data:`FOLDS`) whose actors form ``split == "test"``; the rest is ``"train"``.

    Returns
    -------
    Manifest with extras ``fold`` (int 0-4), ``intensity`` (``normal``/``strong``), ``statement``, ``repetition``.
    """
    if not isinstance(test_fold, int) or isinstance(test_fold, bool) or not 0 <= test_fold < len(FOLDS):
        raise ParameterError(f"{NAME}: test_fold={test_fold!r} must be an int in 0-{len(FOLDS) - 1}")
    root = corpus_root(NAME, root, expect=LAYOUT)
    actor_dirs = _actor_dirs(root)
    if not actor_dirs:
        raise nothing_usable(NAME, root, expect=LAYOUT, found="no Actor_XX folder")
    present = sorted({int(_ACTOR_DIR_RE.match(d.name).group(1)) for d in actor_dirs})
    warn_partial(NAME, root, what="actors", missing=[a for a in ACTORS if a not in present], present=present)
    rows = []
    for actor_dir in actor_dirs:
        folder_actor = _ACTOR_DIR_RE.match(actor_dir.name).group(1)
        for path in sorted(actor_dir.iterdir()):
            if path.suffix.lower() != ".wav":  # video (.mp4) files of the AV release; not audio
                continue
            f = parse_name(path)
            if f["actor"] != folder_actor:
                raise DataError(f"{NAME}: file {str(path)!r} names actor {f['actor']} but lies in "
                                f"{actor_dir.name}")
            if f["modality"] != "03" or f["vocal channel"] != "01":  # song / audio-visual: not this corpus
                continue
            actor = int(f["actor"])
            fold = actor_fold(actor)
            rows.append({
                "utterance_id": f"{NAME}/{path.stem}", "path": str(path), "dataset": NAME,
                "speaker": f"Actor_{f['actor']}", "sex": "male" if actor % 2 else "female",
                "label": LABEL_MAP[f["emotion"]], "raw_label": f["emotion"], "text": STATEMENTS[f["statement"]],
                "start_s": None, "end_s": None, "split": "test" if fold == test_fold else "train",
                "fold": fold, "intensity": INTENSITIES[f["intensity"]], "statement": f["statement"],
                "repetition": f["repetition"],
            })
    return build_manifest(rows, name=NAME, extra=("fold", "intensity", "statement", "repetition"),
                          empty_hint=f"no 03-01-*.wav speech files in Actor_XX folders under {root}; "
                                     f"expected {LAYOUT}")
