"""Every config example in the README and the book is executed: each YAML block is a valid overlay (or config)
and each `clapemo experiment ... --plan` line runs."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from clapemo.config import artefact_config_path, read_overlay, resolve_config

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", REPO / "book" / "real_data.md"]


def _blocks(path: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_yaml_example_is_a_valid_overlay_over_every_artefact(doc, tmp_path):
    blocks = _blocks(doc, "yaml")
    assert blocks, f"{doc.name} has no yaml example"
    for i, block in enumerate(blocks):
        file = tmp_path / f"example{i}.yaml"
        file.write_text(block)
        assert isinstance(yaml.safe_load(block), dict)
        read_overlay(file)
        for artefact in ("table3", "table4", "figure2"):
            resolve_config(artefact_config_path(artefact), overlays=[file])


def test_the_partial_corpora_plan_of_the_book_runs(tmp_path, capsys):
    from clapemo.experiments import cli

    from tests.fake_corpora import make_cremad, make_ravdess

    block = next(b for b in _blocks(REPO / "book" / "real_data.md", "yaml") if "include_4d: false" in b)
    overlay = yaml.safe_load(block)
    assert set(overlay["data"]["roots"]) == {"ravdess", "cremad"}
    # the page's roots are placeholders: a plan of missing folders is an error naming them (exit 1) ...
    (tmp_path / "partial.yaml").write_text(block)
    assert cli(["all", "--overlay", str(tmp_path / "partial.yaml"), "--plan"]) == 1
    assert "data.roots.ravdess = '/corpora/RAVDESS': no such folder" in capsys.readouterr().err
    # ... and with the two corpora in place (fake trees) it plans what the page describes
    overlay["data"]["roots"] = {"ravdess": str(make_ravdess(tmp_path / "RAVDESS")),
                                "cremad": str(make_cremad(tmp_path / "CREMA-D"))}
    (tmp_path / "partial.yaml").write_text(yaml.safe_dump(overlay))
    commands = [line.split("#")[0].split() for b in _blocks(REPO / "book" / "real_data.md", "bash")
                for line in b.splitlines() if "--plan" in line and "partial.yaml" in line]
    assert commands
    for words in commands:
        assert words[:2] == ["clapemo", "experiment"]
        args = [str(tmp_path / w) if w.endswith(".yaml") else w for w in words[2:]]
        assert cli(args) == 0
    out = capsys.readouterr().out
    # what the page says the plan shows: every 4D row not run, the 5ED rows instead (CL and PA still compared),
    # Figure 2 on each corpus alone, Table 3 over CREMA-D trained on RAVDESS, Table 4 on RAVDESS trained on CREMA-D
    for artefact in ("table3", "table4"):
        for row in ("4D", "4D + [5ED - CL]", "4D + [5ED - PA]"):
            assert f"# {artefact} row '{row}': not run: no 4D caption corpora" in out
    for used_by in ("table3:5ED - CL", "table3:5ED - PA", "table4:5ED - CL:leave_one_out",
                    "table4:5ED - PA:finetune", *(f"figure2:{c}:{k}" for c in ("ravdess", "cremad")
                                                  for k in ("pitch", "intensity", "speech rate",
                                                            "articulation rate"))):
        assert used_by in out, used_by
    assert "ravdess [CL]" in out and "cremad [PA] -> finetune ravdess [PA]" in out and "4D [" not in out
    assert "# 70 trainings (10 finetunes)" in out
