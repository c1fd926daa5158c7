"""clapemo.audio: file reading, segments, mixdown, resampling, validation, and the errors on bad files."""

from __future__ import annotations

import numpy as np
import pytest

from clapemo import audio
from clapemo.errors import DataError, ParameterError

RATE = 16000


def _tone(freq_hz: float = 220.0, duration_s: float = 1.0, rate: int = RATE, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(duration_s * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _write(path, data, rate=RATE, **kw):
    import soundfile as sf

    sf.write(str(path), data, rate, **kw)
    return path


def _write_av(path, data, rate=RATE, codec="aac", layout="mono"):
    """Encode ``data`` (channels, samples) float32 into a container with PyAV."""
    import av

    data = np.atleast_2d(data).astype(np.float32)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        frame_len = 1024
        for i in range(0, data.shape[1], frame_len):
            chunk = np.ascontiguousarray(data[:, i:i + frame_len])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_wav_roundtrip_keeps_values_and_rate(tmp_path):
    x = _tone()
    y, rate = audio.load(_write(tmp_path / "a.wav", x, subtype="FLOAT"))
    assert rate == RATE and y.dtype == np.float32 and y.ndim == 1
    np.testing.assert_allclose(y, x, atol=1e-7)


def test_int16_flac_is_scaled_to_unit_range(tmp_path):
    x = _tone(amp=0.25)
    y, rate = audio.load(_write(tmp_path / "a.flac", x, subtype="PCM_16"))
    assert rate == RATE
    np.testing.assert_allclose(y, x, atol=1e-4)


def test_stereo_is_mixed_down(tmp_path):
    left, right = _tone(amp=0.2), _tone(freq_hz=330.0, amp=0.4)
    y, _ = audio.load(_write(tmp_path / "s.wav", np.stack([left, right], axis=1), subtype="FLOAT"))
    np.testing.assert_allclose(y, (left + right) / 2, atol=1e-6)


def test_segment_reads_the_right_samples(tmp_path):
    x = np.arange(RATE * 2, dtype=np.float32) / (RATE * 2)
    path = _write(tmp_path / "ramp.wav", x, subtype="FLOAT")
    y, _ = audio.load(path, start_s=0.5, end_s=1.25)
    np.testing.assert_allclose(y, x[8000:20000])
    whole, _ = audio.load(path, start_s=float("nan"), end_s=float("nan"))
    assert whole.size == x.size
    tail, _ = audio.load(path, start_s=1.5, end_s=10.0)  # end past the file is clipped
    assert tail.size == RATE // 2


def test_resampling_changes_length_and_keeps_the_tone(tmp_path):
    path = _write(tmp_path / "a.wav", _tone(freq_hz=440.0, rate=44100, duration_s=1.0), rate=44100)
    y, rate = audio.load(path, sample_rate_hz=16000)
    assert rate == 16000 and abs(y.size - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    assert abs(np.argmax(spectrum) * rate / y.size - 440.0) < 2.0


def test_mp4_via_pyav_with_segment_and_stereo(tmp_path):
    x = _tone(freq_hz=300.0, duration_s=2.0, amp=0.3)
    path = _write_av(tmp_path / "clip.mp4", np.stack([x, x]), layout="stereo")
    y, rate = audio.load(path)
    assert rate == RATE
    assert abs(y.size / RATE - 2.0) < 0.15  # aac adds priming/padding samples (no edit list here)
    assert 0.15 < np.sqrt(np.mean(y[2000:-2000] ** 2)) < 0.26  # rms of a 0.3 sine ~ 0.212
    seg, _ = audio.load(path, start_s=0.5, end_s=1.5)
    assert abs(seg.size - RATE) < 0.02 * RATE


@pytest.mark.parametrize("content, rule", [
    (None, "not found"),
    (b"", "empty"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10, "cannot decode"),
])
def test_bad_files_raise_data_error_naming_the_file(tmp_path, content, rule):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=rule) as err:
        audio.load(path)
    assert "bad.wav" in str(err.value)


def test_corrupt_mp4_raises_data_error(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    with pytest.raises(DataError, match="broken.mp4"):
        audio.load(path)


def test_zero_length_wav_and_empty_segment(tmp_path):
    path = _write(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32))
    with pytest.raises(DataError, match="no audio samples"):
        audio.load(path)
    short = _write(tmp_path / "short.wav", _tone(duration_s=0.5))
    with pytest.raises(DataError, match="past the end"):
        audio.load(short, start_s=2.0)


def test_directory_and_bad_arguments(tmp_path):
    with pytest.raises(DataError, match="not a regular file"):
        audio.load(tmp_path)
    path = _write(tmp_path / "a.wav", _tone())
    with pytest.raises(ParameterError, match="end_s"):
        audio.load(path, start_s=1.0, end_s=0.5)
    with pytest.raises(ParameterError, match="start_s"):
        audio.load(path, start_s=-1.0)
    with pytest.raises(ParameterError, match="sample_rate_hz"):
        audio.load(path, sample_rate_hz=0)


def test_nan_samples_in_a_float_file_are_rejected(tmp_path):
    x = _tone()
    x[100] = np.nan
    with pytest.raises(DataError, match="NaN"):
        audio.load(_write(tmp_path / "nan.wav", x, subtype="FLOAT"))


def test_as_mono_layouts_and_rules():
    x = _tone(duration_s=0.1)
    np.testing.assert_allclose(audio.as_mono(np.stack([x, 0 * x])), x / 2, atol=1e-7)
    np.testing.assert_allclose(audio.as_mono(np.stack([x, 0 * x], axis=1)), x / 2, atol=1e-7)
    assert audio.as_mono(np.arange(5, dtype=np.int64)).dtype == np.float32
    with pytest.raises(DataError, match="empty"):
        audio.as_mono(np.zeros(0))
    with pytest.raises(DataError, match="NaN"):
        audio.as_mono(np.full(10, np.nan))
    with pytest.raises(DataError, match="1-D"):
        audio.as_mono(np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match="channel axis"):
        audio.as_mono(np.zeros((100, 100)))
    with pytest.raises(DataError, match="real numbers"):
        audio.as_mono(np.array(["a", "b"]))


def test_truncated_wav_data_chunk_is_a_data_error_naming_the_file(tmp_path):
    import soundfile as sf

    from clapemo.audio import wav_truncation

    whole = tmp_path / "whole.wav"
    sf.write(str(whole), np.zeros(16000, dtype=np.float32) + 0.1, 16000, subtype="PCM_16")
    data = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    assert wav_truncation(whole) is None
    assert "16000 frames" in wav_truncation(cut)
    with pytest.raises(DataError, match=r"cut\.wav.*truncated WAV.*16000 frames"):
        audio.load(cut)
    # a streaming writer's "unknown" size (0xFFFFFFFF) is not truncation
    unknown = bytearray(data)
    at = bytes(unknown).index(b"data") + 4
    unknown[at:at + 4] = b"\xff\xff\xff\xff"
    (tmp_path / "stream.wav").write_bytes(bytes(unknown))
    assert wav_truncation(tmp_path / "stream.wav") is None
