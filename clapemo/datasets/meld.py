"""MELD (Poria et al. 2019): utterances of the TV series *Friends*, 7 emotions, 13708 clips (mp4).

Layout (``MELD.Raw`` extracted; each split's tarball holds a clip folder)::

    <root>/train_sent_emo.csv  <root>/dev_sent_emo.csv  <root>/test_sent_emo.csv
    <root>/train_splits/dia{D}_utt{U}.mp4                 (or <root>/train/train_splits/...)
    <root>/dev_splits_complete/dia{D}_utt{U}.mp4          (or <root>/dev/dev_splits_complete/...)
    <root>/output_repeated_splits_test/dia{D}_utt{U}.mp4  (or <root>/test/output_repeated_splits_test/...)

CSV columns used: Utterance, Speaker, Emotion, Sentiment, Dialogue_ID, Utterance_ID, Season, Episode (and
Sr No., StartTime, EndTime, which are kept out of the manifest). ``split`` is the csv's (train/dev/test);
``path`` is the mp4 (audio is decoded from it by :func:`clapemo.audio.load` with PyAV); ``speaker`` is the
character's name; ``sex`` is None (MELD ships no sex metadata).

Partial trees: a split is present when its csv and its clip folder both are; the splits present are loaded and
a :class:`~clapemo.datasets.PartialCorpusWarning` names the absent ones (and which half of each is missing).
``splits=`` insists on the ones named. No split present is a :class:`DataError` naming the folder and the layout.

Missing or empty clips: the release lacks a few clips that its csv lists. ``missing="error"`` (default) raises a
:class:`DataError` listing them; ``missing="skip"`` leaves them out and records each ``(utterance_id, reason)``
in ``df.attrs["skipped"]`` (and warns with the count). ``check_audio=True`` also opens every clip with PyAV and
treats a clip without a decodable audio stream as missing (slow: one container open per clip).
"""

from __future__ import annotations

import os
import warnings

from clapemo.datasets.manifest import build_manifest, check_missing_option, corpus_root, read_csv_rows
from clapemo.datasets.partial import PartialCorpusWarning, nothing_usable, warn_partial
from clapemo.errors import DataError, ParameterError

NAME = "meld"

#: raw emotion -> canonical label
LABEL_MAP: dict[str, str] = {"neutral": "neutral", "joy": "happy", "sadness": "sad", "anger": "angry",
                             "surprise": "surprised", "fear": "fearful", "disgust": "disgust"}
SPLITS: dict[str, str] = {"train": "train", "dev": "dev", "test": "test"}
#: split -> clip folder names of the official release
CLIP_DIRS: dict[str, tuple[str, ...]] = {
    "train": ("train_splits",), "dev": ("dev_splits_complete",), "test": ("output_repeated_splits_test",),
}
LAYOUT = ("{train,dev,test}_sent_emo.csv and the clip folders train_splits/, dev_splits_complete/, "
          "output_repeated_splits_test/ (each also accepted under <split>/)")
REQUIRED_COLUMNS = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID", "Season",
                    "Episode")


def _clip_dir(root, split):
    """The clip folder of ``split``, or None; and the places looked at."""
    candidates = [root / d for d in CLIP_DIRS[split]] + [root / split / d for d in CLIP_DIRS[split]]
    return next((c for c in candidates if c.is_dir()), None), candidates


def _present_splits(root, splits):
    """``{split: clip_dir}`` of the splits with a csv and a clip folder, and ``{split: why}`` of the others."""
    present, absent = {}, {}
    for split in splits:
        clip_dir, candidates = _clip_dir(root, split)
        csv_ok = (root / f"{split}_sent_emo.csv").is_file()
        if csv_ok and clip_dir is not None:
            present[split] = clip_dir
        else:
            why = [f"no {split}_sent_emo.csv"] if not csv_ok else []
            why += [f"no clip folder ({' or '.join(c.relative_to(root).as_posix() for c in candidates)})"] \
                if clip_dir is None else []
            absent[split] = " and ".join(why)
    return present, absent


def _audio_problem(path) -> str | None:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return "no audio stream"
    except Exception as err:  # PyAV raises several FFmpeg error types
        return f"cannot be opened ({type(err).__name__})"
    return None


