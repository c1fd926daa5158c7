"""The paper's experiments: summaries, paper numbers, claims, run sharing (with a faked pipeline, fast) and each
artefact end to end on the tiny synthetic profile."""

from pathlib import Path

import json

import numpy as np
import yaml
import pandas as pd

import pytest

from clapemo.config import config_hash, load_config, replace, to_dict
from clapemo.emotions import EMOTION_CORPORA, EMOTIONS, PROMPT_WORDS
from clapemo.errors import ConfigError
from clapemo.evaluate import corpus_labels
from clapemo.experiments import (
    TABLE3_ROWS,
    TABLE4_ROWS,
    RunSpec,
    claims,
    ear_table,
    paper_results,
    plot_prompt_analysis,
    prompt_analysis,
    results_dir,
    ser_table,
    side_by_side,
    summarize,
    training_config,
    training_plan,
)

REPO = Path(__file__).resolve().parents[1]
ARTEFACT_CONFIGS = ("table3_ear.yaml", "table4_ser.yaml", "figure2_prompts.yaml")


# ---------------------------------------------------------------------------------------------------------------
# Pure parts
# ---------------------------------------------------------------------------------------------------------------


def test_summarize_mean_sd_t_interval():
    df = pd.DataFrame({"row": ["a"] * 3 + ["b"], "value": [1.0, 2.0, 3.0, 0.5]})
    s = summarize(df, by=["row"]).set_index("row")
    assert s.loc["a", "mean"] == 2.0 and s.loc["a", "sd"] == 1.0 and s.loc["a", "n"] == 3
    half = 4.302652729911275 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert s.loc["a", "ci_low"] == pytest.approx(2 - half) and s.loc["a", "ci_high"] == pytest.approx(2 + half)
    assert s.loc["b", "n"] == 1 and np.isnan(s.loc["b", "sd"]) and np.isnan(s.loc["b", "ci_low"])


def test_paper_results_shapes_and_units():
    paper = paper_results()
    t3, t4, f2 = paper["table3"], paper["table4"], paper["figure2"]
    assert len(t3) == 3 * 5 * 3 and set(t3["row"]) == set(TABLE3_ROWS)
    assert t3["value"].between(0, 1).all()
    got = t3.set_index(["row", "query_kind", "k"])["value"]
    assert got[("4D + [5ED - PA]", "class_label", 1)] == 0.75
    assert got[("4D + [5ED - CL]", "pitch", 1)] == 0.0
    assert set(TABLE4_ROWS) <= set(t4["row"]) and "SoTA" in set(t4["row"])
    cell = t4.set_index(["row", "setting"])["value"]
    assert cell[("Random", "leave_one_out")] == pytest.approx(0.125)
    assert cell[("4D + [5ED - PA]", "finetune")] == pytest.approx(0.7246)
    assert np.isnan(cell[("SoTA", "leave_one_out")])
    assert f2["value"].isna().all() and len(f2) == 12  # bar heights are not in the paper's text
    assert {"t3_pa_best_class_label", "t4_pa_best_finetune", "f2_pa_best_both"} <= set(paper["claims"]["id"])


def test_side_by_side_joins_and_keeps_paper_only_rows():
    ours = pd.DataFrame({"row": ["4D", "Random (draw)"], "setting": ["finetune"] * 2, "metric": ["accuracy"] * 2,
                         "value": [0.5, 0.1]})
    out = side_by_side(summarize(ours, by=["row", "setting", "metric"]), paper_results()["table4"])
    got = out.set_index(["row", "setting"])
    assert got.loc[("4D", "finetune"), "paper"] == pytest.approx(0.685)
    assert got.loc[("4D", "finetune"), "difference"] == pytest.approx(0.5 - 0.685)
    assert np.isnan(got.loc[("Random (draw)", "finetune"), "paper"])
    assert np.isnan(got.loc[("SoTA", "finetune"), "ours_mean"])
    f2 = pd.DataFrame({"corpus": ["synth-ravdess"], "prompt_kind": ["pitch"], "metric": ["accuracy"],
                       "value": [0.3]})
    out = side_by_side(summarize(f2, by=["corpus", "prompt_kind", "metric"]), paper_results()["figure2"])
    assert list(out["corpus"]) == ["ravdess"] and out["paper"].isna().all()  # missing paper rows are dropped


