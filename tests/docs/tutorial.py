"""Run docs/tutorial.md: every ```bash and ```python block, in order, in one folder.

Python blocks share one namespace, as in one Python session; bash blocks run with this
interpreter's `vivit` first on PATH. Blocks in any other language (```console, ```text,
```yaml) are shown, not run. With `fast`, each `vivit train`/`vivit sweep` line gets
FAST_ARGUMENTS appended and FAST_REPLACEMENTS are applied: the tutorial says so.

    python -m tests.docs.tutorial --workdir DIR            # the whole page at full length (hours on a CPU)
    python -m tests.docs.tutorial --workdir DIR --fast     # what CI runs (minutes)
    python -m tests.docs.tutorial --workdir DIR --only python   # redraw the figures from DIR/runs
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
FAST_ARGUMENTS = "--epochs 1 train.limit_train_batches=2"
FAST_REPLACEMENTS = {"--trials 12": "--trials 2"}
_BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```\s*$", re.M | re.S)
_TRAINING_COMMAND = re.compile(r"\bvivit (train|sweep)(\s|$)")


@dataclass(frozen=True)
class Block:
    language: str  # "bash" or "python"
    code: str
    line: int  # of the opening fence in the tutorial


class TutorialBlockFailed(AssertionError):
    """A block of the tutorial failed; the message names its line and shows its output."""


def tutorial_blocks(text: str) -> list[Block]:
    return [Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _BLOCK.finditer(text)]


def shrink(code: str) -> str:
    """The documented fast variant of a bash block."""
    for before, after in FAST_REPLACEMENTS.items():
        code = code.replace(before, after)
    lines = [f"{line.rstrip()} {FAST_ARGUMENTS}" if _TRAINING_COMMAND.search(line) else line for line in code.splitlines()]
    return "\n".join(lines) + "\n"


def run_tutorial(workdir: Path, fast: bool, only: str | None = None, tutorial: Path = TUTORIAL) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", "MPLBACKEND": "Agg"}
    namespace: dict[str, object] = {"__name__": "__tutorial__"}
    for block in tutorial_blocks(tutorial.read_text()):
        if only and block.language != only:
            continue
        where = f"{tutorial.name} line {block.line} ({block.language})"
        print(f"--- {where}", flush=True)
        if block.language == "bash":
            code = shrink(block.code) if fast else block.code
            result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], cwd=workdir, env=env, capture_output=True, text=True)
            print(result.stdout, end="", flush=True)
            if result.returncode != 0:
                raise TutorialBlockFailed(f"{where} exited {result.returncode}:\n{code}\n{result.stdout}\n{result.stderr}")
            continue
        previous = Path.cwd()
        os.chdir(workdir)
        try:
            exec(compile(block.code, where, "exec"), namespace)
        except Exception as error:
            raise TutorialBlockFailed(f"{where} raised {type(error).__name__}: {error}") from error
        finally:
            os.chdir(previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--fast", action="store_true", help="the CI variant: one epoch of two batches, two sweep trials")
    parser.add_argument("--only", choices=("bash", "python"), help="run only the blocks of one language")
    args = parser.parse_args()
    run_tutorial(args.workdir, fast=args.fast, only=args.only)


if __name__ == "__main__":
    main()
