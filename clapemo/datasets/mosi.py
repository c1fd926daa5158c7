"""CMU-MOSI (Zadeh et al. 2016): 93 YouTube monologue videos, 2199 opinion segments with sentiment in [-3, 3].

Layout (CMU-MultimodalSDK labels + the raw full-length audio)::

    <root>/CMU_MOSI_Opinion_Labels.csd                   (anywhere under root; or labels_file=)
    <root>/Raw/Audio/WAV_16000/Full/{video_id}.wav        (or Audio/WAV_16000/Full/, audio/; or audio_dir=)

Partial trees: segments of videos whose audio file is absent are left out by default (``missing="skip"``),
recorded in ``df.attrs["skipped"]`` and named (by video) in a :class:`~clapemo.datasets.PartialCorpusWarning`;
``missing="error"`` raises instead. No video with audio is a :class:`DataError` naming the folder and layout.

Each segment is one row: ``path`` is the full-length video audio and ``start_s``/``end_s`` are the segment's
interval from the ``.csd``. Sentiment -> label (:func:`sentiment_label`): ``negative`` if s < -band,
``positive`` if s > band, else ``neutral`` (default band 0, i.e. exactly 0 is neutral, as in DESIGN.md);
``raw_label`` is the sentiment score as text, and ``sentiment`` the float. No sex metadata (``sex`` None);
``speaker`` is the video id (one speaker per video).

Splits: by default a deterministic video-level rule (crc32(video_id) % 10: 0-6 train, 7 dev, 8-9 test) — *not*
the SDK's standard folds; pass ``split_map`` (mapping or JSON file video_id -> split, e.g. from
``mmsdk.mmdatasdk.cmu_mosi.standard_folds``) for those.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from clapemo.datasets.csd import (find_audio_dir, find_labels, read_csd, report_missing, resolve_splits,
                                  segment_rows)
from clapemo.datasets.manifest import build_manifest, check_missing_option, corpus_root
from clapemo.datasets.partial import nothing_usable
from clapemo.errors import ParameterError

NAME = "mosi"
LABELS_FILE = "CMU_MOSI_Opinion_Labels.csd"
AUDIO_DIRS: tuple[str, ...] = ("Raw/Audio/WAV_16000/Full", "Audio/WAV_16000/Full", "audio")
LAYOUT = (f"{LABELS_FILE} (anywhere under the root) and full-length audio {{video_id}}.wav in "
          f"{AUDIO_DIRS[0]}/")
#: sentiment sign -> canonical label
LABEL_MAP: dict[str, str] = {"negative": "negative", "neutral": "neutral", "positive": "positive"}


def sentiment_label(score: float, *, neutral_band: float = 0.0) -> str:
    """``negative`` (score < -band), ``neutral`` (|score| <= band) or ``positive`` (score > band)."""
    if score < -neutral_band:
        return LABEL_MAP["negative"]
    if score > neutral_band:
        return LABEL_MAP["positive"]
    return LABEL_MAP["neutral"]


def load(root: str | os.PathLike, *, neutral_band: float = 0.0, labels_file: str | None = None,
         audio_dir: str | None = None, split_map: Mapping[str, str] | str | None = None, missing: str = "skip"):
    """Manifest of CMU-MOSI opinion segments (segments of full-length audio).

    Parameters
    ----------
    root : the corpus folder.
    neutral_band : sentiment scores with ``|s| <= neutral_band`` are ``neutral``.
    labels_file : the label ``.csd`` (default: ``CMU_MOSI_Opinion_Labels.csd`` found under root).
    audio_dir : folder of ``{video_id}.wav`` (default: the first of :data:`AUDIO_DIRS` that exists).
    split_map : video_id -> split (mapping or JSON file); default: the hash rule.
    missing : ``"skip"`` (default: segments of videos whose audio is absent are left out, recorded in
        ``df.attrs["skipped"]`` and named in a :class:`~clapemo.datasets.PartialCorpusWarning`) or ``"error"``.

    Returns
    -------
    Manifest with extras ``video_id``, ``segment`` (row index in the .csd), ``sentiment`` (float).
    """
    check_missing_option(NAME, missing)
    if not isinstance(neutral_band, (int, float)) or neutral_band < 0:
        raise ParameterError(f"{NAME}: neutral_band={neutral_band!r} must be a number >= 0")
    root = corpus_root(NAME, root, expect=LAYOUT)
    _, labels = read_csd(find_labels(NAME, root, labels_file, LABELS_FILE), name=NAME, n_features=1)
    adir = find_audio_dir(NAME, root, audio_dir, AUDIO_DIRS)

    def label_of(feat):
        score = float(feat[0])
        return sentiment_label(score, neutral_band=neutral_band), f"{score:g}", {"sentiment": score}

    rows, skipped = segment_rows(NAME, labels, adir, resolve_splits(NAME, split_map), label_of)
    if not rows:
        raise nothing_usable(NAME, root, expect=LAYOUT, found=f"none of the {len(labels)} videos of the label "
                             f".csd has its {{video_id}}.wav in {adir}")
    report_missing(NAME, skipped, missing, root=root, audio_dir=adir, rows=rows)
    return build_manifest(rows, name=NAME, extra=("video_id", "segment", "sentiment"), skipped=skipped,
                          empty_hint=f"no segments with audio in {adir}")