def _table4_with_items(rates: dict, *, n_items: int = 400, seeds=(0, 1, 2)) -> pd.DataFrame:
    """A Table 4 frame whose per-clip outcomes are drawn at known accuracies (same clips for every row)."""
    rng = np.random.default_rng(0)
    rows, items = [], []
    for seed in seeds:
        u = rng.random(n_items)  # one draw per clip and seed, shared by the rows: paired like a real test set
        for (row, setting), rate in rates.items():
            correct = (u < rate).astype(float)
            items.append(pd.DataFrame({"row": row, "setting": setting, "seed": seed,
                                       "item": [f"clip{i}" for i in range(n_items)], "value": correct}))
            rows.append({"row": row, "setting": setting, "metric": "accuracy", "seed": seed,
                         "value": correct.mean(), "status": "ok"})
    df = pd.DataFrame(rows)
    df.attrs["items"] = pd.concat(items, ignore_index=True)
    return df


RATES = {("4D", "leave_one_out"): 0.2, ("5ED - CL", "leave_one_out"): 0.3, ("4D + [5ED - CL]", "leave_one_out"): 0.5,
         ("4D + [5ED - PA]", "leave_one_out"): 0.4, ("4D", "finetune"): 0.6, ("5ED - CL", "finetune"): 0.6,
         ("4D + [5ED - CL]", "finetune"): 0.6, ("4D + [5ED - PA]", "finetune"): 0.7}


def test_claims_verdicts_are_paired_and_decided_by_the_interval():
    got = claims(table4=_table4_with_items(RATES), n_boot=300).set_index("id")
    assert (got["verdict"] == "holds").all()
    finetune = got.loc["t4_pa_best_finetune"]
    assert finetune["difference"] == pytest.approx(0.1, abs=0.02)  # shared draws: exactly the rate gap, up to ties
    assert finetune["ci_low"] > 0 and finetune["ci_high"] > finetune["difference"] > finetune["ci_low"]
    assert 0 < finetune["mdd"] < 0.1 and finetune["n_seeds"] == 3 and finetune["n_items"] == 400
    flipped = {k: 1 - v for k, v in RATES.items()}
    assert claims(table4=_table4_with_items(flipped), n_boot=300).set_index("id").loc[
        "t4_pa_best_finetune", "verdict"] == "does not hold"
    close = dict(RATES) | {("4D + [5ED - PA]", "finetune"): 0.6}  # no difference at all: undecided
    tiny = claims(table4=_table4_with_items(close, n_items=30, seeds=(0,)), n_boot=300).set_index("id")
    assert tiny.loc["t4_pa_best_finetune", "verdict"] == "undecided"
    missing = _table4_with_items({k: v for k, v in RATES.items() if k[0] != "4D"})
    assert claims(table4=missing, n_boot=300).set_index("id").loc[
        "t4_emotion_data_helps_loo", "verdict"] == "not testable (rows not run)"


def test_artefact_configs_share_the_training_sections():
    configs = [load_config(REPO / "configs" / name) for name in ARTEFACT_CONFIGS]
    shared = [{k: v for k, v in to_dict(c).items() if k not in ("name", "evaluate")} for c in configs]
    assert shared[0] == shared[1] == shared[2]
    assert load_config(REPO / "configs" / "tiny.yaml").synth.profile == "tiny"


def test_training_plan_shares_the_4d_run_and_counts():
    config = load_config(REPO / "configs" / "table3_ear.yaml", overrides=["evaluate.seeds=[0]"])
    plan = training_plan(config)
    # table3: 3 (4D shared with table4); table4: 3 more + 4 finetunes; figure2: 6 kinds x 2 corpora
    assert len(plan) == 3 + 3 + 4 + 12
    assert plan["finetune"].sum() == 4
    four_d = plan[plan["run"] == "4D"]
    assert len(four_d) == 1 and "table3:4D" in four_d["used_by"].iloc[0] and "table4:4D" in four_d["used_by"].iloc[0]
    # the training config does not depend on the artefact's name or evaluate section
    spec = RunSpec((), True, "augment")  # 4D only: prompt kind is irrelevant, normalised to class_label
    assert spec.prompt_kind == "class_label"
    a = training_config(config, spec, seed=0)
    b = training_config(replace(config, name="other", **{"evaluate.ks": [1]}), spec, seed=0)
    assert config_hash(a) == config_hash(b)
    with pytest.raises(ConfigError, match="evaluate.ser_target"):
        training_plan(replace(config, **{"evaluate.ser_target": "synth-4d"}), artefacts=["table4"])


