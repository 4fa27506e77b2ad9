"""Learning-rate schedules as multipliers of the base rate, per optimizer step."""

from __future__ import annotations

import math
from collections.abc import Callable

from vivit.training.recipe import OptimSettings


def lr_multiplier(optim: OptimSettings, steps_per_epoch: int, epochs: int) -> Callable[[int], float]:
    """step -> factor on optim.lr: linear warm-up, then constant, cosine or multi-step."""
    total = max(1, steps_per_epoch * epochs)
    warmup = int(round(optim.warmup_epochs * steps_per_epoch))
    floor = optim.min_lr / optim.lr if optim.lr else 0.0
    milestones = [int(round(m * total)) for m in optim.milestones]

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if optim.schedule == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
        if optim.schedule == "multistep":
            return optim.gamma ** sum(step >= m for m in milestones)
        return 1.0

    return factor
