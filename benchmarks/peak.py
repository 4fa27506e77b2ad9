"""The physical limit: this machine's sustained matrix-multiply throughput, fp32 and bf16.

    python benchmarks/peak.py [--quick] [--device cuda] [--threads N] [--out NAME]

A large square GEMM; per preset (keras-seed alone with --quick) the GEMMs of one training step at
batch 32, each timed alone, whose total time bounds the step (`gemm_bound`); on a CPU, two GEMMs at
1 thread against every thread. Method and results: docs/benchmarks.md. Writes
benchmarks/results/peak.json.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from harness import calls_for, command_line, interleaved, machine, summary, write_results
from vivit.models import create_model

aten = torch.ops.aten
PRESETS = ("keras-seed", "vivit-tiny-28", "vivit-tiny-64", "vivit-tiny-video")
BATCH = 32
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
Shape = tuple[int, int, int, int]  # (batch, m, k, n): batch x (m, k) @ (k, n)


class GemmRecorder(TorchDispatchMode):
    """Counts the (batch, m, k, n) of every mm / addmm / bmm that runs under it."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: Counter[Shape] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        packet = func.overloadpacket
        if packet in (aten.mm, aten.addmm):
            a, b = (args[1], args[2]) if packet is aten.addmm else (args[0], args[1])
            self.shapes[(1, a.shape[0], a.shape[1], b.shape[1])] += 1
        elif packet is aten.bmm:
            a, b = args[0], args[1]
            self.shapes[(a.shape[0], a.shape[1], a.shape[2], b.shape[2])] += 1
        return func(*args, **(kwargs or {}))


def training_gemms(preset: str, batch: int) -> Counter[Shape]:
    """Matrix products of one forward + backward of `preset` at `batch`."""
    model = create_model(preset).train()
    video = torch.rand(batch, model.config.in_channels, *model.config.input_size)
    labels = torch.zeros(batch, dtype=torch.long)
    with GemmRecorder() as recorder:
        F.cross_entropy(model(video), labels).backward()
    return recorder.shapes


def gemm_flops(shape: Shape) -> int:
    b, m, k, n = shape
    return 2 * b * m * k * n


def gemm_runner(shape: Shape, dtype: torch.dtype, device: torch.device) -> Callable[[], object]:
    """mm for an unbatched shape, bmm for a batched one, as the model ran them."""
    b, m, k, n = shape
    batch, product = ((), torch.mm) if b == 1 else ((b,), torch.bmm)
    a, w = torch.randn(*batch, m, k, dtype=dtype, device=device), torch.randn(*batch, k, n, dtype=dtype, device=device)
    return lambda: product(a, w)


def time_gemms(shapes: list[Shape], repeats: int, seconds: float, device: torch.device) -> dict[str, dict[Shape, float]]:
    """Median seconds per call of each shape in each dtype, the dtypes interleaved per shape; each
    timing lasts about `seconds` (at least one call)."""
    result: dict[str, dict[Shape, float]] = {name: {} for name in DTYPES}
    for shape in shapes:
        runners = {name: gemm_runner(shape, dtype, device) for name, dtype in DTYPES.items()}
        calls = {name: calls_for(run, seconds) for name, run in runners.items()}
        batches = {name: lambda run=run, n=calls[name]: [run() for _ in range(n)] for name, run in runners.items()}
        for name, values in interleaved(batches, calls=1, repeats=repeats, warmup=0).items():
            result[name][shape] = summary(values)["median"] / calls[name]
    return result


def thread_comparison(shapes: list[Shape], repeats: int, seconds: float) -> dict[str, dict]:
    """fp32 GFLOP/s of each shape at 1 thread and at os.cpu_count() threads, alternated."""
    before = torch.get_num_threads()
    result: dict[str, dict] = {}
    for shape in shapes:
        run = gemm_runner(shape, torch.float32, torch.device("cpu"))
        calls = calls_for(run, seconds)

        def at(threads: int) -> Callable[[], None]:
            def go() -> None:
                torch.set_num_threads(threads)
                for _ in range(calls):
                    run()
            return go

        times = interleaved({f"{n} thread(s)": at(n) for n in sorted({1, os.cpu_count() or 1})}, calls=1, repeats=repeats, warmup=1)
        result["x".join(map(str, shape[1:]))] = {k: summary([gemm_flops(shape) * calls / t / 1e9 for t in v]) for k, v in times.items()}
    torch.set_num_threads(before)
    return result


def preset_gemms(preset: str, repeats: int, device: torch.device) -> dict[str, Any]:
    """The GEMM shapes of one training step of `preset`, each timed alone, and their bound."""
    shapes = training_gemms(preset, BATCH)
    seconds = time_gemms(sorted(shapes), repeats, seconds=0.05, device=device)
    total = sum(gemm_flops(s) * c for s, c in shapes.items())
    entry: dict[str, Any] = {"gemm_flops_per_step": total, "shapes": []}
    for name in DTYPES:
        entry[f"gemm_bound_{name}"] = total / sum(seconds[name][s] * c for s, c in shapes.items())
    for shape, count in sorted(shapes.items(), key=lambda item: -gemm_flops(item[0]) * item[1]):
        entry["shapes"].append({"bmkn": list(shape), "count": count,
                                **{f"gflops_{n}": gemm_flops(shape) / seconds[n][shape] / 1e9 for n in DTYPES}})
    print(f"{preset}: {len(shapes)} GEMM shapes, {total / 1e9:.2f} GFLOP per step (batch {BATCH}); GEMM-bound "
          + ", ".join(f"{n} {entry[f'gemm_bound_{n}'] / 1e9:.1f} GFLOP/s" for n in DTYPES), flush=True)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, keras-seed only (about 1 minute)")
    parser.add_argument("--out", default="peak")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else 5
    info, device = machine(), torch.device(args.device)

    n = 8192 if device.type == "cuda" else 1024 if args.quick else 2048
    square = (1, n, n, n)
    seconds = time_gemms([square], repeats, seconds=0.5, device=device)
    peak = {name: gemm_flops(square) / seconds[name][square] for name in DTYPES}
    print(f"square {n}: " + ", ".join(f"{name} {v / 1e9:.1f} GFLOP/s" for name, v in peak.items()), flush=True)
    presets = {preset: preset_gemms(preset, repeats, device) for preset in (PRESETS[:1] if args.quick else PRESETS)}
    threads = {}
    if device.type == "cpu":
        threads = thread_comparison([(1, 864, 128, 512), square], repeats, seconds=0.3)
        for shape, entry in threads.items():
            print(f"threads, {shape}: " + ", ".join(f"{k} {v['median']:.1f} GFLOP/s" for k, v in entry.items()), flush=True)
    path = write_results(args.out, {
        "threads_gflops_fp32": threads, "machine": info, "command": command_line(), "square_n": n,
        "device": str(device), "peak_flops": peak, "presets": presets, "batch": BATCH, "repeats": repeats,
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
