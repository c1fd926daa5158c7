"""Audio input: read a file (or a segment of it) as mono float32, and validate in-memory signals.

Two entry points the other stages share:

* :func:`load` reads wav/flac/ogg (and anything else libsndfile knows) with ``soundfile``, and mp3, mp4, m4a
  or any other container with PyAV (``av``; MELD clips are mp4). Multi-channel audio is mixed down to mono by
  averaging the channels; ``sample_rate_hz`` resamples with ``soxr`` (HQ, librosa's default);
  ``start_s`` / ``end_s`` read a segment (``None`` or NaN = from the start / to the end).
* :func:`as_mono` validates an in-memory array (1-D, or 2-D with a channel axis that is mixed down), checks
  that it is finite and non-empty, and returns it as contiguous float32.
* :func:`admit` is the one admission rule of a clip, applied to the waveform as loaded (its own rate, before any
  resampling or encoding) by feature extraction (``clapemo.features``: ``describe``) and by the embedding path
  (``clapemo.encoders.embed_audio``: training, ``index``/``search``, ``classify``): a sample rate of at least
  :data:`MIN_SAMPLE_RATE_HZ`, at least :data:`MIN_DURATION_S` of audio, and not silent (peak at least
  :data:`SILENCE_PEAK`, and not a constant/DC-only signal). A clip that breaks it is a
  :class:`~clapemo.errors.DataError`, so a batch records it as an error row: never a class, never a search hit.
  Its fourth rule, an intact file, is checked by :func:`load` while reading, where the bytes are: a file that is
  not a regular file (FIFO, device, directory; :func:`regular_file`, before anything opens it), a truncated WAV
  (:func:`wav_truncation`), a truncated Ogg (:func:`ogg_truncation`), a file that libsndfile opens but cannot
  decode to its end (FLAC "lost sync"), a FLAC/MP4/MP3 (with a Xing/Info/VBRI header) whose decoded length
  falls short of the length its header declares by more than :data:`TRUNCATION_TOLERANCE_S`, and a plain MP3 (no
  such header) whose last frame is cut short (:func:`mp3_truncation`; one cut exactly at a frame boundary is a
  valid shorter file, which nothing can tell apart).

Every rule broken raises :class:`~clapemo.errors.DataError` (bad file or signal) or
:class:`~clapemo.errors.ParameterError` (bad argument), with the file name and the rule in the message.
Sample values are returned as they are stored (float files are not rescaled; integer PCM is scaled to
[-1, 1)), so level information survives for intensity measurement.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import numpy as np

from clapemo.audio.truncation import (declared_length_s, mp3_declares_length, mp3_truncation,
                                     ogg_truncation, wav_truncation)
from clapemo.errors import DataError, ParameterError

__all__ = ["load", "as_mono", "admit", "regular_file", "resample", "wav_truncation", "ogg_truncation",
           "mp3_truncation", "SOUNDFILE_SUFFIXES", "MAX_CHANNELS", "MIN_DURATION_S", "MIN_SAMPLE_RATE_HZ",
           "SILENCE_PEAK", "TRUNCATION_TOLERANCE_S"]

#: Suffixes read with soundfile (libsndfile) first; everything else goes to PyAV.
SOUNDFILE_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".au", ".snd"})

#: A 2-D array whose shorter axis is at most this long is read as (channels, samples) or (samples, channels).
MAX_CHANNELS = 8

# The admission rule (:func:`admit`). Every clip of the synthetic benchmark passes it by a wide margin (16 kHz and
# up, seconds long, a noise floor well above the silence threshold), so it rejects none of them and changes no
# number: a clip that passes is encoded and measured exactly as before.

#: Shortest clip admitted, in seconds: less than one syllable is no utterance (a 0.05 s clip is a click). The
#: default of ``FeaturesConfig.min_duration_s``, which feature extraction passes to :func:`admit` (a config may
#: raise it for the measurements); the embedding path uses this value.
MIN_DURATION_S = 0.1
#: Lowest sample rate admitted, in Hz: the telephone rate, the lowest at which speech is stored (its band reaches
#: 4 kHz, where the second and third formants live); a 1 kHz file holds nothing above 500 Hz.
MIN_SAMPLE_RATE_HZ = 8000
#: Silence threshold on the peak absolute sample value (and on the swing around the mean, for a constant, DC-only
#: signal): 2e-5, i.e. 0 dB on the intensity scale of ``clapemo.features`` (samples read as pascals). Below one
#: step of 16-bit PCM (3.05e-5), so in 16-bit files it admits anything but digital silence.
SILENCE_PEAK = 2e-5
#: A compressed file whose header declares a length (FLAC, MP4/M4A, MP3 with a Xing/Info/VBRI header) is
#: truncated when it decodes to more than this many seconds less (one codec frame of slack: at most 0.13 s for AAC
#: at 8 kHz); a file libsndfile reads is truncated when it yields more than this many seconds fewer frames than
#: it declares.
TRUNCATION_TOLERANCE_S = 0.2


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


def admit(audio: np.ndarray, *, sample_rate_hz: int, name: str = "audio",
          min_duration_s: float = MIN_DURATION_S) -> None:
    """Raise unless a clip, as loaded, is admissible audio: the one admission rule of clapemo.

    Feature extraction (``clapemo.features``, hence ``describe``) and the embedding path
    (``clapemo.encoders.embed_audio``, hence training, ``index``/``search`` and ``classify``) both call it on the
    waveform at its own sample rate, before any resampling, measuring or encoding; a clip that passes goes on
    unchanged. Its rules, in the order they are checked:

    1. sample rate at least :data:`MIN_SAMPLE_RATE_HZ` (8000 Hz);
    2. at least ``min_duration_s`` of audio (default :data:`MIN_DURATION_S`, 0.1 s);
    3. not silent: peak absolute sample value at least :data:`SILENCE_PEAK` (2e-5, 0 dB on the intensity scale);
    4. not a constant (DC-only) signal: some sample at least :data:`SILENCE_PEAK` away from the mean.

    An intact file is the rule's other half, checked by :func:`load` while it reads the bytes (see the module
    docstring: non-regular files, truncated WAV/Ogg/FLAC/MP4/MP3).

    Parameters
    ----------
    audio : np.ndarray, shape (n_samples,), float
        Mono samples as :func:`load` or :func:`as_mono` return them (non-empty and finite).
    sample_rate_hz : int
        The rate of ``audio`` in Hz, as stored in the file (not a rate it is later resampled to).
    name : str
        What to call the clip in the message (the file, or ``"utterance 'id' (file)"``).
    min_duration_s : float
        The shortest clip admitted, seconds (>= 0); feature extraction passes ``FeaturesConfig.min_duration_s``.

    Raises
    ------
    DataError
        A rule is broken; the message names the clip, the value and the rule, e.g. ``"clip.wav: 0.05 s of audio
        (800 samples at 16000 Hz), shorter than the min_duration_s = 0.1 s minimum"``.
    ParameterError
        ``sample_rate_hz`` not a positive integer, ``min_duration_s`` negative or not finite, ``audio`` not 1-D.
    """
    if (isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer))
            or sample_rate_hz <= 0):
        raise ParameterError(f"sample_rate_hz = {sample_rate_hz!r} must be a positive integer (Hz)")
    if isinstance(min_duration_s, bool) or not isinstance(min_duration_s, (int, float, np.floating, np.integer)) \
            or not math.isfinite(min_duration_s) or min_duration_s < 0:
        raise ParameterError(f"min_duration_s = {min_duration_s!r} must be a finite number of seconds >= 0")
    x = np.asarray(audio)
    if x.ndim != 1:
        raise ParameterError(f"audio of shape {x.shape} must be 1-D (mono samples; see as_mono)")
    rate = int(sample_rate_hz)
    if rate < MIN_SAMPLE_RATE_HZ:
        raise DataError(f"{name}: sample rate {rate} Hz is too low; audio needs sample_rate_hz >= "
                        f"{MIN_SAMPLE_RATE_HZ} Hz (the telephone rate; MIN_SAMPLE_RATE_HZ)")
    duration = x.size / rate
    if duration < min_duration_s:
        samples = "1 sample" if x.size == 1 else f"{x.size} samples"
        raise DataError(f"{name}: {duration:.3g} s of audio ({samples} at {rate} Hz), shorter than the "
                        f"min_duration_s = {min_duration_s:g} s minimum")
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak < SILENCE_PEAK:
        raise DataError(f"{name}: the clip is silent (peak amplitude {peak:.2g}, below the silence threshold "
                        f"SILENCE_PEAK = {SILENCE_PEAK:g}, i.e. 0 dB on the intensity scale); nothing to hear")
    offset = float(np.mean(x, dtype=np.float64))
    # = max |x - offset| in float64 (rounding is monotonic, so the extremes give it), without a float64 copy
    swing = max(float(x.max()) - offset, offset - float(x.min()))
    if swing < SILENCE_PEAK:
        raise DataError(f"{name}: constant signal (every sample within SILENCE_PEAK = {SILENCE_PEAK:g} of the "
                        f"offset {offset:.4g}, i.e. DC only); the clip is silent, there is no sound")


_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO, i.e. a named pipe"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def regular_file(path: str | os.PathLike) -> Path:
    """The path, when it names an existing regular file (symlinks followed); checked with ``os.stat`` alone, so
    a FIFO, a device or a directory is refused at once instead of blocking the first ``open``/read.

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    Path

    Raises
    ------
    DataError
        ``"<path>: audio file not found"``, ``"<path>: not a regular file (a FIFO, i.e. a named pipe); audio
        is read from regular files only"`` (or a directory, a device, a socket), or ``"<path>: cannot be read
        (...)"``.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{path}: audio file not found") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((what for test, what in _FILE_KINDS if test(st.st_mode)), "a special file")
        raise DataError(f"{path}: not a regular file ({kind}); audio is read from regular files only")
    return path


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


