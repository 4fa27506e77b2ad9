"""Peak anonymous memory of this process while a block runs, sampled from /proc/self/status.

ru_maxrss counts file-backed pages too (torch's shared libraries, hundreds of MiB), which
the kernel drops and reloads under memory pressure, so on a busy machine it can miss
what a step allocates. RssAnon counts only the memory the process allocated itself; a
thread samples it every millisecond (torch releases the GIL while it computes).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType


def rss_anon() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon in /proc/self/status")


class AnonPeak:
    """`with AnonPeak() as peak: ...` then `peak.before`, `peak.peak` (bytes)."""

    def __enter__(self) -> AnonPeak:
        self.before = self.peak = rss_anon()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, rss_anon())
            time.sleep(0.001)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, rss_anon())
