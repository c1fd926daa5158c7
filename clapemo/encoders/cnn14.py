"""CNN14 (PANNs; Kong et al. 2020) as the audio encoder of MS-CLAP 2022: 2048-d clip embeddings.

Front end (MS-CLAP 2022): 44.1 kHz input (32 kHz for PANNs' own ``Cnn14_mAP=0.431.pth``), 5 s clips, power STFT
with a 1024-sample periodic Hann window and hop 320 (``torch.stft``, centred, reflect padding), 64 mel bands
50-14000 Hz (``librosa.filters.mel``, Slaney), ``10 log10(max(mel, 1e-10))``. Network: ``bn0`` over the mel
axis, six ConvBlocks (64, 128, 256, 512, 1024, 2048 channels; two 3x3 convs with batch norm and ReLU, then 2x2
average pooling, 1x1 after the last), mean over frequency, max + mean over time, ``fc1`` (2048) + ReLU = the
embedding; ``fc_audioset`` (527 AudioSet classes) is kept so that PANNs checkpoints load strictly, but unused.
Only the evaluation path exists: no SpecAugment, no dropout, no mixup.

Clip length (deterministic, no random crop; MS-CLAP random-crops long clips at training time):

* shorter than 5 s: the waveform is repeated (tiled) and cut at 5 s, as MS-CLAP does;
* longer than 5 s: ``ceil(duration / 5 s)`` windows of 5 s at evenly spaced starts (the first at 0, the last
  ending at the end of the clip) are embedded and their embeddings averaged (windowed mean);
* exactly 5 s: one window.

Checkpoints are PANNs-format ``{"model": state_dict}`` files read with ``torch.load(weights_only=True)`` and
loaded with ``strict=True``. PANNs' state dicts also hold the torchlibrosa front end:
``spectrogram_extractor.stft.conv_real.weight``, ``spectrogram_extractor.stft.conv_imag.weight`` (the windowed
DFT basis) and ``logmel_extractor.melW`` (the mel filterbank). Exactly these three keys are taken out before the
strict load and compared with this module's front end (the mel bank also tells the sample rate the checkpoint was
trained at); a mismatch is a :class:`~clapemo.errors.DataError`. They may be absent (state dicts saved from
:class:`Cnn14` itself). Every other key must match by name and shape.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from clapemo import numerics
from clapemo.encoders.base import AudioEncoder, file_sha256, resolve_device
from clapemo.errors import ConfigError, DataError

__all__ = ["Cnn14", "Cnn14Encoder", "FRONTEND_KEYS", "panns_frontend_state", "check_frontend",
           "load_panns_checkpoint", "CLIP_S", "WINDOW", "HOP", "N_MELS", "FMIN_HZ", "FMAX_HZ", "N_CLASSES",
           "EMBED_DIM"]

CLIP_S = 5.0
WINDOW = 1024
HOP = 320
N_MELS = 64
FMIN_HZ = 50.0
FMAX_HZ = 14000.0
N_CLASSES = 527
EMBED_DIM = 2048
RANDOM_SEED = 0
FRONTEND_KEYS = (
    "spectrogram_extractor.stft.conv_real.weight",
    "spectrogram_extractor.stft.conv_imag.weight",
    "logmel_extractor.melW",
)
_CHANNELS = (64, 128, 256, 512, 1024, 2048)


def _mel_filterbank(sample_rate_hz: int) -> np.ndarray:
    """Mel filterbank, shape (WINDOW // 2 + 1, N_MELS), float32 (PANNs' ``melW`` layout)."""
    import librosa

    fb = librosa.filters.mel(sr=sample_rate_hz, n_fft=WINDOW, n_mels=N_MELS, fmin=FMIN_HZ, fmax=FMAX_HZ)
    return np.ascontiguousarray(fb.T, dtype=np.float32)


def panns_frontend_state(sample_rate_hz: int) -> dict[str, torch.Tensor]:
    """The three torchlibrosa front-end tensors a PANNs checkpoint stores, computed for this front end.

    ``conv_real`` / ``conv_imag``: shape (513, 1, 1024), ``cos`` / ``-sin`` DFT basis times the periodic Hann
    window; ``melW``: shape (513, 64).
    """
    n = np.arange(WINDOW)
    k = np.arange(WINDOW // 2 + 1)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / WINDOW)
    phase = 2 * np.pi * np.outer(k, n) / WINDOW
    real = (np.cos(phase) * window)[:, None, :]
    imag = (-np.sin(phase) * window)[:, None, :]
    return {
        FRONTEND_KEYS[0]: torch.from_numpy(real.astype(np.float32)),
        FRONTEND_KEYS[1]: torch.from_numpy(imag.astype(np.float32)),
        FRONTEND_KEYS[2]: torch.from_numpy(_mel_filterbank(sample_rate_hz)),
    }


class _ConvBlock(nn.Module):
    """Two 3x3 conv + batch norm + ReLU, then average pooling (PANNs ``ConvBlock`` parameter names)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, pool: int) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.avg_pool2d(x, kernel_size=pool) if pool > 1 else x


class Cnn14(nn.Module):
    """PANNs CNN14, evaluation path. ``forward(waveform (batch, n_samples)) -> embedding (batch, 2048)``.

    Parameters
    ----------
    sample_rate_hz : int
        Input rate (44100 MS-CLAP, 32000 PANNs); only the mel filterbank depends on it.
    generator : torch.Generator, optional
        Initialises the weights as PANNs does (Xavier-uniform convs and linears, zero biases, unit batch-norm
        scales); a fixed seed makes random-weight runs reproducible.
    """

    def __init__(self, *, sample_rate_hz: int = 44100, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.sample_rate_hz = int(sample_rate_hz)
        with torch.device("meta"):  # allocate once, initialise once (below), not twice
            self.bn0 = nn.BatchNorm2d(N_MELS)
            for i in range(6):
                setattr(self, f"conv_block{i + 1}", _ConvBlock(1 if i == 0 else _CHANNELS[i - 1], _CHANNELS[i]))
            self.fc1 = nn.Linear(2048, EMBED_DIM, bias=True)
            self.fc_audioset = nn.Linear(EMBED_DIM, N_CLASSES, bias=True)
        self.to_empty(device="cpu")
        self.register_buffer("window", torch.hann_window(WINDOW, periodic=True), persistent=False)
        self.register_buffer("mel_fb", torch.from_numpy(_mel_filterbank(self.sample_rate_hz)), persistent=False)
        self._init_weights(generator)

    def _init_weights(self, generator: torch.Generator | None) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(module.weight, generator=generator)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
                module.reset_running_stats()

    def logmel(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log-mel spectrogram in dB, shape (batch, 1, n_frames, 64) from waveform (batch, n_samples)."""
        spec = torch.stft(waveform, n_fft=WINDOW, hop_length=HOP, win_length=WINDOW, window=self.window,
                          center=True, pad_mode="reflect", return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (batch, 513, n_frames)
        mel = torch.matmul(power.transpose(1, 2), self.mel_fb)  # (batch, n_frames, 64)
        return (10.0 * torch.log10(torch.clamp(mel, min=1e-10)))[:, None]

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = self.logmel(waveform)
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)  # batch norm over the 64 mel bands
        for i in range(6):
            x = getattr(self, f"conv_block{i + 1}")(x, pool=2 if i < 5 else 1)
        x = x.mean(dim=3)  # over frequency -> (batch, 2048, time)
        x = x.amax(dim=2) + x.mean(dim=2)
        return F.relu(self.fc1(x))

    def clipwise_output(self, embedding: torch.Tensor) -> torch.Tensor:
        """AudioSet tag probabilities (batch, 527) from :meth:`forward`'s embedding (not used by CLAP)."""
        return torch.sigmoid(self.fc_audioset(embedding))


def check_frontend(tensors: Mapping[str, torch.Tensor], *, sample_rate_hz: int, path: Path) -> None:
    """Check a checkpoint's front-end tensors against this CNN14 front end at ``sample_rate_hz``.

    Parameters
    ----------
    tensors : mapping key -> tensor
        Some of :data:`FRONTEND_KEYS` as the checkpoint holds them (``conv_real`` / ``conv_imag`` of shape
        (513, 1, 1024), ``melW`` of shape (513, 64)).
    sample_rate_hz : int
        The rate the encoder runs at.
    path : Path
        The checkpoint, named in every message.

    Raises
    ------
    DataError
        A tensor of another shape, or other values than :func:`panns_frontend_state` (rtol 1e-3, atol 1e-5); a
        mel filterbank built for another common rate names that rate and the config key to set.
    """
    ours = panns_frontend_state(sample_rate_hz)
    for key, value in tensors.items():
        value = value.detach().float().cpu()
        want = ours[key]
        if tuple(value.shape) != tuple(want.shape):
            raise DataError(f"{path}: front-end tensor '{key}' has shape {tuple(value.shape)}, expected "
                            f"{tuple(want.shape)} (window {WINDOW}, {N_MELS} mel bands)")
        if torch.allclose(value, want, rtol=1e-3, atol=1e-5):
            continue
        if key == "logmel_extractor.melW":
            for rate in (44100, 32000, 16000, 48000, 22050):
                if rate != sample_rate_hz and tuple(value.shape) == tuple(_mel_filterbank(rate).shape) and \
                        torch.allclose(value, torch.from_numpy(_mel_filterbank(rate)), rtol=1e-3, atol=1e-5):
                    raise DataError(
                        f"{path}: the checkpoint's mel filterbank was built for {rate} Hz but the encoder runs at "
                        f"{sample_rate_hz} Hz; set 'encoders.cnn14_sample_rate_hz: {rate}'")
        raise DataError(f"{path}: front-end tensor '{key}' differs from this CNN14 front end (periodic Hann "
                        f"{WINDOW}, {N_MELS} mel {FMIN_HZ:g}-{FMAX_HZ:g} Hz at {sample_rate_hz} Hz)")


def load_panns_checkpoint(model: Cnn14, path: str | Path) -> list[str]:
    """Load a PANNs-format checkpoint ``{"model": state_dict}`` into ``model`` strictly.

    Returns the front-end keys that were checked and set aside (a subset of :data:`FRONTEND_KEYS`).

    Raises
    ------
    DataError
        Missing or unreadable file, not ``{"model": state_dict}``, a front-end tensor that does not match,
        missing/unexpected keys, or tensors of the wrong shape. The message names the file and the keys.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: CNN14 checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt zip, truncated file, pickled objects refused by weights_only
        raise DataError(f"{path}: not a readable PyTorch checkpoint ({type(err).__name__}: "
                        f"{str(err).splitlines()[0] if str(err) else ''})") from None
    if not isinstance(checkpoint, Mapping) or not isinstance(checkpoint.get("model"), Mapping):
        found = sorted(checkpoint)[:5] if isinstance(checkpoint, Mapping) else type(checkpoint).__name__
        raise DataError(f"{path}: expected a PANNs checkpoint {{'model': state_dict}}, found {found}")
    state = dict(checkpoint["model"])
    frontend = {key: state.pop(key) for key in FRONTEND_KEYS if key in state}
    check_frontend(frontend, sample_rate_hz=model.sample_rate_hz, path=path)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise DataError(f"{path}: not a CNN14 state dict: {len(missing)} missing keys {missing[:4]}, "
                        f"{len(unexpected)} unexpected keys {unexpected[:4]}")
    wrong = [(k, tuple(state[k].shape), tuple(v.shape)) for k, v in expected.items()
             if tuple(state[k].shape) != tuple(v.shape)]
    if wrong:
        key, got, want = wrong[0]
        raise DataError(f"{path}: {len(wrong)} tensors have the wrong shape for CNN14, e.g. '{key}' is {got} in "
                        f"the checkpoint but {want} in the model")
    model.load_state_dict(state, strict=True)
    return sorted(frontend)


class Cnn14Encoder(AudioEncoder):
    """CNN14 clip encoder (2048-d), 5 s windows, see the module docstring for the clip-length rule."""

    name = "cnn14"
    dim = EMBED_DIM

    def __init__(self, config) -> None:
        numerics.configure_torch()
        self.sample_rate_hz = int(config.cnn14_sample_rate_hz)
        self.batch_size = int(config.batch_size)
        self.device = resolve_device(config.device)
        self.identity = identity(config)
        generator = torch.Generator().manual_seed(RANDOM_SEED)
        model = Cnn14(sample_rate_hz=self.sample_rate_hz, generator=generator)
        if config.audio_checkpoint:
            load_panns_checkpoint(model, config.audio_checkpoint)
        self.model = model.to(self.device).eval().requires_grad_(False)

    def windows(self, waveform: np.ndarray) -> np.ndarray:
        """The 5 s windows a waveform is embedded as, shape (n_windows, 5 s * rate) (the clip-length rule)."""
        n = int(round(CLIP_S * self.sample_rate_hz))
        if len(waveform) <= n:
            return np.tile(waveform, math.ceil(n / len(waveform)))[None, :n]
        count = math.ceil(len(waveform) / n)
        starts = np.round(np.linspace(0, len(waveform) - n, count)).astype(int)
        return np.stack([waveform[s:s + n] for s in starts])

    def _embed(self, waveforms: list[np.ndarray]) -> np.ndarray:
        windows = [self.windows(w) for w in waveforms]
        owners = np.repeat(np.arange(len(windows)), [len(w) for w in windows])
        stacked = np.concatenate(windows)
        outs = []
        with torch.inference_mode(), numerics.blas_products():
            for i in range(0, len(stacked), self.batch_size):
                batch = torch.from_numpy(stacked[i:i + self.batch_size]).to(self.device)
                outs.append(self.model(batch).float().cpu().numpy())
        per_window = np.concatenate(outs)
        return np.stack([per_window[owners == i].mean(axis=0) for i in range(len(windows))])


def identity(config) -> dict:
    """Name, weights digest and preprocessing of the CNN14 encoder a config describes."""
    if config.audio_checkpoint:
        path = Path(config.audio_checkpoint)
        if not path.is_file():
            raise DataError(f"{path}: CNN14 checkpoint not found (config key 'encoders.audio_checkpoint')")
        weights = "sha256:" + file_sha256(path)
    elif config.allow_random_weights:
        weights = f"random:xavier-uniform-seed{RANDOM_SEED}"
    else:
        raise ConfigError("config key 'encoders.audio' = 'cnn14' needs 'encoders.audio_checkpoint' (a PANNs "
                          "{'model': state_dict} file such as Cnn14_mAP=0.431.pth); set "
                          "'encoders.allow_random_weights: true' to run with random weights (tests only)")
    return {"name": "cnn14", "version": 1, "weights": weights, "sample_rate_hz": int(config.cnn14_sample_rate_hz),
            "clip_s": CLIP_S, "window": WINDOW, "hop": HOP, "n_mels": N_MELS, "fmin_hz": FMIN_HZ,
            "fmax_hz": FMAX_HZ, "short": "tile", "long": "windowed-mean", "output": "fc1-relu"}
