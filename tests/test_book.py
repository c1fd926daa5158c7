"""clapemo.book: the notebook config, summaries, plots, styled tables, not-run notes, progress routing and the
book check, on small synthetic tables with known answers."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("seaborn")

from matplotlib.figure import Figure  # noqa: E402

from clapemo import book, experiments  # noqa: E402
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
    out = book.corpus_summary(table)
    assert list(out.index) == ["synth-a", "synth-b", "all"]
    assert out.loc["synth-a", "clips"] == 24 and out.loc["all", "clips"] == 48
    assert out.loc["synth-a", "speakers"] == 3 and out.loc["all", "speakers"] == 6
    assert out.loc["all", "classes"] == 4
    assert out.loc["all", "hours"] == pytest.approx(table["duration_s"].sum() / 3600)
    assert out.loc["synth-a", "failed extractions"] == 1 and out.loc["synth-b", "failed extractions"] == 0
    assert out.loc["all", "female share"] == pytest.approx(0.5)


def test_corpus_summary_names_missing_columns():
    with pytest.raises(DataError, match="duration_s"):
        book.corpus_summary(fake_table().drop(columns="duration_s"))


def test_prompt_bin_strips_the_emotion_word():
    s = book.prompt_bin(pd.Series(["high intensity anger", None, "low pitch sad"]),
                          pd.Series(["anger", "anger", "sad"]))
    assert s.tolist() == ["high intensity", None, "low pitch"]
    with pytest.raises(DataError, match="does not end"):
        book.prompt_bin(pd.Series(["high intensity anger"]), pd.Series(["sad"]))


def test_bin_occupancy_shares_sum_to_one_and_match_known_bins():
    occ = book.bin_occupancy(fake_table())
    assert list(occ.index) == ["neutral", "happy", "sad", "angry"]  # canonical EMOTIONS order
    intensity = occ["Intensity"]
    assert intensity.loc["angry", "high intensity"] == 1.0 and intensity.loc["sad", "low intensity"] == 1.0
    assert list(intensity.columns) == ["high intensity", "low intensity"]  # paper's Table 2 order
    for kind in ("Pitch", "Intensity", "Speech rate", "Articulation rate"):
        np.testing.assert_allclose(occ[kind].sum(axis=1), 1.0)
    assert occ[("", "clips")].tolist() == [12, 12, 12, 12]
    assert occ["Pitch"].loc["angry", "high female pitch"] == 1.0
    html = book.style_occupancy(occ).to_html()
    assert "100%" in html
    fig = book.plot_bin_occupancy(occ)
    assert isinstance(fig, Figure) and len(fig.axes) == 2  # heat map + colour bar


def test_table2_examples_lists_every_bin_with_a_real_prompt():
    table = fake_table()
    t2 = book.table2_examples(table)
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
    assert "{emotion}" in book.style_table2(t2).to_html()


def test_properties_figure_has_four_panels_and_the_cuts():
    cfg = load_config(None)
    fig = book.plot_properties_by_emotion(fake_table(), cfg)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    pitch_ax = fig.axes[0]
    yline = sorted({round(line.get_ydata()[0], 1) for line in pitch_ax.lines if len(set(line.get_ydata())) == 1})
    assert {132.5, 170.0, 180.0, 210.0} <= set(yline)


def test_thresholds_fixed_and_quantile():
    cfg = load_config(None)
    cuts = book.thresholds(cfg)
    assert cuts["f0_mean_hz"] == [132.5, 180.0, 210.0] and cuts["intensity_db"] == [60.0]
    q = load_config({"prompts": {"binning": "quantile"}})
    with pytest.raises(ParameterError):
        book.thresholds(q)
    table = fake_table()
    fitted = book.thresholds(q, table)
    assert fitted["intensity_db"][0] == pytest.approx(np.median(table["intensity_db"]))


def test_notebook_config_applies_parameters_and_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # JupyterLab opened anywhere: relative paths still mean the project's
    cfg = book.notebook_config("configs/base.yaml", profile="tiny", seed=3, device="cpu",
                                 output_dir="runs/test-results")
    assert cfg.synth.profile == "tiny" and cfg.synth.seed == 3
    assert cfg.encoders.device == "cpu" and cfg.train.device == "cpu"
    assert Path(cfg.evaluate.results_dir) == REPO / "runs" / "test-results"
    assert Path(cfg.data.synth_root) == REPO / "data" / "synth"
    assert Path(cfg.features.cache_dir).is_absolute()
    assert book.notebook_config("table3").name == "table3_ear"  # an artefact name is found in configs/


def test_notebook_config_layers_tiny_then_overlays_then_overrides(tmp_path):
    tiny = book.notebook_config("configs/table3_ear.yaml", profile="tiny")
    assert tiny.name == "table3_ear"  # the experiment keeps its name
    full_tiny = load_config(REPO / "configs" / "tiny.yaml")
    assert tiny.synth.profile == "tiny" and tiny.evaluate.seeds == full_tiny.evaluate.seeds
    assert tiny.train.epochs == full_tiny.train.epochs
    overlay = tmp_path / "real.yaml"
    overlay.write_text("data: {source: real, roots: {ravdess: /corpora/RAVDESS}}\n"
                       "encoders: {text: bert, text_model: google-bert/bert-base-uncased}\ntrain: {epochs: 5}\n")
    cfg = book.notebook_config("configs/table4_ser.yaml", overlays=str(overlay), overrides="train.epochs=3")
    assert cfg.name == "table4_ser" and cfg.data.source == "real" and cfg.train.epochs == 3  # override last
    assert cfg.data.roots == {"ravdess": "/corpora/RAVDESS"}
    assert cfg.encoders.text_model == "google-bert/bert-base-uncased"  # a model name is not made a path
    assert cfg.evaluate.ser_target == "ravdess"  # the experiment's own keys survive the overlay
    # tiny comes before the user's overlay: the overlay's epochs win over tiny's
    assert book.notebook_config("configs/table4_ser.yaml", profile="tiny", overlays=[overlay]).train.epochs == 5
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: base.yaml\ntrain: {epochs: 1}\n")
    with pytest.raises(ClapEmoError, match="may not set 'base'"):
        book.notebook_config("configs/table4_ser.yaml", overlays=[bad])
    with pytest.raises(ClapEmoError, match="section.key=value"):
        book.notebook_config("configs/table4_ser.yaml", overrides=str(overlay))  # a file is not an override


def test_notebook_config_equals_the_cli_config_for_a_user_overlay(tmp_path, monkeypatch):
    """`clapemo experiment figure2 --overlay my.yaml` and `make reproduce SET=my.yaml` (the notebook parameters
    the Makefile passes by default) give the same config and the same hash."""
    import argparse

    from clapemo.config import (artefact_config_path, config_from_args, config_hash, resolve_config,
                                to_dict)

    mine = tmp_path / "my.yaml"
    mine.write_text("train: {epochs: 4, learning_rate: 3.0e-4}\nencoders: {audio: resemblyzer}\n")
    monkeypatch.chdir(tmp_path)
    book_cfg = book.notebook_config("configs/figure2_prompts.yaml", profile="default", seed=0, device="auto",
                                      output_dir="runs/results", overlays=str(mine),
                                      overrides="data.synth_root=data/synth")
    cli_cfg = config_from_args(argparse.Namespace(config=None, overlay=[str(mine)], set=[]), default="figure2")
    direct = resolve_config(artefact_config_path("figure2"), overlays=[mine])
    assert cli_cfg == direct
    assert config_hash(book_cfg) == config_hash(cli_cfg)
    assert to_dict(book_cfg, include_paths=False) == to_dict(cli_cfg, include_paths=False)
    raw = book.notebook_config("figure2", overlays=[mine], absolute_paths=False)
    assert raw == direct  # without the parameters, exactly resolve_config's answer
    assert book_cfg.train.epochs == 4 and book_cfg.encoders.audio == "resemblyzer"


def test_needs_synth_follows_the_data_source(tmp_path):
    notebooks = sorted((REPO / "notebooks").glob("[0-9]*.ipynb"))
    configs = book.notebook_configs(notebooks)
    assert [p.name for p in configs] == ["base.yaml", "table3_ear.yaml", "table4_ser.yaml", "figure2_prompts.yaml",
                                           "extensions.yaml"]
    assert book.needs_synth(configs)
    assert not book.needs_synth(configs, overrides="data.source=real")
    real = tmp_path / "real.yaml"
    real.write_text("data: {source: real}\n")
    assert not book.needs_synth(configs, overlays=[real])
    proc = subprocess.run([sys.executable, "-m", "clapemo", "book", "needs-synth", *map(str, notebooks),
                           "--overlay", str(real)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "no", proc.stderr


def test_quiet_progress_drops_bars_and_keeps_messages(capsys):
    from tqdm import tqdm

    with book.quiet_progress():
        for _ in tqdm(range(50), desc="features", unit="clip"):
            pass
        print("a real message", file=sys.stderr)
    err = capsys.readouterr().err
    assert "a real message" in err and "%|" not in err and "features" not in err


def test_emotion_corpora_follow_the_data_source():
    from clapemo.emotions import EMOTION_CORPORA

    assert book.emotion_corpora(load_config(None)) == [f"synth-{n}" for n in EMOTION_CORPORA]
    real = load_config({"data": {"source": "real", "roots": {"ravdess": "/x", "cremad": "/y"}}})
    assert sorted(book.emotion_corpora(real)) == ["cremad", "ravdess"]


def test_format_spread():
    assert book.format_spread(0.4213, 0.031) == "0.42 ± 0.03"
    assert book.format_spread(0.4213, float("nan")) == "0.42"
    assert book.format_spread(float("nan"), 0.1) == "–"
    assert book.format_spread(0.2788, 0.01, percent=True) == "27.88 ± 1.00"


def test_show_detaches_a_pyplot_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    assert book.show(fig) is fig
    assert fig.number not in plt.get_fignums()


def test_screenshot_errors_name_the_problem(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="does not exist"):
        book.screenshot(tmp_path / "missing.html", tmp_path / "out.png")
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>hi</h1></body></html>")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CHROMIUM", raising=False)
    with pytest.raises(ClapEmoError, match="no Chromium"):
        book.screenshot(page, tmp_path / "out.png")


def test_book_cli_usage_and_errors(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "clapemo", "book", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and all(w in proc.stdout for w in ("screenshot", "check", "run", "needs-synth"))
    proc = subprocess.run([sys.executable, "-m", "clapemo", "book", "check", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "intro.html: missing" in proc.stderr


@pytest.mark.slow
def test_screenshot_renders_a_page(tmp_path):
    if book.find_chromium() is None:
        pytest.skip("no Chromium installed")
    page = tmp_path / "page.html"
    page.write_text("<html><body style='background:#fff'><h1>clapemo</h1></body></html>")
    png = book.screenshot(page, tmp_path / "shot.png", width_px=400, height_px=300)
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
    text = book.table3_side_by_side(_side3())
    assert list(text.columns.get_level_values(0).unique()) == ["4D", "4D + [5ED - CL]", "4D + [5ED - PA]"]
    assert list(text.index) == [("class label", "P@1"), ("class label", "P@5"), ("pitch", "P@1"), ("pitch", "P@5")]
    ours = "ours (mean ± sd, 3 seeds)"
    assert text.loc[("pitch", "P@1"), ("4D + [5ED - PA]", "paper")] == "0.50"
    assert text.loc[("pitch", "P@1"), ("4D + [5ED - CL]", ours)] == "0.30 ± 0.01"
    html = book.format_table3(_side3()).to_html()
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
    text = book.table4_side_by_side(side)
    assert list(text.index) == ["Random", "4D", "SoTA"]
    ours = "ours (mean ± sd, 3 seeds)"
    assert text.loc["4D", ("leave one out", "paper")] == "15.99"
    assert text.loc["4D", ("leave one out", ours)] == "20.0 ± 2.0"
    assert text.loc["4D", ("leave one out", "ours, unweighted")] == "25.0"
    assert text.loc["SoTA", ("finetune", "paper")] == "81.82" and text.loc["SoTA", ("finetune", ours)] == "–"
    assert "Table 4" in book.format_table4(side).to_html()


def test_figure2_side_by_side_has_no_paper_numbers():
    side = pd.DataFrame([{"corpus": c, "prompt_kind": k, "metric": m, "ours_mean": 0.5, "ours_sd": 0.1,
                          "ours_n": 2, "paper": float("nan")}
                         for c in ("cremad", "ravdess") for k in ("augment", "class_label", "pitch")
                         for m in ("accuracy", "unweighted_accuracy")])
    text = book.figure2_side_by_side(side)
    assert list(text.index) == ["class label", "pitch", "PA"]
    assert list(text.columns.get_level_values(0).unique()) == ["ravdess", "cremad"]
    assert (text.xs("paper", axis=1, level=1) == "–").all().all()


def test_format_claims_colours_verdicts():
    verdicts = pd.DataFrame([
        {"artefact": "table3", "id": "x", "claim": "PA is best", "verdict": "holds", "deciding": "a > b",
         "difference": 0.1, "ci_low": 0.02, "ci_high": 0.18, "mdd": 0.05, "n_seeds": 3, "n_items": 40},
        {"artefact": "table4", "id": "y", "claim": "CL < PA", "verdict": "does not hold", "deciding": "c > d",
         "difference": -0.2, "ci_low": -0.3, "ci_high": -0.1, "mdd": 0.05, "n_seeds": 3, "n_items": 40}])
    html = book.format_claims(verdicts).to_html()
    assert "#d9f2d9" in html and "#f7d4d4" in html and "+0.100" in html and "[-0.300, -0.100]" in html
    verdicts["share"] = [0.991, 0.962]  # the firmness column, when the claims carry it
    html = book.format_claims(verdicts).to_html()
    assert "on its side" in html and "99.1%" in html and "MDD" in html


def test_provenance_is_relative_to_the_project():
    cfg = book.notebook_config("configs/table3_ear.yaml", profile="tiny")
    prov = book.provenance({"Table 3": cfg})
    assert prov.loc["results folder", "Table 3"].startswith("runs/results/table3/")
    assert prov.loc["config", "Table 3"] == "table3_ear"


def test_quiet_progress_sends_bars_to_the_side_channel(tmp_path, monkeypatch, capsys):
    from tqdm import tqdm

    from clapemo.book import progress

    channel = tmp_path / "progress.log"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(channel))
    with book.quiet_progress():
        for _ in tqdm(range(7), desc="train", unit="task"):
            pass
        print("a warning", file=sys.stderr)
    err = capsys.readouterr().err
    assert "a warning" in err and "%|" not in err
    progress.side_channel().flush()
    sent = channel.read_text()
    assert "train: 100%" in sent and "7/7" in sent and "a warning" not in sent


def test_progress_filter_keeps_text_that_only_looks_numeric():
    from clapemo.book.progress import ProgressFilter

    class Sink(list):
        def write(self, text):
            self.append(text)

        def flush(self):
            pass

    target, sink = Sink(), Sink()
    f = ProgressFilter(target, sink)
    f.write("epoch 3 of 8: loss 0.42\n")
    f.write("\rfeatures:  50%|█████     | 5/10 [00:01<00:01,  4.9clip/s]")
    f.write("\rfeatures: 100%|██████████| 10/10 [00:02<00:00,  4.9clip/s]\n")
    f.write("fits: 3task [00:01, 2.5task/s]\n")
    assert "".join(target) == "epoch 3 of 8: loss 0.42\n"
    assert [s.strip() for s in sink][-1] == "fits: 3task [00:01, 2.5task/s]" and len(sink) == 3


def test_relay_numbers_the_steps_and_passes_bars(tmp_path):
    import io

    from clapemo.book.progress import Relay

    channel = tmp_path / "p.log"
    out = io.StringIO()
    cells = ["%matplotlib inline", "config = book.notebook_config(config_path)", "book.training_plan(config)",
             "results = book.run_artefact(experiments.ear_table, config)", "book.format_table3(side)"]
    with Relay(channel, label="02_ear_table", cells=cells, out=out, poll_s=0.01, pipe_every_s=0.0):
        with open(channel, "a") as handle:
            handle.write("\nstep 7: results = book.run_artefact(experiments.ear_table, config)\n")
            handle.write("\rtrain:  50%|#####     | 11/22 [01:00<01:00,  5.4s/task]")
            handle.write("\rtrain: 100%|##########| 22/22 [02:00<00:00,  5.4s/task]")
            handle.write("\rtrain: 100%|##########| 22/22 [02:01<00:00,  5.5s/task]\n")
            handle.write("\nlog: [table3] wrote runs/results/table3/abc (7 s)\n")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("   [02_ear_table] step 4/5 (")
    assert lines[0].endswith("experiments.ear_table, config)")
    assert any("11/22" in line and "<01:00" in line for line in lines)  # trainings done of all, and the ETA
    assert sum("22/22" in line for line in lines) == 1  # a finished bar once
    assert lines[-1] == "     [table3] wrote runs/results/table3/abc (7 s)"


def test_run_artefact_sends_printed_lines_to_the_side_channel(tmp_path, monkeypatch, capsys):
    from clapemo.book import progress

    channel = tmp_path / "p.log"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(channel))

    def ear_table(config, force=False, progress=False):
        print("[table3] seed 0 4D: class-label P@K {1: 0.25}")
        print(f"[table3] wrote {tmp_path}/runs (1 s)")
        return pd.DataFrame({"value": [0.25], "progress": [progress]})

    frame = book.run_artefact(dataclasses.replace(experiments.TABLE3, compute=ear_table), load_config(None))
    assert bool(frame["progress"].iloc[0])  # bars on: they go to the terminal
    assert capsys.readouterr().out == ""  # nothing on the page
    progress.side_channel().flush()
    sent = channel.read_text()
    assert "\nlog: [table3] seed 0 4D: class-label P@K {1: 0.25}\n" in sent and str(tmp_path) in sent


def test_not_run_artefact_becomes_a_note_and_the_chapter_goes_on():
    from clapemo.experiments import NotRun

    def ear_table(config, force=False, progress=True):
        raise NotRun("not run: needs corpus 'iemocap' (evaluate.ear_collection); add its folder")

    frame = book.run_artefact(dataclasses.replace(experiments.TABLE3, compute=ear_table), load_config(None))
    assert frame.empty and "status" in frame.columns and "needs corpus 'iemocap'" in frame.attrs["not_run"]
    note = book.claims(table3=frame)
    assert isinstance(note, book.Note) and "needs corpus 'iemocap'" in note.text
    assert book.format_claims(note) == note and "needs corpus" in note._repr_html_()
    assert book.not_run_notes(frame) == [frame.attrs["not_run"]]
    assert isinstance(book.plot_prompt_analysis(frame), book.Note)


def test_views_show_a_note_when_the_config_has_no_corpora():
    cfg = load_config({"data": {"source": "real"}})
    table = book.corpus_table(cfg)
    assert table.empty and table.attrs["not_run"].startswith("not run: needs emotion corpora")
    for view in (book.corpus_summary, book.bin_occupancy, book.table2_examples):
        assert isinstance(view(table), book.Note)
    assert isinstance(book.style_occupancy(book.bin_occupancy(table)), book.Note)
    summary, figure = book.compare_pitch_backends(table, cfg, n=3)
    assert isinstance(summary, book.Note) and isinstance(figure, book.Note)


def test_tables_tolerate_not_run_rows_and_name_them_in_the_caption():
    side = _side3()
    side.loc[side["row"] == "4D + [5ED - PA]", ["ours_mean", "ours_sd"]] = float("nan")
    results = pd.DataFrame([
        {"row": "4D", "query_kind": "pitch", "k": 1, "seed": 0, "value": 0.3, "status": "ok"},
        {"row": "4D + [5ED - PA]", "query_kind": "pitch", "k": 1, "seed": 0, "value": float("nan"),
         "status": "not run: needs corpus 'meld'"},
    ])
    text = book.table3_side_by_side(side)
    assert text.loc[("pitch", "P@1"), ("4D + [5ED - PA]", "ours (mean ± sd, 3 seeds)")] == "–"
    html = book.format_table3(side, results=results).to_html()
    assert "4D + [5ED - PA]: not run: needs corpus 'meld'." in html.replace("&#x27;", "'")
    assert "not run" not in book.format_table3(side).to_html()


# ---- the backend comparisons (clapemo.book.backends) -----------------------------------------------------------


def _sine_manifest(folder: Path, rms_values: tuple[float, ...]) -> pd.DataFrame:
    """Clips of a 200 Hz sine of each RMS (1 s, 16 kHz) as a manifest."""
    import soundfile as sf

    rate = 16000
    t = np.arange(rate) / rate
    rows = []
    for i, rms in enumerate(rms_values):
        path = folder / f"sine{i}.wav"
        sf.write(str(path), (rms * np.sqrt(2) * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32), rate,
                 subtype="FLOAT")
        rows.append({"utterance_id": f"sine/{i}", "path": str(path), "dataset": "sines"})
    return pd.DataFrame(rows)


def test_intensity_backends_agree_on_sines_of_known_rms(tmp_path):
    from clapemo.book.backends import compare_intensity_backends

    rms_values = (0.005, 0.05, 0.2)  # 48, 68 and 80 dB re 2e-5: away from the 60 dB cut
    cfg = load_config(None)
    summary, figure, sentence = compare_intensity_backends(_sine_manifest(tmp_path, rms_values), cfg, n=3)
    assert list(summary.index) == ["praat", "librosa"] and (summary["clips"] == 3).all()
    expected_db = np.mean([20 * np.log10(r / 2e-5) for r in rms_values])
    assert summary["mean intensity (dB)"].to_numpy() == pytest.approx([expected_db] * 2, abs=0.3)
    assert abs(summary.loc["librosa", "mean difference vs praat (dB)"]) <= 0.3
    assert summary.loc["librosa", "mean |difference| vs praat (dB)"] <= 0.3
    assert summary.loc["librosa", "same intensity bin as praat"] == 1.0
    assert summary.loc["librosa", "correlation with praat"] == pytest.approx(1.0, abs=1e-3)
    assert summary.loc["praat", "mean difference vs praat (dB)"] == 0.0 and (summary["seconds per clip"] > 0).all()
    assert isinstance(figure, Figure) and figure.axes[0].get_xlabel().startswith("average intensity, praat")
    assert len(figure.axes[0].lines) == 3  # the identity line and the 60 dB cut on both axes
    assert isinstance(sentence, book.Note) and "On 3 clips" in sentence.text
    assert "every clip gets the same intensity prompt" in sentence.text and "60 dB cut" in sentence.text


def test_intensity_sentence_counts_the_clips_that_cross_the_cut(tmp_path):
    from clapemo.book.backends import intensity_sentence

    summary = pd.DataFrame({"clips": [4, 4], "seconds per clip": [0.01, 0.02],
                            "mean difference vs praat (dB)": [0.0, 1.5],
                            "mean |difference| vs praat (dB)": [0.0, 1.5], "correlation with praat": [1.0, np.nan],
                            "same intensity bin as praat": [1.0, 0.75]}, index=["praat", "librosa"])
    text = intensity_sentence(summary, "praat", "librosa", [60.0])
    assert "+1.50 dB" in text and "1 of the 4 clips get another intensity prompt" in text
    assert "correlation undefined" in text and "2.00 times" in text and "(75 % in the same bin)" in text


def test_intensity_backends_show_notes_without_corpora():
    from clapemo.book.backends import compare_intensity_backends

    cfg = load_config({"data": {"source": "real"}})
    parts = compare_intensity_backends(book.corpus_table(cfg), cfg, n=3)
    assert len(parts) == 3 and all(isinstance(p, book.Note) and "needs emotion corpora" in p.text for p in parts)
    with pytest.raises(ParameterError, match="two intensity backends"):
        compare_intensity_backends(pd.DataFrame({"utterance_id": ["a"], "path": ["a.wav"]}), cfg,
                                   backends=("praat",))


def test_source_line_links_the_results_file_names_config_commit_and_call(tmp_path):
    """Under every table and figure: the numbers behind it (a download), the config and hash, the commit, the call."""
    from IPython.core.interactiveshell import InteractiveShell

    from clapemo import provenance

    cfg = load_config({"evaluate": {"results_dir": str(tmp_path / "results")}})
    folder = experiments.TABLE3.results_dir(cfg)
    folder.mkdir(parents=True)
    (folder / "results.csv").write_text("row,value\n4D,0.5\n")
    provenance.write(folder, {"git": {"commit": "0123456789abcdef" * 2 + "01234567", "dirty": False}})
    shell = InteractiveShell.instance()
    shell.user_ns.update(experiments=experiments, cfg=cfg, source=book.source, static=tmp_path / "static")
    shell.run_cell("shown = 1  # the result", store_history=True)
    shell.run_cell("line = source(experiments.TABLE3, cfg, static_dir=static)", store_history=True)
    line = shell.user_ns["line"]
    html = line._repr_html_()
    rel = f"table3/{folder.name}/results.csv"
    assert f'href="../_static/results/{rel}" download' in html and html.startswith('<div class="clapemo-source">')
    assert (tmp_path / "static" / rel).read_text() == "row,value\n4D,0.5\n"
    assert f"config table3_ear {folder.name[:12]}" in repr(line) and "commit 0123456789ab" in repr(line)
    assert "made by shown = 1  # the result in 02_ear_table.ipynb" in repr(line)
    missing = book.source("table4", cfg, static_dir=tmp_path / "static")
    assert "results.csv not written" in repr(missing) and "commit not recorded" in repr(missing)


def test_claims_sentence_is_generated_from_the_verdicts():
    verdicts = pd.DataFrame([
        {"claim": "PA is best.", "verdict": "holds", "deciding": "PA vs CL", "difference": 0.1, "ci_low": 0.02,
         "ci_high": 0.2},
        {"claim": "CL beats 4D.", "verdict": "undecided", "deciding": "CL vs 4D", "difference": -0.01,
         "ci_low": -0.05, "ci_high": 0.03}])
    text = book.claims_sentence(verdicts).text
    assert text.startswith("Of the paper's 2 claims tested here, 1 holds, 1 is undecided: ")
    assert "“PA is best” holds (PA vs CL: +0.100, 95 % interval [+0.020, +0.200])" in text
    assert isinstance(book.claims_sentence(book.Note("not run: x")), book.Note)
