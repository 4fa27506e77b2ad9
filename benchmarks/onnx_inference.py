"""onnxruntime (CPU) against eager PyTorch for the exported presets.

    OMP_NUM_THREADS=N python benchmarks/onnx_inference.py [--repeats 5] [--threads N]

For each preset: samples/s at batch 32 and latency (ms) at batch 1, each the median of
`--repeats` timed runs after one warm-up. Both runtimes get the same number of threads.
Prints a markdown table with the machine and date.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from vivit.export import export_onnx
from vivit.models.presets import create_model

PRESETS = ("keras-seed", "vivit-tiny-28")


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up: first-call allocation and kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(preset: str, repeats: int, threads: int, directory: Path) -> dict[str, float]:
    model = create_model(preset).eval()
    path = export_onnx(model, directory / f"{preset}.onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    row = {}
    for batch, label in ((32, "throughput"), (1, "latency")):
        video = torch.rand(batch, model.config.in_channels, *model.config.input_size)
        array = video.numpy()
        with torch.inference_mode():
            eager = median_seconds(lambda video=video: model(video), repeats)
        onnx = median_seconds(lambda array=array: session.run(None, {"video": array}), repeats)
        if label == "throughput":
            row["torch samples/s (b32)"], row["onnx samples/s (b32)"] = batch / eager, batch / onnx
        else:
            row["torch ms (b1)"], row["onnx ms (b1)"] = eager * 1e3, onnx * 1e3
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    np.random.seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        rows = {preset: bench(preset, args.repeats, args.threads, Path(tmp)) for preset in PRESETS}
    columns = list(next(iter(rows.values())))
    print(f"{datetime.date.today()}, {platform.processor() or platform.machine()}, {args.threads} thread(s), "
          f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, median of {args.repeats}\n")
    print("| preset | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for preset, row in rows.items():
        print(f"| {preset} | " + " | ".join(f"{row[c]:.1f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
