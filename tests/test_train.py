"""clapemo.train on synthetic embeddings: learning, determinism, resume, checkpoints, reuse, finetune."""

import csv
import json

import numpy as np
import pytest
import torch

from clapemo import train
from clapemo.train import data as train_data
from clapemo.train import loop as train_loop
from clapemo.config import load_config, replace, to_dict
from clapemo.errors import ConfigError, DataError


def clusters(n_classes=6, per_class=40, d_audio=24, d_text=12, seed=0, noise=0.6):
    """Audio embeddings = class centre + noise (through a random linear map); one text per class."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), per_class)
    centres = rng.normal(size=(n_classes, d_audio))
    audio = centres[labels] + noise * rng.normal(size=(len(labels), d_audio))
    text = rng.normal(size=(n_classes, d_text))
    return audio.astype(np.float32), text.astype(np.float32), np.arange(len(labels)), labels


def small_config(tmp_path, **changes):
    base = {"train.epochs": 8, "train.batch_size": 32, "train.projection_dim": 32, "train.learning_rate": 3e-3,
            "train.dropout": 0.1, "train.device": "cpu", "train.num_threads": 1,
            "train.runs_dir": str(tmp_path / "runs")}
    base.update(changes)
    return replace(load_config(None), **base)


def retrieval_accuracy(model, audio, text, labels):
    a = model.project_audio(audio)
    t = model.project_text(text)
    return float(((a @ t.T).argmax(1) == labels).mean())


def test_training_lowers_loss_and_raises_retrieval_accuracy(tmp_path):
    audio, text, clip_index, labels = clusters()
    cfg = small_config(tmp_path)
    untrained = train.fit_embeddings(audio, text, clip_index, labels, config=replace(cfg, **{"train.epochs": 0}),
                                     run_dir=tmp_path / "r0", progress=False)
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "r1",
                               progress=False)
    with open(run / "log.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 9))
    losses = [float(r["loss"]) for r in rows]
    assert losses[-1] < 0.7 * losses[0]
    acc0 = retrieval_accuracy(train.load_run(untrained), audio, text, labels)
    acc1 = retrieval_accuracy(train.load_run(run), audio, text, labels)
    assert acc1 > 0.9 and acc1 > acc0 + 0.3
    assert (run / "done").is_file() and (run / "config.yaml").is_file()


def test_multi_positive_variant_trains_too(tmp_path):
    audio, text, clip_index, labels = clusters(seed=1)
    cfg = small_config(tmp_path, **{"train.loss": "multi_positive"})
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "mp",
                               progress=False)
    assert retrieval_accuracy(train.load_run(run), audio, text, labels) > 0.9


def test_same_seed_same_weights_and_other_seed_differs(tmp_path):
    audio, text, clip_index, labels = clusters(per_class=20)
    cfg = small_config(tmp_path, **{"train.epochs": 3})
    runs = [train.fit_embeddings(audio, text, clip_index, labels, config=c, run_dir=tmp_path / name,
                                 progress=False)
            for name, c in (("a", cfg), ("b", cfg), ("c", replace(cfg, **{"train.seed": 1})))]
    sd = [train.load_run(r).head.state_dict() for r in runs]
    assert all(torch.equal(sd[0][k], sd[1][k]) for k in sd[0])
    assert not torch.equal(sd[0]["audio_projection.linear1.weight"], sd[2]["audio_projection.linear1.weight"])


def test_resume_after_interruption_gives_the_same_weights(tmp_path, monkeypatch):
    audio, text, clip_index, labels = clusters(per_class=20)
    cfg = small_config(tmp_path, **{"train.epochs": 4, "train.checkpoint_every_s": 0.0})
    full = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "full",
                                progress=False)
    real_save, calls = train_loop.save_checkpoint, []

    def save_then_crash(path, payload):
        real_save(path, payload)
        calls.append(payload["epoch"])
        if payload["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_loop, "save_checkpoint", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "cut", progress=False)
    assert not (tmp_path / "cut" / "done").exists()
    monkeypatch.setattr(train_loop, "save_checkpoint", real_save)
    resumed = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "cut",
                                   progress=False)
    a, b = train.load_run(full).head.state_dict(), train.load_run(resumed).head.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with open(resumed / "log.csv") as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == [1, 2, 3, 4]


def test_checkpoint_is_weights_only_and_holds_the_config(tmp_path):
    audio, text, clip_index, labels = clusters(per_class=10)
    cfg = small_config(tmp_path, **{"train.epochs": 1})
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "w",
                               progress=False)
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 1 and ckpt["config"]["train"]["epochs"] == 1
    assert set(ckpt["state_dict"]) >= {"logit_scale", "audio_projection.linear1.weight"}
    model = train.load_run(run)
    assert to_dict(model.config, include_paths=False) == to_dict(cfg, include_paths=False)
    assert not model.head.training
    # no absolute path of this machine in the run (tmp_path lies outside the project: left out, default on load)
    assert str(tmp_path) not in json.dumps(ckpt["config"]) and str(tmp_path) not in (run / "config.yaml").read_text()
    emb = model.project_audio(audio[:5])
    assert emb.shape == (5, 32) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)


def test_corrupted_checkpoint_gives_a_clear_error(tmp_path):
    audio, text, clip_index, labels = clusters(per_class=10)
    cfg = small_config(tmp_path, **{"train.epochs": 1})
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg,
                               run_dir=tmp_path / "bad", progress=False)
    path = run / "checkpoint.pt"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated, as by an interrupted copy
    with pytest.raises(DataError, match=r"checkpoint .*checkpoint\.pt cannot be read .*corrupted or truncated"):
        train.load_run(run)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(DataError, match="corrupted"):
        train.load_checkpoint(path)
    torch.save({"state_dict": {}}, path)
    with pytest.raises(DataError, match="not a clapemo CLAP-head checkpoint"):
        train.load_checkpoint(path)


def fake_training_data(monkeypatch, audio, text, clip_index, labels, encoder="fake-encoders"):
    data = train.TrainingData.from_arrays(audio, text, clip_index, labels)
    monkeypatch.setattr(train, "training_data", lambda config: data)
    monkeypatch.setattr(train, "_encoder_id", lambda config: encoder)


def test_fit_run_dir_reuse_and_finetune(tmp_path, monkeypatch):
    audio, text, clip_index, labels = clusters(per_class=15)
    fake_training_data(monkeypatch, audio, text, clip_index, labels)
    cfg = small_config(tmp_path, **{"train.epochs": 2})
    run = train.fit(cfg, progress=False)
    assert run.parent == tmp_path / "runs" and run.name == train.run_id(cfg)
    mtime = (run / "checkpoint.pt").stat().st_mtime_ns
    assert train.fit(cfg, progress=False) == run and (run / "checkpoint.pt").stat().st_mtime_ns == mtime  # reused

    ft_cfg = replace(cfg, **{"train.init_from": str(run / "checkpoint.pt"), "train.epochs": 1})
    ft = train.fit(ft_cfg, progress=False)
    assert ft != run and ft.name.startswith(train.config_hash(ft_cfg) + "-ft")
    # a different init checkpoint (same config) gives a different run
    other = train.fit(replace(cfg, **{"train.seed": 5}), progress=False)
    ft2 = train.fit(replace(ft_cfg, **{"train.init_from": str(other / "checkpoint.pt")}), progress=False)
    assert ft2 != ft

    # a finished run is not reused once the encoder weights changed
    fake_training_data(monkeypatch, audio, text, clip_index, labels, encoder="other-weights")
    with pytest.raises(DataError, match="weights changed"):
        train.fit(cfg, progress=False)
    fake_training_data(monkeypatch, audio, text, clip_index, labels)

    # finetuning from a head of another shape is a clear error
    wide = small_config(tmp_path, **{"train.epochs": 0, "train.projection_dim": 16})
    wide_run = train.fit(wide, progress=False)
    with pytest.raises(ConfigError, match="do not fit this head"):
        train.fit(replace(ft_cfg, **{"train.init_from": str(wide_run / "checkpoint.pt")}), progress=False)


def test_finetune_starts_from_the_init_weights(tmp_path, monkeypatch):
    audio, text, clip_index, labels = clusters(per_class=15)
    fake_training_data(monkeypatch, audio, text, clip_index, labels)
    cfg = small_config(tmp_path, **{"train.epochs": 3})
    base = train.load_run(train.fit(cfg, progress=False))
    ft = train.load_run(train.fit(replace(cfg, **{"train.init_from": str(base.run_dir / "checkpoint.pt"),
                                                  "train.epochs": 0}), progress=False))
    a, b = base.head.state_dict(), ft.head.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_zero_epochs_and_unfinished_run(tmp_path):
    audio, text, clip_index, labels = clusters(per_class=5)
    cfg = small_config(tmp_path, **{"train.epochs": 0})
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg,
                               run_dir=tmp_path / "z", progress=False)
    model = train.load_run(run)
    assert model.epoch == 0 and model.head.logit_scale.item() == pytest.approx(np.log(1 / 0.07), rel=1e-6)
    (run / "done").unlink()
    with pytest.raises(DataError, match="not a finished training run"):
        train.load_run(run)


def test_cli_prints_the_run_dir(tmp_path, monkeypatch, capsys):
    audio, text, clip_index, labels = clusters(per_class=5)
    fake_training_data(monkeypatch, audio, text, clip_index, labels)
    rc = train.cli(["--quiet", "--set", "train.epochs=1", "--set", "train.device=cpu", "--set",
                    "train.projection_dim=8", "--set", f"train.runs_dir={tmp_path / 'runs'}"])
    out = capsys.readouterr().out.strip()
    assert rc == 0 and (tmp_path / "runs").resolve() == type(tmp_path)(out).parent.resolve()


@pytest.mark.slow
def test_fit_end_to_end_on_the_tiny_synthetic_benchmark(tmp_path):
    """synth -> features -> prompts -> encoders -> fit -> load_run, on the tiny profile (minutes on 2 cores)."""
    cfg = replace(load_config(None), **{
        "data.synth_root": str(tmp_path / "synth"), "synth.profile": "tiny", "synth.n_jobs": 2, "data.n_jobs": 2,
        "features.cache_dir": str(tmp_path / "cache" / "features"),
        "encoders.cache_dir": str(tmp_path / "cache" / "embeddings"),
        "train.corpora": ["synth-ravdess"], "train.prompt_kind": "augment", "train.epochs": 3,
        "train.runs_dir": str(tmp_path / "runs"), "train.device": "cpu"})
    index, texts = train.pairs(cfg)
    assert len(index) == len(texts) > 0 and set(index["prompt_kind"]) <= set(train.AUGMENT_KINDS) | {"caption"}
    run = train.fit(cfg, progress=False)
    model = train.load_run(run)
    assert model.epoch == 3 and train.fit(cfg, progress=False) == run
    from clapemo import corpora

    test = corpora.manifest("synth-ravdess", cfg, split="test")
    emb = model.embed_manifest(test)
    assert emb.shape == (len(test), cfg.train.projection_dim)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)
    assert model.embed_texts(["anger", "sad"]).shape == (2, cfg.train.projection_dim)


def test_quantile_thresholds_travel_with_the_run(tmp_path):
    from clapemo.prompts import Thresholds

    audio, text, clip_index, labels = clusters(per_class=5)
    cfg = small_config(tmp_path, **{"train.epochs": 0})
    single = Thresholds(pitch_cuts_hz=(120.0, 170.0, 220.0), pitch2_cut_hz=165.0, intensity_cut_db=62.0,
                        speech_rate_cut_syl_per_s=3.0, articulation_rate_cut_syl_per_s=4.2, origin="quantile:pooled")
    for name, th in (("one", single), ("per", {"synth-ravdess": single, "synth-cremad": single})):
        run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / name,
                                   thresholds=th, progress=False)
        assert (run / "thresholds.json").is_file()
        assert train.load_run(run).thresholds == th


# ---------------------------------------------------------------------------------------------------------------
# Run folders: lock, atomic files, data digest, finished-run contents, fit_many
# ---------------------------------------------------------------------------------------------------------------


def test_finished_run_keeps_weights_only_and_thresholds_in_the_prompts_format(tmp_path):
    from clapemo.prompts import Thresholds, load_thresholds

    audio, text, clip_index, labels = clusters(per_class=10)
    cfg = small_config(tmp_path, **{"train.epochs": 2})
    th = Thresholds(pitch_cuts_hz=(120.0, 170.0, 220.0), pitch2_cut_hz=165.0, intensity_cut_db=62.0,
                    speech_rate_cut_syl_per_s=3.0, articulation_rate_cut_syl_per_s=4.2, origin="quantile:pooled")
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "f", thresholds=th,
                               progress=False)
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert "optimizer" not in ckpt and "rng" not in ckpt and ckpt["epoch"] == 2
    assert load_thresholds(run / "thresholds.json") == th
    assert sorted(p.name for p in run.iterdir()) == [".lock", "checkpoint.pt", "config.yaml", "done", "log.csv",
                                                     "provenance.json", "thresholds.json"]


def test_interrupted_checkpoint_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    audio, text, clip_index, labels = clusters(per_class=10)
    cfg = small_config(tmp_path, **{"train.epochs": 3, "train.checkpoint_every_s": 0.0})
    real_save = torch.save

    def half_then_interrupt(obj, f, *args, **kwargs):
        if obj["epoch"] == 2:
            f.write(b"\0" * 1000)  # a partial write ...
            raise KeyboardInterrupt  # ... then Ctrl-C
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "i", progress=False)
    assert not [p for p in (tmp_path / "i").iterdir() if p.name.endswith(".tmp")]
    assert torch.load(tmp_path / "i" / "checkpoint.pt", weights_only=True)["epoch"] == 1  # the last whole one
    monkeypatch.setattr(torch, "save", real_save)
    (tmp_path / "i" / ".checkpoint.pt.abc.tmp").write_bytes(b"left by a killed process")
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "i", progress=False)
    assert (run / "done").is_file() and not list(run.glob("*.tmp")) and not list(run.glob(".*.tmp"))


def test_second_training_of_a_locked_run_waits_then_reuses_it(tmp_path):
    import threading

    from clapemo.files import FolderLock

    audio, text, clip_index, labels = clusters(per_class=10)
    cfg = small_config(tmp_path, **{"train.epochs": 1})
    run_dir = tmp_path / "locked"
    result = {}

    def second():
        result["run"] = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=run_dir,
                                             progress=False)

    with FolderLock(run_dir, what="training run"):  # the first `clapemo train`
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive() and not (run_dir / "checkpoint.pt").exists()  # waiting, nothing written
    thread.join(timeout=60)
    assert result["run"] == run_dir and (run_dir / "done").is_file()


def fake_pairs(monkeypatch, tmp_path, n_clips=12):
    """A real-looking pairing over small files on disk; embeddings are a function of the file bytes."""
    import pandas as pd

    paths = []
    for i in range(n_clips):
        path = tmp_path / "clips" / f"c{i}.wav"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(bytes([i]) * 64)
        paths.append(str(path))
    texts = [f"prompt {i % 3}" for i in range(n_clips)]
    index = pd.DataFrame({"utterance_id": [f"u{i}" for i in range(n_clips)], "path": paths, "prompt": texts,
                          "clip_index": range(n_clips)})
    monkeypatch.setattr(train_data, "_pairs", lambda config, split, thresholds: (index, texts, None))

    def embed(clips, unique_texts, encoders_config):
        audio = np.stack([np.frombuffer(open(p, "rb").read()[:8], np.uint8).astype(np.float32)
                          + np.arange(8, dtype=np.float32) for p in clips["path"]])
        return audio, np.eye(len(unique_texts), 5, dtype=np.float32)

    monkeypatch.setattr(train_data, "_embed", embed)
    monkeypatch.setattr(train, "_encoder_id", lambda config: "fake-encoders")
    return paths


def test_changed_training_clip_gives_a_new_run(tmp_path, monkeypatch):
    paths = fake_pairs(monkeypatch, tmp_path)
    cfg = small_config(tmp_path, **{"train.epochs": 1, "train.projection_dim": 8})
    first = train.fit(cfg, progress=False)
    assert first.name == train.run_id(cfg) and train.fit(cfg, progress=False) == first
    with open(paths[3], "ab") as fh:
        fh.write(b"edited")
    second = train.fit(cfg, progress=False)
    assert second != first and second.name.startswith(train.config_hash(cfg) + "-d")
    assert torch.load(second / "checkpoint.pt", weights_only=True)["data_digest"] == train.training_data(cfg).digest


def test_fit_many_serial_returns_the_fit_runs_in_order_and_trains_equal_configs_once(tmp_path, monkeypatch):
    fake_pairs(monkeypatch, tmp_path)
    cfgs = [small_config(tmp_path, **{"train.epochs": 1, "train.projection_dim": 8, "train.seed": s})
            for s in (2, 0, 2)]
    runs = train.fit_many(cfgs, n_workers=1, progress=False)
    assert runs[0] == runs[2] != runs[1] and runs == [train.fit(c, progress=False) for c in cfgs]


def train_cluster_run(args):
    """Module-level task (picklable): one training on cluster data, its checkpoint bytes."""
    root, seed = args
    audio, text, clip_index, labels = clusters(per_class=10, seed=seed)
    cfg = small_config(root.parent, **{"train.epochs": 2, "train.seed": seed})  # same config in both maps
    run = train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=root / f"run{seed}",
                               progress=False)
    return (run / "checkpoint.pt").read_bytes()


def test_worker_trainings_are_byte_identical_to_serial_ones(tmp_path):
    from clapemo.executor import map_tasks

    serial = map_tasks(train_cluster_run, [(tmp_path / "s", seed) for seed in (0, 1, 2)], n_workers=1,
                       progress=False)
    parallel = map_tasks(train_cluster_run, [(tmp_path / "p", seed) for seed in (0, 1, 2)], n_workers=2,
                         progress=False)
    assert parallel == serial and len(set(serial)) == 3


@pytest.mark.slow
def test_fit_many_in_workers_equals_serial_fit_on_the_tiny_benchmark(tmp_path):
    """Two configs of the tiny profile: byte-identical checkpoints from 2 worker processes and from serial fit."""
    base = replace(load_config(None), **{
        "data.synth_root": str(tmp_path / "synth"), "synth.profile": "tiny", "synth.n_jobs": 2, "data.n_jobs": 2,
        "features.cache_dir": str(tmp_path / "cache" / "features"),
        "encoders.cache_dir": str(tmp_path / "cache" / "embeddings"), "train.include_4d": False,
        "train.corpora": ["synth-ravdess"], "train.epochs": 2, "train.device": "cpu", "train.num_threads": 1,
        "train.projection_dim": 64})
    cfgs = [replace(base, **{"train.prompt_kind": kind, "train.runs_dir": str(tmp_path / "runs")})
            for kind in ("class_label", "augment")]
    serial = [(train.fit(c, progress=False) / "checkpoint.pt").read_bytes() for c in cfgs]
    (tmp_path / "runs").rename(tmp_path / "serial_runs")  # same runs_dir (it is in the saved config), fresh
    parallel = train.fit_many(cfgs, n_workers=2, progress=False)
    assert [(p / "checkpoint.pt").read_bytes() for p in parallel] == serial
    assert len(set(serial)) == 2


def test_a_short_run_writes_its_checkpoint_once(tmp_path, monkeypatch):
    """Resume state at most every train.checkpoint_every_s: a run shorter than that writes only the final weights
    (once per epoch, with the Adam moments, wrote ~190 GB in a reproduction); 0 writes after every epoch."""
    audio, text, clip_index, labels = clusters(per_class=10)
    real_save, saved = train_loop.save_checkpoint, []

    def counting(path, payload):
        saved.append((payload["epoch"], "optimizer" in payload))
        real_save(path, payload)

    monkeypatch.setattr(train_loop, "save_checkpoint", counting)
    cfg = small_config(tmp_path, **{"train.epochs": 3})
    train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "short", progress=False)
    assert saved == [(3, False)]
    saved.clear()
    cfg = small_config(tmp_path, **{"train.epochs": 3, "train.checkpoint_every_s": 0.0})
    train.fit_embeddings(audio, text, clip_index, labels, config=cfg, run_dir=tmp_path / "every", progress=False)
    assert saved == [(1, True), (2, True), (3, False)]


def test_a_clip_whose_audio_cannot_be_used_stops_training_with_its_name_and_the_rule(tmp_path):
    """A silent clip in an own corpus keeps its class-label pair (a feature error alone, e.g. no voiced frames,
    does not make audio unusable), but the encoders' admission rule (clapemo.audio.admit) refuses it: training
    stops with a DataError that names the clip and the rule, before any weight is written."""
    import soundfile as sf

    from tests.fake_corpora import make_folder

    rows = (("spk1/a.wav", "angry", "s1", "F", 1, "", ""), ("spk1/b.wav", "happy", "s1", "female", 1, "", ""),
            ("spk2/c.wav", "sad", "s2", "m", 0, "", ""))  # fold 0 is the test fold
    root = make_folder(tmp_path / "mine", rows=rows)
    sf.write(str(root / "spk1" / "a.wav"), np.zeros(16000, np.float32), 16000)  # digital silence
    cfg = replace(load_config(None), **{
        "data.source": "real", "data.roots": {"mine": str(root)}, "train.corpora": ["mine"],
        "train.include_4d": False, "train.epochs": 1, "train.runs_dir": str(tmp_path / "runs"),
        "features.cache_dir": str(tmp_path / "cache" / "f"), "encoders.cache_dir": str(tmp_path / "cache" / "e"),
        "data.n_jobs": 1, "train.device": "cpu", "encoders.device": "cpu"})
    with pytest.raises(DataError, match=r"a\.wav.*silent"):
        train.fit(cfg, progress=False)
    assert not list((tmp_path / "runs").glob("*/done"))