def _read_soundfile(path: Path, start: float, end: float | None) -> tuple[np.ndarray, int]:
    """Read with libsndfile. An error opening the file propagates (the caller falls back to PyAV); once
    libsndfile has recognised the file, an error decoding it or fewer frames than it declares is a truncated or
    corrupt file (a DataError: no fallback, which would decode the damaged file to a shorter clip)."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        rate = int(f.samplerate)
        n_total = f.frames
        first = int(round(start * rate))
        last = n_total if end is None else min(n_total, int(round(end * rate)))
        if first >= n_total and n_total > 0:
            raise DataError(f"{path}: segment start_s = {start:g} is past the end of the file "
                            f"({n_total / rate:.3f} s)")
        kind = f"{f.format} file" if f.format else "file"
        try:
            f.seek(min(first, n_total))
            data = f.read(max(0, last - first), dtype="float32", always_2d=True)
            tail_decodes = True
            if last < n_total and len(data) == last - first:
                # a segment that ends early: the file must still decode at its declared end (a damaged file is
                # refused whole, as a truncated WAV is, not only when the segment reaches the damage)
                f.seek(n_total - 1)
                tail_decodes = len(f.read(1, dtype="float32")) == 1
        except Exception as err:  # noqa: BLE001 - libsndfile's decode errors (e.g. FLAC "lost sync")
            message = " ".join(str(err).split())
            raise DataError(f"{path}: truncated or corrupt {kind}: decoding stops before the end the header "
                            f"declares ({n_total / rate:.3f} s) with '{message}'; the file is damaged (re-copy or "
                            "re-export it)") from None
    if not tail_decodes:
        raise DataError(f"{path}: truncated {kind}: its last frame ({n_total / rate:.3f} s, as the header "
                        "declares) does not decode; the file is damaged (re-copy or re-export it)")
    wanted = max(0, last - first)
    if wanted - len(data) > TRUNCATION_TOLERANCE_S * rate:
        raise DataError(f"{path}: truncated {kind}: the header declares {n_total} frames ({n_total / rate:.3f} s) "
                        f"but only {first + len(data)} decode ({(first + len(data)) / rate:.3f} s); the file is "
                        "damaged (re-copy or re-export it)")
    return data.T, rate  # (channels, samples)


def _read_av(path: Path, start: float, end: float | None) -> tuple[np.ndarray, int]:
    import av

    with av.open(str(path)) as container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise DataError(f"{path}: the file has no audio stream")
        stream = streams[0]
        if "mp3" in container.format.name.split(",") and not mp3_declares_length(path):
            truncated = mp3_truncation(path)  # a plain MP3 declares no length: its frames must be whole
            if truncated is not None:
                raise DataError(f"{path}: {truncated}; the file is damaged (re-copy or re-export it)")
        stream.thread_type = "AUTO"
        if start > 0 and stream.time_base is not None:
            # seek to a keyframe at or before start; exact trimming happens below from frame timestamps
            container.seek(int(start / stream.time_base), stream=stream, any_frame=False, backward=True)
        chunks: list[np.ndarray] = []
        rate = None
        first_time: float | None = None
        resampler = av.AudioResampler(format="fltp")
        to_the_end = True
        for frame in container.decode(stream):
            if rate is None:
                rate = int(frame.sample_rate)
                first_time = float(frame.time) if frame.time is not None else 0.0
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())  # (channels, samples) float32 planar
            if end is not None and frame.time is not None and frame.time > end + 0.5:
                to_the_end = False
                break
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
        declared_s = declared_length_s(container, stream, path) if to_the_end and rate else None
        stream_start_s = (float(stream.start_time * stream.time_base)
                          if stream.start_time is not None and stream.time_base else 0.0)
    if rate is None or not chunks:
        return np.zeros((1, 0), dtype=np.float32), int(stream.rate or 1)
    data = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    offset = first_time or 0.0
    if declared_s is not None:
        # decoded from the start: the samples count; after a seek: where the decoded frames end
        decoded_s = data.shape[1] / rate if start == 0 else offset - stream_start_s + data.shape[1] / rate
        if declared_s - decoded_s > TRUNCATION_TOLERANCE_S:
            kind = path.suffix.lstrip(".").upper() or container.format.name.split(",")[0]
            raise DataError(f"{path}: truncated {kind} file: the header declares {declared_s:.3f} s of audio but "
                            f"it decodes to {decoded_s:.3f} s; the file is damaged (re-copy or re-export it)")
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
        A file soundfile cannot open falls back to PyAV; one it opens but cannot decode is damaged (DataError).
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
        Missing file, not a regular file (a FIFO, a device or a directory: refused by :func:`regular_file`
        before anything opens it), unreadable/corrupt, truncated (a WAV whose data chunk declares more frames
        than the file holds, :func:`wav_truncation`; an Ogg file cut inside a page or without its end-of-stream
        page, :func:`ogg_truncation`; a file libsndfile opens but cannot decode to its end, e.g. FLAC "lost
        sync"; a FLAC/MP4/MP3 whose decoded length falls short of its header's by more than
        :data:`TRUNCATION_TOLERANCE_S`; a plain MP3 that ends inside a frame, :func:`mp3_truncation`), no audio
        stream, empty (no samples in the file or the segment), or
        non-finite samples. The message names the file. The clip rules (rate, duration, silence) are
        :func:`admit`'s, which callers apply to what this returns.
    ParameterError
        ``sample_rate_hz`` not a positive int, or a bad segment (negative start, ``end_s <= start_s``).
    """
    path = Path(path)
    if sample_rate_hz is not None and (not isinstance(sample_rate_hz, (int, np.integer))
                                       or isinstance(sample_rate_hz, bool) or sample_rate_hz <= 0):
        raise ParameterError(f"sample_rate_hz = {sample_rate_hz!r} must be a positive integer (Hz) or None")
    start, end = _check_segment(start_s, end_s)
    regular_file(path)  # a FIFO or a device would block the first read: refused before anything opens it
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    try:
        truncated = wav_truncation(path) or ogg_truncation(path)
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
