"""Figures of the accuracy page drawn from entries: mean ± std over seeds, the seeds a cell has finished."""

from __future__ import annotations

import statistics
from typing import Any

from accuracy_cells import Cell


def mean_std(values: list[float], digits: int = 3) -> str:
    """'mean ± std' over seeds; one value alone; '–' for none (e.g. top-5 of a binary task)."""
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def finished_seeds(cell: Cell, entries: list[dict[str, Any]], seeds: list[int], having: str | None = None) -> list[dict[str, Any]]:
    """The entries of `cell` for the requested seeds, only those holding the field `having` if given."""
    return [e for e in entries if e["cell"] == cell.name and e["seed"] in seeds and (having is None or having in e)]


def metric(finished: list[dict[str, Any]], split: str, key: str) -> list[float]:
    return [e[split][key] for e in finished if key in e[split]]


def share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def val_loss_rise(curves: list[dict[str, Any]]) -> list[float]:
    """Per run, how far its last val loss ends above its lowest, in percent (over-fitting after the lowest)."""
    return [100 * (c["val_loss_last"] / c["val_loss_lowest"] - 1) for c in curves]


def span(values: list[str]) -> str:
    distinct = sorted(set(values))
    return distinct[0] if len(distinct) == 1 else f"{distinct[0]} – {distinct[-1]}"
