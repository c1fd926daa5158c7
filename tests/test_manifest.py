"""clapemo.datasets.manifest: the shared validation (validate_manifest, read_manifest_csv) rejects each bad row
with a message naming the manifest file, the row and the rule."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clapemo.datasets.manifest import build_manifest, read_manifest_csv, validate_manifest
from clapemo.errors import DataError
from clapemo.schema import MANIFEST_COLUMNS


def _row(uid: str, **changes) -> dict:
    row = {"utterance_id": f"toy/{uid}", "path": f"wav/{uid}.wav", "dataset": "toy", "speaker": "s1",
           "sex": "male",
           "label": "happy", "raw_label": "hap", "text": "hello there", "start_s": None, "end_s": None,
           "split": "train"}
    row.update(changes)
    return row


@pytest.fixture()
def corpus(tmp_path) -> Path:
    """A corpus folder with three audio files (empty: only their existence is checked) and a valid manifest."""
    root = tmp_path / "toy"
    (root / "wav").mkdir(parents=True)
    for uid in ("a", "b", "c"):
        (root / "wav" / f"{uid}.wav").write_bytes(b"")
    _write(root, [_row("a"), _row("b", start_s=0.5, end_s=1.25), _row("c", split="test", sex="female")])
    return root


def _write(root: Path, rows: list[dict], columns=None) -> Path:
    frame = pd.DataFrame(rows, columns=columns or list(MANIFEST_COLUMNS))
    path = root / "manifest.csv"
    frame.to_csv(path, index=False)
    return path


def _read(root: Path, **options) -> pd.DataFrame:
    return read_manifest_csv(root / "manifest.csv", name="toy", root=root, **options)


def _raises(root: Path, *parts: str, **options) -> None:
    """read_manifest_csv raises a DataError whose message holds the manifest file and every one of ``parts``."""
    with pytest.raises(DataError) as info:
        _read(root, **options)
    message = str(info.value)
    assert str(root / "manifest.csv") in message
    for part in parts:
        assert part in message, (part, message)


def test_valid_manifest_reads_with_absolute_paths_inside_root(corpus):
    frame = _read(corpus, expect_splits=("train", "test"))
    assert list(frame.columns) == list(MANIFEST_COLUMNS)
    assert frame["path"].tolist() == [str(corpus.resolve() / "wav" / f"{u}.wav") for u in "abc"]
    assert frame["start_s"].dtype == np.float64 and np.isnan(frame.loc[0, "start_s"])
    assert frame.loc[1, ["start_s", "end_s"]].tolist() == [0.5, 1.25]
    assert frame["sex"].tolist() == ["male", "male", "female"]
    assert frame["raw_label"].map(type).eq(str).all()


def test_path_escaping_the_corpus_root_is_rejected(corpus):
    _write(corpus, [_row("a"), _row("b", path="../../../../../etc/hostname")])
    _raises(corpus, "toy/b", "etc/hostname", "inside the corpus folder")
    (corpus.parent / "outside.wav").write_bytes(b"")  # exists, so only the root rule can reject it
    _write(corpus, [_row("a"), _row("b", path="wav/../../outside.wav")])
    _raises(corpus, "toy/b", "inside the corpus folder")


def test_absolute_path_outside_root_is_rejected(corpus):
    other = corpus.parent / "elsewhere.wav"
    other.write_bytes(b"")
    _write(corpus, [_row("a", path=str(other))])
    _raises(corpus, "toy/a", str(other), "inside the corpus folder")


def test_path_inside_root_through_dotdot_is_accepted(corpus):
    _write(corpus, [_row("a", path="wav/../wav/a.wav")])
    assert _read(corpus)["path"].tolist() == [str(corpus.resolve() / "wav" / "a.wav")]


def test_duplicate_utterance_ids(corpus):
    _write(corpus, [_row("a"), _row("b"), _row("a", path="wav/c.wav")])
    _raises(corpus, "utterance_id must be unique", "'toy/a'")


def test_missing_audio_file(corpus):
    _write(corpus, [_row("a"), _row("gone")])
    _raises(corpus, "do not exist", "toy/gone", "gone.wav")


@pytest.mark.parametrize("start,end,reason", [(2.0, 1.0, "start_s >= end_s"), (1.0, 1.0, "start_s >= end_s"),
                                              (-0.5, 1.0, "negative"), (0.5, None, "only one bound")])
def test_bad_segments(corpus, start, end, reason):
    _write(corpus, [_row("a"), _row("b", start_s=start, end_s=end)])
    _raises(corpus, "0 <= start_s < end_s", "toy/b", reason)


def test_non_numeric_segment(corpus):
    _write(corpus, [_row("a"), _row("b", start_s="soon", end_s="later")])
    _raises(corpus, "must be numbers", "toy/b", "'soon'")


def test_expected_split_without_rows(corpus):
    _write(corpus, [_row("a"), _row("b")])
    _raises(corpus, "['test'] have no rows", expect_splits=("train", "test"))
    assert len(_read(corpus, expect_splits=("train",))) == 2  # the rule is only applied when asked


def test_empty_split_cell(corpus):
    _write(corpus, [_row("a"), _row("b", split=None)])
    _raises(corpus, "split is empty", "toy/b")


def test_zero_rows(corpus):
    _write(corpus, [])
    _raises(corpus, "no rows")


@pytest.mark.parametrize("column", ["path", "split", "utterance_id"])
def test_missing_schema_column(corpus, column):
    _write(corpus, [_row("a")], columns=[c for c in MANIFEST_COLUMNS if c != column])
    _raises(corpus, "lacks the schema column", f"['{column}']")


def test_columns_out_of_order(corpus):
    cols = list(MANIFEST_COLUMNS)
    cols[0], cols[1] = cols[1], cols[0]
    _write(corpus, [_row("a")], columns=cols)
    _raises(corpus, "must start with")


def test_empty_path_cell(corpus):
    _write(corpus, [_row("a"), _row("b", path=None)])
    _raises(corpus, "path is empty", "toy/b")


def test_label_outside_vocabulary(corpus):
    _write(corpus, [_row("a", label="joy")])
    _raises(corpus, "'joy'", "canonical vocabulary")


def test_missing_manifest_file(tmp_path):
    with pytest.raises(DataError, match=re.escape(f"toy: manifest file not found: {tmp_path / 'manifest.csv'}")):
        read_manifest_csv(tmp_path / "manifest.csv", name="toy")


def test_validate_manifest_on_frames_keeps_old_calls_and_checks_root(corpus):
    frame = _read(corpus)
    assert validate_manifest(frame, name="toy") is frame  # the real loaders' call, unchanged
    assert validate_manifest(frame, name="toy", root=corpus) is frame
    with pytest.raises(DataError, match=r"toy: path must stay inside the corpus folder .*wav.*toy/a"):
        validate_manifest(frame, name="toy", root=corpus / "wav" / "sub")
    with pytest.raises(DataError, match="no rows"):
        validate_manifest(frame.iloc[:0], name="toy")


def test_build_manifest_root_option(corpus):
    rows = [_row("a", path=str(corpus / "wav" / "a.wav"), start_s=None, end_s=None)]
    assert len(build_manifest(rows, name="toy")) == 1  # signature of the loaders' call unchanged
    assert len(build_manifest(rows, name="toy", root=corpus)) == 1
    with pytest.raises(DataError, match="inside the corpus folder"):
        build_manifest(rows, name="toy", root=corpus / "wav" / "sub")