# ---------------------------------------------------------------------------------------------------------------
# Orchestration with a faked pipeline (corpora, fit, load_run): fast, independent of the encoders
# ---------------------------------------------------------------------------------------------------------------

WORD_TO_LABEL = {w: label for label, w in PROMPT_WORDS.items()}


class FakeModel:
    """Audio and text both land near the one-hot of their emotion; noise depends on the run (seed)."""

    def __init__(self, seed: int):
        self.seed, self.thresholds = seed, None

    def _noise(self, n: int) -> np.ndarray:
        return 0.6 * np.random.default_rng(self.seed).standard_normal((n, len(EMOTIONS)))

    def embed_manifest(self, manifest):
        x = np.zeros((len(manifest), len(EMOTIONS)))
        x[np.arange(len(manifest)), [EMOTIONS.index(label) for label in manifest["label"]]] = 1
        return x + self._noise(len(manifest))

    def embed_texts(self, texts):
        x = np.zeros((len(texts), len(EMOTIONS)))
        for i, t in enumerate(texts):
            x[i, EMOTIONS.index(WORD_TO_LABEL[t.split()[-1]])] = 1
        return x


@pytest.fixture
def fake_pipeline(monkeypatch, tmp_path):
    from clapemo import corpora, train

    fits = []

    def manifest(names, config, *, split=None):
        rows = []
        for name in [names] if isinstance(names, str) else names:
            labels = corpus_labels(name, four_class_iemocap=config.data.iemocap_four_class)
            for spk in range(4):
                for label in labels:
                    for r in range(3):
                        rows.append({"utterance_id": f"{name}/{spk}-{label}-{r}", "dataset": name,
                                     "speaker": f"{name}-{spk}", "label": label, "r": r,
                                     "split": "test" if spk == 0 else "train"})
        m = pd.DataFrame(rows)
        return m if split is None else m[m["split"] == split].reset_index(drop=True)

    def annotated(names, config, *, split=None, thresholds=None):
        m = manifest(names, config, split=split)
        word = m["label"].map(PROMPT_WORDS)
        level = np.where(m["r"] % 2 == 0, "low", "high")
        return m.assign(class_label=word, pitch=level + " male pitch " + word,
                        intensity=level + " intensity " + word, speech_rate=level + " speech rate " + word,
                        articulation_rate=level + " articulation rate " + word)

    def fit(config, *, progress=True):
        run = tmp_path / "runs" / train.run_id(config, data_digest="fake")
        if not (run / "done").exists():
            fits.append(config.train)
            run.mkdir(parents=True)
            (run / "checkpoint.pt").write_text(str(config.train))
            (run / "config.yaml").write_text(yaml.safe_dump(to_dict(config)))  # as a real run has
            (run / "done").write_text("done")
        return run

    def load_run(run_dir):
        return FakeModel(seed=int(Path(run_dir).name[:8], 16))

    monkeypatch.setattr(corpora, "manifest", manifest)
    monkeypatch.setattr(corpora, "annotated", annotated)
    monkeypatch.setattr(train, "fit", fit)
    monkeypatch.setattr(train, "load_run", load_run)
    config = load_config(REPO / "configs" / "base.yaml", overrides=[
        f"evaluate.results_dir={tmp_path / 'results'}", "evaluate.seeds=[0, 1]", "evaluate.ks=[1, 5]",
        "train.n_workers=1"])
    return config, fits


