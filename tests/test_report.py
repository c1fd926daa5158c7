"""clapemo.report: summaries, plots and styled tables on small synthetic tables with known answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("seaborn")

from matplotlib.figure import Figure  # noqa: E402

from clapemo import report  # noqa: E402
from clapemo.config import load_config  # noqa: E402
from clapemo.errors import ClapEmoError, DataError, ParameterError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WORDS = {"angry": "anger", "sad": "sad", "happy": "happy", "neutral": "neutral"}


def _bin(value, cuts, names):
    return names[int(np.searchsorted(cuts, value, side="right"))]


def fake_table(n_per: int = 6, seed: int = 0) -> pd.DataFrame:
    """A tiny annotated table: 2 corpora x 4 emotions, properties drawn so that bins are known."""
    rng = np.random.default_rng(seed)
    rows = []
    for corpus in ("synth-a", "synth-b"):
        for label, f0, db, sr in (("angry", 230, 70, 4.5), ("sad", 120, 52, 2.0), ("happy", 200, 66, 4.0),
                                  ("neutral", 150, 58, 3.0)):
            for i in range(n_per):
                sex = "female" if i % 2 else "male"
                word = WORDS[label]
                props = {"f0_mean_hz": f0 + rng.normal(0, 3), "intensity_db": db + rng.normal(0, 0.5),
                         "speech_rate_syl_per_s": sr + rng.normal(0, 0.05),
                         "articulation_rate_syl_per_s": sr + 0.8 + rng.normal(0, 0.05)}
                pitch = _bin(props["f0_mean_hz"], [132.5, 180, 210],
                             ["low male pitch", "high male pitch", "low female pitch", "high female pitch"])
                rows.append({
                    "utterance_id": f"{corpus}/{label}-{i:02d}", "dataset": corpus, "speaker": f"{corpus}-s{i % 3}",
                    "sex": sex, "label": label, "split": "train", "duration_s": 2.0 + 0.1 * i, **props,
                    "error": None, "class_label": word, "pitch": f"{pitch} {word}",
                    "pitch2": f"{_bin(props['f0_mean_hz'], [170], ['low pitch', 'high pitch'])} {word}",
                    "intensity": f"{_bin(props['intensity_db'], [60], ['low intensity', 'high intensity'])} {word}",
                    "speech_rate": f"{_bin(props['speech_rate_syl_per_s'], [3.12], ['low speech rate', 'high speech rate'])} {word}",
                    "articulation_rate": f"{_bin(props['articulation_rate_syl_per_s'], [4.0], ['low articulation rate', 'high articulation rate'])} {word}",
                })
    return pd.DataFrame(rows)


def test_corpus_summary_counts_clips_speakers_hours():
    table = fake_table()
    table.loc[0, "error"] = "broken"
    out = report.corpus_summary(table)
    assert list(out.index) == ["synth-a", "synth-b", "all"]
    assert out.loc["synth-a", "clips"] == 24 and out.loc["all", "clips"] == 48
    assert out.loc["synth-a", "speakers"] == 3 and out.loc["all", "speakers"] == 6
    assert out.loc["all", "classes"] == 4
    assert out.loc["all", "hours"] == pytest.approx(table["duration_s"].sum() / 3600)
    assert out.loc["synth-a", "failed extractions"] == 1 and out.loc["synth-b", "failed extractions"] == 0
    assert out.loc["all", "female share"] == pytest.approx(0.5)


def test_corpus_summary_names_missing_columns():
    with pytest.raises(DataError, match="duration_s"):
        report.corpus_summary(fake_table().drop(columns="duration_s"))


def test_prompt_bin_strips_the_emotion_word():
    s = report.prompt_bin(pd.Series(["high intensity anger", None, "low pitch sad"]),
                          pd.Series(["anger", "anger", "sad"]))
    assert s.tolist() == ["high intensity", None, "low pitch"]
    with pytest.raises(DataError, match="does not end"):
        report.prompt_bin(pd.Series(["high intensity anger"]), pd.Series(["sad"]))


def test_bin_occupancy_shares_sum_to_one_and_match_known_bins():
    occ = report.bin_occupancy(fake_table())
    assert list(occ.index) == ["neutral", "happy", "sad", "angry"]  # canonical EMOTIONS order
    intensity = occ["Intensity"]
    assert intensity.loc["angry", "high intensity"] == 1.0 and intensity.loc["sad", "low intensity"] == 1.0
    assert list(intensity.columns) == ["high intensity", "low intensity"]  # paper's Table 2 order
    for kind in ("Pitch", "Intensity", "Speech rate", "Articulation rate"):
        np.testing.assert_allclose(occ[kind].sum(axis=1), 1.0)
    assert occ[("", "clips")].tolist() == [12, 12, 12, 12]
    assert occ["Pitch"].loc["angry", "high female pitch"] == 1.0
    html = report.style_occupancy(occ).to_html()
    assert "100%" in html
    fig = report.plot_bin_occupancy(occ)
    assert isinstance(fig, Figure) and len(fig.axes) == 2  # heat map + colour bar


def test_table2_examples_lists_every_bin_with_a_real_prompt():
    table = fake_table()
    t2 = report.table2_examples(table)
    assert {"property", "prompt", "clips", "share", "example prompt", "example clip", "measured"} <= set(t2.columns)
    pitch = t2[t2["property"] == "Pitch"]
    # the fake data fills all four pitch bins: anger high female, happy low female, neutral high male, sad low male
    assert pitch["prompt"].tolist() == ["high female pitch {emotion}", "low female pitch {emotion}",
                                        "high male pitch {emotion}", "low male pitch {emotion}"]
    assert pitch["example prompt"].tolist() == ["high female pitch anger", "low female pitch happy",
                                                "high male pitch neutral", "low male pitch sad"]
    assert t2.loc[t2["property"] == "Class label (CL)", "clips"].tolist() == [len(table)]
    for _, row in t2.iterrows():  # the example is a real clip whose prompt is the one shown
        clip = table.set_index("utterance_id").loc[row["example clip"]]
        assert row["example prompt"] in clip.tolist()
    assert t2[t2["property"] == "Pitch"]["clips"].sum() == len(table)
    assert "Hz" in pitch["measured"].iloc[0]
    assert "{emotion}" in report.style_table2(t2).to_html()


def test_properties_figure_has_four_panels_and_the_cuts():
    cfg = load_config(None)
    fig = report.plot_properties_by_emotion(fake_table(), cfg)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    pitch_ax = fig.axes[0]
    yline = sorted({round(line.get_ydata()[0], 1) for line in pitch_ax.lines if len(set(line.get_ydata())) == 1})
    assert {132.5, 170.0, 180.0, 210.0} <= set(yline)


def test_thresholds_fixed_and_quantile():
    cfg = load_config(None)
    cuts = report.thresholds(cfg)
    assert cuts["f0_mean_hz"] == [132.5, 180.0, 210.0] and cuts["intensity_db"] == [60.0]
    q = load_config({"prompts": {"binning": "quantile"}})
    with pytest.raises(ParameterError):
        report.thresholds(q)
    table = fake_table()
    fitted = report.thresholds(q, table)
    assert fitted["intensity_db"][0] == pytest.approx(np.median(table["intensity_db"]))


def test_experiment_config_applies_parameters_and_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO / "notebooks")  # as JupyterLab runs a notebook
    cfg = report.experiment_config("configs/base.yaml", profile="tiny", seed=3, device="cpu",
                                   output_dir="runs/test-results")
    assert cfg.synth.profile == "tiny" and cfg.synth.seed == 3
    assert cfg.encoders.device == "cpu" and cfg.train.device == "cpu"
    assert Path(cfg.evaluate.results_dir) == REPO / "runs" / "test-results"
    assert Path(cfg.data.synth_root) == REPO / "data" / "synth"
    assert Path(cfg.features.cache_dir).is_absolute()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="no clapemo project"):
        report.project_root()


def test_experiment_config_layers_tiny_and_overlay_files(tmp_path):
    tiny = report.experiment_config("configs/table3_ear.yaml", profile="tiny")
    assert tiny.name == "table3_ear"  # the experiment keeps its name
    assert tiny.synth.profile == "tiny" and tiny.evaluate.seeds == load_config(
        REPO / "configs" / "tiny.yaml").evaluate.seeds
    overlay = tmp_path / "real.yaml"
    overlay.write_text(f"base: {REPO / 'configs' / 'base.yaml'}\nname: real\n"
                       "data: {source: real, roots: {ravdess: /corpora/RAVDESS}}\n"
                       "encoders: {text: bert, text_model: google-bert/bert-base-uncased}\n")
    cfg = report.experiment_config("configs/table4_ser.yaml", overrides=f"{overlay} train.epochs=3")
    assert cfg.name == "table4_ser" and cfg.data.source == "real" and cfg.train.epochs == 3
    assert cfg.data.roots == {"ravdess": "/corpora/RAVDESS"}
    assert cfg.encoders.text_model == "google-bert/bert-base-uncased"  # a model name is not made a path
    assert cfg.evaluate.ser_target == "ravdess"  # the experiment's own keys survive the overlay


def test_quiet_progress_drops_bars_and_keeps_messages(capsys):
    from tqdm import tqdm

    with report.quiet_progress():
        for _ in tqdm(range(50), desc="features", unit="clip"):
            pass
        print("a real message", file=sys.stderr)
    err = capsys.readouterr().err
    assert "a real message" in err and "%|" not in err and "features" not in err


def test_emotion_corpora_follow_the_data_source():
    assert report.emotion_corpora(load_config(None)) == [
        "synth-mosei", "synth-iemocap", "synth-meld", "synth-cremad", "synth-ravdess", "synth-mosi"]
    real = load_config({"data": {"source": "real", "roots": {"ravdess": "/x", "cremad": "/y"}}})
    assert report.emotion_corpora(real) == ["cremad", "ravdess"]


def test_format_spread():
    assert report.format_spread(0.4213, 0.031) == "0.42 ± 0.03"
    assert report.format_spread(0.4213, float("nan")) == "0.42"
    assert report.format_spread(float("nan"), 0.1) == "–"
    assert report.format_spread(0.2788, 0.01, percent=True) == "27.88 ± 1.00"


def test_show_detaches_a_pyplot_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    assert report.show(fig) is fig
    assert fig.number not in plt.get_fignums()


def test_screenshot_errors_name_the_problem(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="does not exist"):
        report.screenshot(tmp_path / "missing.html", tmp_path / "out.png")
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>hi</h1></body></html>")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CHROMIUM", raising=False)
    with pytest.raises(ClapEmoError, match="no Chromium"):
        report.screenshot(page, tmp_path / "out.png")


def test_screenshot_cli_usage():
    proc = subprocess.run([sys.executable, "-m", "clapemo.report", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "screenshot" in proc.stdout


@pytest.mark.slow
def test_screenshot_renders_a_page(tmp_path):
    if report.find_chromium() is None:
        pytest.skip("no Chromium installed")
    page = tmp_path / "page.html"
    page.write_text("<html><body style='background:#fff'><h1>clapemo</h1></body></html>")
    png = report.screenshot(page, tmp_path / "shot.png", width_px=400, height_px=300)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _side3() -> pd.DataFrame:
    rows = []
    for i, row in enumerate(("4D + [5ED - PA]", "4D", "4D + [5ED - CL]")):  # scrambled order on purpose
        for q in ("pitch", "class_label"):
            for k in (1, 5):
                rows.append({"row": row, "query_kind": q, "k": k, "ours_mean": 0.1 * (i + 1), "ours_sd": 0.01,
                             "ours_n": 3, "paper": 0.5 - 0.1 * i})
    return pd.DataFrame(rows)


def test_table3_side_by_side_layout_and_bold_best():
    text = report.table3_side_by_side(_side3())
    assert list(text.columns.get_level_values(0).unique()) == ["4D", "4D + [5ED - CL]", "4D + [5ED - PA]"]
    assert list(text.index) == [("class label", "P@1"), ("class label", "P@5"), ("pitch", "P@1"), ("pitch", "P@5")]
    ours = "ours (mean ± sd, 3 seeds)"
    assert text.loc[("pitch", "P@1"), ("4D + [5ED - PA]", "paper")] == "0.50"
    assert text.loc[("pitch", "P@1"), ("4D + [5ED - CL]", ours)] == "0.30 ± 0.01"
    html = report.format_table3(_side3()).to_html()
    bold_rule = html.split("font-weight: bold")[0].rsplit("}", 1)[-1]  # the selectors styled bold
    assert bold_rule.count("#T_") == 8 and "Table 3" in html  # 4 lines x (paper, ours)


def test_table4_side_by_side_percent_and_references():
    side = pd.DataFrame([
        {"row": "4D", "setting": "leave_one_out", "metric": "accuracy", "ours_mean": 0.2, "ours_sd": 0.02,
         "ours_n": 3, "paper": 0.1599},
        {"row": "4D", "setting": "leave_one_out", "metric": "unweighted_accuracy", "ours_mean": 0.25,
         "ours_sd": float("nan"), "ours_n": 3, "paper": float("nan")},
        {"row": "SoTA", "setting": "finetune", "metric": "accuracy", "ours_mean": float("nan"),
         "ours_sd": float("nan"), "ours_n": float("nan"), "paper": 0.8182},
        {"row": "Random", "setting": "leave_one_out", "metric": "accuracy", "ours_mean": 0.125, "ours_sd": 0.0,
         "ours_n": 3, "paper": 0.125},
    ])
    text = report.table4_side_by_side(side)
    assert list(text.index) == ["Random", "4D", "SoTA"]
    ours = "ours (mean ± sd, 3 seeds)"
    assert text.loc["4D", ("leave one out", "paper")] == "15.99"
    assert text.loc["4D", ("leave one out", ours)] == "20.0 ± 2.0"
    assert text.loc["4D", ("leave one out", "ours, unweighted")] == "25.0"
    assert text.loc["SoTA", ("finetune", "paper")] == "81.82" and text.loc["SoTA", ("finetune", ours)] == "–"
    assert "Table 4" in report.format_table4(side).to_html()


def test_figure2_side_by_side_has_no_paper_numbers():
    side = pd.DataFrame([{"corpus": c, "prompt_kind": k, "metric": m, "ours_mean": 0.5, "ours_sd": 0.1,
                          "ours_n": 2, "paper": float("nan")}
                         for c in ("cremad", "ravdess") for k in ("augment", "class_label", "pitch")
                         for m in ("accuracy", "unweighted_accuracy")])
    text = report.figure2_side_by_side(side)
    assert list(text.index) == ["class label", "pitch", "PA"]
    assert list(text.columns.get_level_values(0).unique()) == ["ravdess", "cremad"]
    assert (text.xs("paper", axis=1, level=1) == "–").all().all()


def test_format_claims_colours_verdicts():
    verdicts = pd.DataFrame([{"artefact": "table3", "id": "x", "claim": "PA is best", "verdict": "holds (clearly)",
                              "min_difference": 0.1, "min_z": 3.0}])
    html = report.format_claims(verdicts).to_html()
    assert "#d9f2d9" in html and "+0.100" in html


def test_provenance_is_relative_to_the_project():
    cfg = report.experiment_config("configs/table3_ear.yaml", profile="tiny")
    prov = report.provenance({"Table 3": cfg})
    assert prov.loc["results folder", "Table 3"].startswith("runs/results/table3/")
    assert prov.loc["config", "Table 3"] == "table3_ear"


def test_check_book_counts_tables_and_images(tmp_path):
    page = '<html><main><table></table><img src="../_images/a.png"></main></html>'
    (tmp_path / "executed").mkdir()
    (tmp_path / "executed" / "p.html").write_text(page)
    out = report.check_book(tmp_path, pages={"executed/p.html": {"tables": 1, "images": 1}})
    assert out.loc["executed/p.html", "ok"]
    with pytest.raises(DataError, match="missing"):
        report.check_book(tmp_path, pages={"gone.html": {"tables": 0}})
    with pytest.raises(DataError, match=r"1 tables \(need 2\)"):
        report.check_book(tmp_path, pages={"executed/p.html": {"tables": 2}})
