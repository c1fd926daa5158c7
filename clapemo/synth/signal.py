"""Signal processing of the synthetic recordings: levels, noise, room, channel, limiter, and the non-speech sound
events of synth-4d. Resampling is :func:`clapemo.audio.resample`."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from clapemo.errors import ParameterError

__all__ = ["active_rms", "db_to_amp", "reverb", "finish", "event", "EVENT_KINDS"]

# --------------------------------------------------------------------------------------------------------------
# Signal processing (deterministic given the clip's generator)
# --------------------------------------------------------------------------------------------------------------
def active_rms(x: np.ndarray, rate_hz: int) -> float:
    """RMS over 20 ms frames within 30 dB of the loudest frame (the speech, not the silences)."""
    hop = max(int(0.02 * rate_hz), 1)
    n = len(x) // hop
    if n == 0:
        return float(np.sqrt(np.mean(x ** 2) + 1e-20))
    power = np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-20
    keep = power > power.max() * 1e-3
    return float(np.sqrt(power[keep].mean()))


def _noise(rng: np.random.Generator, n: int, color: str) -> np.ndarray:
    white = rng.standard_normal(n)
    if color == "white":
        return white
    from scipy.signal import lfilter

    if color == "pink":  # -3 dB/octave: a standard 3-pole/3-zero approximation
        out = lfilter([0.049922035, -0.095993537, 0.050612699, -0.004408786],
                      [1.0, -2.494956002, 2.017265875, -0.522189400], white)
    else:  # brown-ish: leaky integrator, -6 dB/octave above ~10 Hz
        out = lfilter([1.0], [1.0, -0.997], white)
    return out / (np.std(out) + 1e-12)


def _room_ir(rng: np.random.Generator, rate_hz: int, rt60_s: float) -> np.ndarray:
    n = int(0.5 * rt60_s * rate_hz)  # the tail down to -30 dB; the rest is under the noise floor
    t = np.arange(n) / rate_hz
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60_s)  # -60 dB at rt60
    ir[: int(0.003 * rate_hz)] = 0.0  # first reflections arrive after ~3 ms
    return ir / np.sqrt(np.sum(ir ** 2))


@functools.lru_cache(maxsize=32)
def _butter_lowpass(rate_hz: int, cutoff_hz: float) -> np.ndarray:
    from scipy.signal import butter

    return butter(4, cutoff_hz, fs=rate_hz, output="sos")


def _lowpass(x: np.ndarray, rate_hz: int, cutoff_hz: float) -> np.ndarray:
    if cutoff_hz <= 0 or cutoff_hz >= rate_hz / 2:
        return x
    from scipy.signal import sosfilt

    return sosfilt(_butter_lowpass(rate_hz, float(cutoff_hz)), x)


def db_to_amp(level_db: float) -> float:
    """Praat's scale: amplitude (RMS, 'pascals') of a level in dB re 2e-5."""
    return 2e-5 * 10 ** (level_db / 20)


def _fast_len(n: int) -> int:
    from scipy.fft import next_fast_len

    return int(next_fast_len(int(n), real=True))


def reverb(x: np.ndarray, *, rate_hz: int, room: dict) -> np.ndarray:
    """Direct sound plus ``wet`` times the room's diffuse tail."""
    if room["wet"] <= 0:
        return x
    ir = _room_ir(np.random.default_rng(room["seed"]), rate_hz, room["rt60_s"])
    size = _fast_len(len(x) + len(ir))
    tail = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[: len(x)]
    return x + room["wet"] * tail


def finish(x: np.ndarray, *, rate_hz: int, spec: Any, rng: np.random.Generator) -> np.ndarray:
    """Channel low-pass, background noise and hum, soft limiter -> int16 at the corpus rate."""
    x = _lowpass(x, rate_hz, spec.lowpass_hz)
    noise = _noise(rng, len(x), spec.noise_color) * db_to_amp(spec.noise_db + rng.normal(0, 1.5))
    if spec.hum_hz > 0:
        t = np.arange(len(x)) / rate_hz
        noise = noise + db_to_amp(spec.noise_db - 6) * np.sqrt(2) * np.sin(2 * np.pi * spec.hum_hz * t)
    x = x + noise
    # soft limiter above 0.9 full scale (loud takes clip gently, as real loud recordings do)
    over = np.abs(x) > 0.9
    if over.any():
        x = np.where(over, np.sign(x) * (0.9 + 0.1 * np.tanh((np.abs(x) - 0.9) / 0.1)), x)
    return np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype(np.int16)


# --------------------------------------------------------------------------------------------------------------
# Non-speech sound events for synth-4d (each returns float audio at rate_hz and a caption)
# --------------------------------------------------------------------------------------------------------------
def _pick(rng: np.random.Generator, options: list[str]) -> str:
    """One of ``options``, drawn with ``rng`` (a caption)."""
    return options[int(rng.integers(len(options)))]


def _beep(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    n = len(t)
    f = float(rng.choice([440.0, 880.0, 1500.0, 2500.0]))
    count = int(rng.integers(2, 6))
    x = np.zeros(n)
    period = dur_s / count
    for i in range(count):
        on = (t >= i * period) & (t < i * period + 0.6 * period * rng.uniform(0.3, 0.8))
        x[on] += np.sin(2 * np.pi * f * t[on])
    height = "high-pitched" if f > 1000 else "low-pitched"
    return x, _pick(rng, [f"a {height} electronic beep repeats {count} times",
                          f"{count} short {height} beeps from a machine", f"an alarm beeps {count} times"])


def _siren(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    f0 = rng.uniform(500, 900)
    rate = rng.uniform(0.3, 1.5)
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.4 * np.sin(2 * np.pi * rate * t))) / rate_hz
    x = np.sin(phase) + 0.3 * np.sin(2 * phase)
    return x, _pick(rng, ["a siren wails, rising and falling", "an emergency vehicle siren passes by",
                          "a police siren sounds in the distance"])