def test_experiments_with_faked_pipeline(fake_pipeline):
    config, fits = fake_pipeline
    t3 = ear_table(config, progress=False)
    assert len(t3) == 3 * 5 * 2 * 2 and list(t3["row"].unique()) == list(TABLE3_ROWS)
    assert t3["value"].between(0, 1).all() and set(t3["seed"]) == {0, 1}
    assert len(fits) == 3 * 2
    t4 = ser_table(config, progress=False)
    assert len(fits) == 6 + 2 * (3 + 4)  # the 4D run is reused; 4 finetunes per seed
    finetunes = [f for f in fits if f.init_from]
    assert len(finetunes) == 8 and all(f.corpora == ["synth-ravdess"] and not f.include_4d for f in finetunes)
    assert {f.prompt_kind for f in finetunes} == {"class_label", "augment"}
    assert list(dict.fromkeys(t4["row"])) == ["Random", "Random (draw)", *TABLE4_ROWS[1:]]
    assert len(t4) == (len(TABLE4_ROWS) + 1) * 2 * 2 * 2
    assert t4["value"].between(0, 1).all()
    assert (t4[t4["row"] == "Random"]["value"] == 0.125).all()
    trained = t4[~t4["row"].str.startswith("Random") & (t4["metric"] == "accuracy")]
    assert (trained["value"] > 0.3).all()  # the fake model is far better than chance
    f2 = prompt_analysis(config, progress=False)
    assert len(f2) == 2 * 6 * 2 * 2 and f2["value"].between(0, 1).all()
    assert (results_dir(config, "figure2") / "figure.png").is_file()
    for artefact in ("table3", "table4", "figure2"):
        folder = results_dir(config, artefact)
        assert {"results.csv", "summary.csv", "summary.json", "side_by_side.csv", "config.yaml"} <= {
            p.name for p in folder.iterdir()}
    n = len(fits)
    again = ear_table(config, progress=False)  # read back, nothing trained
    assert len(fits) == n
    pd.testing.assert_frame_equal(again, t3)
    verdicts = claims(table3=t3, table4=t4, figure2=f2, n_boot=200)
    assert len(verdicts) == 8 and verdicts["verdict"].isin(["holds", "does not hold", "undecided"]).all()
    assert verdicts["ci_low"].le(verdicts["difference"]).all() and verdicts["mdd"].gt(0).all()


def test_fitting_writes_run_records_and_table3_names_beside_the_runs(fake_pipeline, tmp_path):
    """``clapemo runs`` reads what each run is and who uses it from records, never from a re-derived plan."""
    from clapemo import runs

    config, _ = fake_pipeline
    ear_table(config, progress=False)
    ser_table(config, progress=False)
    runs_dir = tmp_path / "runs"
    names = runs.reproduction_names(runs_dir=runs_dir)
    assert set(names) == {"4d", "cl", "pa", "4d-s1", "cl-s1", "pa-s1"}
    table = runs.list_runs(runs_dir=runs_dir).set_index("name", drop=False)
    assert table.loc["pa", "row"] == "4D + [5ED - PA]" and table.loc["pa", "seed"] == 0
    # the 4D run is shared: Table 3's row, Table 4's leave-one-out row and the parent of its finetune
    assert table.loc["4d", "used_by"] == ("table3:4D; table4:4D:finetune (parent); table4:4D:leave_one_out")
    record = runs.read_run_record(names["cl"])
    assert record["what"] == "4D + " + " + ".join(sorted(
        "synth-" + c for c in EMOTION_CORPORA if c != "iemocap")) + " [CL]"
    finetunes = table[table["finetune_of"] != ""]
    assert len(finetunes) == 8 and all(u.startswith("table4:") and u.endswith(":finetune")
                                      for u in finetunes["used_by"])


def test_the_report_glance_links_each_artefact_and_counts_its_claims(fake_pipeline):
    from clapemo import book
    from clapemo.book.glance import Reproduction

    config, _ = fake_pipeline
    results = {"table3": ear_table(config, progress=False), "table4": ser_table(config, progress=False),
               "figure2": prompt_analysis(config, progress=False)}
    verdicts = claims(**results, n_boot=200)
    glance = Reproduction(configs={k: config for k in results}, results=results, verdicts=verdicts).glance().data
    assert list(glance["artefact"]) == [f'<a href="{n}.html" title="{a}: {b}">{a}</a>' for n, a, b in (
        ("02_ear_table", "Table 3", "emotion audio retrieval"), ("03_ser_table", "Table 4", "speech emotion recognition"),
        ("04_prompt_analysis", "Figure 2", "prompt analysis"))]
    # the paper's best cells come from its data file: P@1 0.75 for PA (Table 3), bars only for Figure 2
    assert glance.loc[0, "paper"] == "4D + [5ED - PA]: 0.75"
    assert glance.loc[2, "paper"] == "bars only (no numbers in the text)"
    for name, text in zip(results, glance["claims holding here"]):
        n = int((verdicts["artefact"] == name).sum())
        assert f" of {n} hold" in text
    not_run = book.not_run_frame("table4", "not run: needs y")
    row = Reproduction(configs={"table4": config}, results={"table4": not_run}, verdicts=None).glance().data
    assert row.loc[0, "ours"] == "not run" and row.loc[0, "claims holding here"] == "not tested"


