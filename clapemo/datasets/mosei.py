"""CMU-MOSEI (Zadeh et al. 2018): 3228 YouTube videos, ~23K segments with sentiment and 6 emotion scores.

Layout (CMU-MultimodalSDK labels + the raw full-length audio)::

    <root>/CMU_MOSEI_Labels.csd                         (anywhere under root; or labels_file=)
    <root>/Raw/Audio/Full/WAV_16000/{video_id}.wav      (or Audio/Full/WAV_16000/, audio/; or audio_dir=)

The ``.csd`` ``features`` of each segment are ``[sentiment, happy, sad, anger, surprise, disgust, fear]``;
sentiment is in [-3, 3], emotions are presence scores in [0, 3] (means of 3 annotators' 0-3 ratings).

**Label rule** (:func:`emotion_label`): the emotion with the highest presence score when that score is above
``min_presence`` (default 0), else ``neutral``; ties go to the first in SDK order (happy, sad, anger, surprise,
disgust, fear), and the extra column ``n_top`` counts how many emotions shared the maximum so that ambiguous
segments can be filtered. ``raw_label`` is the SDK emotion name chosen (``anger`` ...) or ``none``; all seven
scores are kept as extra columns.

**Difference from the paper**: its Table 1 gives MOSEI 9 classes (ang, exc, fear, sad, frus, neu, sur, hap, dis).
MOSEI is annotated with six emotions only; ``excited`` and ``frustrated`` do not exist in it (that list seems
copied from IEMOCAP). This loader yields at most 7 classes: the six emotions plus ``neutral``.

Partial trees: segments of videos whose audio file is absent are left out by default (``missing="skip"``),
recorded in ``df.attrs["skipped"]`` and named (by video) in a :class:`~clapemo.datasets.PartialCorpusWarning`;
``missing="error"`` raises instead. No video with audio is a :class:`DataError` naming the folder and layout.

Each segment is one row over the full-length audio (``start_s``/``end_s`` from the ``.csd`` intervals); no sex
metadata; ``speaker`` is the video id. Splits as in :mod:`clapemo.datasets.mosi` (hash rule, or ``split_map``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from clapemo.datasets.csd import (find_audio_dir, find_labels, read_csd, report_missing, resolve_splits,
                                  segment_rows)
from clapemo.datasets.manifest import build_manifest, check_missing_option, corpus_root
from clapemo.datasets.partial import nothing_usable
from clapemo.errors import ParameterError

NAME = "mosei"
LABELS_FILE = "CMU_MOSEI_Labels.csd"
AUDIO_DIRS: tuple[str, ...] = ("Raw/Audio/Full/WAV_16000", "Audio/Full/WAV_16000", "audio")
LAYOUT = (f"{LABELS_FILE} (anywhere under the root) and full-length audio {{video_id}}.wav in "
          f"{AUDIO_DIRS[0]}/")
#: the .csd feature columns, in order
FEATURES: tuple[str, ...] = ("sentiment", "happy", "sad", "anger", "surprise", "disgust", "fear")
#: SDK emotion name -> canonical label ("none": no emotion present)
LABEL_MAP: dict[str, str] = {"happy": "happy", "sad": "sad", "anger": "angry", "surprise": "surprised",
                             "disgust": "disgust", "fear": "fearful", "none": "neutral"}
_EMOTIONS = FEATURES[1:]


def emotion_label(scores: np.ndarray, *, min_presence: float = 0.0) -> tuple[str, str, int]:
    """Turn the six presence scores (SDK order) into ``(label, raw_label, n_top)``."""
    scores = np.asarray(scores, dtype=float)
    top = float(scores.max())
    if not top > min_presence:
        return LABEL_MAP["none"], "none", 0
    n_top = int(np.sum(scores == top))
    raw = _EMOTIONS[int(np.argmax(scores))]
    return LABEL_MAP[raw], raw, n_top


def load(root: str | os.PathLike, *, min_presence: float = 0.0, labels_file: str | None = None,
         audio_dir: str | None = None, split_map: Mapping[str, str] | str | None = None, missing: str = "skip"):
    """Manifest of CMU-MOSEI segments (segments of full-length audio).

    Parameters
    ----------
    root : the corpus folder.
    min_presence : an emotion is assigned only when its score exceeds this (else ``neutral``).
    labels_file : the label ``.csd`` (default: ``CMU_MOSEI_Labels.csd`` found under root).
    audio_dir : folder of ``{video_id}.wav`` (default: the first of :data:`AUDIO_DIRS` that exists).
    split_map : video_id -> split (mapping or JSON file); default: the hash rule of :mod:`clapemo.datasets.csd`.
    missing : ``"skip"`` (default: segments of videos whose audio is absent are left out, recorded in
        ``df.attrs["skipped"]`` and named in a :class:`~clapemo.datasets.PartialCorpusWarning`) or ``"error"``.

    Returns
    -------
    Manifest with extras ``video_id``, ``segment``, ``n_top``, ``sentiment`` and one float column per emotion
    score (``happy, sad, anger, surprise, disgust, fear``).
    """
    check_missing_option(NAME, missing)
    if not isinstance(min_presence, (int, float)) or min_presence < 0:
        raise ParameterError(f"{NAME}: min_presence={min_presence!r} must be a number >= 0")
    root = corpus_root(NAME, root, expect=LAYOUT)
    _, labels = read_csd(find_labels(NAME, root, labels_file, LABELS_FILE), name=NAME, n_features=len(FEATURES))
    adir = find_audio_dir(NAME, root, audio_dir, AUDIO_DIRS)

    def label_of(feat):
        label, raw, n_top = emotion_label(feat[1:], min_presence=min_presence)
        return label, raw, {"n_top": n_top, **{k: float(v) for k, v in zip(FEATURES, feat)}}

    rows, skipped = segment_rows(NAME, labels, adir, resolve_splits(NAME, split_map), label_of)
    if not rows:
        raise nothing_usable(NAME, root, expect=LAYOUT, found=f"none of the {len(labels)} videos of the label "
                             f".csd has its {{video_id}}.wav in {adir}")
    report_missing(NAME, skipped, missing, root=root, audio_dir=adir, rows=rows)
    return build_manifest(rows, name=NAME, extra=("video_id", "segment", "n_top") + FEATURES, skipped=skipped,
                          empty_hint=f"no segments with audio in {adir}")
