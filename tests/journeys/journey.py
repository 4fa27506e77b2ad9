"""Walk one page: run each of its commands in order, as written, and check what a user sees."""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from tests.journeys.documents import Command, commands
from tests.journeys.skips import skip_rule_for
from tests.journeys.workspace import Outcome, Workspace


class JourneyFailed(AssertionError):
    """A documented command did not do what its page says; the message names its line."""


@dataclass(frozen=True)
class Step:
    command: Command
    text: str
    skipped: str | None  # the reason, or None: it ran
    seconds: float = 0.0
    output: str = ""


def walk(document: Path, workspace: Workspace) -> list[Step]:
    steps = []
    python_blocks: list[str] = []  # the page's earlier Python blocks, as one session
    for command in commands(document):
        python = command.language == "python"
        for text in command.steps:
            rule = skip_rule_for(text, python)
            if rule is not None:
                steps.append(Step(command, text, f"{rule.name}: {rule.reason}"))
                continue
            started = time.monotonic()
            outcome = workspace.run_python(text, python_blocks, command.where) if python else workspace.run(text)
            if python:
                python_blocks.append(text)
            check_outcome(command, text, outcome)
            for path in (*command.promised_paths(), *_out_paths(text)):
                if not workspace.path(path).exists():
                    _fail(command, text, outcome, f"did not write {path}, which the page promises")
            steps.append(Step(command, text, None, time.monotonic() - started, outcome.output))
    return steps


def check_outcome(command: Command, text: str, outcome: Outcome) -> None:
    if outcome.status != 0:
        _fail(command, text, outcome, f"exited {outcome.status}")
    if "Traceback (most recent call last)" in outcome.output:
        _fail(command, text, outcome, "printed a traceback")
    if "site-packages" in outcome.output:
        _fail(command, text, outcome, "printed a library's internals (a site-packages path)")


def _out_paths(text: str) -> list[str]:
    """What `vivit ... --out PATH` names: the file or folder it writes."""
    words = shlex.split(text)
    while words and re.match(r"\w+=", words[0]):  # VIVIT_DATA_DIR=... vivit train
        words = words[1:]
    if not words or Path(words[0]).name != "vivit":
        return []
    return [after for before, after in zip(words, words[1:]) if before == "--out"]


def _fail(command: Command, text: str, outcome: Outcome, what: str) -> None:
    tail = "\n".join(outcome.output.splitlines()[-40:])
    shown = "its python block" if command.language == "python" else f"`{text}`"
    raise JourneyFailed(f"{command.where}: {shown} {what}:\n{tail}")


def summary(steps: list[Step]) -> str:
    lines = []
    for step in steps:
        done = f"skipped ({step.skipped})" if step.skipped else f"ran in {step.seconds:.1f} s"
        shown = "(python block)" if step.command.language == "python" else step.text
        lines.append(f"{step.command.where}: {shown}  -> {done}")
    return "\n".join(lines)
