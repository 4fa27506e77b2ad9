"""Speed of what surrounds the model: the data path and the exported model.

    VIVIT_DATA_DIR=../shared/data python benchmarks/pipeline.py loader [--epochs 7]
    python benchmarks/pipeline.py video-cache [--clips 24]
    OMP_NUM_THREADS=1 python benchmarks/pipeline.py decode [--minutes 10] [--repeats 3]
    OMP_NUM_THREADS=N python benchmarks/pipeline.py onnx [--repeats 5] [--threads N]

`loader`: `BatchLoader` alone on MedMNIST 3D train splits, batch 32, shuffled, median of the epochs
after a warm-up one. `video-cache`: generated 320x240 H.264 clips of 2-3 s loaded at 16 frames of
112x112 with an empty decode cache, then warm (median of 3 loads). `decode`: the 4x3 views `vivit predict
--views 4x3` reads (16 frames, dense, stride 2, short side 128, 112^2 crops) of the shared clips and of a
generated 3840x2160 clip of `--minutes` (kept in the temp folder), seeking against decoding every frame in
order, each decode in a fresh process for its peak RSS; writes results/decode.json. `onnx`: onnxruntime on the CPU
against eager PyTorch (random weights, the same threads), median of `--repeats` after a warm-up,
the runtimes alternated. Each prints a markdown table.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import av
import numpy as np
import torch

from harness import command_line, interleaved, machine, write_results
from tables import markdown_table
from vivit.data.loader import BatchLoader
from vivit.data.medmnist import load_medmnist
import vivit.data.video as video_module
from vivit.data.video import decode_views, load_video_folder
from vivit.export import export_onnx
from vivit.models import create_model

LOADER_CASES = (("organmnist3d", 28), ("adrenalmnist3d", 64))
BATCH = 32
CLASSES = ("circle", "square", "stripes")
NUM_FRAMES, SIZE, WARM_LOADS = 16, 112, 3
ONNX_PRESETS = ("keras-seed", "vivit-tiny-28")
SHARED_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "video"
VIEWS = dict(num_frames=16, size=112, temporal_views=4, spatial_crops=3, sampling="dense", stride=2, short_side=128)


def epoch_seconds(loader: BatchLoader, epoch: int) -> float:
    loader.set_epoch(epoch)
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


def loader_table(epochs: int) -> str:
    rows = []
    for name, size in LOADER_CASES:
        split = load_medmnist(name, size=size).splits["train"]
        loader = BatchLoader(split, BATCH, shuffle=True)
        epoch_seconds(loader, 0)  # warm-up
        seconds = statistics.median(epoch_seconds(loader, epoch) for epoch in range(1, epochs + 1))
        samples = len(split) / seconds
        rows.append([name, tuple(split.images.shape[1:]), len(split), BATCH, f"{len(loader) / seconds:,.0f}",
                     f"{samples:,.0f}", f"{samples * split.images[0].numel() / 1e6:,.0f}"])
    header = ["dataset", "sample (C, T, H, W)", "train samples", "batch", "batches/s", "samples/s", "MB/s"]
    return f"median of {epochs} epochs after a warm-up\n\n" + markdown_table(header, rows, figures=5)


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
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def video_cache_table(num_clips: int) -> str:
    rng = np.random.default_rng(0)
    lengths = [int(rng.integers(50, 76)) for _ in range(num_clips)]  # 2 to 3 s
    with tempfile.TemporaryDirectory() as scratch:
        root, cache = Path(scratch) / "clips", Path(scratch) / "cache"
        for i, num_frames in enumerate(lengths):
            (root / CLASSES[i % len(CLASSES)]).mkdir(parents=True, exist_ok=True)
            write_clip(root / CLASSES[i % len(CLASSES)] / f"clip{i:02d}.mp4", num_frames, pattern=i % len(CLASSES))

        def load() -> float:
            start = time.perf_counter()
            load_video_folder(root, num_frames=NUM_FRAMES, size=SIZE, cache_dir=cache)
            return time.perf_counter() - start

        cold = load()
        warm = statistics.median(load() for _ in range(WARM_LOADS))
        cache_mib = sum(f.stat().st_size for f in cache.iterdir()) / 2**20
    rows = [["cold (decode + write cache)", f"{cold:.3f}", f"{num_clips / cold:.1f}", "1.0x"],
            [f"warm (read cache, median of {WARM_LOADS})", f"{warm:.3f}", f"{num_clips / warm:.1f}", f"{cold / warm:.1f}x"]]
    return (f"{num_clips} clips, 320x240 H.264, {sum(lengths)} frames in all; clip {NUM_FRAMES} frames uniform at "
            f"{SIZE}x{SIZE}; cache {cache_mib:.1f} MiB; PyAV {av.__version__}\n\n"
            + markdown_table(["load", "seconds", "clips/s", "speed-up"], rows))


def write_long_clip(path: Path, frames: int, width: int = 3840, height: int = 2160) -> None:
    """A bright square crossing a gradient: 50 distinct frames cycled, H.264 ultrafast at a low bitrate."""
    cycle = [np.broadcast_to(np.linspace(0, 255, width, dtype=np.uint8)[None, :, None], (height, width, 3)).copy() for _ in range(50)]
    for i, image in enumerate(cycle):
        image[height // 2 - 100 : height // 2 + 100, i * (width - 200) // 50 :][:, :200] = 255
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "40", "g": "250"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        cycle = [av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p") for image in cycle]
        for t in range(frames):
            cycle[t % 50].pts = t
            container.mux(stream.encode(cycle[t % 50]))
        container.mux(stream.encode())


def decode_once(path: str, seek: bool) -> tuple[float, float, float]:
    """Seconds to decode the views of `path`, and this process's RSS before and at its peak while
    decoding (MiB): the kernel's high-water mark is reset first (clear_refs 5)."""
    video_module.SEEK_MIN_PIXELS = 0 if seek else math.inf
    Path("/proc/self/clear_refs").write_text("5")
    status = lambda field: next(int(l.split()[1]) / 1024 for l in Path("/proc/self/status").open() if l.startswith(field))  # noqa: E731
    before, start = status("VmRSS"), time.perf_counter()
    decode_views(path, **VIEWS)
    return time.perf_counter() - start, before, status("VmHWM")


