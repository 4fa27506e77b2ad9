"""Which non-official dataset files the user has already been told about.

A file whose md5 differs from the official one is accepted with a notice (medmnist.py).
Repeating that notice on every train, evaluate and report call buries other output, so
each file's size, mtime and md5 are remembered once it has been shown, in a small JSON
in the user cache (never beside the data, which may be read-only or shared). A file that
changes in any of the three is announced again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from vivit.data.cache import cache_root

NOTICES_FILE = "checksum-notices.json"


def notices_path() -> Path:
    # A subfolder: the user cache is also the default data folder.
    return cache_root() / "notices" / NOTICES_FILE


def first_notice(path: Path, md5: str) -> bool:
    """True the first time this file content is seen (and remember it), False afterwards."""
    stat = path.stat()
    entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "md5": md5}
    seen = _read(notices_path())
    key = str(path.resolve())
    if seen.get(key) == entry:
        return False
    seen[key] = entry
    _write(notices_path(), seen)
    return True


def _read(file: Path) -> dict[str, dict]:
    try:
        document = json.loads(file.read_text())
    except (OSError, ValueError):  # absent or damaged: show the notice again, no harm done
        return {}
    return document if isinstance(document, dict) else {}


def _write(file: Path, seen: dict[str, dict]) -> None:
    """Atomically, so parallel workers never read half a file; a read-only cache is no error."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        staging = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        staging.write_text(json.dumps(seen, indent=1))
        os.replace(staging, file)
    except OSError:
        pass
