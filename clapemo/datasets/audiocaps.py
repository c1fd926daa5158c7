"""AudioCaps (Kim et al. 2019): 10 s AudioSet clips from YouTube with human captions (part of the paper's "4D").

Layout (the csv files of the AudioCaps repository + audio you fetched from YouTube yourself)::

    <root>/train.csv  <root>/val.csv  <root>/test.csv        (or <root>/dataset/*.csv)
    <root>/audio/{split}/{youtube_id}.wav                    (default ``audio_template``)

CSV columns ``audiocap_id, youtube_id, start_time, caption``. One row per csv line (val/test clips have 5
captions each): ``utterance_id = audiocaps/<audiocap_id>``. ``split``: train -> train, val -> dev, test -> test.

Audio: AudioCaps ships no audio. ``audio_template`` (relative to root; fields ``split``, ``youtube_id``,
``audiocap_id``, ``start_time``) says where each clip lies. By default the files are the 10 s clips already cut
at ``start_time`` (``start_s``/``end_s`` NaN); ``clip_s=10.0`` instead treats them as full-length downloads and
sets ``start_s = start_time``, ``end_s = start_time + clip_s``. YouTube videos disappear, so many sets are
incomplete: ``missing="skip"`` leaves those rows out and records them in ``df.attrs["skipped"]``; the default
``"error"`` raises.

Partial trees: by default the csv files present are loaded and a :class:`~clapemo.datasets.PartialCorpusWarning`
names the absent ones; ``parts=`` insists on the ones named. No csv file is a :class:`DataError` naming the folder
and the layout.
"""

from __future__ import annotations

import os

from clapemo.datasets.manifest import build_manifest, corpus_root, read_csv_rows, split_missing
from clapemo.datasets.partial import nothing_usable, warn_partial
from clapemo.errors import DataError, ParameterError

NAME = "audiocaps"
#: csv name -> manifest split
PARTS: dict[str, str] = {"train": "train", "val": "dev", "test": "test"}
DEFAULT_TEMPLATE = "audio/{split}/{youtube_id}.wav"
REQUIRED_COLUMNS = ("audiocap_id", "youtube_id", "start_time", "caption")
LABEL_MAP: dict[str, str] = {}  # caption set: no emotion labels
LAYOUT = "train.csv, val.csv, test.csv (or dataset/*.csv) and the audio clips (audio/{split}/{youtube_id}.wav)"


def load(root: str | os.PathLike, *, parts: tuple[str, ...] | list[str] | None = None,
         audio_template: str = DEFAULT_TEMPLATE, clip_s: float | None = None, missing: str = "error"):
    """Manifest of AudioCaps audio-caption pairs.

    Parameters
    ----------
    root : folder holding the csv files (or ``dataset/`` with them) and the audio.
    parts : which csv files to read (``train``, ``val``, ``test``; each must be present); default: those present,
        with a :class:`~clapemo.datasets.PartialCorpusWarning` naming the others.
    audio_template : audio path relative to root, with fields ``{split}`` (the csv name), ``{youtube_id}``,
        ``{audiocap_id}``, ``{start_time}``.
    clip_s : None (files are the cut clips) or the clip length in seconds cut from full-length files.
    missing : ``"error"`` or ``"skip"`` for rows whose audio is absent.

    Returns
    -------
    Manifest with ``caption`` and extras ``youtube_id``, ``start_time``.
    """
    if parts is not None and (not parts or any(p not in PARTS for p in parts)):
        raise ParameterError(f"{NAME}: parts={parts!r} must be a non-empty subset of {list(PARTS)}")
    if clip_s is not None and not (isinstance(clip_s, (int, float)) and clip_s > 0):
        raise ParameterError(f"{NAME}: clip_s={clip_s!r} must be None or a positive number of seconds")
    root = corpus_root(NAME, root, expect=LAYOUT)
    csv_dir = root if any((root / f"{p}.csv").is_file() for p in PARTS) else root / "dataset"
    absent = [p for p in (PARTS if parts is None else parts) if not (csv_dir / f"{p}.csv").is_file()]
    if parts is not None and absent:
        raise DataError(f"{NAME}: part {absent[0]!r} was asked for but {csv_dir / (absent[0] + '.csv')} is absent")
    parts = [p for p in PARTS if p not in absent] if parts is None else list(parts)
    if not parts:
        raise nothing_usable(NAME, root, expect=LAYOUT,
                             found=f"no train/val/test.csv in {root} or {root / 'dataset'}")
    warn_partial(NAME, root, what="parts", missing=absent, present=parts,
                 detail=f"csv files looked for in {csv_dir}")
    rows = []
    for part in parts:
        csv_path = csv_dir / f"{part}.csv"
        for lineno, rec in read_csv_rows(csv_path, name=NAME, required=REQUIRED_COLUMNS):
            try:
                start = float(rec["start_time"])
            except (TypeError, ValueError):
                raise DataError(f"{NAME}: {csv_path} line {lineno}: start_time {rec['start_time']!r} is not a "
                                "number") from None
            cap_id, yt = (rec["audiocap_id"] or "").strip(), (rec["youtube_id"] or "").strip()
            caption = (rec["caption"] or "").strip()
            if not cap_id or not yt or not caption:
                raise DataError(f"{NAME}: {csv_path} line {lineno}: audiocap_id, youtube_id and caption must be "
                                "non-empty")
            try:
                rel = audio_template.format(split=part, youtube_id=yt, audiocap_id=cap_id,
                                            start_time=rec["start_time"].strip())
            except (KeyError, IndexError) as err:
                raise ParameterError(f"{NAME}: audio_template {audio_template!r} uses an unknown field {err}; "
                                     "known: split, youtube_id, audiocap_id, start_time") from None
            rows.append({
                "utterance_id": f"{NAME}/{cap_id}", "path": str(root / rel), "dataset": NAME, "speaker": None,
                "sex": None, "label": None, "raw_label": None, "text": None,
                "start_s": None if clip_s is None else start, "end_s": None if clip_s is None else start + clip_s,
                "split": PARTS[part], "caption": caption, "youtube_id": yt, "start_time": start,
            })
    rows, skipped = split_missing(rows, name=NAME, missing=missing)
    return build_manifest(rows, name=NAME, caption=True, extra=("youtube_id", "start_time"), skipped=skipped,
                          empty_hint=f"the csv files under {csv_dir} list no audio")
