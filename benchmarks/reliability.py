"""Regenerate the figures of docs/reliability.md by running tests/reliability.

    python benchmarks/reliability.py                          # CI's sizes: 60 cases per fuzz target, atheris 30 s
    python benchmarks/reliability.py --examples 2000 --atheris-seconds 3600 --random

Runs pytest on tests/reliability with $VIVIT_RELIABILITY_LOG set, so each test records
what it measured (fuzz cases and their outcomes, faults survived, peak memory), then
rewrites the block between the figures markers of docs/reliability.md with those
numbers, the machine and the date. Exits non-zero if a test fails (the figures of a
failing run are not written).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "reliability.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def run_tests(examples: int, atheris_seconds: int, random_cases: bool) -> tuple[dict, dict[str, float]]:
    with tempfile.TemporaryDirectory() as scratch:
        log, junit = Path(scratch) / "log.json", Path(scratch) / "junit.xml"
        env = {**os.environ, "VIVIT_RELIABILITY_LOG": str(log), "VIVIT_FUZZ_EXAMPLES": str(examples),
               "VIVIT_ATHERIS_SECONDS": str(atheris_seconds), "OMP_NUM_THREADS": "1"}
        if random_cases:
            env["VIVIT_FUZZ_RANDOM"] = "1"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", "tests/reliability"]
        if subprocess.run(command, cwd=REPO, env=env).returncode != 0:
            sys.exit("tests/reliability failed: figures not written")
        seconds = {case.get("name", ""): float(case.get("time", 0)) for case in ElementTree.parse(junit).iter("testcase")}
        return json.loads(log.read_text()), seconds


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, CPU only"


def render(log: dict, seconds: dict[str, float], examples: int, atheris_seconds: int) -> str:
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {machine()}, by `python benchmarks/reliability.py"
        f" --examples {examples} --atheris-seconds {atheris_seconds}`.",
        "",
        "**Fuzzed inputs** (each case: a result, or one VivitError line naming the file)",
        "",
        "| target | cases | read | refused in one line | seconds in the readers |",
        "|---|---:|---:|---:|---:|",
    ]
    for target, counts in sorted(log.get("fuzz", {}).items()):
        if "ok+error" in counts:  # atheris counts runs, not outcomes
            lines.append(f"| {target} | {counts['ok+error']} | - | - | {counts['seconds']} |")
        else:
            total = int(counts["ok"] + counts["error"])
            lines.append(f"| {target} | {total} | {int(counts['ok'])} | {int(counts['error'])} | {counts['seconds']:.1f} |")
    lines += ["", "**Faults injected**", ""]
    for name, figures in log.get("faults", {}).items():
        lines.append(f"- {name}: " + "; ".join(f"{k} = {v}" for k, v in figures.items()))
    lines += ["", "**Memory**", "", "| case | figures |", "|---|---|"]
    for name, figures in log.get("memory", {}).items():
        lines.append(f"| {name} | " + ", ".join(f"{k} {v}" for k, v in figures.items()) + " |")
    lines += ["", "**Test times** (seconds)", "", "| test | s |", "|---|---:|"]
    lines += [f"| `{name}` | {time:.1f} |" for name, time in sorted(seconds.items())]
    lines.append(f"| total | {sum(seconds.values()):.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60, help="hypothesis cases per fuzz target")
    parser.add_argument("--atheris-seconds", type=int, default=30)
    parser.add_argument("--random", action="store_true", help="fresh random cases instead of CI's fixed ones")
    args = parser.parse_args()
    log, seconds = run_tests(args.examples, args.atheris_seconds, args.random)
    figures = render(log, seconds, args.examples, args.atheris_seconds)
    text = DOC.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    DOC.write_text(f"{before}{START}\n{figures}\n{END}{after}")
    print(figures)


if __name__ == "__main__":
    main()
