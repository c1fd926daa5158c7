"""IEMOCAP (Busso et al. 2008): 5 sessions of dyadic dialogues, 10039 utterances with a consensus label.

Layout (``IEMOCAP_full_release``)::

    <root>/Session{1..5}/dialog/EmoEvaluation/{dialog}.txt      labels
    <root>/Session{1..5}/dialog/transcriptions/{dialog}.txt     transcripts (optional; ``text`` None without)
    <root>/Session{1..5}/sentences/wav/{dialog}/{utt_id}.wav    audio, already cut per utterance

Each EmoEvaluation file holds one *summary line* per utterance, ``[start - end]<TAB>utt_id<TAB>lab<TAB>[V, A, D]``,
followed by the individual evaluators' lines (which start with ``C-``, ``A-``, ... and are not read). Any line that
starts with ``[`` must be a well-formed summary line; otherwise a :class:`DataError` names the file and line.

Labels (:data:`LABEL_MAP`): neu hap exc sad ang fru fea sur dis, plus ``oth`` (other) and ``xxx`` (no
majority), which are excluded by default (``keep_unlabelled=True`` keeps them with ``label`` None).
``dis`` is IEMOCAP's *Disgust* category (the release's evaluation form lists Neutral, Happiness, Sadness,
Anger, Surprise, Fear, Disgust, Frustration, Excited, Other). The paper's Table 1 lists "disappoint" for
IEMOCAP; no IEMOCAP code means disappointment, so we map ``dis -> disgust`` and the canonical label
``disappointed`` never occurs in an IEMOCAP manifest.

``four_class=True`` gives the standard 4-class set (5531 utterances): ``exc`` merged into ``happy``, and only
happy, sad, angry and neutral kept (``raw_label`` still says ``exc``). Sex is the letter before the trailing digits
of the utterance id (``Ses01F_impro01_M013`` is a male speaker: the session prefix letter only says who led the
dialogue). ``speaker`` is ``Ses{nn}{letter}``; ``split`` is the session (``Session1`` .. ``Session5``) for
leave-one-session-out evaluation, and the integer column ``fold`` is the session number (1-5), which
``data.test_fold`` re-splits by (``test_fold: 5`` = Session5 is the test set).

Partial trees: by default every ``Session{n}`` folder with label files is loaded and a
:class:`~clapemo.datasets.PartialCorpusWarning` names the absent sessions (and any session folder that lacks
``dialog/EmoEvaluation/Ses*.txt``); ``sessions=`` insists on the ones named. No usable session is a
:class:`DataError` naming the folder and the layout.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from clapemo.datasets.manifest import build_manifest, corpus_root
from clapemo.datasets.partial import nothing_usable, warn_partial
from clapemo.errors import DataError, ParameterError

NAME = "iemocap"

#: raw code -> canonical label (``oth``/``xxx`` have none)
LABEL_MAP: dict[str, str] = {
    "neu": "neutral", "hap": "happy", "exc": "excited", "sad": "sad", "ang": "angry",
    "fru": "frustrated", "fea": "fearful", "sur": "surprised", "dis": "disgust",
}
UNLABELLED: tuple[str, ...] = ("oth", "xxx")
#: raw code -> canonical label in the standard 4-class set (exc merged into hap)
FOUR_CLASS_MAP: dict[str, str] = {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry"}
SESSIONS = (1, 2, 3, 4, 5)
LAYOUT = ("Session1/ ... Session5/ each with dialog/EmoEvaluation/Ses*.txt and sentences/wav/<dialog>/*.wav "
          "(IEMOCAP_full_release)")

_FLOAT = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"
_SUMMARY_RE = re.compile(rf"^\[\s*({_FLOAT})\s*-\s*({_FLOAT})\s*\]\t(\S+)\t(\S+)\t\[\s*({_FLOAT}),\s*({_FLOAT}),"
                         rf"\s*({_FLOAT})\s*\]\s*$")
_UTT_RE = re.compile(r"^Ses(\d\d)([FM])_(\S+)_([FM])(\d{3})$")
_TRANSCRIPT_RE = re.compile(r"^(\S+) \[[^\]]*\]:\s?(.*)$")
EXPECTED_LINE = "[start - end]<TAB>utterance_id<TAB>label<TAB>[V, A, D], e.g. " \
                "'[6.2901 - 8.2357]\\tSes01F_impro01_F000\\tneu\\t[2.5000, 2.5000, 2.5000]'"


def parse_summary_line(line: str, *, where: str) -> dict:
    """Parse one EmoEvaluation summary line; :class:`DataError` naming ``where`` (file:line) if malformed."""
    m = _SUMMARY_RE.match(line.rstrip("\r\n"))
    if not m:
        raise DataError(f"{NAME}: malformed label line at {where}: {line.strip()!r}; expected {EXPECTED_LINE}")
    start, end, utt, lab, v, a, d = m.groups()
    if lab not in LABEL_MAP and lab not in UNLABELLED:
        raise DataError(f"{NAME}: unknown label {lab!r} at {where}; expected one of "
                        f"{list(LABEL_MAP) + list(UNLABELLED)}")
    u = _UTT_RE.match(utt)
    if not u:
        raise DataError(f"{NAME}: malformed utterance id {utt!r} at {where}; expected "
                        "Ses{nn}{F|M}_{dialog}_{F|M}{ddd}, e.g. Ses01F_impro01_M013")
    return {"utt": utt, "label": lab, "start": float(start), "end": float(end), "session": int(u.group(1)),
            "speaker_letter": u.group(4), "valence": float(v), "arousal": float(a), "dominance": float(d)}


def _read_transcripts(path) -> dict[str, str]:
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _TRANSCRIPT_RE.match(line.strip())
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def _present_sessions(root: Path) -> list[int]:
    """The sessions with label files under ``root``; a :class:`~clapemo.datasets.PartialCorpusWarning` (shown at
    the caller of :func:`load`) names the others, and a tree with none is a DataError."""
    folders = [s for s in SESSIONS if (root / f"Session{s}").is_dir()]
    sessions = [s for s in folders if any((root / f"Session{s}" / "dialog" / "EmoEvaluation").glob("Ses*.txt"))]
    unlabelled = [s for s in folders if s not in sessions]
    if not sessions:
        found = (f"Session folders {folders} hold no dialog/EmoEvaluation/Ses*.txt" if folders
                 else "no Session1 ... Session5 folders")
        raise nothing_usable(NAME, root, expect=LAYOUT, found=found)
    warn_partial(NAME, root, what="sessions", missing=[s for s in SESSIONS if s not in sessions],
                 present=sessions,
                 detail=f"Session{unlabelled[0]} has no dialog/EmoEvaluation/Ses*.txt" if len(unlabelled) == 1
                 else f"sessions {unlabelled} have no label files" if unlabelled else "", stacklevel=4)
    return sessions


def _canonical(raw: str, *, four_class: bool, keep_unlabelled: bool) -> tuple[bool, str | None]:
    """Whether an utterance of raw label ``raw`` is kept, and its canonical label (None: unlabelled)."""
    if four_class:
        if raw not in FOUR_CLASS_MAP:
            return False, None  # documented selection: the 4-class set keeps neu/hap/exc/sad/ang only
        return True, FOUR_CLASS_MAP[raw]
    if raw in UNLABELLED:
        # documented default: xxx (no majority) and oth (other) carry no emotion
        return keep_unlabelled, None
    return True, LABEL_MAP[raw]


def _dialog_rows(sdir: Path, lab_path: Path, session: int, *, four_class: bool,
                 keep_unlabelled: bool) -> list[dict]:
    """The manifest rows of one dialogue: its EmoEvaluation file ``lab_path`` in session folder ``sdir``."""
    dialog = lab_path.stem
    texts = _read_transcripts(sdir / "dialog" / "transcriptions" / f"{dialog}.txt")
    lines = lab_path.read_text(encoding="utf-8", errors="replace").splitlines()
    rows = []
    for lineno, line in enumerate(lines, start=1):
        if not line.startswith("["):
            continue
        rec = parse_summary_line(line, where=f"{lab_path}:{lineno}")
        if rec["session"] != session or not rec["utt"].startswith(dialog + "_"):
            raise DataError(f"{NAME}: utterance {rec['utt']} at {lab_path}:{lineno} does not belong to "
                            f"dialogue {dialog} of Session{session}")
        raw = rec["label"]
        keep, label = _canonical(raw, four_class=four_class, keep_unlabelled=keep_unlabelled)
        if not keep:
            continue
        utt = rec["utt"]
        rows.append({
            "utterance_id": f"{NAME}/{utt}",
            "path": str(sdir / "sentences" / "wav" / dialog / f"{utt}.wav"), "dataset": NAME,
            "speaker": f"Ses{session:02d}{rec['speaker_letter']}",
            "sex": "female" if rec["speaker_letter"] == "F" else "male", "label": label, "raw_label": raw,
            "text": texts.get(utt),  # transcript is optional metadata; the row is kept either way
            "start_s": None, "end_s": None, "split": f"Session{session}", "fold": session,
            "session": session,
            "dialog": dialog, "dialog_start_s": rec["start"], "dialog_end_s": rec["end"],
            "valence": rec["valence"], "arousal": rec["arousal"], "dominance": rec["dominance"],
        })
    return rows


def load(root: str | os.PathLike, *, four_class: bool = False, keep_unlabelled: bool = False,
         sessions: tuple[int, ...] | list[int] | None = None):
    """Manifest of IEMOCAP utterances.

    Parameters
    ----------
    root : ``IEMOCAP_full_release`` folder (holding ``Session1`` ... ``Session5``).
    four_class : keep only neu/hap/exc/sad/ang with ``exc`` merged into ``happy`` (the EAR collection).
    keep_unlabelled : keep ``xxx``/``oth`` utterances with ``label`` None (ignored with ``four_class``).
    sessions : which sessions to read (each must exist); default: every ``Session{n}`` folder with label files,
        with a :class:`~clapemo.datasets.PartialCorpusWarning` naming the others.

    Returns
    -------
    Manifest with extras ``fold`` (int: the session number 1-5), ``session`` (int, the same), ``dialog``,
    ``dialog_start_s``/``dialog_end_s`` (position in the
    dialogue recording; the wav is already cut, so ``start_s``/``end_s`` are NaN), ``valence``, ``arousal``,
    ``dominance`` (evaluator means, 1-5).
    """
    if sessions is not None and (not sessions or any(s not in SESSIONS for s in sessions)):
        raise ParameterError(f"{NAME}: sessions={sessions!r} must be a non-empty subset of {list(SESSIONS)}")
    root = corpus_root(NAME, root, expect=LAYOUT)
    if sessions is None:
        sessions = _present_sessions(root)
    rows = []
    for session in sessions:
        sdir = root / f"Session{session}"
        label_dir = sdir / "dialog" / "EmoEvaluation"
        if not label_dir.is_dir():
            raise DataError(f"{NAME}: missing label folder {label_dir}")
        label_files = sorted(p for p in label_dir.glob("Ses*.txt") if p.is_file())
        if not label_files:
            raise DataError(f"{NAME}: no Ses*.txt label files in {label_dir}")
        for lab_path in label_files:
            rows += _dialog_rows(sdir, lab_path, session, four_class=four_class, keep_unlabelled=keep_unlabelled)
    return build_manifest(
        rows, name=NAME, allow_unlabelled=keep_unlabelled and not four_class,
        extra=("fold", "session", "dialog", "dialog_start_s", "dialog_end_s", "valence", "arousal", "dominance"),
        empty_hint=f"no labelled summary lines in Session*/dialog/EmoEvaluation under {root}")
