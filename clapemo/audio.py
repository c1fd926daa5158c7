"""Audio input: read a file (or a segment of it) as mono float32, and validate in-memory signals.

Two entry points the other stages share:

* :func:`load` reads wav/flac/ogg (and anything else libsndfile knows) with ``soundfile``, and mp3, mp4, m4a
  or any other container with PyAV (``av``; MELD clips are mp4). Multi-channel audio is mixed down to mono by
  averaging the channels; ``sample_rate_hz`` resamples with ``soxr`` (HQ, librosa's default);
  ``start_s`` / ``end_s`` read a segment (``None`` or NaN = from the start / to the end).
* :func:`as_mono` validates an in-memory array (1-D, or 2-D with a channel axis that is mixed down), checks
  that it is finite and non-empty, and returns it as contiguous float32.

Every rule broken raises :class:`~clapemo.errors.DataError` (bad file or signal) or
:class:`~clapemo.errors.ParameterError` (bad argument), with the file name and the rule in the message.
Sample values are returned as they are stored (float files are not rescaled; integer PCM is scaled to
[-1, 1)), so level information survives for intensity measurement.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

from clapemo.errors import DataError, ParameterError

__all__ = ["load", "as_mono", "resample", "wav_truncation", "SOUNDFILE_SUFFIXES", "MAX_CHANNELS"]

#: Suffixes read with soundfile (libsndfile) first; everything else goes to PyAV.
SOUNDFILE_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".au", ".snd"})

#: A 2-D array whose shorter axis is at most this long is read as (channels, samples) or (samples, channels).
MAX_CHANNELS = 8


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _check_segment(start_s: float | None, end_s: float | None) -> tuple[float, float | None]:
    start = 0.0 if _is_missing(start_s) else float(start_s)  # type: ignore[arg-type]
    end = None if _is_missing(end_s) else float(end_s)  # type: ignore[arg-type]
    if not math.isfinite(start) or start < 0:
        raise ParameterError(f"start_s = {start_s!r} must be a finite number >= 0 (or None/NaN for the start)")
    if end is not None:
        if not math.isfinite(end):
            raise ParameterError(f"end_s = {end_s!r} must be finite (or None/NaN for the end of the file)")
        if end <= start:
            raise ParameterError(f"end_s = {end_s!r} must be greater than start_s = {start:g}")
    return start, end


def as_mono(audio: np.ndarray, *, name: str = "audio") -> np.ndarray:
    """Validate an in-memory signal and return it as mono, contiguous float32.

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,) or (n_channels, n_samples) or (n_samples, n_channels)
        Sample values (any real dtype; integers are cast, not rescaled). For a 2-D array the channel axis is
        the shorter one, which must be at most :data:`MAX_CHANNELS` long; channels are averaged.
    name : str
        What to call the signal in error messages (e.g. a file name).

    Returns
    -------
    np.ndarray, shape (n_samples,), float32

    Raises
    ------
    DataError
        Empty signal, more than 2 dimensions, an ambiguous 2-D layout, or non-finite (NaN/inf) samples.
    """
    try:
        arr = np.asarray(audio)
    except Exception as err:  # noqa: BLE001 - anything unconvertible is bad data
        raise DataError(f"{name}: cannot be read as an array of samples ({err})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(f"{name}: samples must be real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise DataError(f"{name}: samples must be real numbers, got complex dtype {arr.dtype}")
    if arr.ndim == 0 or arr.ndim > 2:
        raise DataError(f"{name}: expected a 1-D (samples) or 2-D (channels x samples) array, got shape "
                        f"{arr.shape}")
    if arr.size == 0:
        raise DataError(f"{name}: the signal is empty (shape {arr.shape}); at least one sample is required")
    if arr.ndim == 2:
        n0, n1 = arr.shape
        if n0 <= n1 and n0 <= MAX_CHANNELS:
            arr = arr.mean(axis=0, dtype=np.float64)
        elif n1 < n0 and n1 <= MAX_CHANNELS:
            arr = arr.mean(axis=1, dtype=np.float64)
        else:
            raise DataError(f"{name}: 2-D array of shape {arr.shape} has no channel axis of length <= "
                            f"{MAX_CHANNELS}; pass (channels, samples) or (samples, channels)")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(out)):
        n_bad = int(np.count_nonzero(~np.isfinite(out)))
        raise DataError(f"{name}: {n_bad} of {out.size} samples are NaN or infinite; samples must be finite")
    return out


def resample(audio: np.ndarray, *, orig_rate_hz: int, target_rate_hz: int, quality: str = "HQ") -> np.ndarray:
    """Resample a mono signal with soxr.

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,), float32
    orig_rate_hz, target_rate_hz : int
        Sample rates in Hz (> 0).
    quality : {"HQ", "VHQ", "MQ", "LQ", "QQ"}
        soxr quality; ``"HQ"`` (librosa's default ``soxr_hq``) is transparent for speech and faster than
        ``"VHQ"``.

    Returns
    -------
    np.ndarray, shape (round(n_samples * target / orig),), float32
    """
    for key, value in (("orig_rate_hz", orig_rate_hz), ("target_rate_hz", target_rate_hz)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
            raise ParameterError(f"{key} = {value!r} must be a positive integer (Hz)")
    if int(orig_rate_hz) == int(target_rate_hz):
        return np.ascontiguousarray(audio, dtype=np.float32)
    import soxr

    if quality not in ("HQ", "VHQ", "MQ", "LQ", "QQ"):
        raise ParameterError(f"quality = {quality!r} must be one of HQ, VHQ, MQ, LQ, QQ")
    out = soxr.resample(np.asarray(audio, dtype=np.float32), int(orig_rate_hz), int(target_rate_hz),
                        quality=quality)
    return np.ascontiguousarray(out, dtype=np.float32)


def wav_truncation(path: str | Path) -> str | None:
    """Why a RIFF/RF64 WAV file is truncated (its ``data`` chunk declares more bytes than the file holds), or
    None when it is whole or not a WAV.

    libsndfile reads such a file silently as a shorter clip, so the header is checked here (a few lines of
    chunk walking; neither soundfile nor the standard ``wave`` module reports it). A declared size of 0 or
    0xFFFFFFFF (written by streaming recorders that never patch the header) is taken as "unknown", not as
    truncation.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[8:12] != b"WAVE" or head[:4] not in (b"RIFF", b"RIFX", b"RF64"):
            return None
        endian = ">" if head[:4] == b"RIFX" else "<"
        block_align, ds64_data = 0, None
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk_id, chunk_size = struct.unpack(endian + "4sI", f.read(8))
            if chunk_id == b"ds64":
                body = f.read(min(chunk_size, 28))
                if len(body) >= 16:
                    ds64_data = struct.unpack("<Q", body[8:16])[0]
            elif chunk_id == b"fmt ":
                body = f.read(min(chunk_size, 16))
                if len(body) >= 14:
                    block_align = struct.unpack(endian + "H", body[12:14])[0]
            elif chunk_id == b"data":
                declared = ds64_data if (head[:4] == b"RF64" and chunk_size == 0xFFFFFFFF) else chunk_size
                present = size - (offset + 8)
                if declared in (0, 0xFFFFFFFF, None) or declared <= present:
                    return None
                if block_align > 0:
                    return (f"truncated WAV: the header declares {declared // block_align} frames "
                            f"({declared} data bytes) but the file holds {present // block_align} "
                            f"({present} bytes)")
                return f"truncated WAV: the header declares {declared} data bytes but the file holds {present}"
            offset += 8 + chunk_size + (chunk_size & 1)
    return None


def _read_soundfile(path: Path, start: float, end: float | None) -> tuple[np.ndarray, int]:
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        rate = int(f.samplerate)
        n_total = f.frames
        first = int(round(start * rate))
        last = n_total if end is None else min(n_total, int(round(end * rate)))
        if first >= n_total and n_total > 0:
            raise DataError(f"{path}: segment start_s = {start:g} is past the end of the file "
                            f"({n_total / rate:.3f} s)")
        f.seek(min(first, n_total))
        data = f.read(max(0, last - first), dtype="float32", always_2d=True)
    return data.T, rate  # (channels, samples)


def _read_av(path: Path, start: float, end: float | None) -> tuple[np.ndarray, int]:
    import av

    with av.open(str(path)) as container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise DataError(f"{path}: the file has no audio stream")
        stream = streams[0]
        stream.thread_type = "AUTO"
        if start > 0 and stream.time_base is not None:
            # seek to a keyframe at or before start; exact trimming happens below from frame timestamps
            container.seek(int(start / stream.time_base), stream=stream, any_frame=False, backward=True)
        chunks: list[np.ndarray] = []
        rate = None
        first_time: float | None = None
        resampler = av.AudioResampler(format="fltp")
        for frame in container.decode(stream):
            if rate is None:
                rate = int(frame.sample_rate)
                first_time = float(frame.time) if frame.time is not None else 0.0
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())  # (channels, samples) float32 planar
            if end is not None and frame.time is not None and frame.time > end + 0.5:
                break
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    if rate is None or not chunks:
        return np.zeros((1, 0), dtype=np.float32), int(stream.rate or 1)
    data = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    offset = first_time or 0.0
    first = max(0, int(round((start - offset) * rate)))
    last = data.shape[1] if end is None else max(first, min(data.shape[1], int(round((end - offset) * rate))))
    if first >= data.shape[1] and data.shape[1] > 0:
        raise DataError(f"{path}: segment start_s = {start:g} is past the end of the file "
                        f"({(data.shape[1] / rate) + offset:.3f} s)")
    return data[:, first:last], rate