def load(root: str | os.PathLike, *, missing: str = "error", check_audio: bool = False,
         splits: tuple[str, ...] | list[str] | None = None):
    """Manifest of MELD utterances (path = the mp4 clip).

    Parameters
    ----------
    root : folder holding the three ``*_sent_emo.csv`` files and the clip folders.
    missing : ``"error"`` or ``"skip"`` — what to do with a csv row whose clip is absent, empty or (with
        ``check_audio``) has no audio; skipped rows are listed in ``df.attrs["skipped"]``.
    check_audio : open each clip with PyAV and check it has an audio stream.
    splits : which of train/dev/test to read (each must be present); default: those present, with a
        :class:`~clapemo.datasets.PartialCorpusWarning` naming the others.

    Returns
    -------
    Manifest with extras ``sentiment``, ``dialogue_id``, ``utterance_index``, ``season``, ``episode``.
    """
    check_missing_option(NAME, missing)
    if splits is not None and (not splits or any(sp not in SPLITS for sp in splits)):
        raise ParameterError(f"{NAME}: splits={splits!r} must be a non-empty subset of {list(SPLITS)}")
    root = corpus_root(NAME, root, expect=LAYOUT)
    present, absent = _present_splits(root, list(SPLITS) if splits is None else list(splits))
    if splits is not None and absent:
        split, why = next(iter(absent.items()))
        raise DataError(f"{NAME}: split {split!r} was asked for but is absent under {root}: {why}")
    if not present:
        raise nothing_usable(NAME, root, expect=LAYOUT,
                             found="; ".join(f"{sp}: {why}" for sp, why in absent.items()))
    warn_partial(NAME, root, what="splits", missing=list(absent), present=list(present),
                 detail="; ".join(f"{sp}: {why}" for sp, why in absent.items()))
    rows, skipped = [], []
    for split, clip_dir in present.items():
        csv_path = root / f"{split}_sent_emo.csv"
        for lineno, rec in read_csv_rows(csv_path, name=NAME, required=REQUIRED_COLUMNS):
            emo = (rec["Emotion"] or "").strip()
            if emo not in LABEL_MAP:
                raise DataError(f"{NAME}: {csv_path} line {lineno}: Emotion {emo!r} is not one of "
                                f"{list(LABEL_MAP)}")
            try:
                dia, utt = int(rec["Dialogue_ID"]), int(rec["Utterance_ID"])
            except (TypeError, ValueError):
                raise DataError(f"{NAME}: {csv_path} line {lineno}: Dialogue_ID/Utterance_ID must be "
                                f"integers, got {rec['Dialogue_ID']!r}/{rec['Utterance_ID']!r}") from None
            uid = f"{NAME}/{split}/dia{dia}_utt{utt}"
            path = clip_dir / f"dia{dia}_utt{utt}.mp4"
            problem = ("missing" if not path.is_file() else "empty file" if path.stat().st_size == 0
                       else _audio_problem(path) if check_audio else None)
            if problem is not None:
                skipped.append((uid, f"{path}: {problem}"))
                continue
            rows.append({
                "utterance_id": uid, "path": str(path), "dataset": NAME, "speaker": rec["Speaker"].strip(),
                "sex": None, "label": LABEL_MAP[emo], "raw_label": emo, "text": rec["Utterance"],
                "start_s": None, "end_s": None, "split": SPLITS[split],
                "sentiment": (rec["Sentiment"] or "").strip(), "dialogue_id": dia, "utterance_index": utt,
                "season": rec["Season"], "episode": rec["Episode"],
            })
    if skipped and missing == "error":
        shown = "; ".join(reason for _, reason in skipped[:3])
        raise DataError(f"{NAME}: {len(skipped)} clip(s) listed in the csv files are unusable ({shown}"
                        f"{' ...' if len(skipped) > 3 else ''}); pass missing='skip' to leave them out")
    if skipped:
        shown = "; ".join(reason for _, reason in skipped[:3]) + (" ..." if len(skipped) > 3 else "")
        warnings.warn(f"{NAME}: left out {len(skipped)} unusable clip(s) ({shown}); see df.attrs['skipped']",
                      PartialCorpusWarning, stacklevel=2)
    return build_manifest(rows, name=NAME, skipped=skipped,
                          extra=("sentiment", "dialogue_id", "utterance_index", "season", "episode"),
                          empty_hint=f"the *_sent_emo.csv files under {root} list no usable clips")
