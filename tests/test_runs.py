"""clapemo.runs: the run table, the names of the last reproduction's Table 3 models, and --run resolution."""

import dataclasses
import json
import os

import numpy as np
import pytest

from clapemo import experiments, runs, train
from clapemo.config import EvaluateConfig, config_hash, load_config, replace
from clapemo.errors import ParameterError


def _embeddings(n=12, d_audio=8, d_text=6, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    return (rng.normal(size=(n, d_audio)).astype(np.float32), rng.normal(size=(3, d_text)).astype(np.float32),
            np.arange(n), labels)


def base_config(tmp_path, **changes):
    settings = {"train.epochs": 1, "train.batch_size": 4, "train.projection_dim": 8, "train.device": "cpu",
                "train.num_threads": 1, "train.runs_dir": str(tmp_path / "runs"), "name": "run"}
    settings.update(changes)
    return replace(load_config(None), **settings)


def table3_config(base, row, seed):
    """The training config of a Table 3 row, as clapemo.experiments.training_config builds it."""
    eds = sorted(experiments.emotion_corpora(base, target="synth-iemocap"))
    corpora, kind = {"4D": ([], "class_label"), "4D + [5ED - CL]": (eds, "class_label"),
                     "4D + [5ED - PA]": (eds, "augment")}[row]
    cfg = replace(base, **{"train.corpora": corpora, "train.include_4d": True, "train.prompt_kind": kind,
                           "train.seed": seed})
    return dataclasses.replace(cfg, evaluate=EvaluateConfig())


def make_run(cfg, *, suffix="-dfeedbeef00", finished_at=None):
    folder = cfg.train.runs_dir + "/" + config_hash(cfg) + suffix
    run = train.fit_embeddings(*_embeddings(), config=cfg, run_dir=folder, progress=False)
    if finished_at is not None:
        os.utime(run / "done", (finished_at, finished_at))
    return run


def record(run, row, seed):
    """What the experiments write beside a Table 3 run (clapemo.experiments.fit_plan)."""
    runs.write_run_record(run, what=row, seed=seed, uses=[f"table3:{row}"])
    return run


@pytest.fixture(scope="module")
def reproduction(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("repro")
    base = base_config(tmp)
    older = base_config(tmp, **{"train.learning_rate": 5e-4})  # an earlier reproduction with another recipe
    made = {}
    for row in ("4D", "4D + [5ED - CL]", "4D + [5ED - PA]"):
        made[("old", row)] = record(make_run(table3_config(older, row, 0)), row, 0)
    runs.write_names(tmp / "runs", {runs.ROW_NAMES[row]: made[("old", row)] for row in runs.ROW_NAMES
                                    if ("old", row) in made})
    for row in ("4D", "4D + [5ED - CL]", "4D + [5ED - PA]"):
        made[(row, 0)] = record(make_run(table3_config(base, row, 0)), row, 0)
    made[("4D + [5ED - PA]", 1)] = record(make_run(table3_config(base, "4D + [5ED - PA]", 1)), "4D + [5ED - PA]", 1)
    # the newer reproduction's names replace the older one's
    runs.write_names(tmp / "runs", {"4d": made[("4D", 0)], "cl": made[("4D + [5ED - CL]", 0)],
                                    "pa": made[("4D + [5ED - PA]", 0)], "pa-s1": made[("4D + [5ED - PA]", 1)]})
    made["other"] = make_run(replace(base, **{"train.corpora": ["synth-ravdess"], "train.include_4d": False}))
    made["seed9"] = make_run(table3_config(base, "4D + [5ED - PA]", 9))  # trained by hand: no record
    return tmp / "runs", made


def test_names_point_at_the_newest_reproduction(reproduction):
    runs_dir, made = reproduction
    names = runs.reproduction_names(runs_dir=runs_dir)
    assert names == {"4d": made[("4D", 0)], "cl": made[("4D + [5ED - CL]", 0)], "pa": made[("4D + [5ED - PA]", 0)],
                     "pa-s1": made[("4D + [5ED - PA]", 1)]}


def test_list_runs_describes_each_run(reproduction):
    runs_dir, made = reproduction
    full = runs.list_runs(runs_dir=runs_dir)
    assert len(full) == 9 and tuple(full.columns) == runs.RUN_COLUMNS
    named = full["name"].notna()
    assert list(full["name"][named]) == ["4d", "cl", "pa", "pa-s1"] and named.iloc[:4].all()  # named ones first
    assert list(full["run_id"][~named]) == sorted(full["run_id"][~named])
    table = full.set_index("run_id")
    pa = table.loc[made[("4D + [5ED - PA]", 0)].name]
    assert pa["name"] == "pa" and pa["row"] == "4D + [5ED - PA]" and pa["prompt_kind"] == "augment"
    assert pa["include_4d"] and pa["seed"] == 0 and pa["epochs"] == 1 and pa["epochs_done"] == 1
    assert "synth-iemocap" not in pa["corpora"] and "synth-ravdess" in pa["corpora"]
    assert np.isfinite(pa["train_loss"]) and 0 <= pa["train_accuracy"] <= 1 and pa["profile"] == "default"
    assert pa["used_by"] == "table3:4D + [5ED - PA]"
    old = table.loc[made[("old", "4D + [5ED - PA]")].name]
    assert old["row"] == "4D + [5ED - PA]" and old["name"] is None  # a row, but not the last one
    other = table.loc[made["other"].name]
    assert other["row"] is None and other["corpora"] == "synth-ravdess" and not other["include_4d"]
    assert table.loc[made["seed9"].name]["row"] is None and table.loc[made["seed9"].name]["used_by"] == ""


def test_records_gather_every_use_and_refuse_a_folder_that_is_no_run(tmp_path):
    run = make_run(table3_config(base_config(tmp_path), "4D", 0))
    runs.write_run_record(run, what="4D", seed=0, uses=["table3:4D"])
    runs.write_run_record(run, what="4D", seed=0, uses=["table4:4D:leave_one_out", "table3:4D"])
    assert runs.read_run_record(run)["uses"] == ["table3:4D", "table4:4D:leave_one_out"]
    with pytest.raises(ParameterError, match="not a run folder"):
        runs.write_run_record(tmp_path, what="x", seed=0, uses=[])
    (run / runs.RUN_RECORD).write_text("{not json")
    assert runs.read_run_record(run) is None  # unreadable: listed without uses, never a crash
    assert runs.list_runs(runs_dir=tmp_path / "runs")["used_by"].tolist() == [""]


def test_names_of_a_deleted_run_are_dropped(tmp_path):
    import shutil

    run = make_run(table3_config(base_config(tmp_path), "4D", 0))
    runs.write_names(tmp_path / "runs", {"4d": run})
    assert runs.reproduction_names(runs_dir=tmp_path / "runs") == {"4d": run}
    shutil.rmtree(run)
    assert runs.reproduction_names(runs_dir=tmp_path / "runs") == {}


def test_unfinished_run_is_listed_but_never_named(tmp_path):
    base = base_config(tmp_path)
    run = make_run(table3_config(base, "4D", 0))
    runs.write_names(tmp_path / "runs", {"4d": run})
    (run / "done").unlink()
    table = runs.list_runs(runs_dir=tmp_path / "runs")
    assert list(table["finished"]) == [False] and runs.reproduction_names(runs_dir=tmp_path / "runs") == {}


def test_resolve_by_name_id_prefix_and_path(reproduction):
    runs_dir, made = reproduction
    pa = made[("4D + [5ED - PA]", 0)]
    (runs_dir / runs.NAMES_FILE).chmod(0)  # a full run id is found without reading the names
    try:
        if os.geteuid() != 0:
            assert runs.resolve_run(pa.name, runs_dir=runs_dir) == runs_dir / pa.name
    finally:
        (runs_dir / runs.NAMES_FILE).chmod(0o644)
    assert runs.resolve_run("pa", runs_dir=runs_dir) == pa
    assert runs.resolve_run(pa.name, runs_dir=runs_dir) == runs_dir / pa.name
    assert runs.resolve_run(pa.name[:10], runs_dir=runs_dir) == runs_dir / pa.name
    assert runs.resolve_run(str(pa), runs_dir="/nonexistent") == pa
    assert runs.load("cl", runs_dir=runs_dir).run_dir == made[("4D + [5ED - CL]", 0)]


def test_resolve_errors_name_the_rule(reproduction, tmp_path):
    runs_dir, _ = reproduction
    with pytest.raises(ParameterError, match="known names: 4d, cl, pa"):
        runs.resolve_run("nope", runs_dir=runs_dir)
    ids = sorted(p.name for p in runs_dir.iterdir())
    shared = os.path.commonprefix(ids[:2])
    if shared:  # two run ids sharing a first character: the prefix is ambiguous
        with pytest.raises(ParameterError, match="is a prefix of"):
            runs.resolve_run(shared, runs_dir=runs_dir)
    # an ambiguous prefix built on purpose
    (tmp_path / "r" / "abc1").mkdir(parents=True)
    (tmp_path / "r" / "abc2").mkdir()
    for name in ("abc1", "abc2"):
        (tmp_path / "r" / name / "config.yaml").write_text("name: run\n")
    with pytest.raises(ParameterError, match="prefix of 2 runs"):
        runs.resolve_run("abc", runs_dir=tmp_path / "r")
    assert runs.resolve_run("abc2", runs_dir=tmp_path / "r") == tmp_path / "r" / "abc2"
    with pytest.raises(ParameterError):
        runs.resolve_run("  ", runs_dir=runs_dir)


def test_cli_table_and_json(reproduction, capsys):
    runs_dir, made = reproduction
    assert runs.cli(["--runs-dir", str(runs_dir)]) == 0
    out = capsys.readouterr().out
    assert f"pa={made[('4D + [5ED - PA]', 0)].name}" in out and "9 runs" in out
    assert runs.cli(["--runs-dir", str(runs_dir), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in records} >= {"pa", "cl", "4d", "pa-s1"}


def test_cli_on_an_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert runs.cli(["--runs-dir", str(tmp_path / "empty")]) == 0
    assert "no runs" in capsys.readouterr().out


def test_a_missing_runs_dir_is_an_error(tmp_path, capsys):
    """``--runs-dir /no/such`` exited 0 with "no runs": a typo looked like an empty folder."""
    from clapemo.cli import main

    with pytest.raises(ParameterError, match="--runs-dir .*none.* is no such folder"):
        runs.cli(["--runs-dir", str(tmp_path / "none")])
    assert main(["runs", "--runs-dir", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["runs", "--runs-dir", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="runs_dir = .*none.* does not exist"):
        runs.resolve_run("pa", runs_dir=tmp_path / "none")


def test_a_folder_named_like_a_run_name_never_shadows_it(reproduction, tmp_path, monkeypatch):
    """A folder ``pa/`` in the working directory (here even with a config.yaml) was taken for ``--run pa``."""
    runs_dir, made = reproduction
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pa").mkdir()
    (tmp_path / "pa" / "config.yaml").write_text("name: my own project\n")
    assert runs.resolve_run("pa", runs_dir=runs_dir) == made[("4D + [5ED - PA]", 0)]
    assert runs.resolve_run("./pa", runs_dir=runs_dir) == type(tmp_path)("pa")  # a path: the folder itself
    (tmp_path / "notarun").mkdir()
    with pytest.raises(ParameterError, match="is a path but not a run folder .it holds no config.yaml"):
        runs.resolve_run("./notarun", runs_dir=runs_dir)
    with pytest.raises(ParameterError, match="is a path but not a run folder .no such folder"):
        runs.resolve_run(tmp_path / "nothing", runs_dir=runs_dir)
    with pytest.raises(ParameterError, match="neither a run name"):
        runs.resolve_run("notarun", runs_dir=runs_dir)  # a bare word: names and ids, and run folders only
    # a run folder in the working directory named like no run is still found by its bare name
    other = train.fit_embeddings(*_embeddings(), config=base_config(tmp_path), run_dir=tmp_path / "mine",
                                 progress=False)
    assert runs.resolve_run("mine", runs_dir=runs_dir) == type(tmp_path)("mine") and other.name == "mine"


def test_registry_runs_subcommand(reproduction, capsys):
    from clapemo.cli import main

    runs_dir, _ = reproduction
    assert main(["runs", "--runs-dir", str(runs_dir)]) == 0 and "pa=" in capsys.readouterr().out
    assert main(["runs", "--set", f"train.runs_dir={runs_dir}", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 9
