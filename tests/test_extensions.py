"""Chapter 6 (clapemo.extensions): the variants' configs, run sharing with Figure 2, paired comparisons with known
answers, the generated sentences, and (slow) the whole chapter on the tiny profile."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clapemo import extensions
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


def _fake_results(correct: dict[str, list[list[float]]]) -> pd.DataFrame:
    """Results of chosen variants on 8 test clips: correct[name][seed] = 8 values of 1.0/0.0."""
    by_name = {v.name: v for v in extensions.VARIANTS}
    rows, items = [], []
    for name, per_seed in correct.items():
        for seed, values in enumerate(per_seed):
            v = by_name[name]
            rows.append({"section": v.section, "variant": name, "baseline": v.baseline or "",
                         "corpus": "synth-ravdess", "metric": "accuracy", "seed": seed, "value": np.mean(values),
                         "status": "ok"})
            items += [{"variant": name, "corpus": "synth-ravdess", "seed": seed, "item": f"c{i}", "value": x}
                      for i, x in enumerate(values)]
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
    assert c.loc["CL, multi-positive", "difference"] == pytest.approx(0.5)
    assert c.loc["CL, multi-positive", "variant_accuracy"] == 1.0 and c.loc["CL, multi-positive",
                                                                            "baseline_accuracy"] == 0.5
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
    loss = extensions.finding(c, "loss")
    assert loss.startswith("On synth-ravdess") and "CL, multi-positive is better than CL (+50.0 points" in loss
    assert "PA, multi-positive shows no clear difference from PA (+0.0 points" in loss and "detected" in loss
    assert "one combined prompt scores every test clip as PA does" in extensions.finding(c, "form")
    assert "nothing was compared" in extensions.finding(c, "binning")
    table = extensions.section_table(c, "loss")
    assert list(table["difference (pp)"]) == [50.0, 0.0] and table["reading"].iloc[0] == "better"
    with pytest.raises(ParameterError, match="section"):
        extensions.section_table(c, "nonsense")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = extensions.plot_differences(c)
    assert len(fig.axes[0].get_yticklabels()) == 3
    assert plt.get_fignums() == before  # not a pyplot figure: a notebook cell shows it once, not twice


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
    assert len(extensions.compare(results, n_boot=200)) == sum(v.baseline is not None for v in extensions.VARIANTS)


def test_variants_table_names_what_differs_from_the_compared_run():
    table = extensions.variants_table().set_index("variant")
    assert table.loc["PA, 3 levels", "changes"] == "prompts.levels = 3"  # the pooled-quantile keys are shared
    assert table.loc["one combined prompt", "changes"] == "train.prompt_kind = combined"
    assert table.loc["CL", "changes"] == "(none)" and table.loc["CL", "compared with"].startswith("(a baseline")
    assert "hnr" in table.loc["PA + 5 voice-quality prompts", "changes"]
    assert extensions.variants_table(styled=True).to_html().count("<tr") == len(table) + 1


def test_a_chapter_that_could_not_run_shows_its_reason_everywhere():
    from clapemo.book.notes import Note, not_run_frame

    reason = "not run: needs corpus 'ravdess' (evaluate.prompt_analysis_corpora)"
    c = extensions.compare(not_run_frame("extensions", reason))
    assert list(c.columns) == list(extensions.COMPARE_COLUMNS) and c.empty
    assert extensions.section_table(c, "loss") == Note(reason)
    assert extensions.plot_differences(c) == Note(reason)
    assert extensions.finding(c, "form") == reason
