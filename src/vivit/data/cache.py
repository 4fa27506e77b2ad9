"""Where vivit keeps what it can recompute (decoded videos, file checks): a user cache.

Never beside the user's data, which may be read-only or shared: `$VIVIT_CACHE_DIR`
when set, else the platform's user cache folder (`~/.cache/vivit` on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path

import pooch

CACHE_DIR_ENV = "VIVIT_CACHE_DIR"


def cache_root() -> Path:
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    return Path(pooch.os_cache("vivit"))


def video_cache_dir() -> Path:
    return cache_root() / "video-cache"
