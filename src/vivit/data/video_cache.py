"""An on-disk cache of decoded clips, so each video file is decoded once.

An entry is a uint8 ``.npy`` named by a hash of the file's absolute path, size and
modification time and of the decoding settings: editing or replacing a video, or
asking for other frames or sizes, gives a new key (old entries are left in place).
Entries are written to a temporary file in the same folder and renamed into place,
so an interrupted write never leaves a half-written entry under a valid name; an
unreadable entry, or one of another shape or dtype than the clip asked for (written by
another version, or by hand), is decoded again and overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

# Bump when the decoder's output for the same settings changes, to invalidate old entries.
CACHE_FORMAT = 2


class DecodeCache:
    """``cache.get_or_create(path, settings, decode)``: the cached clip, or decode() stored then returned."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def key(self, path: Path, settings: Mapping[str, Any]) -> str:
        stat = path.stat()
        identity = {
            "path": str(path.resolve()),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "settings": dict(settings),
            "format": CACHE_FORMAT,
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]

    def entry(self, path: Path, settings: Mapping[str, Any]) -> Path:
        return self.root / f"{self.key(path, settings)}.npy"

    def get_or_create(
        self, path: Path, settings: Mapping[str, Any], decode: Callable[[], np.ndarray],
        shape: tuple[int, ...] | None = None,
    ) -> np.ndarray:
        """The uint8 clip of `path` decoded with `settings`; a cached entry of another `shape` is decoded again."""
        entry = self.entry(path, settings) if path.is_file() else None
        if entry is not None:
            cached = _read(entry)
            if cached is not None and shape in (None, cached.shape):
                return cached
        clip = decode()  # raises DataError for a missing or bad file
        _write_atomically(entry or self.entry(path, settings), clip)
        return clip


def _read(entry: Path) -> np.ndarray | None:
    """The cached array (memory-mapped), or None when absent or unreadable."""
    try:
        array = np.load(entry, mmap_mode="r")
    except (OSError, ValueError, EOFError):
        return None
    return array if array.dtype == np.uint8 else None


def _write_atomically(entry: Path, array: np.ndarray) -> None:
    handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=f".{entry.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.save(file, array)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, entry)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
