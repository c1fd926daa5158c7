"""Chapter 6 (clapemo.experiments.chapter6, shown by clapemo.book.chapter6): the variants' configs, run sharing with Figure 2, paired comparisons with known
answers, the generated sentences, and (slow) the whole chapter on the tiny profile."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clapemo.book import chapter6 as display
from clapemo.experiments import chapter6 as extensions
from clapemo.config import config_hash, load_config
from clapemo.errors import ParameterError
from clapemo.experiments import RunSpec, training_config

REPO = Path(__file__).resolve().parents[1]


def _config(name: str):
    return load_config(REPO / "configs" / name)


def test_every_baseline_is_a_variant_of_its_section_or_earlier():
    names = [v.name for v in extensions.VARIANTS]
    assert len(set(names)) == len(names)
    for i, v in enumerate(extensions.VARIANTS):
        assert v.section in extensions.SECTIONS
        if v.baseline is not None:
            assert v.baseline in names[:i], v.name  # trained and compared in the same run
    assert {v.section for v in extensions.VARIANTS} == set(extensions.SECTIONS)


def test_baselines_are_figure2_runs_and_variants_are_not():
    ext, fig2 = _config("extensions.yaml"), _config("figure2_prompts.yaml")
    assert ext.evaluate.seeds == fig2.evaluate.seeds
    hashes = {}
    for v in extensions.VARIANTS:
        spec = RunSpec(("synth-ravdess",), True, v.prompt_kind)
        hashes[v.name] = config_hash(training_config(extensions.variant_config(ext, v), spec, seed=0))
        if v.baseline is None:  # CL and PA: the very runs Figure 2 trains (same training config, same run id)
            assert hashes[v.name] == config_hash(training_config(fig2, spec, seed=0))
    assert len(set(hashes.values())) == len(hashes)  # every variant trains a model of its own


def test_voice_quality_variant_is_a_valid_config():
    v = next(v for v in extensions.VARIANTS if v.section == "properties")
    cfg = extensions.variant_config(_config("extensions.yaml"), v)
    assert cfg.features.voice_quality and cfg.prompts.binning == "quantile"
    assert list(cfg.prompts.augment_kinds)[5:] == ["pitch_variability", "jitter", "shimmer", "hnr", "pause_rate"]


def test_rate_variants_count_syllables_from_the_transcript_against_figure2_runs():
    ext, fig2 = _config("extensions.yaml"), _config("figure2_prompts.yaml")
    for name, kind in (("speech rate, transcript syllables", "speech_rate"),
                       ("articulation rate, transcript syllables", "articulation_rate"),
                       ("PA, transcript syllables", "augment")):
        v = extensions.variant(name)
        cfg = extensions.variant_config(ext, v)
        assert cfg.features.syllables == "transcript" and v.prompt_kind == kind and v.section == "rate"
        base = extensions.variant(v.baseline)
        spec = RunSpec(("synth-ravdess",), True, kind)
        # the baseline is Figure 2's run of the same prompt kind (nuclei counts); the variant is not
        assert base.overrides == {} and base.prompt_kind == kind
        assert config_hash(training_config(fig2, spec, seed=0)) == config_hash(
            training_config(extensions.variant_config(ext, base), spec, seed=0))
        assert config_hash(training_config(cfg, spec, seed=0)) != config_hash(training_config(fig2, spec, seed=0))


def _fake_results(correct: dict[str, list[list[float]]], ear: dict[str, dict[str, list[float]]] | None = None
                  ) -> pd.DataFrame:
    """Results of chosen variants on 8 test clips: correct[name][seed] = 8 values of 1.0/0.0; ear[name] =
    {query item: Precision@10 per seed} (the query items of the variant's retrieval)."""
    by_name = {v.name: v for v in extensions.VARIANTS}
    rows, items = [], []
    for name, per_seed in correct.items():
        for seed, values in enumerate(per_seed):
            v = by_name[name]
            rows.append({"section": v.section, "variant": name, "baseline": v.baseline or "",
                         "corpus": "synth-ravdess", "metric": "accuracy", "seed": seed, "value": np.mean(values),
                         "status": "ok"})
            items += [{"variant": name, "corpus": "synth-ravdess", "seed": seed, "metric": "accuracy",
                       "item": f"c{i}", "value": x} for i, x in enumerate(values)]
    for name, queries in (ear or {}).items():
        v = by_name[name]
        for seed in range(len(next(iter(queries.values())))):
            values = [per_seed[seed] for per_seed in queries.values()]
            rows.append({"section": v.section, "variant": name, "baseline": v.baseline or "",
                         "corpus": "synth-ravdess", "metric": "acoustic_p@10", "seed": seed,
                         "value": np.mean(values), "status": "ok"})
            items += [{"variant": name, "corpus": "synth-ravdess", "seed": seed, "metric": "acoustic_p@10",
                       "item": q, "value": per_seed[seed]} for q, per_seed in queries.items()]
    df = pd.DataFrame(rows)
    df.attrs["items"] = pd.DataFrame(items)
    return df


def test_compare_pairs_over_seeds_and_clips_with_known_differences():
    base = [[1, 1, 1, 1, 0, 0, 0, 0]] * 3  # 4/8 right for each seed
    better = [[1, 1, 1, 1, 1, 1, 1, 1]] * 3  # 8/8: +0.5 on every seed, every item right or better
    worse = [[1, 0, 0, 0, 0, 0, 0, 0]] * 3  # 1/8: -0.375
    df = _fake_results({"CL": base, "PA": base, "CL, multi-positive": better, "PA, multi-positive": worse,
                        "one combined prompt": base})
    c = extensions.compare(df, n_boot=500).set_index("variant")
    assert list(c.index) == ["CL, multi-positive", "PA, multi-positive", "one combined prompt"]
    assert set(c["metric"]) == {"accuracy"}  # no retrieval results: no retrieval rows
    assert c.loc["CL, multi-positive", "difference"] == pytest.approx(0.5)
    assert c.loc["CL, multi-positive", "variant_value"] == 1.0 and c.loc["CL, multi-positive",
                                                                         "baseline_value"] == 0.5
    assert c.loc["CL, multi-positive", "reading"] == "better" and c.loc["CL, multi-positive", "ci_low"] > 0
    assert c.loc["PA, multi-positive", "difference"] == pytest.approx(-0.375)
    assert c.loc["PA, multi-positive", "reading"] == "worse"
    assert c.loc["one combined prompt", "difference"] == 0 and c.loc["one combined prompt", "ci_high"] == 0
    assert c.loc["one combined prompt", "reading"] == "same on every clip"


def test_finding_states_what_the_numbers_show():
    base = [[1, 1, 0, 0, 1, 0, 1, 0]] * 3
    mixed = [[0, 1, 1, 0, 1, 0, 0, 1], [1, 0, 0, 1, 1, 0, 1, 0], [1, 1, 0, 0, 0, 1, 1, 0]]  # same totals, other clips
    df = _fake_results({"CL": base, "PA": base, "CL, multi-positive": [[1] * 8] * 3, "PA, multi-positive": mixed,
                        "one combined prompt": base})
    c = extensions.compare(df, n_boot=500)
    loss = display.finding(c, "loss")
    assert loss.startswith("On synth-ravdess") and "CL, multi-positive is better than CL (+50.0 points" in loss
    assert "PA, multi-positive shows no clear difference from PA (+0.0 points" in loss and "detected" in loss
    assert "one combined prompt scores every test clip as PA does" in display.finding(c, "form")
    assert "nothing was compared" in display.finding(c, "binning")
    table = display.section_table(c, "loss")
    assert list(table["difference (pp)"]) == [50.0, 0.0] and table["reading"].iloc[0] == "better"
    with pytest.raises(ParameterError, match="section"):
        display.section_table(c, "nonsense")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = display.plot_differences(c)
    assert len(fig.axes[0].get_yticklabels()) == 3
    assert plt.get_fignums() == before  # not a pyplot figure: a notebook cell shows it once, not twice


def test_retrieval_is_paired_over_queries_only_where_both_ask_the_same_queries():
    base = [[1, 0] * 4] * 2
    ear = {"PA": {"pitch:aa": [0.2, 0.4], "pitch:bb": [0.6, 0.6]},
           "PA, sentence form": {"pitch:aa": [0.4, 0.6], "pitch:bb": [0.8, 0.8]},  # same clips, other wording
           "PA, quantile pooled": {"pitch:cc": [0.9, 0.9], "pitch:dd": [0.9, 0.9]}}  # other cuts: other queries
    df = _fake_results({"PA": base, "PA, sentence form": base, "PA, quantile pooled": base}, ear)
    c = extensions.compare(df, n_boot=500)
    ear_rows = c[c["metric"] == "acoustic_p@10"].set_index("variant")
    assert ear_rows.loc["PA, sentence form", "difference"] == pytest.approx(0.2)  # +0.2 on both queries, seeds
    assert ear_rows.loc["PA, sentence form", "reading"] == "better" and ear_rows.loc["PA, sentence form",
                                                                                      "n_items"] == 2
    assert ear_rows.loc["PA, quantile pooled", "reading"] == extensions.NOT_APPLICABLE
    assert np.isnan(ear_rows.loc["PA, quantile pooled", "difference"])
    assert ear_rows.loc["PA, quantile pooled", "variant_value"] == pytest.approx(0.9)  # the value is still shown
    text = display.finding(c, "binning")
    assert "not compared for PA, quantile pooled (vs PA)" in text and "definitions" in text
    assert "PA, sentence form is better than PA (+20.0 points" in display.finding(c, "form")
    table = display.section_table(c, "binning")
    assert list(table["measure"]) == ["zero-shot SER accuracy", "acoustic-query retrieval P@10"]
    assert table["95 % interval (pp)"].iloc[1] == "" and table["reading"].iloc[1] == extensions.NOT_APPLICABLE
    fig = display.plot_differences(c, metric="retrieval")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["PA, sentence form  (vs PA)"]
    with pytest.raises(ParameterError, match="metric"):
        display.plot_differences(c, metric="p@10")


def test_ear_items_name_queries_by_the_clips_they_select():
    """Two collections whose prompts select the same clips under other wordings give the same item names."""
    class Model:  # embeds every text and clip alike: only the naming is under test
        def embed_texts(self, texts):
            return np.ones((len(texts), 2))

        def embed_manifest(self, table):
            return np.ones((len(table), 2))

    bare = pd.DataFrame({"utterance_id": list("abcd"), "pitch": ["high pitch", "low pitch", "high pitch", None]})
    sentence = bare.assign(pitch=["a person speaking with high pitch", "a person speaking with low pitch",
                                  "a person speaking with high pitch", None])
    a = extensions.ear_items(Model(), bare, ["pitch"], [1, 2])
    b = extensions.ear_items(Model(), sentence, ["pitch"], [1, 2])
    assert list(a["item"]) == list(b["item"]) and a["item"].nunique() == 2
    assert set(a["metric"]) == {"acoustic_p@1", "acoustic_p@2"}
    # "high pitch" selects clips a and c: ties rank the earlier clip first, so P@1 = 1 and P@2 = 1/2
    high = a[a["item"] == a["item"].iloc[0]].set_index("metric")["value"]
    assert high["acoustic_p@1"] == 1.0 and high["acoustic_p@2"] == 0.5


def test_compare_needs_the_per_item_results():
    with pytest.raises(ParameterError, match="per-item"):
        extensions.compare(pd.DataFrame({"metric": []}))


@pytest.mark.slow
def test_the_chapter_runs_on_tiny(tmp_path):
    from clapemo import book

    cfg = book.notebook_config(REPO / "configs" / "extensions.yaml", profile="tiny", seed=0, device="cpu",
                               output_dir=str(tmp_path / "results"), overlays="", overrides="")
    results = extensions.run(cfg, progress=False)
    assert set(results["variant"]) == {v.name for v in extensions.VARIANTS}
    assert results["value"].between(0, 1).all() and (results["status"] == "ok").all()
    assert (tmp_path / "results" / "extensions").is_dir()
    again = extensions.run(cfg, progress=False)  # read back from the results folder
    pd.testing.assert_frame_equal(results, again)
    n_compared = sum(v.baseline is not None for v in extensions.VARIANTS)
    assert len(extensions.compare(results, n_boot=200)) == 2 * n_compared  # SER and retrieval rows
    assert {f"acoustic_p@{k}" for k in cfg.evaluate.ks} <= set(results["metric"])


def test_variants_table_names_what_differs_from_the_compared_run():
    table = display.variants_table().set_index("variant")
    assert table.loc["PA, 3 levels", "changes"] == "prompts.levels = 3"  # the pooled-quantile keys are shared
    assert table.loc["one combined prompt", "changes"] == "train.prompt_kind = combined"
    assert table.loc["CL", "changes"] == "(none)" and table.loc["CL", "compared with"].startswith("(a baseline")
    assert "hnr" in table.loc["PA + 5 voice-quality prompts", "changes"]
    assert display.variants_table(styled=True).to_html().count("<tr") == len(table) + 1


def test_a_chapter_that_could_not_run_shows_its_reason_everywhere():
    from clapemo.book.notes import Note, not_run_frame

    reason = "not run: needs corpus 'ravdess' (evaluate.prompt_analysis_corpora)"
    c = extensions.compare(not_run_frame("extensions", reason))
    assert list(c.columns) == list(extensions.COMPARE_COLUMNS) and c.empty
    assert display.section_table(c, "loss") == Note(reason)
    assert display.plot_differences(c) == Note(reason)
    assert display.finding(c, "form") == reason
