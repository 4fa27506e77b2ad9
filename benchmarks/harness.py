"""What every speed benchmark shares: the machine record, interleaved timing, summaries.

On a shared machine absolute timings drift with the load, so comparisons are made in one
process, alternating the contenders (A B A B ...) over several repeats, and reported as a
median with its spread; `os.getloadavg()` is recorded beside every result.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The instruction-set flags that decide which GEMM kernels exist (AVX2, AVX-512, BF16, AMX)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return sorted(f for f in flags if f.startswith(("avx", "amx", "fma")))


def machine() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "cpu_flags": cpu_flags(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "loadavg_start": list(os.getloadavg()),
    }


def summary(values: list[float]) -> dict[str, float]:
    """Median, min, max and the relative spread (max - min) / median of repeated measures."""
    median = statistics.median(values)
    return {
        "median": median,
        "min": min(values),
        "max": max(values),
        "spread": (max(values) - min(values)) / median if median else 0.0,
        "n": len(values),
    }


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(run: Callable[[], object], calls: int) -> float:
    """Seconds per call of `run`, over `calls` calls."""
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


def reset_peak_rss() -> bool:
    """Restart the kernel's peak-RSS counter (VmHWM) of this process; False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak resident memory (VmHWM) since the last `reset_peak_rss`, else since the start."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    else:
        reset_peak_rss()


def peak_memory_mib(device: torch.device) -> float:
    """Peak RSS on CPU; the most memory tensors held on a GPU."""
    return torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else peak_rss_mib()


def write_results(name: str, data: dict[str, Any], directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    data = {**data, "loadavg_end": list(os.getloadavg())}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
