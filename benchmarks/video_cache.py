"""How much the decode cache saves: load a folder of generated clips cold, then warm.

    python benchmarks/video_cache.py [--clips 24] [--num-frames 16] [--size 112]

Generates the clips once (320x240, 2-3 s at 25 fps, H.264) into a temporary folder,
loads them with vivit.data.video.load_video_folder first with an empty cache (every
clip decoded) and then with the warm cache, and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch

from vivit.data.video import load_video_folder

CLASSES = ("circle", "square", "stripes")


def write_clip(path: Path, num_frames: int, pattern: int, width: int = 320, height: int = 240) -> None:
    """A moving pattern (so the encoder has real work), H.264 at 25 fps."""
    rows, columns = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast"}
        for t in range(num_frames):
            wave = np.sin((columns + 4 * t) / (8 + 4 * pattern)) * np.cos((rows - 3 * t) / 11)
            rgb = np.stack([wave, np.roll(wave, t, axis=0), -wave], axis=-1)
            frame = av.VideoFrame.from_ndarray(((rgb + 1) * 127.5).astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def generate(root: Path, num_clips: int) -> int:
    total_frames = 0
    rng = np.random.default_rng(0)
    for i in range(num_clips):
        folder = root / CLASSES[i % len(CLASSES)]
        folder.mkdir(parents=True, exist_ok=True)
        num_frames = int(rng.integers(50, 76))  # 2 to 3 s
        write_clip(folder / f"clip{i:02d}.mp4", num_frames, pattern=i % len(CLASSES))
        total_frames += num_frames
    return total_frames


def timed_load(root: Path, cache: Path, num_frames: int, size: int) -> float:
    start = time.perf_counter()
    load_video_folder(root, num_frames=num_frames, size=size, cache_dir=cache)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--num-frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--repeats", type=int, default=3, help="warm loads to time (median reported)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root, cache = Path(scratch) / "clips", Path(scratch) / "cache"
        total_frames = generate(root, args.clips)
        cold = timed_load(root, cache, args.num_frames, args.size)
        warm = statistics.median(
            timed_load(root, cache, args.num_frames, args.size) for _ in range(args.repeats)
        )
        cache_mb = sum(f.stat().st_size for f in cache.iterdir()) / 2**20
    print(
        f"Decode cache, {datetime.date.today()}, {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, torch {torch.__version__}, PyAV {av.__version__}"
    )
    print(
        f"{args.clips} clips, 320x240 H.264, {total_frames} frames in all; "
        f"clip {args.num_frames} frames uniform at {args.size}x{args.size}; cache {cache_mb:.1f} MiB\n"
    )
    print("| load | seconds | clips/s | speed-up |")
    print("|---|---:|---:|---:|")
    print(f"| cold (decode + write cache) | {cold:.3f} | {args.clips / cold:.1f} | 1.0x |")
    print(
        f"| warm (read cache, median of {args.repeats}) | {warm:.3f} | {args.clips / warm:.1f} | {cold / warm:.1f}x |"
    )


if __name__ == "__main__":
    main()
