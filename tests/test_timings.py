"""The wall-time record of ``make reproduce`` (clapemo.book.timings) and the Makefile lines that write it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from clapemo.book import timings
from clapemo.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def _write(path: Path, lines: list[tuple[str, int, str]]) -> Path:
    path.write_text("".join(f"{stage}\t{seconds}\t{when}\n" for stage, seconds, when in lines))
    return path


def test_last_run_is_the_lines_after_the_last_start(tmp_path):
    path = _write(tmp_path / "t.tsv", [
        ("start", 0, "2026-01-01T10:00:00Z"), ("01_prompt_generation", 500, "2026-01-01T10:08:20Z"),
        ("make reproduce", 520, "2026-01-01T10:08:40Z"),
        ("start", 0, "2026-01-02T09:00:00Z"), ("setup", 60, "2026-01-02T09:01:00Z"),
        ("synthetic benchmark", 30, "2026-01-02T09:01:30Z"), ("01_prompt_generation", 110, "2026-01-02T09:03:20Z"),
        ("06_extensions", 300, "2026-01-02T09:08:20Z"), ("book build", 50, "2026-01-02T09:09:10Z"),
        ("make reproduce", 600, "2026-01-02T09:10:00Z")])
    steps = timings.last_run(path)
    assert list(steps["stage"]) == ["setup", "synthetic benchmark", "01_prompt_generation", "06_extensions",
                                    "book build"]
    assert steps.attrs["complete"] and steps.attrs["total_s"] == 600
    assert steps.attrs["without_extensions_s"] == 300
    assert steps["share"].tolist() == pytest.approx([0.1, 0.05, 110 / 600, 0.5, 50 / 600])
    text = timings.format_breakdown(steps)
    assert "in all (wall)" in text and "600 s  = 10 min 00 s" in text and "300 s  = 5 min 00 s" in text


def test_an_unfinished_run_sums_its_steps(tmp_path):
    path = _write(tmp_path / "t.tsv", [("start", 0, "2026-01-02T09:00:00Z"), ("setup", 60, "2026-01-02T09:01:00Z"),
                                       ("02_ear_table", 90, "2026-01-02T09:02:30Z")])
    steps = timings.last_run(path)
    assert not steps.attrs["complete"] and steps.attrs["total_s"] == 150
    assert "unfinished" in timings.format_breakdown(steps)


def test_a_warm_run_lists_no_step(tmp_path):
    path = _write(tmp_path / "t.tsv", [("start", 0, "2026-01-02T09:00:00Z"), ("make reproduce", 0,
                                                                               "2026-01-02T09:00:00Z")])
    steps = timings.last_run(path)
    assert steps.empty and steps.attrs["total_s"] == 0
    assert "every step was up to date" in timings.format_breakdown(steps)


@pytest.mark.parametrize("line, rule", [("setup\t12\n", "2 field"), ("setup\tabc\t2026-01-01T00:00:00Z\n", "abc"),
                                        ("setup\t-1\t2026-01-01T00:00:00Z\n", "negative"),
                                        ("setup\t5\tyesterday\n", "yesterday")])
def test_malformed_lines_name_the_file_and_line(tmp_path, line, rule):
    path = tmp_path / "t.tsv"
    path.write_text("start\t0\t2026-01-01T00:00:00Z\n" + line)
    with pytest.raises(DataError, match=r"t\.tsv, line 2: expected 'stage<TAB>") as err:
        timings.read_timings(path)
    assert rule in str(err.value)


def test_missing_file_and_no_start(tmp_path):
    with pytest.raises(DataError, match="no timings recorded"):
        timings.last_run(tmp_path / "absent.tsv")
    with pytest.raises(DataError, match="no 'start' line"):
        timings.last_run(_write(tmp_path / "t.tsv", [("setup", 3, "2026-01-01T00:00:00Z")]))


def test_the_makefile_lines_are_what_the_reader_reads(tmp_path):
    """The Makefile's record_time macro, run through make itself, writes lines read_timings accepts."""
    makefile = tmp_path / "Makefile"
    source = (REPO / "Makefile").read_text()
    macro = source[source.index("record_time ="):].split("\n\n")[0].split("\n")
    macro = "\n".join(line for line in macro[:2])  # the two lines of the definition
    makefile.write_text(f"TIMINGS := {tmp_path}/out/t.tsv\n{macro}\n\nall:\n"
                        "\t@start=$$(( $$(date +%s) - 3 )); $(call record_time,book build,$$start)\n")
    subprocess.run(["make", "-s", "-f", str(makefile)], check=True, cwd=tmp_path)
    lines = timings.read_timings(tmp_path / "out" / "t.tsv")
    assert lines["stage"].tolist() == ["book build"] and 3 <= lines["seconds"].iloc[0] <= 5
