"""The coverage-guided fuzz target (fuzz/inputs.py) runs clean for a bounded time.

CI runs it for $VIVIT_ATHERIS_SECONDS (default 30 s) from libFuzzer seed $VIVIT_ATHERIS_SEED
(default 1), so that a CI run follows the same mutations each time and fails only when the code
changed; exploring with other seeds and for longer is what the runs in docs/reliability.md do.
A crash, a hang past 20 s or more than 3 GiB resident fails it, and the input that did it is
saved in the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.fuzzing import record

REPO = Path(__file__).resolve().parents[2]
SECONDS = int(os.environ.get("VIVIT_ATHERIS_SECONDS", "30"))
SEED = int(os.environ.get("VIVIT_ATHERIS_SEED", "1"))


def test_the_atheris_fuzz_target_finds_no_crash_hang_or_runaway_memory(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is in the test extra on Linux x86-64 only")
    command = [
        sys.executable, str(REPO / "fuzz" / "inputs.py"), f"-max_total_time={SECONDS}", f"-seed={SEED}", "-timeout=20",
        "-rss_limit_mb=3072", f"-artifact_prefix={tmp_path}/", "-print_final_stats=1",
    ]
    # One stream, in order: atheris prints a Python traceback to stdout and libFuzzer's
    # verdict to stderr, and a failure must show the traceback, not only the verdict.
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=SECONDS + 300, cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"})
    log = result.stdout
    assert result.returncode == 0, _failure(log)
    runs = re.search(r"Done (\d+) runs in (\d+) second", log)
    assert runs, log[-2000:]
    record("fuzz", "atheris (coverage-guided, all readers)", {"ok+error": int(runs.group(1)), "seconds": int(runs.group(2))})


def _failure(log: str) -> str:
    """The Python exception atheris caught, if any, then libFuzzer's verdict and the saved input."""
    start = log.find("=== Uncaught Python exception")
    cause = log[start:start + 3000] if start >= 0 else ""
    return cause + "\n...\n" + log[-1500:]
