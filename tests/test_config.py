"""Config loading, validation and hashing."""

import subprocess
import sys
from pathlib import Path

import pytest

from clapemo.config import Config, config_hash, from_dict, load_config, replace, to_dict
from clapemo.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_defaults_load_and_match_base_yaml():
    cfg = load_config(REPO / "configs" / "base.yaml")
    assert isinstance(cfg, Config)
    assert cfg.train.learning_rate == pytest.approx(1e-4)
    assert cfg.train.batch_size == 128 and cfg.train.epochs == 30
    assert cfg.prompts.pitch_cuts_hz == [132.5, 180.0, 210.0]


def test_every_shipped_config_loads():
    for path in sorted((REPO / "configs").glob("*.yaml")):
        load_config(path)


def test_unknown_key_names_the_dotted_key():
    with pytest.raises(ConfigError, match=r"unknown config key 'train\.epoch'"):
        load_config({"train": {"epoch": 3}})
    with pytest.raises(ConfigError, match=r"unknown config key 'bogus'"):
        load_config({"bogus": 1})


def test_out_of_range_and_bad_choice_and_wrong_type():
    with pytest.raises(ConfigError, match=r"'train\.dropout' = 1\.5 is above its maximum 1\.0"):
        load_config({"train": {"dropout": 1.5}})
    with pytest.raises(ConfigError, match=r"'features\.pitch_backend' = 'crepe' is not one of"):
        load_config({"features": {"pitch_backend": "crepe"}})
    with pytest.raises(ConfigError, match=r"'train\.epochs' = 'ten' should be of type int"):
        load_config({"train": {"epochs": "ten"}})
    with pytest.raises(ConfigError, match=r"'train' must be a mapping"):
        load_config({"train": 3})


def test_int_accepted_for_float_field():
    assert load_config({"prompts": {"intensity_cut_db": 55}}).prompts.intensity_cut_db == 55.0


def test_yaml_base_inheritance_and_overrides(tmp_path):
    (tmp_path / "base.yaml").write_text("train:\n  epochs: 7\n  batch_size: 16\n")
    (tmp_path / "exp.yaml").write_text("base: base.yaml\nname: exp\ntrain:\n  epochs: 3\n")
    cfg = load_config(tmp_path / "exp.yaml", overrides=["train.seed=5", "synth.profile=tiny"])
    assert (cfg.name, cfg.train.epochs, cfg.train.batch_size, cfg.train.seed) == ("exp", 3, 16, 5)
    assert cfg.synth.profile == "tiny"


def test_bad_yaml_and_missing_file(tmp_path):
    (tmp_path / "bad.yaml").write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="must look like section.key=value"):
        load_config(None, overrides=["train.epochs"])


def test_hash_is_stable_ignores_paths_and_tracks_values():
    a = load_config(None)
    assert config_hash(a) == config_hash(load_config(None))
    moved = replace(a, **{"data.synth_root": "/elsewhere", "train.runs_dir": "/tmp/x"})
    assert config_hash(moved) == config_hash(a)
    assert config_hash(replace(a, **{"train.seed": 1})) != config_hash(a)
    assert len(config_hash(a)) == 12


def test_config_is_frozen_hashable_and_round_trips():
    cfg = load_config({"train": {"epochs": 2}})
    with pytest.raises(Exception):
        cfg.train.epochs = 5  # frozen
    assert load_config(to_dict(cfg)) == cfg
    assert "runs_dir" not in to_dict(cfg, include_paths=False)["train"]


def test_replace_validates():
    with pytest.raises(ConfigError, match="train.batch_size"):
        replace(load_config(None), **{"train.batch_size": 1})


def test_cli_config_bad_key_is_one_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("train:\n  lr: 0.1\n")
    proc = subprocess.run([sys.executable, "-m", "clapemo", "config", str(tmp_path / "bad.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "unknown config key 'train.lr'" in proc.stderr


def test_cli_help_lists_existing_subcommands():
    proc = subprocess.run([sys.executable, "-m", "clapemo", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "config" in proc.stdout


def test_stored_config_has_no_absolute_paths_and_anchors_back(tmp_path):
    """Runs store their config without this machine's paths: under the project -> relative, elsewhere -> left out;
    read back, relative folders are anchored in the project of this installation."""
    from clapemo.config import anchored, project_root, stored_dict

    root = tmp_path / "project"
    cfg = replace(load_config(None), **{"features.cache_dir": str(root / "data" / "cache" / "features"),
                                        "train.runs_dir": "/elsewhere/runs", "data.roots": {"ravdess": "/corpora/R"},
                                        "encoders.cache_dir": "data/cache/embeddings"})
    stored = stored_dict(cfg, root=root)
    assert stored["features"]["cache_dir"] == "data/cache/features" and "runs_dir" not in stored["train"]
    assert stored["data"]["roots"] == {} and stored["encoders"]["cache_dir"] == "data/cache/embeddings"
    back = anchored(from_dict(Config, stored), root)
    assert back.features.cache_dir == str(root / "data" / "cache" / "features")
    assert back.train.runs_dir == str(root / "runs")  # the default, in this project
    assert project_root() is not None


def test_prompt_kind_defaults_and_choices_come_from_schema():
    import dataclasses

    from clapemo import schema
    from clapemo.config import EvaluateConfig, PromptsConfig, TrainConfig

    choices = {f.name: f.metadata["choices"] for f in dataclasses.fields(TrainConfig)}
    assert choices["prompt_kind"] == schema.TRAIN_PROMPT_KINDS == (*schema.PROMPT_KINDS, "augment")
    assert PromptsConfig().augment_kinds == list(schema.AUGMENT_KINDS)
    assert EvaluateConfig().ear_query_kinds == list(schema.PAPER_KINDS)
    assert EvaluateConfig().prompt_analysis_kinds == [*schema.PAPER_KINDS, "augment"]
    with pytest.raises(ConfigError, match="'prompts.extra_kinds': 'loudness' is not a prompt kind"):
        PromptsConfig(extra_kinds=["loudness"])


def test_config_does_not_import_prompts():
    """clapemo.config sits below clapemo.prompts: loading and validating a config never imports it."""
    code = ("import sys, clapemo.config as c; c.load_config({'prompts': {'binning': 'quantile', "
            "'extra_kinds': ['jitter']}}); print('clapemo.prompts' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_an_option_added_later_keeps_old_ids_at_its_default():
    """A field declared with hash_default=False (metadata of the config's field factory) is out of the hash while at
    its default (what ran before it existed), and changes the hash as soon as it is set."""
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Old:
        a: int = 1

    @dataclasses.dataclass(frozen=True)
    class New:
        a: int = 1
        b: str = dataclasses.field(default="x", metadata={"hash_default": False, "default": "x"})

    assert config_hash(New()) == config_hash(Old())
    assert config_hash(New(b="y")) != config_hash(Old())
