"""espeak-ng through ctypes: one deterministic engine per process (state-free voices, reseeded per clip)."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from clapemo.errors import DataError

__all__ = ["ESPEAK_RATE_HZ", "engine"]

ESPEAK_RATE_HZ = 22050
#: version of the patched voice-variant folder (part of its cache key); bump when the patch changes
VOICE_DATA_VERSION = 1

# --------------------------------------------------------------------------------------------------------------
# espeak-ng through ctypes (one engine per process)
# --------------------------------------------------------------------------------------------------------------
def _private_espeak_home(data: Path) -> Path:
    """A shared, reusable copy of espeak-ng's data folder with state-free voice variants (built once, atomically).

    Everything but ``voices/!v`` is a symlink to the wheel's data; each variant gets ``flutter 0``, ``echo 0 0``
    and ``roughness 0`` appended. Lives in ``$XDG_CACHE_HOME/clapemo`` (default ``~/.cache/clapemo``), keyed by
    the data folder and :data:`VOICE_DATA_VERSION`, so worker processes reuse it and nothing is left behind.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clapemo"
    key = f"{data.resolve()}|{VOICE_DATA_VERSION}"  # same key as before the package split: the cache is reused
    home = cache / f"espeak-ng-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if (home / "espeak-ng-data" / "voices" / "!v").is_dir():
        return home
    cache.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
    mirror = build / "espeak-ng-data"
    (mirror / "voices" / "!v").mkdir(parents=True)
    for item in data.iterdir():
        if item.name != "voices":
            os.symlink(item.resolve(), mirror / item.name)
    for item in (data / "voices").iterdir():
        if item.name != "!v":
            os.symlink(item.resolve(), mirror / "voices" / item.name)
    for variant in (data / "voices" / "!v").iterdir():
        text = variant.read_text(encoding="utf-8", errors="replace")
        # state-free rendering: no pitch flutter, no built-in echo, no random roughness
        (mirror / "voices" / "!v" / variant.name).write_text(text + "\nflutter 0\necho 0 0\nroughness 0\n",
                                                             encoding="utf-8")
    try:
        os.rename(build, home)
    except OSError:  # another process finished first: use theirs
        shutil.rmtree(build, ignore_errors=True)
    return home


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Espeak:
    """espeak-ng in synchronous mode on a private, deterministic copy of the voice variants."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise DataError("clapemo.synth needs the 'espeakng-loader' wheel: pip install espeakng-loader") from err
        data = Path(espeakng_loader.get_data_path())
        self._home = _private_espeak_home(data)
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        rate = lib.espeak_Initialize(2, 0, str(self._home).encode(), 0x8000)  # 2 = synchronous; don't exit()
        if rate != ESPEAK_RATE_HZ:
            raise DataError(f"espeak-ng initialisation from {data} returned {rate}, expected {ESPEAK_RATE_HZ}")
        self._chunks: list[np.ndarray] = []

        def _collect(wav, n, events):  # noqa: ARG001 - ctypes signature
            if n > 0:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        self._callback = _CALLBACK(_collect)  # keep a reference: ctypes must not free it
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib

    def synth(self, ssml: str, *, voice: str, rate_wpm: int, pitch: int, pitch_range: int, seed: int) -> np.ndarray:
        """Render SSML; returns int16 samples at 22050 Hz."""
        lib = self._lib
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise DataError(f"espeak-ng has no voice {voice!r}")
        for pid, value in ((1, rate_wpm), (2, 100), (3, pitch), (4, pitch_range), (7, 0)):
            lib.espeak_SetParameter(pid, int(value), 0)
        lib.espeak_ng_SetRandSeed(seed % (2 ** 31))
        self._chunks = []
        data = ssml.encode("utf-8")
        lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 0x1 | 0x10, None, None)  # POS_CHARACTER; UTF8 | SSML
        lib.espeak_Synchronize()
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)


_ENGINE: _Espeak | None = None


def engine() -> _Espeak:
    """The process's espeak-ng engine (created on first use)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Espeak()
    return _ENGINE
