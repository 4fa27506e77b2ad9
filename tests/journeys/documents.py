"""The shell commands and Python examples of the README and the user guide, as a user reads them.

Convention for the Markdown (the journey suite enforces it):

- A ```bash or ```console block holds commands only: no prompt, no output. Each line is a
  command (a line ending in a backslash continues on the next); `# ...` after a command
  is a comment for the reader. Commands are concrete: `runs/adrenal`, not `runs/<run>`.
- A path named in a command's comment (`# runs/adrenal/report/index.html`) is a promise:
  it exists once the command has run.
- A ```python block runs as it reads, after the page's earlier Python blocks, as in one
  Python session started in the folder of the page's commands.
- A synopsis or a folder layout goes in a ```text block, which must not hold a `vivit`
  command: a command a user may copy is a command the suite runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHELL_LANGUAGES = ("bash", "console")
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
_PROMISED_PATH = re.compile(r"(?<![\w./:-])((?:[\w.-]+/)+[\w.-]+\.[A-Za-z]+)\b")


def journey_documents() -> list[Path]:
    """The README first, then the guide's pages: each page continues from the README's quick start."""
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs" / "guide").glob("*.md"))]


def shown(document: Path) -> str:
    return str(document.relative_to(REPO_ROOT)) if document.is_relative_to(REPO_ROOT) else document.name


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int  # of the opening fence


@dataclass(frozen=True)
class Command:
    document: Path
    line: int
    text: str  # as written, continuation lines joined, comment included; a Python block's code
    language: str = "bash"

    @property
    def where(self) -> str:
        return f"{shown(self.document)} line {self.line}"

    @property
    def comment(self) -> str:
        return "" if self.language == "python" else split_comment(self.text)[1]

    @property
    def steps(self) -> list[str]:
        """The `&&`-joined commands of the line, comment dropped: each is run or skipped on its own."""
        return [self.text] if self.language == "python" else split_and_list(split_comment(self.text)[0])

    def promised_paths(self) -> list[str]:
        return _PROMISED_PATH.findall(self.comment)


def blocks(text: str) -> list[Block]:
    return [Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _FENCE.finditer(text)]


def commands(document: Path) -> list[Command]:
    found = []
    for block in blocks(document.read_text()):
        if block.language == "python":
            found.append(Command(document, block.line, block.code, "python"))
        if block.language not in SHELL_LANGUAGES:
            continue
        pending: list[str] = []
        start = 0
        for number, line in enumerate(block.code.splitlines(), start=block.line + 1):
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if not pending:
                start = number
            if line.endswith("\\"):
                pending.append(line[:-1])
                continue
            found.append(Command(document, start, " ".join([*pending, line]).strip()))
            pending = []
    return found


def commands_outside_shell_blocks(document: Path) -> list[str]:
    """`vivit` command lines in blocks the suite does not run: each is a mistake in the page."""
    misplaced = []
    for block in blocks(document.read_text()):
        if block.language in (*SHELL_LANGUAGES, "python", "yaml", "json"):
            continue
        for offset, line in enumerate(block.code.splitlines(), start=1):
            if re.match(r"\s*(\$\s*)?vivit\s", line):
                misplaced.append(f"{shown(document)} line {block.line + offset}: {line.strip()}")
    return misplaced


def _unquoted(text: str):
    """(index, character, inside quotes) for each character of a shell line."""
    quote = None
    escaped = False
    for index, char in enumerate(text):
        yield index, char, quote is not None or escaped
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is None and char in "'\"":
            quote = char
        elif char == quote:
            quote = None


def split_comment(text: str) -> tuple[str, str]:
    """The command and its trailing `# comment` (a `#` outside quotes, after a blank)."""
    for index, char, quoted in _unquoted(text):
        if char == "#" and not quoted and (index == 0 or text[index - 1].isspace()):
            return text[:index].rstrip(), text[index + 1 :].strip()
    return text.rstrip(), ""


def split_and_list(command: str) -> list[str]:
    steps, start = [], 0
    for index, char, quoted in _unquoted(command):
        if not quoted and command.startswith("&&", index) and index >= start:
            steps.append(command[start:index].strip())
            start = index + 2
    return [*steps, command[start:].strip()]