# ---------------------------------------------------------------------------------------------------------------
# End to end on the tiny synthetic profile (real pipeline)
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("clapemo.synth")
    out = tmp_path_factory.mktemp("tiny")
    return load_config(REPO / "configs" / "tiny.yaml", overrides=[
        f"train.runs_dir={out / 'runs'}", f"evaluate.results_dir={out / 'results'}"])


def test_ser_table_tiny_end_to_end(tiny):
    df = ser_table(tiny, progress=False)
    assert set(df["row"]) == {"Random", "Random (draw)", *TABLE4_ROWS}
    assert len(df) == (len(TABLE4_ROWS) + 1) * 2 * 2
    assert df["value"].between(0, 1).all() and df["value"].notna().all()
    assert set(df["n_classes"]) == {8}


@pytest.mark.slow
def test_ear_table_tiny_end_to_end(tiny):
    df = ear_table(tiny, force=True, progress=False)
    assert len(df) == 3 * 5 * len(tiny.evaluate.ks)
    assert df["value"].between(0, 1).all()
    assert set(df[df["query_kind"] == "class_label"]["n_queries"]) == {4}


@pytest.mark.slow
def test_prompt_analysis_tiny_end_to_end(tiny):
    df = prompt_analysis(tiny, force=True, progress=False)
    assert len(df) == 2 * 6 * 2 and df["value"].between(0, 1).all()
    fig = plot_prompt_analysis(df)
    assert len(fig.axes) == 1


def test_cli_plan_and_run_with_faked_pipeline(fake_pipeline, capsys):
    from clapemo.experiments import cli

    config, fits = fake_pipeline
    assert cli(["all", "--plan", "--config", str(REPO / "configs" / "base.yaml"), "--set", "evaluate.seeds=[0]"]) == 0
    out = capsys.readouterr().out
    assert "# 22 trainings (4 finetunes)" in out and fits == []
    args = ["table4", "--quiet", "--config", str(REPO / "configs" / "base.yaml"),
            "--set", f"evaluate.results_dir={config.evaluate.results_dir}", "--set", "evaluate.seeds=[0]",
            "--set", "train.n_workers=1"]
    assert cli(args) == 0
    out = capsys.readouterr().out
    assert "4D + [5ED - PA]" in out and "t4_pa_best_finetune" in out and "SoTA" in out


def test_evaluate_cli_with_faked_pipeline(fake_pipeline, capsys, monkeypatch):
    from clapemo import train
    from clapemo.evaluate import cli

    config, _ = fake_pipeline
    run = train.fit(config)
    fake = train.load_run(run)
    fake.config = config
    from clapemo import model

    monkeypatch.setattr(model, "load_run", lambda run_dir: fake)
    assert cli([str(run), "--corpus", "synth-ravdess", "--corpus", "synth-iemocap"]) == 0
    out = capsys.readouterr().out
    assert "synth-ravdess" in out and "0.125" in out and "0.250" in out
    # EAR on the command line: the same numbers as the library's protocol on the same collection
    from clapemo.evaluate import collection, ear

    assert cli([str(run), "--ear", "synth-iemocap", "--k", "1", "5", "--kinds", "class_label", "pitch",
                "--json"]) == 0
    got = pd.DataFrame(json.loads(capsys.readouterr().out)["ear"])
    want = ear(fake, collection("synth-iemocap", config, thresholds=fake.thresholds),
               kinds=["class_label", "pitch"], ks=[1, 5])
    assert len(got) == 4 and set(got["collection"]) == {"synth-iemocap"}
    assert np.allclose(got["precision"], want["precision"]) and list(got["n_queries"]) == list(want["n_queries"])
    assert cli([str(run), "--ear", "synth-iemocap"]) == 0
    assert "EAR (Precision@K)" in capsys.readouterr().out
    for bad, message in ((["--k", "0"], "cut-off"), (["--kinds", "loudness"], "unknown prompt kind"), ([], "nothing")):
        with pytest.raises(SystemExit):
            cli([str(run), *(["--ear", "synth-iemocap"] if bad else []), *bad])
        assert message in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------------
