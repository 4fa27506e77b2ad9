"""Where a command writes: checked before the work starts, written so a failure leaves no trace.

A run, an evaluation or an export can take minutes; a location it cannot write (a file where
a folder should be, a folder under /proc, a read-only mount, a full disk) must be one line
before that time is spent, not a traceback after it. Files are written through a staging
file beside them and moved into place, so a write that fails half-way leaves the previous
file as it was and no `*.tmp` behind. Standard library only, so every layer may use it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vivit.errors import OutputError

# Kernel filesystems: they hold the system's state, never a user's files.
VIRTUAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
PROBE_PREFIX = ".vivit-write-probe-"


def check_output_folder(path: Path, what: str) -> None:
    """OutputError naming `what` (e.g. "--out") unless `path` is, or can be made, a folder we can write."""
    path = Path(os.path.abspath(path))
    if path.exists() and not path.is_dir():
        raise OutputError(f"{what} {path} is a file, not a folder; choose a folder (new or existing) for {what}")
    _check_writable_below(path, what)


def check_output_file(path: Path, what: str) -> None:
    """OutputError naming `what` (e.g. "--json") unless a file can be written at `path`."""
    path = Path(os.path.abspath(path))
    if path.is_dir():
        raise OutputError(f"{what} {path} is a folder, not a file; give a file name for {what}")
    _check_writable_below(path.parent, what, target=path)


def _check_writable_below(folder: Path, what: str, target: Path | None = None) -> None:
    target = target or folder
    for root in VIRTUAL_ROOTS:
        if folder == root or root in folder.parents:
            raise OutputError(f"{what} {target} is inside {root}, a kernel filesystem, not a place for files; choose a folder on disk")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{what} {target} cannot be created: {existing} is a file, not a folder; choose another {what}")
    _probe(existing, what, target)


def _probe(folder: Path, what: str, target: Path) -> None:
    """Write and remove one byte in `folder`: the only test that a read-only mount, missing
    permissions (which root ignores, but a read-only mount does not) and a full disk all fail."""
    probe = folder / f"{PROBE_PREFIX}{os.getpid()}"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"\0")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise _cannot_write(target, what, error) from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


@contextmanager
def staged(path: Path, what: str = "") -> Iterator[Path]:
    """A staging path beside `path`, moved onto it when the block ends without error.

    On any error the staging file is removed and `path` keeps what it held; an OSError
    (read-only, full, permission) becomes a one-line OutputError naming `path`.
    """
    path = Path(path)
    staging = path.with_name(path.name + ".tmp")
    try:
        yield staging
        os.replace(staging, path)
    except OSError as error:
        _remove(staging)
        raise _cannot_write(path, what, error) from None
    except BaseException:
        _remove(staging)
        raise


def write_text_atomic(path: Path, text: str, what: str = "") -> None:
    """Write `text` to `path` (and its missing folders) through a staging file: never half-written,
    no `.tmp` left on failure."""
    with staged(path, what) as staging:
        staging.parent.mkdir(parents=True, exist_ok=True)
        staging.write_text(text, encoding="utf-8")


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _cannot_write(path: Path, what: str, error: OSError) -> OutputError:
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC or error.errno == errno.EDQUOT:
        fix = "free some space there or choose another location"
    elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = "choose a location you can write"
    else:
        fix = "choose another location"
    named = f"{what} {path}" if what else str(path)
    return OutputError(f"Cannot write {named} ({reason}); {fix}")
