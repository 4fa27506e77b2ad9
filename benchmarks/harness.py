"""What every speed benchmark shares: the machine record, interleaved timing, summaries.

On a shared machine absolute timings drift with the load, so comparisons are made in one
process, alternating the contenders (A B A B ...) over several repeats, and reported as a
median with its spread; `os.getloadavg()` is recorded beside every result.
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from vivit.hardware import cpu_flags, cpu_model

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cpu_count": os.cpu_count(),
        # The instruction sets that decide which GEMM kernels exist (AVX2, AVX-512, BF16, AMX).
        "cpu_flags": sorted(f for f in cpu_flags() if f.startswith(("avx", "amx", "fma"))),
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "loadavg_start": list(os.getloadavg()),
    }


def command_line() -> str:
    return " ".join(["python", *sys.argv])


def summary(values: list[float]) -> dict[str, float]:
    """Median, min, max and the relative spread (max - min) / median of repeated measures."""
    median, low, high = statistics.median(values), min(values), max(values)
    return {"median": median, "min": low, "max": high, "spread": (high - low) / median if median else 0.0, "n": len(values)}


def timed(run: Callable[[], object], calls: int) -> float:
    """Seconds per call of `run`, over `calls` calls (a GPU's queue drained before and after)."""
    synchronize = torch.cuda.synchronize if torch.cuda.is_available() else lambda: None
    synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        run()
    synchronize()
    return (time.perf_counter() - start) / calls


def calls_for(run: Callable[[], object], seconds: float) -> int:
    """How many calls of `run` fill about `seconds` (at least 1), from one timed call after a warm-up one."""
    run()
    return max(1, round(seconds / max(timed(run, 1), 1e-6)))


def interleaved(contenders: dict[str, Callable[[], object]], calls: int, repeats: int, warmup: int = 2) -> dict[str, list[float]]:
    """Seconds per call of each contender, `repeats` times, in the order A B A B ...

    Each contender is first called `warmup` times (allocation, kernel choice, compilation).
    """
    for run in contenders.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            times[name].append(timed(run, calls))
    return times


def ratios(times: dict[str, list[float]], ours: str, reference: str) -> dict[str, float]:
    """Speed of `ours` over `reference` per repeat (paired, so slow moments of the machine cancel)."""
    return summary([ref / mine for mine, ref in zip(times[ours], times[reference])])


def reset_peak_memory(device: torch.device) -> None:
    """Restart the peak counter: the CUDA allocator's, or the kernel's peak RSS (VmHWM) of this process."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # where unsupported the peak stays the process's peak since its start


def peak_memory_mib(device: torch.device) -> float:
    """The most memory tensors held on a GPU; peak RSS on a CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_results(name: str, data: dict[str, Any], directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    data = {**data, "loadavg_end": list(os.getloadavg())}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