def decode_table(minutes: float, repeats: int) -> str:
    long_clip = Path(tempfile.gettempdir()) / f"vivit-3840x2160-{minutes:g}min.mp4"
    if not long_clip.exists():
        write_long_clip(long_clip, round(minutes * 60 * 25))
    rows, results = [], []
    with ProcessPoolExecutor(1, mp_context=get_context("spawn"), max_tasks_per_child=1) as pool:  # a fresh process each
        for path in [*sorted(p for p in SHARED_VIDEO.iterdir() if p.suffix in (".mp4", ".avi")), long_clip]:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                shape = f"{stream.width}x{stream.height}, {stream.frames} frames, {stream.codec_context.name}"
            for seek in (True, False):
                runs = [pool.submit(decode_once, str(path), seek).result() for _ in range(1 if path == long_clip else repeats)]
                seconds, before, peak = statistics.median(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)
                results.append({"file": path.name, "video": shape, "seek": seek, "seconds": seconds,
                                "clips_per_s": 12 / seconds, "rss_before_mib": before, "peak_rss_mib": peak, "runs": len(runs)})
                rows.append([path.name, shape, "seek" if seek else "every frame in order", f"{seconds:.2f}",
                             f"{12 / seconds:.1f}", f"{peak:,.0f}", f"{peak - before:,.0f}"])
    write_results("decode", {"machine": machine(), "command": command_line(), "views": VIEWS, "pyav": av.__version__, "rows": results})
    return (f"12 clips (4x3 views) per decode, median of {repeats} (the long clip: 1); AVI is decoded in order either "
            f"way; PyAV {av.__version__}\n\n" + markdown_table(
                ["file", "video", "decoding", "seconds", "clips/s", "peak RSS MiB", "added by decoding MiB"], rows))


def onnx_table(repeats: int, threads: int) -> str:
    """Per preset: torch and onnx samples/s at batch 32, then torch and onnx ms at batch 1."""
    import onnxruntime  # the export extra, which the other measures do not need

    torch.set_num_threads(threads)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    rows = []
    for preset in ONNX_PRESETS:
        torch.manual_seed(0)
        model = create_model(preset).eval()
        with tempfile.TemporaryDirectory() as tmp:
            path = export_onnx(model, Path(tmp) / f"{preset}.onnx")
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        medians = {}
        for batch in (32, 1):
            video = torch.rand(batch, model.config.in_channels, *model.config.input_size)
            array = video.numpy()
            runners = {"torch": lambda: model(video), "onnx": lambda: session.run(None, {"video": array})}
            with torch.inference_mode():
                times = interleaved(runners, calls=1, repeats=repeats, warmup=1)
            medians.update({(runtime, batch): statistics.median(values) for runtime, values in times.items()})
        rows.append([preset, *(f"{32 / medians[runtime, 32]:.1f}" for runtime in ("torch", "onnx")),
                     *(f"{1e3 * medians[runtime, 1]:.1f}" for runtime in ("torch", "onnx"))])
    header = ["preset", "torch samples/s (b32)", "onnx samples/s (b32)", "torch ms (b1)", "onnx ms (b1)"]
    return f"onnxruntime {onnxruntime.__version__}, median of {repeats}\n\n" + markdown_table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("loader", help="BatchLoader alone").add_argument("--epochs", type=int, default=7)
    commands.add_parser("video-cache", help="decode cache, cold and warm").add_argument("--clips", type=int, default=24)
    decode = commands.add_parser("decode", help="seeking against decoding every frame")
    decode.add_argument("--minutes", type=float, default=10)
    decode.add_argument("--repeats", type=int, default=3)
    onnx = commands.add_parser("onnx", help="onnxruntime against eager PyTorch")
    onnx.add_argument("--repeats", type=int, default=5)
    onnx.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    args = parser.parse_args()
    if args.command == "loader":
        table = loader_table(args.epochs)
    elif args.command == "video-cache":
        table = video_cache_table(args.clips)
    elif args.command == "decode":
        table = decode_table(args.minutes, args.repeats)
    else:
        table = onnx_table(args.repeats, args.threads)
    m = machine()
    print(f"{m['date'][:16]} UTC, {m['cpu']} ({m['cpu_count']} CPUs), {m['threads']} torch thread(s), torch {m['torch']}; {table}")


if __name__ == "__main__":
    main()
