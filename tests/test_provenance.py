"""clapemo.provenance: what collect records, atomic write/read, and the comparison of results folders."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from clapemo import provenance
from clapemo.config import config_hash, load_config
from clapemo.errors import DataError
from clapemo.files import file_sha256


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_collect_records_config_hash_manifest_digests_steps_and_versions(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("utterance_id,path\na,b\n")
    cfg = load_config(None, overrides=["train.device=cpu"])
    info = provenance.collect(config=cfg, data_manifests=[manifest], steps={"train": 1.234, "eval": 2})
    assert info["config_hash"] == config_hash(cfg) and info["config_name"] == cfg.name
    assert info["manifests"] == {str(manifest): file_sha256(manifest)}
    assert info["steps_s"] == {"train": 1.23, "eval": 2.0}
    assert info["device"]["type"] == "cpu" and info["device"]["requested"] == "cpu"
    import numpy
    import torch

    assert info["packages"]["numpy"] == numpy.__version__
    assert info["packages"]["torch"] == torch.__version__
    assert set(info["packages"]) == set(provenance.NUMERIC_PACKAGES)
    assert info["threads"]["torch"] == torch.get_num_threads()
    assert info["platform"]["cpu_count"] >= 1 and info["platform"]["cpu_model"]
    assert info["python"]["version"].count(".") == 2
    json.dumps(info)  # JSON-ready


def test_collect_without_config_and_a_missing_manifest_is_named(tmp_path):
    info = provenance.collect()
    assert info["config_hash"] is None and info["steps_s"] == {} and info["manifests"] == {}
    with pytest.raises(DataError, match="absent.csv"):
        provenance.collect(data_manifests=[tmp_path / "absent.csv"])


def test_espeak_ng_versions_are_read_from_the_wheel():
    pytest.importorskip("espeakng_loader")
    state = provenance.espeak_ng_state()
    assert state["library"].count(".") == 2  # e.g. 1.52.0
    major, minor, patch = state["data_format"].split(".")  # e.g. 1.48.01
    assert major == "1" and len(minor) == len(patch) == 2
    assert len(state["phondata_sha256"]) == 16


def test_git_state_of_a_clean_then_dirty_checkout(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "first")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True,
                          check=True).stdout.strip()
    clean = provenance.git_state(tmp_path)
    assert clean == {"available": True, "commit": head, "dirty": False, "changed": [], "note": None}
    (tmp_path / "a.txt").write_text("two\n")
    (tmp_path / "new.py").write_text("")
    dirty = provenance.git_state(tmp_path)
    assert dirty["dirty"] is True and sorted(dirty["changed"]) == ["a.txt", "new.py"]


def test_git_state_outside_a_checkout_and_without_git(tmp_path, monkeypatch):
    outside = provenance.git_state(tmp_path)
    assert outside["available"] is False and outside["commit"] is None and "not a git checkout" in outside["note"]
    monkeypatch.setattr(provenance.shutil, "which", lambda name: None)
    missing = provenance.git_state(tmp_path)
    assert missing["available"] is False and missing["note"] == "git is not installed"


def test_write_is_atomic_json_and_read_round_trips(tmp_path):
    info = provenance.collect(steps={"x": 1})
    path = provenance.write(tmp_path / "results", info)
    assert path == tmp_path / "results" / "provenance.json"
    assert provenance.read(tmp_path / "results") == json.loads(json.dumps(info))
    assert provenance.read(path) == provenance.read(tmp_path / "results")
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["provenance.json"]  # no temporary left


def test_read_names_a_missing_or_broken_file(tmp_path):
    with pytest.raises(DataError, match="cannot be read"):
        provenance.read(tmp_path)
    (tmp_path / "provenance.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        provenance.read(tmp_path)


def _record(**changes):
    info = {"git": {"available": True, "commit": "abc", "dirty": False, "changed": [], "note": None},
            "python": {"version": "3.11.7"}, "packages": {"torch": "2.13.0", "numpy": "2.4.6"},
            "threads": {"torch": 1}, "device": {"type": "cpu", "gpu": None}, "steps_s": {"train": 3.0},
            "config_hash": "h1"}
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        info[section] = {**info[section], key: value}
    return info


def test_differences_name_commit_and_package_fields_and_ignore_timings():
    same = provenance.differences({"a": _record(), "b": _record(steps_s__train=99.0)})
    assert len(same) == 0
    assert provenance.summary(same) == "All results come from the same commit and environment."
    diff = provenance.differences({"a": _record(), "b": _record(git__commit="def", packages__torch="2.14.1"),
                                   "c": _record(git__changed=["x.py"])})
    assert list(diff.index) == ["git.commit", "packages.torch"]  # the changed-file list is not compared
    assert diff.loc["git.commit"].tolist() == ["abc", "def", "abc"]
    assert diff.loc["packages.torch"].tolist() == ["2.13.0", "2.14.1", "2.13.0"]
    assert provenance.summary(diff) == "The results differ in commit; library versions (torch)."


def test_differences_of_threads_and_device_and_absent_fields():
    diff = provenance.differences({"a": _record(), "b": _record(threads__torch=2, packages__scipy="1.17.1")})
    assert list(diff.index) == ["packages.scipy", "threads.torch"]
    assert diff.loc["packages.scipy"].tolist() == [None, "1.17.1"]
    assert provenance.summary(diff) == "The results differ in library versions (scipy); threads.torch."


def test_compare_folders_reads_each_and_flags_a_folder_without_provenance(tmp_path):
    for name, info in (("one", _record()), ("two", _record(git__dirty=True))):
        provenance.write(tmp_path / name, info)
    (tmp_path / "old").mkdir()
    diff = provenance.compare_folders({"one": tmp_path / "one", "two": tmp_path / "two", "old": tmp_path / "old"})
    assert diff.loc["git.dirty"].tolist()[:2] == [False, True]
    assert diff.loc["provenance"].tolist() == [None, None, "missing"]
    text = provenance.summary(diff)
    assert "no provenance record" in text and "uncommitted changes" in text
    by_path = provenance.compare_folders([tmp_path / "one", tmp_path / "two"])
    assert list(by_path.columns) == [str(tmp_path / "one"), str(tmp_path / "two")]
