"""What this machine's processor can do fast, read at run time (never assumed from one machine).

bf16 autocast pays on a CPU only where bf16 matrix products run in hardware: AVX512-BF16
or AMX. Elsewhere oneDNN emulates them and a bf16 step runs many times slower than fp32.
"""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
FAST_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# "1" or "0" overrides the detection: to compare both paths on one machine, or to keep a
# test suite's numbers the same on every CPU.
FAST_BF16_ENV = "VIVIT_CPU_BF16"


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The feature flags of the first processor in /proc/cpuinfo; empty where there is none."""
    try:
        text = CPUINFO.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_model() -> str:
    try:
        for line in CPUINFO.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_has_fast_bf16() -> bool:
    forced = os.environ.get(FAST_BF16_ENV)
    if forced in ("0", "1"):
        return forced == "1"
    return bool(cpu_flags() & FAST_BF16_FLAGS)

