"""CREMA-D (Cao et al. 2014): 91 actors, 7442 clips, 6 emotions, 12 sentences.

Layout (the GitHub/LFS release)::

    <root>/AudioWAV/1001_DFA_ANG_XX.wav ...
    <root>/VideoDemographics.csv          (optional: ActorID, Age, Sex, Race, Ethnicity)

File names are ``{actor}_{sentence}_{EMO}_{LEVEL}.wav``: actor 1001-1091, sentence in :data:`SENTENCES`, EMO in
:data:`LABEL_MAP`, LEVEL in LO/MD/HI/XX (XX = unspecified). ``sex`` comes from ``VideoDemographics.csv`` when it
is present (an actor missing from it is an error), else it is None.

Splits: CREMA-D has no official split. We use a speaker-independent one: the integer column
``fold = (actor - 1001) % 5`` (which ``data.test_fold`` re-splits by) and ``split = "test"`` for
``fold == test_fold`` (default 0), ``"train"`` otherwise.

Partial trees: the actors whose clips are present are loaded and a
:class:`~clapemo.datasets.PartialCorpusWarning` names the absent ones (of 1001-1091); no ``AudioWAV/`` folder or
no clip in it is a :class:`DataError` naming the folder and the layout.
"""

from __future__ import annotations

import csv
import os
import re

from clapemo.datasets.manifest import build_manifest, corpus_root
from clapemo.datasets.partial import nothing_usable, warn_partial
from clapemo.errors import DataError, ParameterError

NAME = "cremad"

#: raw emotion code -> canonical label
LABEL_MAP: dict[str, str] = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy",
                             "NEU": "neutral", "SAD": "sad"}
LEVELS: dict[str, str] = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
SENTENCES: dict[str, str] = {
    "IEO": "It's eleven o'clock", "TIE": "That is exactly what happened", "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about", "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold", "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment", "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before", "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
SEX_MAP: dict[str, str] = {"male": "male", "female": "female"}
N_FOLDS = 5
DEMOGRAPHICS = "VideoDemographics.csv"
_NAME_RE = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})\.wav$")
ACTORS = tuple(range(1001, 1092))
LAYOUT = "AudioWAV/{actor}_{sentence}_{EMO}_{LEVEL}.wav (and optionally VideoDemographics.csv)"
EXPECTED_NAME = ("{actor}_{sentence}_{EMO}_{LEVEL}.wav, e.g. 1001_DFA_ANG_XX.wav, with EMO in "
                 f"{list(LABEL_MAP)} and LEVEL in {list(LEVELS)}")


def parse_name(path: os.PathLike | str) -> dict[str, str]:
    """Split a CREMA-D file name into actor, sentence, emotion and level; :class:`DataError` if malformed."""
    base = os.path.basename(path)
    m = _NAME_RE.match(base)
    if not m:
        raise DataError(f"{NAME}: malformed file name {str(path)!r}: expected {EXPECTED_NAME}")
    actor, sentence, emo, level = m.groups()
    if sentence not in SENTENCES or emo not in LABEL_MAP or level not in LEVELS or not 1001 <= int(actor) <= 1091:
        raise DataError(f"{NAME}: malformed file name {str(path)!r}: expected {EXPECTED_NAME}, actor 1001-1091 "
                        f"and sentence in {list(SENTENCES)}")
    return {"actor": actor, "sentence": sentence, "emotion": emo, "level": level}


def read_demographics(path: os.PathLike | str) -> dict[str, str]:
    """ActorID -> ``"male"``/``"female"`` from ``VideoDemographics.csv``."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"ActorID", "Sex"} <= set(reader.fieldnames):
            raise DataError(f"{NAME}: {path} must have columns ActorID and Sex, got {reader.fieldnames}")
        out = {}
        for i, rec in enumerate(reader, start=2):
            sex = (rec["Sex"] or "").strip().lower()
            if sex not in SEX_MAP:
                raise DataError(f"{NAME}: {path} line {i}: Sex {rec['Sex']!r} is not Male or Female")
            out[rec["ActorID"].strip()] = SEX_MAP[sex]
    return out


def load(root: str | os.PathLike, *, test_fold: int = 0):
    """Manifest of CREMA-D (7442 clips in the full corpus).

    Parameters
    ----------
    root : folder holding ``AudioWAV/`` (and optionally ``VideoDemographics.csv``).
    test_fold : ``(actor - 1001) % 5`` value whose actors form ``split == "test"``.

    Returns
    -------
    Manifest with extras ``fold`` (int 0-4) and ``level`` (``low``/``medium``/``high``/``unspecified``).
    """
    if not isinstance(test_fold, int) or isinstance(test_fold, bool) or not 0 <= test_fold < N_FOLDS:
        raise ParameterError(f"{NAME}: test_fold={test_fold!r} must be an int in 0-{N_FOLDS - 1}")
    root = corpus_root(NAME, root, expect=LAYOUT)
    audio_dir = root / "AudioWAV"
    if not audio_dir.is_dir():
        raise nothing_usable(NAME, root, expect=LAYOUT, found="no AudioWAV/ folder")
    demo_path = root / DEMOGRAPHICS
    sexes = read_demographics(demo_path) if demo_path.is_file() else None
    rows = []
    for path in sorted(audio_dir.iterdir()):
        if path.suffix.lower() != ".wav":
            continue
        f = parse_name(path)
        if sexes is not None and f["actor"] not in sexes:
            raise DataError(f"{NAME}: actor {f['actor']} of {path.name} is not listed in {demo_path}")
        fold = (int(f["actor"]) - 1001) % N_FOLDS
        rows.append({
            "utterance_id": f"{NAME}/{path.stem}", "path": str(path), "dataset": NAME, "speaker": f["actor"],
            "sex": None if sexes is None else sexes[f["actor"]], "label": LABEL_MAP[f["emotion"]],
            "raw_label": f["emotion"], "text": SENTENCES[f["sentence"]], "start_s": None, "end_s": None,
            "split": "test" if fold == test_fold else "train", "fold": fold, "level": LEVELS[f["level"]],
        })
    if not rows:
        raise nothing_usable(NAME, root, expect=LAYOUT, found=f"no .wav files in {audio_dir}")
    present = sorted({int(r["speaker"]) for r in rows})
    warn_partial(NAME, root, what="actors", missing=[a for a in ACTORS if a not in present], present=present)
    return build_manifest(rows, name=NAME, extra=("fold", "level"), empty_hint=f"no .wav files in {audio_dir}")
