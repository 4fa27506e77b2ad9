"""Which epoch's weights a run keeps as `best`: the rule of `train.select`, in one place.

The best epoch maximises the selected validation metric (minimises it for `val/loss`). Ties
are broken by the lower validation loss, then by the earlier epoch. Ties are the rule, not the
exception, on MedMNIST's small validation splits: on OrganMNIST3D's 161 volumes accuracy moves
in steps of 0.6 %, and a run can hold its best accuracy for tens of epochs while its validation
loss keeps falling (one seed of vivit-medmnist: 39 tied epochs, val loss 0.398 at the first and
0.254 at the last). Taking the first of them would keep the worst-calibrated one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LOSS = "val/loss"


@dataclass(frozen=True)
class Candidate:
    """One validated epoch, as the selection rule sees it."""

    epoch: int
    score: float  # the selected metric
    loss: float  # the validation loss, for ties; NaN when it was not measured


def is_better(select: str, candidate: Candidate, best: Candidate | None) -> bool:
    """Whether `candidate` replaces `best` under `train.select = select` (a validation metric)."""
    if math.isnan(candidate.score):
        return False
    if best is None:
        return True
    if select == LOSS:
        return candidate.score < best.score
    if candidate.score != best.score:
        return candidate.score > best.score
    # A tie: the lower validation loss wins; a loss that was not measured never wins a tie.
    return not math.isnan(candidate.loss) and (math.isnan(best.loss) or candidate.loss < best.loss)


def candidate(select: str, epoch: int, metrics: Mapping[str, float]) -> Candidate | None:
    """The epoch as a candidate, or None when its metrics lack the selected one."""
    if select not in metrics:
        return None
    return Candidate(epoch, float(metrics[select]), float(metrics.get(LOSS, math.nan)))


def best_epoch(select: str, history: Iterable[Mapping[str, float]]) -> int | None:
    """The epoch the rule keeps over a whole history (rows with "epoch" and the validation
    metrics, as in history.csv); None when no row has the selected metric."""
    best: Candidate | None = None
    for row in history:
        found = candidate(select, int(row["epoch"]), row)
        if found is not None and is_better(select, found, best):
            best = found
    return best.epoch if best else None
