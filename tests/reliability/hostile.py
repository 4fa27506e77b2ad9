"""Builders of hostile files: each writes one file that lies about itself in one known way.

Shared by the tests of each reader (test_hostile_files.py) and the corpus the real CLI
replays (corpus.py).
"""

from __future__ import annotations

import fractions
import io
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

    The data is not there: each member's uncompressed size in the central directory (zip64
    when it passes 4 GiB) is forged to match its header, as a deflated member of zeros would
    have it, without the minutes deflating gigabytes would take."""
    each = -(-total_bytes // len(keys))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (each,)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key in keys:
            archive.writestr(f"{key}.npy", header.getvalue())
        for info in archive.filelist:  # written to the central directory when the archive closes
            info.file_size = len(header.getvalue()) + each
    return path


def npz_stacking(path: Path, count: int) -> Path:
    """A deflated .npz of `count` 28^3 volumes (a bright cube each): about 55 bytes per volume."""
    stack = np.zeros((count, 28, 28, 28), np.uint8)
    stack[:, 10:18, 10:18, 10:18] = 200
    np.savez_compressed(path, volumes=stack)
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
                # One scaling thread: the corpus forks its cases from this process, and a fork inherits
                # PyAV's cached scaler with slice threads it does not have (freeing it would hang).
                frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuvj420p", threads=1)
                frame.pts, pts = pts, pts + 1
                for packet in [*encoder.encode(frame), *(encoder.encode(None) if index == frames_each - 1 else [])]:
                    packet.stream = stream
                    container.mux(packet)
    return path


def video_of_unknown_codec(path: Path) -> Path:
    """A Matroska clip whose codec id names no decoder: FFmpeg opens it, its stream has no codec context."""
    clip = video_changing_resolution(path.with_name(f"mjpeg-{path.name}"), sizes=((48, 64),), frames_each=4)
    path.write_bytes(clip.read_bytes().replace(b"V_MJPEG", b"V_NONE!"))
    clip.unlink()
    return path


def video_folder(root: Path) -> Path:
    """train/val/test x two classes, one clip each; the clip of train/a changes resolution mid-stream."""
    for split in ("train", "val", "test"):
        for label, frames in (("a", 4), ("b", 7)):
            folder = root / split / label
            folder.mkdir(parents=True)
            if (split, label) == ("train", "a"):
                video_changing_resolution(folder / "switch.avi", ((48, 64), (96, 80)), frames)
            else:
                video_changing_resolution(folder / "plain.avi", ((48, 64),), frames)
    return root