def _rain(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    n = len(t)
    x = _lowpass(_noise(rng, n, "white"), rate_hz, rng.uniform(3000, 8000))
    drops = (rng.random(n) < 0.002) * rng.standard_normal(n) * 4
    x = x + drops
    return x, _pick(rng, ["rain falls steadily on a roof", "heavy rain pours down outside",
                          "raindrops patter against a window"])


def _wind(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    gust = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6.28)) ** 2
    x = _lowpass(_noise(rng, len(t), "brown"), rate_hz, 800) * gust
    return x, _pick(rng, ["wind blows in strong gusts", "a gusty wind howls outdoors",
                          "wind rushes past a microphone"])


def _engine(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    f = rng.uniform(25, 60)
    x = sum(np.sin(2 * np.pi * f * h * t + rng.uniform(0, 6.28)) / h for h in range(1, 8))
    x = x + 0.3 * _lowpass(_noise(rng, len(t), "white"), rate_hz, 500)
    return x, _pick(rng, ["an engine idles with a low rumble", "a truck engine runs steadily",
                          "a motor hums at a constant speed"])


def _knock(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    n = len(t)
    count = int(rng.integers(2, 6))
    x = np.zeros(n)
    for i in range(count):
        start = int((0.2 + i * rng.uniform(0.25, 0.45)) * rate_hz)
        if start >= n:
            break
        m = min(int(0.08 * rate_hz), n - start)
        x[start:start + m] += rng.standard_normal(m) * np.exp(-np.arange(m) / (0.012 * rate_hz))
    x = _lowpass(x, rate_hz, 1200)
    return x, _pick(rng, [f"someone knocks on a wooden door {count} times", f"{count} knocks on a door",
                          "a person knocks loudly on a door"])


def _birds(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    n = len(t)
    x = np.zeros(n)
    for _ in range(int(rng.integers(4, 12))):
        start = int(rng.uniform(0, max(dur_s - 0.2, 0.1)) * rate_hz)
        m = min(int(rng.uniform(0.05, 0.15) * rate_hz), n - start)
        tt = np.arange(m) / rate_hz
        f = rng.uniform(2500, 5000) + rng.uniform(-8000, 8000) * tt
        x[start:start + m] += np.sin(2 * np.pi * np.cumsum(f) / rate_hz) * np.hanning(m)
    return x, _pick(rng, ["birds chirp and tweet outside", "a small bird sings repeatedly",
                          "several birds are chirping in the trees"])


def _bell(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    f = rng.uniform(300, 900)
    x = sum(np.sin(2 * np.pi * f * r * t) * np.exp(-t / (1.2 / r)) / r for r in (1.0, 2.76, 5.4, 8.93))
    return x, _pick(rng, ["a bell rings once and slowly fades out", "a church bell chimes",
                          "a metal bell is struck"])


def _water(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    x = _lowpass(_noise(rng, len(t), "pink"), rate_hz, 2500) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))
    return x, _pick(rng, ["water flows in a small stream", "a tap is running into a sink",
                          "water trickles steadily"])


def _clock(rng: np.random.Generator, t: np.ndarray, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    n = len(t)
    x = np.zeros(n)
    period = rng.uniform(0.5, 1.0)
    for i in range(int(dur_s / period)):
        start = int(i * period * rate_hz)
        m = min(int(0.01 * rate_hz), n - start)
        x[start:start + m] += rng.standard_normal(m)
    return x, _pick(rng, ["a clock ticks steadily", "the ticking of a mechanical clock",
                          "a watch ticks in a quiet room"])


#: sound event kind -> its generator ``(rng, t, rate_hz, dur_s) -> (float audio, caption)``
_EVENTS = {"beep": _beep, "siren": _siren, "rain": _rain, "wind": _wind, "engine": _engine, "knock": _knock,
           "birds": _birds, "bell": _bell, "water": _water, "clock": _clock}


def event(kind: str, rng: np.random.Generator, rate_hz: int, dur_s: float) -> tuple[np.ndarray, str]:
    """One non-speech sound event of :data:`EVENT_KINDS`: float audio of ``int(dur_s * rate_hz)`` samples at
    ``rate_hz`` with 20 ms fades, and its caption; deterministic given ``rng``."""
    n = int(dur_s * rate_hz)
    t = np.arange(n) / rate_hz
    make = _EVENTS.get(kind)
    if make is None:  # pragma: no cover - internal list
        raise ParameterError(f"unknown sound event kind {kind!r}")
    x, cap = make(rng, t, rate_hz, dur_s)
    x = np.asarray(x, dtype=float)
    fade = min(int(0.02 * rate_hz), n // 2)
    if fade:
        x[:fade] *= np.linspace(0, 1, fade)
        x[-fade:] *= np.linspace(1, 0, fade)
    return x, cap


EVENT_KINDS = ("beep", "siren", "rain", "wind", "engine", "knock", "birds", "bell", "water", "clock")
