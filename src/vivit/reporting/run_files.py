"""What a report reads from a run directory besides the model: history and metrics."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from vivit.errors import DataError


def read_history(run_dir: Path) -> dict[str, np.ndarray] | None:
    """history.csv as column -> float array (NaN where a value is empty); None if absent."""
    path = run_dir / "history.csv"
    if not path.exists():
        return None
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return None
    try:
        return {column: np.array([float(row[column] or "nan") for row in rows]) for column in rows[0]}
    except ValueError as error:
        raise DataError(f"{path} holds a value that is not a number ({error}); the run's history is corrupt") from None


def read_history_rows(run_dir: Path) -> list[dict[str, float]]:
    """history.csv as one {column: value} per epoch, leaving out empty values (a metric not
    measured that epoch); [] if absent. The shape the selection rule replays."""
    history = read_history(run_dir)
    if history is None:
        return []
    epochs = len(next(iter(history.values())))
    return [{column: float(values[i]) for column, values in history.items() if not np.isnan(values[i])}
            for i in range(epochs)]


def read_metrics(run_dir: Path) -> dict[str, Any] | None:
    """metrics.json (val and test metrics of the selected checkpoint); None if absent."""
    path = run_dir / "metrics.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON ({error}); rewrite it with `vivit train --resume {run_dir}`") from None
