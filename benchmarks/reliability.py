"""Regenerate the figures of docs/reliability.md by running tests/reliability.

    python benchmarks/reliability.py                          # CI's sizes: 60 cases per fuzz target, atheris 30 s
    python benchmarks/reliability.py --examples 2000 --atheris-seconds 3600 --random
    python benchmarks/reliability.py --corpus                 # the hostile-input corpus and the kill test only

Runs pytest on tests/reliability with $VIVIT_RELIABILITY_LOG set, so each test records what it
measured, then rewrites the figures (--corpus: the corpus) block of docs/reliability.md with those
numbers, the machine and the date (--corpus: also benchmarks/results/reliability-corpus.json).
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

from vivit.hardware import cpu_flags, cpu_model

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "reliability.md"
CORPUS_TESTS = ["tests/reliability/test_corpus.py",
                "tests/reliability/test_faults.py::test_a_run_killed_again_and_again_resumes_to_the_metrics_of_an_uninterrupted_run"]


def run_tests(examples: int, atheris_seconds: int, random_cases: bool, tests: list[str]) -> tuple[dict, dict[str, float]]:
    with tempfile.TemporaryDirectory() as scratch:
        log, junit = Path(scratch) / "log.json", Path(scratch) / "junit.xml"
        env = {**os.environ, "VIVIT_RELIABILITY_LOG": str(log), "VIVIT_FUZZ_EXAMPLES": str(examples),
               "VIVIT_ATHERIS_SECONDS": str(atheris_seconds), "OMP_NUM_THREADS": "1"}
        env |= {"VIVIT_FUZZ_RANDOM": "1"} if random_cases else {}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *tests]
        if subprocess.run(command, cwd=REPO, env=env).returncode != 0:
            sys.exit("tests/reliability failed: figures not written")
        seconds = {case.get("name", ""): float(case.get("time", 0)) for case in ElementTree.parse(junit).iter("testcase")}
        return json.loads(log.read_text()), seconds


def machine() -> str:
    flags = " ".join(sorted(f for f in cpu_flags() if f.startswith(("avx", "amx", "fma")))) or "no AVX"
    return f"{os.cpu_count()} cores, {cpu_model()} ({flags}), Python {platform.python_version()}, CPU only"


def render(log: dict, seconds: dict[str, float], examples: int, atheris_seconds: int) -> str:
    lines = [f"Measured {datetime.date.today().isoformat()} on {machine()}, by `python benchmarks/reliability.py"
             f" --examples {examples} --atheris-seconds {atheris_seconds}`.", "",
             "**Fuzzed inputs** (each case: a result, or one VivitError line naming the file)", "",
             "| target | cases | read | refused in one line | seconds in the readers |", "|---|---:|---:|---:|---:|"]
    for target, counts in sorted(log.get("fuzz", {}).items()):
        if "ok+error" in counts:  # atheris counts runs, not outcomes
            lines.append(f"| {target} | {counts['ok+error']} | - | - | {counts['seconds']} |")
        else:
            total = int(counts["ok"] + counts["error"])
            lines.append(f"| {target} | {total} | {int(counts['ok'])} | {int(counts['error'])} | {counts['seconds']:.1f} |")
    lines += ["", "**Faults injected**", ""]
    lines += [f"- {name}: " + "; ".join(f"{k} = {v}" for k, v in figures.items()) for name, figures in log.get("faults", {}).items()]
    lines += ["", "**Memory**", "", "| case | figures |", "|---|---|"]
    lines += [f"| {name} | " + ", ".join(f"{k} {v}" for k, v in figures.items()) + " |" for name, figures in log.get("memory", {}).items()]
    lines += ["", "**Test times** (seconds)", "", "| test | s |", "|---|---:|"]
    lines += [f"| `{name}` | {time:.1f} |" for name, time in sorted(seconds.items())]
    lines.append(f"| total | {sum(seconds.values()):.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=60, help="hypothesis cases per fuzz target")
    parser.add_argument("--atheris-seconds", type=int, default=30)
    parser.add_argument("--random", action="store_true", help="fresh random cases instead of CI's fixed ones")
    parser.add_argument("--corpus", action="store_true", help="only the hostile-input corpus and the kill test")
    args = parser.parse_args()
    log, seconds = run_tests(args.examples, args.atheris_seconds, args.random, CORPUS_TESTS if args.corpus else ["tests/reliability"])
    if args.corpus:
        sys.path.insert(0, str(REPO))  # the corpus's own renderer lives beside its cases, in tests/reliability
        from tests.reliability.corpus import render as render_corpus

        measured = f"Measured {datetime.date.today()} on {machine()}, by `python benchmarks/reliability.py --corpus`."
        block, figures = "corpus", render_corpus(log, measured)
        (REPO / "benchmarks" / "results" / "reliability-corpus.json").write_text(json.dumps({"measured": measured, **log}, indent=1))
    else:
        block, figures = "figures", render(log, seconds, args.examples, args.atheris_seconds)
    before, rest = DOC.read_text().split(f"<!-- {block}:start -->", 1)
    DOC.write_text(f"{before}<!-- {block}:start -->\n{figures}\n<!-- {block}:end -->{rest.split(f'<!-- {block}:end -->', 1)[1]}")
    print(figures)


if __name__ == "__main__":
    main()
