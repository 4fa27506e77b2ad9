"""Stop a trial early when Optuna's pruner says its validation curve is hopeless."""

from __future__ import annotations

import math
from typing import Any

import lightning.pytorch as pl


class PruneOnValidation(pl.Callback):
    """Reports the metric after each validation; on a prune verdict it stops training.

    It stops the trainer rather than raising `TrialPruned` inside `fit`, so a pruned
    trial still leaves a complete run directory (history, checkpoints, metrics.json).
    """

    def __init__(self, trial: Any, metric: str) -> None:
        self.trial = trial
        self.metric = metric
        self.pruned_at: int | None = None  # the epoch (1-based) whose validation pruned it

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.metric)
        if value is None or math.isnan(float(value)):
            return
        self.trial.report(float(value), step=trainer.current_epoch)
        if self.trial.should_prune():
            self.pruned_at = trainer.current_epoch + 1
            trainer.should_stop = True
