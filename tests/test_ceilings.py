"""Tests of clapemo.book.ceilings: the ceilings table beside Table 4 / Figure 2 on the tiny synthetic benchmark
(its rows, accuracies in [0, 1], the oracle at least chance, deterministic probes, the cache reused), the chapter's
best trained model read from a result frame of known answer, and a real-data config without oracle columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clapemo import corpora, experiments, probe
from clapemo import encoders as E
from clapemo.book import ceilings as C
from clapemo.book.notes import Note, not_run_frame
from clapemo.config import load_config, resolve_config
from clapemo.errors import ParameterError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("clapemo.synth")
    out = tmp_path_factory.mktemp("ceilings")
    return load_config(REPO / "configs" / "tiny.yaml", overrides=[
        f"train.runs_dir={out / 'runs'}", f"evaluate.results_dir={out / 'results'}"])


def _labels(config) -> dict[str, str]:
    return {k: v.format(audio=config.encoders.audio) for k, v in C.CEILING_ROWS.items()}


def test_table4_ceilings_on_tiny_rows_range_oracle_and_cache(tiny, monkeypatch):
    table = C.ceilings_table(tiny, artefact="table4", force=True)
    labels = _labels(tiny)
    assert list(table.index) == list(labels.values())
    assert list(table.columns) == ["synth-ravdess", "note"]
    probes = table.loc[[labels[k] for k in ("audio", "audio_centred", "properties", "properties_z", "oracle")],
                       "synth-ravdess"]
    assert probes.notna().all() and probes.between(0, 1).all()
    chance = table.loc[labels["chance"], "synth-ravdess"]
    assert chance == pytest.approx(1 / 8)  # RAVDESS: 8 classes
    assert table.loc[labels["oracle"], "synth-ravdess"] >= chance
    assert np.isnan(table.loc[labels["best_trained"], "synth-ravdess"])  # no results given
    assert set(table.attrs["probes"]["n_train_speakers"]) == {1}  # the tiny twin: one speaker per split

    path = experiments.results_dir(tiny, "table4") / "ceilings.csv"
    assert path.is_file()
    stamp = path.stat().st_mtime_ns

    def no_probe(**_):
        raise AssertionError("the probe ran although ceilings.csv holds its rows")

    monkeypatch.setattr(probe, "audio_probe", no_probe)
    again = C.ceilings_table(tiny, artefact="table4")  # warm: read from the file
    pd.testing.assert_frame_equal(again, table)
    assert path.stat().st_mtime_ns == stamp
    monkeypatch.undo()

    cached = pd.read_csv(path)
    stale = cached.assign(config_hash="000000000000")
    path.write_text(stale.to_csv(index=False))
    recomputed = C.ceilings_table(tiny, artefact="table4")  # another config's file: recomputed, same numbers
    pd.testing.assert_frame_equal(recomputed, table)  # and deterministic
    assert set(pd.read_csv(path, dtype={"config_hash": str})["config_hash"]) != {"000000000000"}


def _table4_results(target_n_classes: int = 8) -> pd.DataFrame:
    rows = []
    values = {("Random", "leave_one_out"): [0.125, 0.125], ("Random (draw)", "finetune"): [0.9, 0.9],
              ("4D", "leave_one_out"): [0.2, 0.3], ("4D + [5ED - PA]", "finetune"): [0.4, 0.5],
              ("5ED - CL", "finetune"): [float("nan"), float("nan")]}
    for (row, setting), vs in values.items():
        for seed, v in enumerate(vs):
            for metric, value in (("accuracy", v), ("unweighted_accuracy", 0.99)):
                rows.append({"row": row, "setting": setting, "metric": metric, "seed": seed, "value": value,
                             "n_items": 8, "n_classes": target_n_classes,
                             "status": "not run: x" if v != v else "ok", "trained_on": "", "run_id": None})
    return pd.DataFrame(rows)


def test_best_trained_model_is_read_from_the_results(tiny):
    labels = _labels(tiny)
    table = C.ceilings_table(tiny, artefact="table4", results=_table4_results())
    assert table.loc[labels["best_trained"], "synth-ravdess"] == pytest.approx(0.45)  # references left out
    assert table.loc[labels["best_trained"], "note"] == "4D + [5ED - PA], finetune (mean of 2 seeds)"
    note = C.ceilings_table(tiny, artefact="table4", results=not_run_frame("table4", "not run: needs y"))
    assert note.loc[labels["best_trained"], "note"] == "not run: needs y"
    styled = C.ceilings_table(tiny, artefact="table4", results=_table4_results(), styled=True)
    assert styled.data.loc[labels["best_trained"], "synth-ravdess"] == "45.0"
    assert "Table 4" in styled.caption


def test_figure2_ceilings_per_corpus_with_best_prompt_kind(tiny):
    labels = _labels(tiny)
    rows = [{"corpus": c, "prompt_kind": k, "metric": "accuracy", "seed": 0, "value": v, "n_items": 4,
             "n_classes": n, "status": "ok", "trained_on": "", "run_id": None}
            for c, n, kinds in (("synth-ravdess", 8, {"pitch": 0.3, "augment": 0.4}),
                                ("synth-cremad", 6, {"pitch": 0.6, "augment": 0.2}))
            for k, v in kinds.items()]
    table = C.ceilings_table(tiny, artefact="figure2", results=pd.DataFrame(rows))
    assert list(table.columns) == ["synth-ravdess", "synth-cremad", "note"]
    assert table.loc[labels["best_trained"], ["synth-ravdess", "synth-cremad"]].tolist() == [0.4, 0.6]
    assert table.loc[labels["best_trained"], "note"] == ("synth-ravdess: PA prompts (mean of 1 seed); "
                                                         "synth-cremad: pitch prompts (mean of 1 seed)")
    assert table.loc[labels["chance"], "synth-cremad"] == pytest.approx(1 / 6)  # the chapter's label set
    assert (experiments.results_dir(tiny, "figure2") / "ceilings.csv").is_file()
    with pytest.raises(ParameterError, match="artefact"):
        C.ceilings_table(tiny, artefact="table3")


LABELS = ("angry", "sad", "happy", "neutral")


def _real_corpus() -> pd.DataFrame:
    """A real-layout manifest (no generator columns): label directions in e0..e3 (embeddings and properties)."""
    rng = np.random.default_rng(0)
    rows = []
    for s in range(6):
        for i, lab in enumerate(LABELS):
            for k in range(3):
                v = 3.0 * np.eye(4)[i] + 0.3 * rng.standard_normal(4)
                rows.append({"utterance_id": f"ravdess/s{s}/{lab}{k}", "path": f"s{s}_{lab}{k}.wav",
                             "dataset": "ravdess", "speaker": f"s{s}", "sex": "female" if s % 2 else "male",
                             "label": lab, "split": "test" if s >= 4 else "train",
                             **{f"e{j}": v[j] for j in range(4)}})
    return pd.DataFrame(rows)


def test_real_data_config_has_no_oracle(monkeypatch, tmp_path):
    m = _real_corpus()

    def manifest(name, config, *, split=None):
        return m if split is None else m[m["split"] == split].reset_index(drop=True)

    def embed_audio(table, config=None, *, progress=True):
        return m.set_index("utterance_id").loc[table["utterance_id"], ["e0", "e1", "e2", "e3"]].to_numpy()

    def with_features(table, config):
        out = table.copy()
        for j, col in enumerate(probe.PROBE_PROPERTIES):
            out[col] = table[f"e{j}"]
        return out.assign(error=None)

    monkeypatch.setattr(corpora, "manifest", manifest)
    monkeypatch.setattr(corpora, "with_features", with_features)
    monkeypatch.setattr(E, "embed_audio", embed_audio)
    (tmp_path / "ravdess").mkdir()
    (tmp_path / "ravdess" / "Actor_01").mkdir()  # a root that exists (the manifest itself is faked above)
    config = resolve_config(None, overrides=["data.source=real", f"data.roots.ravdess={tmp_path / 'ravdess'}",
                                             f"evaluate.results_dir={tmp_path / 'results'}"])
    labels = _labels(config)
    table = C.ceilings_table(config, artefact="table4")
    assert list(table.columns) == ["ravdess", "note"]
    assert np.isnan(table.loc[labels["oracle"], "ravdess"])
    assert table.loc[labels["oracle"], "note"] == C.NOT_AVAILABLE
    assert table.loc[labels["audio"], "ravdess"] == 1.0  # the label directions are in the embeddings
    assert table.loc[labels["chance"], "ravdess"] == pytest.approx(1 / 4)  # no results: the probe's classes
    assert "oracle" not in set(table.attrs["probes"]["key"])
    styled = C.ceilings_table(config, artefact="table4", styled=True)
    assert styled.data.loc[labels["oracle"], "ravdess"] == C.NOT_AVAILABLE
    missing = resolve_config(None, overrides=["data.source=real", f"evaluate.results_dir={tmp_path / 'r2'}"])
    assert isinstance(C.ceilings_table(missing, artefact="table4"), Note)  # no RAVDESS root: a note