def load(path: str | Path, *, sample_rate_hz: int | None = None, start_s: float | None = None,
         end_s: float | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file (or a segment of it) as mono float32.

    Parameters
    ----------
    path : str or Path
        wav/flac/ogg/aiff are read with soundfile; mp3, mp4, m4a, webm and anything else with PyAV.
        A soundfile read that fails falls back to PyAV.
    sample_rate_hz : int, optional
        Resample to this rate (soxr, high quality). ``None`` keeps the file's rate.
    start_s, end_s : float, optional
        Segment bounds in seconds from the start of the file. ``None`` or NaN = the start / the end.
        An ``end_s`` past the end of the file is clipped to it.

    Returns
    -------
    audio : np.ndarray, shape (n_samples,), float32
        Mono (channels averaged); integer PCM scaled to [-1, 1), float files as stored.
    rate_hz : int
        Sample rate of ``audio`` in Hz.

    Raises
    ------
    DataError
        Missing file, not a regular file, unreadable/corrupt, a WAV whose data chunk is truncated (the header
        declares more frames than the file holds; see :func:`wav_truncation`), no audio stream, empty (no
        samples in the file or the segment), or non-finite samples. The message names the file.
    ParameterError
        ``sample_rate_hz`` not a positive int, or a bad segment (negative start, ``end_s <= start_s``).
    """
    path = Path(path)
    if sample_rate_hz is not None and (not isinstance(sample_rate_hz, (int, np.integer))
                                       or isinstance(sample_rate_hz, bool) or sample_rate_hz <= 0):
        raise ParameterError(f"sample_rate_hz = {sample_rate_hz!r} must be a positive integer (Hz) or None")
    start, end = _check_segment(start_s, end_s)
    if not path.exists():
        raise DataError(f"{path}: audio file not found")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    try:
        truncated = wav_truncation(path)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err})") from None
    if truncated is not None:
        raise DataError(f"{path}: {truncated}; the file is damaged (re-copy or re-export it)")

    data: np.ndarray | None = None
    errors: list[str] = []
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        try:
            data, rate = _read_soundfile(path, start, end)
        except DataError:
            raise
        except Exception as err:  # noqa: BLE001 - libsndfile's errors are many; fall back to PyAV
            errors.append(f"soundfile: {err}")
    if data is None:
        try:
            data, rate = _read_av(path, start, end)
        except DataError:
            raise
        except Exception as err:  # noqa: BLE001 - PyAV raises many error types for corrupt input
            errors.append(f"PyAV: {err}")
            raise DataError(f"{path}: cannot decode audio (corrupt or unsupported format; "
                            + "; ".join(errors) + ")") from None
    if data.size == 0:
        where = ("the file" if start == 0 and end is None
                 else f"the segment [{start:g}, {'end' if end is None else f'{end:g}'}] s")
        raise DataError(f"{path}: {where} holds no audio samples; audio must be non-empty")
    # data is (channels, samples): mix down here, where the layout is known, then validate
    audio = as_mono(data.mean(axis=0, dtype=np.float64) if data.shape[0] > 1 else data[0], name=str(path))
    if sample_rate_hz is not None and int(sample_rate_hz) != rate:
        audio = resample(audio, orig_rate_hz=rate, target_rate_hz=int(sample_rate_hz))
        rate = int(sample_rate_hz)
    return audio, int(rate)