# Which corpora an experiment uses (real corpora a user actually has)
# ---------------------------------------------------------------------------------------------------------------


def _real(tmp_path, roots, **sets):
    items = [f"data.roots={json.dumps(roots)}", "data.source=real", *[f"{k}={v}" for k, v in sets.items()]]
    return load_config(REPO / "configs" / "table4_ser.yaml", overrides=items)


def test_corpora_of_an_experiment_follow_what_the_config_provides(tmp_path):
    from clapemo.experiments import (NotRun, corpora_used, emotion_corpora, missing_paper_corpora,
                                     provided_emotion_corpora)

    synth = load_config(None)
    assert provided_emotion_corpora(synth) == [f"synth-{n}" for n in EMOTION_CORPORA]
    assert emotion_corpora(synth, target="synth-ravdess") == [f"synth-{n}" for n in EMOTION_CORPORA
                                                               if n != "ravdess"]
    config = _real(tmp_path, {"ravdess": "/r", "cremad": "/c", "mine": "/m"}, **{"evaluate.ser_target": "ravdess"})
    assert provided_emotion_corpora(config) == ["cremad", "ravdess", "mine"]
    assert emotion_corpora(config, target="ravdess") == ["cremad", "mine"]
    assert missing_paper_corpora(config) == ["mosei", "iemocap", "meld", "mosi"]
    chosen = replace(config, **{"evaluate.emotion_corpora": ["cremad"]})
    assert emotion_corpora(chosen, target="ravdess") == ["cremad"]
    with pytest.raises(ConfigError, match="evaluate.emotion_corpora"):
        emotion_corpora(replace(config, **{"evaluate.emotion_corpora": ["nosuch"]}))
    used = corpora_used(config, artefacts=["table4", "table3"]).set_index("artefact")
    assert used.loc["table4", "emotion_corpora"] == "cremad, mine" and used.loc["table4", "caption_corpora"] == "none"
    assert used.loc["table3", "status"].startswith("not run: needs corpus 'iemocap'")
    with pytest.raises(NotRun, match="data.roots.iemocap"):
        ear_table(config, progress=False)
    with pytest.raises(ConfigError, match="evaluate.ser_target"):
        training_plan(replace(config, **{"evaluate.ser_target": "nosuch"}), artefacts=["table4"])


def test_rows_needing_4d_are_not_run_and_no_4d_counterparts_are_added(fake_pipeline):
    from clapemo.experiments import NO_4D

    config, fits = fake_pipeline
    no4d = replace(config, **{"train.include_4d": False})
    plan = training_plan(no4d, artefacts=["table3", "table4"])
    assert not plan["run"].str.contains("4D").any()
    t4 = ser_table(no4d, progress=False)
    status = t4.drop_duplicates("row").set_index("row")["status"]
    assert status["4D"] == NO_4D and status["4D + [5ED - PA]"] == NO_4D and status["5ED - PA"] == "ok"
    assert t4[t4["status"] != "ok"]["value"].isna().all() and t4[t4["status"] == "ok"]["value"].notna().all()
    assert all(not f.include_4d for f in fits)
    trained = t4[t4["status"] == "ok"].dropna(subset=["run_id"])
    assert trained["trained_on"].str.contains("synth-cremad").all()
    t3 = ear_table(no4d, progress=False)
    assert set(t3[t3["status"] == "ok"]["row"]) == {"5ED - CL", "5ED - PA"}
    verdicts = claims(table3=t3, table4=t4, n_boot=200).set_index("id")["verdict"]
    assert verdicts["t4_emotion_data_helps_loo"] == "not testable (rows not run)"


def test_cli_defaults_to_the_artefact_config_and_an_overlay_means_the_same_runs(tmp_path, capsys):
    from clapemo.config import resolve_config
    from clapemo.experiments import cli

    overlay = tmp_path / "my.yaml"
    overlay.write_text("train:\n  epochs: 3\nevaluate:\n  seeds: [0]\n")
    assert cli(["figure2", "--plan", "--overlay", str(overlay)]) == 0
    out = capsys.readouterr().out
    expected = resolve_config(REPO / "configs" / "figure2_prompts.yaml", overlays=[overlay])
    ids = training_plan(expected, artefacts=["figure2"])["run_id"]
    assert all(run_id in out for run_id in ids) and "# 12 trainings" in out
