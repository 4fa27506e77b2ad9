"""Builders of hostile files: each writes one file that lies about itself in one known way.

Shared by the tests of each reader (test_hostile_files.py) and the corpus the real CLI
replays (corpus.py).
"""

from __future__ import annotations

import fractions
import io
import struct
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n"
LOCAL_HEADER, CENTRAL_ENTRY = b"PK\x03\x04", b"PK\x01\x02"


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npz_of_entries(path: Path, entries: Sequence[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> Path:
    """An .npz holding `entries` (name, bytes) in order; zipfile lets two of them share a name."""
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", compression) as archive:
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name" warning: the point of some of these
        for name, data in entries:
            archive.writestr(name, data)
    return path


def volume(value: int, shape: tuple[int, ...] = (28, 28, 28)) -> np.ndarray:
    return np.full(shape, value, np.uint8)


def npz_storing_an_array_twice(path: Path, raw: bool = False) -> Path:
    """Two entries numpy answers to as 'volume': a harmless one first, then another numpy would load.

    `raw`: the second is a raw entry 'volume' beside 'volume.npy', which numpy prefers."""
    second = "volume" if raw else "volume.npy"
    return npz_of_entries(path, [("volume.npy", npy_bytes(volume(0))), (second, npy_bytes(volume(255, (2, 28, 28, 28))))])


def npz_whose_local_header_names_another_entry(path: Path) -> Path:
    """The central directory says 'volume.npy'; the local header before the data says 'vol_me.npy'."""
    npz_of_entries(path, [("volume.npy", npy_bytes(volume(7)))])
    raw = bytearray(path.read_bytes())
    at = raw.find(LOCAL_HEADER) + 30  # the name follows the 30 fixed bytes of a local header
    raw[at : at + len("volume.npy")] = b"vol_me.npy"
    path.write_bytes(bytes(raw))
    return path


def npz_of_members_summing_past(path: Path, total_bytes: int, keys: Sequence[str]) -> Path:
    """An .npz of a few KiB whose members each claim total_bytes / len(keys) bytes of uint8.

    The data is not there: each member's recorded uncompressed size is forged to match its
    header, as a deflated member of zeros would have it, without the minutes deflating them."""
    each = -(-total_bytes // len(keys))
    if each >= 2**32 - 256:
        raise ValueError("each member must stay under 4 GiB (no zip64 here): give more keys")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (each,)})
    npz_of_entries(path, [(f"{key}.npy", header.getvalue()) for key in keys], zipfile.ZIP_DEFLATED)
    raw = bytearray(path.read_bytes())
    claimed = struct.pack("<I", len(header.getvalue()) + each)
    for signature, size_at in ((LOCAL_HEADER, 22), (CENTRAL_ENTRY, 24)):  # uncompressed size fields
        at = raw.find(signature)
        while at != -1:
            raw[at + size_at : at + size_at + 4] = claimed
            at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))
    return path


def png_named(path: Path) -> Path:
    from PIL import Image

    Image.new("L", (64, 64)).save(path, format="PNG")
    return path


def playlist_named(path: Path, target: Path, kind: str = "ffconcat") -> Path:
    lines = {"ffconcat": f"ffconcat version 1.0\nfile {target}\n", "m3u": f"#EXTM3U\n#EXTINF:1,\n{target}\n"}[kind]
    path.write_text(lines * 2)
    return path


def video_changing_resolution(path: Path, sizes: Sequence[tuple[int, int]] = ((48, 64), (96, 80)), frames_each: int = 6) -> Path:
    """An MJPEG clip whose frames switch from one (height, width) to the next mid-stream.

    MJPEG frames are independent JPEG images, so each size gets its own encoder and its packets
    are muxed into the one stream; the container's header states the first size."""
    import av

    container_format = {".avi": "avi", ".mkv": "matroska", ".mp4": "mp4"}[path.suffix]
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream("mjpeg", rate=8)
        stream.height, stream.width = sizes[0]
        stream.pix_fmt = "yuvj420p"
        pts = 0
        for part, (height, width) in enumerate(sizes):
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.height, encoder.width, encoder.pix_fmt = height, width, "yuvj420p"
            encoder.time_base = fractions.Fraction(1, 8)
            for index in range(frames_each):
                image = np.full((height, width, 3), (40 * (index + part)) % 256, np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuvj420p")
                frame.pts, pts = pts, pts + 1
                for packet in [*encoder.encode(frame), *(encoder.encode(None) if index == frames_each - 1 else [])]:
                    packet.stream = stream
                    container.mux(packet)
    return path
