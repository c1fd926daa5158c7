"""A user who owns only RAVDESS and CREMA-D (no 4D, no IEMOCAP): the paper's three experiments and the
evaluate command run on their trees in the official layouts (here the synthetic twins, which are written in
those layouts and read by the real loaders), with the rows that need absent corpora reported as not run."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clapemo.config import SynthConfig, load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def owned(tmp_path_factory):
    """Configs of the three artefacts on RAVDESS + CREMA-D trees, 1 epoch, 1 seed, serial."""
    pytest.importorskip("ctranslate2")
    from clapemo import synth

    tmp = tmp_path_factory.mktemp("owned")
    synth.generate(root=tmp / "synth", config=SynthConfig(profile="tiny", seed=0, n_jobs=1,
                                                          corpora=["synth-ravdess", "synth-cremad"]),
                   progress=False)
    roots = {"ravdess": str(tmp / "synth" / "tiny" / "synth-ravdess"),
             "cremad": str(tmp / "synth" / "tiny" / "synth-cremad")}
    items = [f"data.roots={json.dumps(roots)}", "data.source=real", "train.include_4d=false", "train.epochs=1",
             "train.n_workers=1", "evaluate.seeds=[0]", "evaluate.ks=[1,2]", f"train.runs_dir={tmp / 'runs'}",
             f"evaluate.results_dir={tmp / 'results'}", f"features.cache_dir={tmp / 'cache'}"]

    def config(name: str, *more: str):
        return load_config(REPO / "configs" / f"{name}.yaml", overrides=[*items, *more])

    return {"table4": config("table4_ser"), "figure2": config("figure2_prompts"),
            "table3": config("table3_ear", "evaluate.ear_collection=cremad")}


def test_the_three_experiments_run_on_the_corpora_a_user_has(owned):
    from clapemo import experiments as E

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the twins are partial trees (PartialCorpusWarning, tested elsewhere)
        t4 = E.ser_table(owned["table4"], progress=False)
        f2 = E.prompt_analysis(owned["figure2"], progress=False)
        t3 = E.ear_table(owned["table3"], progress=False)

    no_4d = "not run: no 4D caption corpora"
    # Table 4: 5ED is the emotion corpora present minus the target: CREMA-D alone; 4D rows are not run
    ok4 = t4[t4["status"] == "ok"]
    assert set(ok4["row"]) == {"Random", "Random (draw)", "5ED - CL", "5ED - PA"}
    assert set(ok4.loc[ok4["row"].str.startswith("5ED") & (ok4["setting"] == "leave_one_out"), "trained_on"]) \
        == {"cremad [CL]", "cremad [PA]"}
    assert t4.loc[t4["status"] != "ok", "status"].str.startswith(no_4d).all()
    assert ok4["value"].between(0, 1).all() and set(ok4["n_classes"]) == {8}
    # Figure 2: one model per (corpus, prompt kind), trained on that corpus alone
    assert set(f2["corpus"]) == {"ravdess", "cremad"} and (f2["status"] == "ok").all()
    assert set(f2.loc[f2["corpus"] == "cremad", "n_classes"]) == {6}
    assert f2.loc[(f2["corpus"] == "ravdess") & (f2["prompt_kind"] == "pitch"), "trained_on"].eq(
        "ravdess [pitch]").all()
    # Table 3 on CREMA-D: 5ED = RAVDESS; every 4D row not run, never silently trained without 4D
    ok3 = t3[t3["status"] == "ok"]
    assert set(ok3["row"]) == {"5ED - CL", "5ED - PA"} and set(ok3["trained_on"]) == {"ravdess [CL]",
                                                                                    "ravdess [PA]"}
    assert ok3["value"].between(0, 1).all() and t3.loc[t3["status"] != "ok", "value"].isna().all()
    used = E.corpora_used(owned["table3"])
    assert "iemocap" in used["missing"].iloc[0] and (used["caption_corpora"] == "none").all()


def test_evaluate_command_scores_a_run_of_the_plan_on_both_corpora(owned, capsys):
    from clapemo import experiments as E
    from clapemo.evaluate import cli, collection, ear
    from clapemo.model import load_run

    config = owned["table3"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t3 = E.ear_table(config, progress=False)  # cached by the test above when run together
        run = Path(config.train.runs_dir) / t3.loc[t3["row"] == "5ED - PA", "run_id"].iloc[0]
        # a run keeps no absolute paths of the machine that trained it: the corpora's folders come from here
        roots = [x for name, root in config.data.roots.items() for x in ("--set", f"data.roots.{name}={root}")]
        assert cli([str(run), "--ser", "ravdess", "--ear", "cremad", "--k", "1", "2", "--json", *roots]) == 0
        out = json.loads(capsys.readouterr().out)
        model = load_run(run)
        want = ear(model, collection("cremad", config, thresholds=model.thresholds),
                   kinds=config.evaluate.ear_query_kinds, ks=[1, 2])
    got = pd.DataFrame(out["ear"])
    assert np.allclose(got["precision"], want["precision"])
    # the CLI's EAR numbers are the table's (same run, collection, kinds and K)
    table = t3[(t3["row"] == "5ED - PA") & t3["status"].eq("ok")].set_index(["query_kind", "k"])["value"]
    assert np.allclose(got.set_index(["query_kind", "k"])["precision"].loc[table.index], table)
    (ser,) = out["ser"]
    assert ser["corpus"] == "ravdess" and ser["classes"] == 8 and ser["chance"] == pytest.approx(0.125)
