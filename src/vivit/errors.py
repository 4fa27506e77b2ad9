"""User-facing errors and warnings.

Every expected mistake (bad file, unknown name, wrong shape) raises a subclass of
:class:`VivitError` whose message is one line naming the thing and the fix. The
command line prints that line and exits non-zero; anything else is a bug and keeps
its traceback. A legal but likely unintended setting is a one-line warning instead.
"""

import sys


class VivitError(Exception):
    """An expected mistake by the user; the message says what to do."""

    def __str__(self) -> str:
        # Names and values quoted from user files may hold line breaks; the message stays one line.
        return super().__str__().replace("\r", "\\r").replace("\n", "\\n")


class ConfigError(VivitError, ValueError):
    """An unknown name or an impossible combination of settings."""


class DataError(VivitError, ValueError):
    """A dataset or input file that is missing, corrupt or does not match."""


class CheckpointError(VivitError, ValueError):
    """A checkpoint that is missing, corrupt or belongs to another model."""


class OutputError(VivitError):
    """A location a command cannot write: a file where a folder should be, read-only, full."""


class TrainingError(VivitError, RuntimeError):
    """Training cannot go on (a non-finite loss, say); what was saved before is kept."""


class Stopped(BaseException):
    """A signal (Ctrl-C, SIGTERM) stopped the command. Not an Exception, so that no
    `except Exception` on the way swallows it; the command line exits 128 + signal."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = signum


def first_line(error: BaseException) -> str:
    """A library's error as one line for our messages: its first line, or its type when empty."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def warn(message: str) -> None:
    """A setting that is allowed but probably not meant: one line on stderr; the work goes on."""
    print(f"vivit: warning: {message}", file=sys.stderr)
