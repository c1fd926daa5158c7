"""provenance.json where results are made: each results folder (clapemo.experiments.store), each finished training run
(train), and the book's provenance section reading them back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from clapemo import book, experiments, provenance, train
from clapemo.config import config_hash, load_config, replace
from clapemo.errors import ParameterError
from clapemo.experiments.store import data_provenance
from clapemo.files import file_sha256

REPO = Path(__file__).resolve().parents[1]


def _synth_config(tmp_path):
    return load_config(REPO / "configs" / "table4_ser.yaml", overrides=[
        f"evaluate.results_dir={tmp_path / 'results'}", f"data.synth_root={tmp_path / 'synth'}",
        "evaluate.seeds=[0]", "train.device=cpu"])


def _table4_frames():
    rows = [{"row": "Random", "setting": s, "metric": m, "seed": 0, "value": 0.125, "n_items": 8, "n_classes": 8,
             "status": "ok", "trained_on": "", "run_id": None}
            for s in ("leave_one_out", "finetune") for m in experiments.SER_METRICS]
    items = pd.DataFrame({"row": ["Random"], "setting": ["leave_one_out"], "seed": [0], "item": ["a"],
                          "value": [1.0]})
    return pd.DataFrame(rows), items


def test_cached_writes_provenance_with_commit_config_hash_data_digests_and_generator(tmp_path, monkeypatch):
    cfg = _synth_config(tmp_path)
    read = experiments.TABLE4.corpora_read(cfg)
    assert "synth-ravdess" in read and "synth-4d" in read  # the target, the 5ED and the 4D captions
    manifest = tmp_path / "synth" / cfg.synth.profile / "synth-ravdess" / "manifest.csv"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("utterance_id,path\na,a.wav\n")
    written = []

    def compute():
        return _table4_frames()

    real_write = provenance.write

    def spy(folder, info):  # the order of the files: provenance before results.csv
        written.append((Path(folder) / "results.csv").exists())
        return real_write(folder, info)

    monkeypatch.setattr(provenance, "write", spy)
    experiments.TABLE4.store(cfg, compute, force=False, progress=False)
    assert written == [False]
    folder = experiments.results_dir(cfg, "table4")
    info = provenance.read(folder)
    assert info["config_hash"] == config_hash(cfg) == folder.name
    here = provenance.git_state()
    if here["available"]:
        assert info["git"]["commit"] == here["commit"] and len(info["git"]["commit"]) == 40
    assert info["manifests"] == {"synth-ravdess/manifest.csv": file_sha256(manifest)}
    assert "synth-ravdess" not in info["extra"]["data"]["not_digested"]
    assert "synth-mosei" in info["extra"]["data"]["not_digested"]  # not generated here: named, not hidden
    from clapemo import synth

    assert info["extra"]["synth"] == {"generator_version": synth.GENERATOR_VERSION, "profile": cfg.synth.profile,
                                      "seed": cfg.synth.seed}
    assert set(info["steps_s"]) == {"compute"} and info["steps_s"]["compute"] >= 0
    assert str(tmp_path) not in json.dumps(info)  # no machine path in the record


def test_a_real_data_results_folder_records_no_generator(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "labels.csv").write_text("path,label\na.wav,angry\n")
    cfg = replace(_synth_config(tmp_path), **{"data.source": "real", "data.roots": {"mine": str(folder)},
                                              "evaluate.ser_target": "mine", "train.include_4d": False})
    manifests, extra = data_provenance(cfg, experiments.TABLE4.corpora_read(cfg))
    assert manifests == {"mine/labels.csv": folder / "labels.csv"}
    assert "synth" not in extra and extra["data"]["source"] == "real"


def _clusters(n_classes=3, per_class=8, d=6):
    import numpy as np

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(n_classes), per_class)
    audio = (rng.normal(size=(n_classes, d))[labels] + 0.3 * rng.normal(size=(len(labels), d))).astype("float32")
    return audio, rng.normal(size=(n_classes, d)).astype("float32"), np.arange(len(labels)), labels


def test_a_finished_run_has_provenance_that_resume_and_reuse_ignore(tmp_path, monkeypatch):
    audio, text, clip_index, labels = _clusters()
    cfg = replace(load_config(None), **{"train.epochs": 2, "train.batch_size": 8, "train.projection_dim": 8,
                                        "train.device": "cpu", "train.num_threads": 1,
                                        "train.runs_dir": str(tmp_path / "runs")})
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "r", progress=False,
                               data_digest="d123")
    info = provenance.read(run)
    assert info["config_hash"] == config_hash(cfg) and info["git"]["commit"] == provenance.git_state()["commit"]
    assert set(info["steps_s"]) == {"train", "epochs"} and info["steps_s"]["train"] >= info["steps_s"]["epochs"]
    assert info["extra"] == {"run_id": "r", "data_digest": "d123", "encoder_id": "", "resumed_from_epoch": 0}
    assert info["device"]["type"] == "cpu"
    before = (run / "checkpoint.pt").read_bytes()
    calls = []
    monkeypatch.setattr(provenance, "collect", lambda **kw: calls.append(kw) or {})
    again = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "r",
                                 progress=False)
    assert again == run and calls == [] and (run / "checkpoint.pt").read_bytes() == before  # reused as is
    # the same training in another folder gives the same weights: provenance does not enter the run's state
    other = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "s",
                                 progress=False)
    import torch

    a, b = (train.load_run(p).head.state_dict() for p in (run, other))
    assert all(torch.equal(a[k], b[k]) for k in a) and len(calls) == 1


def _record(commit="a" * 40, torch_version="2.0.0", dirty=False):
    return {"schema": 1, "created_utc": "2025-01-01T00:00:00+00:00",
            "git": {"available": True, "commit": commit, "dirty": dirty, "changed": [], "note": None},
            "python": {"version": "3.11.7", "implementation": "CPython"},
            "packages": {name: "1.0" for name in provenance.NUMERIC_PACKAGES} | {"torch": torch_version},
            "espeak_ng": {"library": "1.52.0", "data_format": "1.48.01"},
            "platform": {"system": "Linux", "machine": "x86_64", "cpu_model": "Test CPU", "cpu_count": 2},
            "threads": {"torch": 1, "torch_interop": 1, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": None},
            "device": {"type": "cpu", "gpu": None}, "steps_s": {"compute": 12.34},
            "manifests": {"synth-ravdess/manifest.csv": "0123456789abcdef" * 4},
            "extra": {"synth": {"generator_version": 2, "profile": "tiny", "seed": 0}}}


def test_book_provenance_shows_each_record_and_says_where_they_differ(tmp_path):
    cfg3 = load_config(REPO / "configs" / "table3_ear.yaml",
                       overrides=[f"evaluate.results_dir={tmp_path / 'results'}"])
    cfg4 = load_config(REPO / "configs" / "table4_ser.yaml",
                       overrides=[f"evaluate.results_dir={tmp_path / 'results'}"])
    cfg2 = load_config(REPO / "configs" / "figure2_prompts.yaml",
                       overrides=[f"evaluate.results_dir={tmp_path / 'results'}"])
    configs = {"Table 3": cfg3, "Table 4": cfg4, "Figure 2": cfg2}
    provenance.write(experiments.results_dir(cfg3, "table3"), _record())
    provenance.write(experiments.results_dir(cfg4, "table4"), _record(commit="b" * 40, torch_version="2.1.0",
                                                                      dirty=True))
    table = book.provenance(configs)
    assert table.loc["commit", "Table 3"] == "a" * 12 and table.loc["commit", "Table 4"] == "b" * 12 + " (dirty)"
    assert table.loc["torch", "Table 4"] == "2.1.0" and table.loc["python", "Table 3"] == "CPython 3.11.7"
    assert table.loc["wall time", "Table 3"] == "compute 12.3 s"
    assert table.loc["data digests", "Table 3"] == "synth-ravdess/manifest.csv 01234567"
    assert table.loc["synthetic generator", "Table 3"] == "version 2, profile tiny, seed 0"
    assert table.loc["threads", "Table 3"] == "torch 1 (inter-op 1); OMP_NUM_THREADS=1"
    assert (table["Figure 2"].loc["commit":] == "not recorded").all()  # no provenance.json in its folder
    assert table.loc["config", "Table 3"] == "table3_ear"
    text = book.provenance(configs, part="agreement").text
    assert text == ("The results differ in commit (uncommitted changes); library versions (torch). Table 4 came "
                    "from a checkout with uncommitted changes. Figure 2: not recorded (results computed before "
                    "provenance was recorded; recompute them to record it).")
    provenance.write(experiments.results_dir(cfg2, "figure2"), _record())
    same = book.provenance({"Table 3": cfg3, "Figure 2": cfg2}, part="agreement").text
    assert same == "All results come from the same commit and environment."
    with pytest.raises(ParameterError, match="part"):
        book.provenance(configs, part="sentence")
