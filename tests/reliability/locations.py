"""Folders a command cannot write: read-only and full, made the way this machine allows.

Read-only: `chmod` for an ordinary user; root ignores permissions, so for root a read-only
tmpfs mount. Full: a tiny tmpfs filled to the last byte (root only). Where neither works the
test is skipped with the reason, never passed without trying.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

TMPFS_BYTES = 4 << 20


def _mount(folder: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@contextlib.contextmanager
def read_only_folder(folder: Path, contents: Path | None = None) -> Iterator[Path]:
    """`folder` (holding a copy of `contents`, if given) that no process of ours can write."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        if contents is not None:
            shutil.copytree(contents, folder, dirs_exist_ok=True)
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if p.is_dir()}
        for path in modes:
            path.chmod(0o555)
        try:
            yield folder
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    if not _mount(folder, f"size={TMPFS_BYTES}"):
        pytest.skip("running as root, where chmod does not stop writes, and no tmpfs can be mounted here")
    try:
        if contents is not None:
            shutil.copytree(contents, folder, dirs_exist_ok=True)
        remounted = subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True)
        if remounted.returncode != 0:
            pytest.skip(f"cannot remount a tmpfs read-only here: {remounted.stderr.decode().strip()}")
        yield folder
    finally:
        _unmount(folder)


@contextlib.contextmanager
def full_folder(folder: Path, contents: Path | None = None) -> Iterator[Path]:
    """`folder` on a tiny tmpfs (holding a copy of `contents`) with no byte left free."""
    folder.mkdir(parents=True, exist_ok=True)
    if not _mount(folder, f"size={TMPFS_BYTES}"):
        pytest.skip("a full filesystem needs a tmpfs mount (root, with mount allowed); not available here")
    try:
        if contents is not None:
            shutil.copytree(contents, folder, dirs_exist_ok=True)
        with open(folder / "filler", "wb", buffering=0) as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 4096)
        yield folder
    finally:
        _unmount(folder)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` and its bytes, to show nothing was changed or added."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "filler"}
