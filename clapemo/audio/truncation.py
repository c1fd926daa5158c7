"""Truncated audio files: what a file's own bytes declare that it does not hold, found without decoding.

libsndfile and FFmpeg read many cut files silently as shorter clips, so :func:`clapemo.audio.load` checks the
headers here: a WAV whose ``data`` chunk declares more bytes than the file holds (:func:`wav_truncation`), an Ogg
file that ends inside a page or before a stream's end-of-stream page (:func:`ogg_truncation`), a plain MP3 that
ends inside a frame (:func:`mp3_truncation`); and the length a FLAC, MP4 or MP3 (with a Xing/Info/VBRI header)
declares (:func:`declared_length_s`), which ``load`` holds the decoded length to. Each returns why the file is
truncated (a text for the DataError ``load`` raises) or None.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

__all__ = ["declared_length_s", "mp3_declares_length", "mp3_truncation", "ogg_truncation", "wav_truncation"]


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


def ogg_truncation(path: str | Path) -> str | None:
    """Why an Ogg file (Vorbis, Opus, FLAC in Ogg) is truncated or cut, or None when it is whole or not Ogg.

    Both libsndfile and FFmpeg read a cut Ogg file silently as a shorter clip (the length comes from the last
    page they find), so its pages are walked here (27-byte headers, no decoding): the file must not end inside a
    page, and every logical stream must reach its end-of-stream page. Bytes after the last stream ended (a
    trailing tag) are ignored.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        if f.read(4) != b"OggS":
            return None
        open_streams: set[int] = set()
        offset = 0
        while offset < size:
            f.seek(offset)
            header = f.read(27)
            if len(header) < 27 or header[:4] != b"OggS":
                if not open_streams:
                    return None  # every stream ended: trailing bytes are not audio
                what = "the file ends" if len(header) < 27 else "no Ogg page starts"
                return (f"truncated Ogg: {what} at byte {offset} of {size} before stream(s) "
                        f"{sorted(open_streams)} reached their end-of-stream page")
            flags, serial, n_segments = header[5], struct.unpack("<I", header[14:18])[0], header[26]
            table = f.read(n_segments)
            end = offset + 27 + n_segments + sum(table)
            if len(table) < n_segments or end > size:
                return (f"truncated Ogg: the file ends inside the page at byte {offset} (the page needs "
                        f"{end - offset} bytes, the file holds {size - offset} from there)")
            if flags & 0x02:
                open_streams.add(serial)
            if flags & 0x04:
                open_streams.discard(serial)
            offset = end
        if open_streams:
            return (f"truncated Ogg: stream(s) {sorted(open_streams)} have no end-of-stream page (the file stops "
                    f"at byte {size})")
    return None


