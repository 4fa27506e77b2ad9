"""The benchmark scripts are run as files, not installed: their folder goes on sys.path, as they put it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
