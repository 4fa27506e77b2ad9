"""A run's history and metrics by the run directory's path: shorthands for `RunDir`'s readers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vivit.training.run_dir import RunDir


def read_history(run_dir: Path) -> dict[str, np.ndarray] | None:
    """history.csv as column -> float array (NaN where a value is empty); None if absent."""
    return RunDir(run_dir).read_history()


def read_history_rows(run_dir: Path) -> list[dict[str, float]]:
    """history.csv as one {column: value} per epoch, leaving out empty values; [] if absent."""
    return RunDir(run_dir).read_history_rows()


def read_metrics(run_dir: Path) -> dict[str, Any] | None:
    """metrics.json (val and test metrics of the selected checkpoint); None if absent."""
    return RunDir(run_dir).read_metrics()