# MPEG audio frame headers (ISO 11172-3 / 13818-3): bit rates in kbit/s by (MPEG-1?, layer), index 1..14
_MPEG_KBPS = {(True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
              (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
              (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
              (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
              (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
              (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
#: sample rates by the version bits (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1; 1 is reserved)
_MPEG_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}


def _mpeg_frame_bytes(header: bytes) -> int | None:
    """The length in bytes of the MPEG audio frame whose 4-byte header is ``header``; None when it is no frame
    header (no sync word, a reserved version/layer/rate) or a free-format one (whose length no header gives)."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    rate_index, kbps_index, padding = (header[2] >> 2) & 3, header[2] >> 4, (header[2] >> 1) & 1
    if version == 1 or layer_bits == 0 or rate_index == 3 or kbps_index in (0, 15):
        return None
    layer, mpeg1 = 4 - layer_bits, version == 3
    bits_per_s = _MPEG_KBPS[(mpeg1, layer)][kbps_index - 1] * 1000
    rate = _MPEG_RATES[version][rate_index]
    if layer == 1:
        return (12 * bits_per_s // rate + padding) * 4
    return (144 if (layer == 2 or mpeg1) else 72) * bits_per_s // rate + padding


def _first_mpeg_frame(data: bytes | memoryview, start: int) -> int | None:
    """Where the first MPEG audio frame at or after ``start`` begins (within 64 KiB): a frame header followed by
    another one (or by the end of the file), so that two stray sync bytes are not taken for a frame."""
    for i in range(start, min(len(data) - 3, start + 65536)):
        length = _mpeg_frame_bytes(bytes(data[i:i + 4]))
        if length is None:
            continue
        if i + length == len(data) or _mpeg_frame_bytes(bytes(data[i + length:i + length + 4])) is not None:
            return i
    return None


def mp3_truncation(path: str | Path) -> str | None:
    """Why an MP3 file is truncated (its last frame is cut short), or None when it is whole, or when that cannot
    be told, or when it is not MPEG audio.

    FFmpeg reads an MP3 without a Xing/Info/VBRI header (a plain constant-bit-rate file) silently as a shorter
    clip when its end is cut off, so the frame headers are walked here (4 bytes each, no decoding): every frame
    must be whole, i.e. the file must not end inside a frame (or inside a frame header). The walk starts after
    an ID3v2 tag and stops at the first bytes that are no frame header (an ID3v1 or APE tag after the audio).

    What cannot be detected: a file cut exactly at a frame boundary is a valid, shorter MP3 (nothing in a plain
    MP3 declares how many frames follow; with a Xing/Info/VBRI header, ``load`` compares the decoded length with
    the declared one); and a free-format stream (bit-rate index 0), whose frame length no header gives, is not
    walked.
    """
    import mmap

    path = Path(path)
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size < 4:
            return None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            data = memoryview(mm)
            try:
                start = 0
                if bytes(data[:3]) == b"ID3" and len(data) >= 10:
                    size = ((data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7
                            | data[9] & 0x7F)  # the tag's syncsafe size
                    start = 10 + size + (10 if data[5] & 0x10 else 0)  # (+ its footer)
                offset = _first_mpeg_frame(data, start)
                if offset is None:
                    return None
                end = len(data)
                while offset < end:
                    if end - offset < 4:
                        if data[offset] == 0xFF:
                            return (f"truncated MP3: the file ends inside the frame header at byte {offset} (it "
                                    f"holds {end - offset} of its 4 bytes)")
                        return None
                    length = _mpeg_frame_bytes(bytes(data[offset:offset + 4]))
                    if length is None:
                        return None  # a tag or other bytes after the audio: not judged
                    if offset + length > end:
                        return (f"truncated MP3: the file ends inside the frame at byte {offset} (the frame "
                                f"needs {length} bytes, the file holds {end - offset} from there)")
                    offset += length
            finally:
                data.release()
    return None


def mp3_declares_length(path: Path) -> bool:
    """Whether an MP3 file carries a Xing/Info/VBRI header (a frame count FFmpeg reports as its duration); without
    one FFmpeg estimates the duration from the bit rate, which is no declaration to hold a file to."""
    with open(path, "rb") as f:
        head = f.read(10)
        skip = 0
        if len(head) == 10 and head[:3] == b"ID3":
            size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
            skip = 10 + size  # the tag's syncsafe size
            skip += 10 if head[5] & 0x10 else 0
        f.seek(skip)
        block = f.read(8192)
    for i in range(len(block) - 1):
        if block[i] == 0xFF and block[i + 1] & 0xE0 == 0xE0:  # the first frame's sync word
            frame = block[i:i + 200]
            return b"Xing" in frame or b"Info" in frame or b"VBRI" in frame
    return False


def declared_length_s(container: object, stream: object, path: Path) -> float | None:
    """The length in seconds a container's header declares for ``stream``, for the formats whose header is a
    declaration (FLAC's STREAMINFO, MP4's moov, an MP3's Xing/Info/VBRI frame count); None otherwise."""
    formats = set(container.format.name.split(","))  # type: ignore[attr-defined]
    if not (formats & {"flac", "mov", "mp4", "m4a"} or ("mp3" in formats and mp3_declares_length(path))):
        return None
    if stream.duration and stream.time_base:  # type: ignore[attr-defined]
        return float(stream.duration * stream.time_base)  # type: ignore[attr-defined]
    if container.duration:  # type: ignore[attr-defined]
        return container.duration / 1_000_000  # type: ignore[attr-defined]  # AV_TIME_BASE
    return None
