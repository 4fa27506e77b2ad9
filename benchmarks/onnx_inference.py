"""onnxruntime (CPU) against eager PyTorch for the exported presets.

    OMP_NUM_THREADS=N python benchmarks/onnx_inference.py [--repeats 5] [--threads N]

For each preset (random weights: speed does not depend on them): samples/s at batch 32 and
latency (ms) at batch 1, each the median of `--repeats` timed runs after one warm-up, the two
runtimes alternated. Both get the same number of threads. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import onnxruntime
import torch

from harness import interleaved, machine_line, markdown_table
from vivit.export import export_onnx
from vivit.models import create_model

PRESETS = ("keras-seed", "vivit-tiny-28")


def bench(preset: str, repeats: int, threads: int, directory: Path) -> list[str]:
    """torch and onnx samples/s at batch 32, then torch and onnx ms at batch 1."""
    torch.manual_seed(0)
    model = create_model(preset).eval()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(export_onnx(model, directory / f"{preset}.onnx")), options,
                                           providers=["CPUExecutionProvider"])
    medians = {}
    for batch in (32, 1):
        video = torch.rand(batch, model.config.in_channels, *model.config.input_size)
        array = video.numpy()
        runners = {"torch": lambda: model(video), "onnx": lambda: session.run(None, {"video": array})}
        with torch.inference_mode():
            times = interleaved(runners, calls=1, repeats=repeats, warmup=1)
        medians.update({(name, batch): statistics.median(values) for name, values in times.items()})
    throughput = [f"{32 / medians[runtime, 32]:.1f}" for runtime in ("torch", "onnx")]
    return throughput + [f"{1e3 * medians[runtime, 1]:.1f}" for runtime in ("torch", "onnx")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [[preset, *bench(preset, args.repeats, args.threads, Path(tmp))] for preset in PRESETS]
    print(f"{machine_line()}, onnxruntime {onnxruntime.__version__}, median of {args.repeats}\n")
    print(markdown_table(["preset", "torch samples/s (b32)", "onnx samples/s (b32)", "torch ms (b1)", "onnx ms (b1)"], rows))


if __name__ == "__main__":
    main()
