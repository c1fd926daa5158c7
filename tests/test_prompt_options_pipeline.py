"""Chapter 6's prompt options through the whole pipeline: voice-quality properties measured, binned per speaker
into 3 levels, written as sentences, paired by prompt augmentation, trained, saved and loaded back."""

from pathlib import Path

import pytest

from clapemo.config import load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    pytest.importorskip("ctranslate2")
    out = tmp_path_factory.mktemp("options")
    return load_config(REPO / "configs" / "tiny.yaml", overrides=[
        f"train.runs_dir={out / 'runs'}", f"features.cache_dir={out / 'features'}", "train.epochs=1",
        "train.corpora=[synth-ravdess]", "train.include_4d=false", "train.prompt_kind=augment",
        "features.voice_quality=true", "prompts.binning=quantile", "prompts.quantile_scope=per_speaker",
        "prompts.levels=3", "prompts.form=sentence", "prompts.extra_kinds=[hnr, pause_rate]",
        "prompts.augment_kinds=[class_label, pitch, intensity, hnr, pause_rate]"])


def test_pairs_use_the_options(config):
    from clapemo import train

    audio_index, texts = train.pairs(config)
    assert len(texts) == len(audio_index) > 0
    assert all(t.startswith("a person ") for t in texts)  # the sentence form, class label included
    assert any("normal" in t for t in texts)  # 3 levels: low / normal / high
    words = " ".join(texts)
    assert "voice" in words and "pauses" in words  # the HNR and pause-rate kinds were paired
    # at most the 5 augment kinds per clip
    assert audio_index["utterance_id"].value_counts().max() <= 5


def test_a_run_with_per_speaker_cuts_trains_and_loads(config):
    from clapemo import evaluate, train
    from clapemo.model import load_run
    from clapemo.prompts import SpeakerThresholds

    run = train.fit(config, progress=False)
    model = load_run(run)
    assert isinstance(model.thresholds, SpeakerThresholds)
    table = evaluate.collection("synth-ravdess", config, thresholds=model.thresholds)
    assert table["hnr"].notna().any() and table["class_label"].str.startswith("a person sounding").all()
