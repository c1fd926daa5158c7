"""clapemo.verify: the published record of a results tree, and every difference named by artefact, row and number."""

import json

import pytest

from clapemo import verify
from clapemo.errors import DataError


def _results(root, *, accuracy="0.3125", seconds="12.5"):
    folder = root / "table4" / "abc123def456"
    folder.mkdir(parents=True)
    (folder / "results.csv").write_text("row,setting,seed,value,seconds\n"
                                        f"4D,leave_one_out,0,{accuracy},{seconds}\n"
                                        "4D,leave_one_out,1,0.25,3.0\n")
    (folder / "summary.csv").write_text("row,setting,mean\n4D,leave_one_out,0.28125\n")
    (folder / "items.csv").write_text("row,seed,item,correct\n4D,0,a,1\n")
    return root


def test_a_build_identical_to_the_published_one_has_no_difference_and_wall_times_do_not_count(tmp_path):
    published = verify.write(_results(tmp_path / "a"), tmp_path / "published.json")
    record = json.loads(published.read_text())
    assert record["artefacts"]["table4"]["config_hash"] == "abc123def456"
    assert record["artefacts"]["table4"]["files"]["results.csv"]["n_rows"] == 2
    assert verify.verify(_results(tmp_path / "b", seconds="99.0"), published) == []  # another wall time


def test_a_different_number_is_named_by_artefact_file_row_and_column(tmp_path):
    published = verify.write(_results(tmp_path / "a"), tmp_path / "published.json")
    (differs,) = verify.verify(_results(tmp_path / "b", accuracy="0.3126"), published)
    assert differs == ("table4 results.csv [row=4D, setting=leave_one_out] value: published 0.3125, built "
                       "0.3126")


def test_a_missing_build_or_artefact_is_a_difference_and_a_filter_picks_artefacts(tmp_path):
    published = verify.write(_results(tmp_path / "a"), tmp_path / "published.json")
    (tmp_path / "empty").mkdir()
    (missing,) = verify.verify(tmp_path / "empty", published)
    assert missing.startswith("table4: no built results for config abc123def456") and "(not built)" in missing
    assert verify.verify(_results(tmp_path / "b"), published, artefacts=["table4"]) == []
    (unknown,) = verify.verify(tmp_path / "b", published, artefacts=["figure9"])
    assert unknown.startswith("figure9: not a published artefact")
    with pytest.raises(DataError, match="no published results"):
        verify.verify(tmp_path / "b", tmp_path / "nothing.json")
    with pytest.raises(DataError, match="holds no complete results folder"):
        verify.snapshot(tmp_path / "empty")


def test_the_cli_exits_0_when_identical_and_1_naming_differences(tmp_path, capsys):
    published = tmp_path / "published.json"
    assert verify.cli(["--results-dir", str(_results(tmp_path / "a")), "--published", str(published), "--write"]) == 0
    assert verify.cli(["--results-dir", str(tmp_path / "a"), "--published", str(published)]) == 0
    assert "identical to" in capsys.readouterr().out
    assert verify.cli(["--results-dir", str(_results(tmp_path / "b", accuracy="0.5")),
                       "--published", str(published)]) == 1
    assert "published 0.3125, built 0.5" in capsys.readouterr().out
