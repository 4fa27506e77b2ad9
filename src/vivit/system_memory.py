"""How much memory this machine can still give us, in bytes, for checks made before
allocating (array headers, training pre-flight). Imports nothing but the standard library."""

from __future__ import annotations

import os
from pathlib import Path

MEMINFO = Path("/proc/meminfo")


def available_memory() -> int:
    """Bytes of RAM available without swapping (Linux MemAvailable), capped by a cgroup limit."""
    free = _meminfo_available()
    limit = _cgroup_headroom()
    return min(free, limit) if limit is not None else free


def _meminfo_available() -> int:
    try:
        for line in MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def _cgroup_headroom() -> int | None:
    """Bytes left under a cgroup v2 memory limit (containers), or None without one."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        stat = dict(line.split() for line in Path("/sys/fs/cgroup/memory.stat").read_text().splitlines())
        reclaimable = int(stat.get("inactive_file", 0))  # page cache the kernel drops under pressure
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(int(limit) - used + reclaimable, 0)


def format_bytes(count: int | float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
