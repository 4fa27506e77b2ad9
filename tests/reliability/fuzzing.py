"""What every fuzz case must end in: a result, or one VivitError line naming the file.

Outcomes are counted per target; with $VIVIT_RELIABILITY_LOG set, the counts (and the
seconds each target ran) are written there as JSON when the session ends, for
benchmarks/reliability.py to put in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck

from vivit.errors import VivitError

LOG_ENV = "VIVIT_RELIABILITY_LOG"
CASE_SECONDS = 20  # a case running longer than this is a hang
OUTCOMES: dict[str, dict[str, float]] = defaultdict(lambda: {"ok": 0, "error": 0, "seconds": 0.0})

hypothesis.settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("VIVIT_FUZZ_EXAMPLES", "60")),
    deadline=None,  # the alarm below catches hangs; slow CPUs must not flake
    derandomize=not os.environ.get("VIVIT_FUZZ_RANDOM"),  # CI: the same cases every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)
FUZZ = hypothesis.settings.get_profile("ci")


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(*_: Any) -> None:
        raise Hang(f"case ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def outcome(target: str, names: list[Path | str], action: Callable[[], Any]) -> Any:
    """Run `action`; a VivitError must be one line naming one of `names`. Returns the result or None."""
    started = time.perf_counter()
    try:
        with time_limit(CASE_SECONDS):
            result = action()
    except VivitError as error:
        message = str(error)
        assert "\n" not in message, f"{target}: error is not one line: {message!r}"
        assert any(str(name) in message for name in names), f"{target}: error names no file: {message!r}"
        OUTCOMES[target]["error"] += 1
        result = None
    else:
        OUTCOMES[target]["ok"] += 1
    OUTCOMES[target]["seconds"] += time.perf_counter() - started
    return result


def write_log() -> None:
    path = os.environ.get(LOG_ENV)
    if not path or not OUTCOMES:
        return
    log = Path(path)
    existing = json.loads(log.read_text()) if log.exists() else {}
    existing.setdefault("fuzz", {}).update({k: dict(v) for k, v in OUTCOMES.items()})
    log.write_text(json.dumps(existing, indent=2))


def record(section: str, key: str, value: Any) -> None:
    """A measured figure (peak RSS, faults survived) for the reliability log."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    log = Path(path)
    existing = json.loads(log.read_text()) if log.exists() else {}
    existing.setdefault(section, {})[key] = value
    log.write_text(json.dumps(existing, indent=2))
