"""What a run leaves on disk, written once per epoch by rank 0: history.csv and the
`last` and `best` checkpoints (weights, config and the trainer state to resume from)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Checkpoint

from vivit.checkpoints import file_sha256, publish, save_model
from vivit.errors import CheckpointError
from vivit.training.selection import Candidate, candidate, is_better

TRAINER_STATE = "trainer_state.ckpt"
HISTORY_COLUMNS = (
    "epoch", "train/loss", "train/accuracy", "val/loss", "val/accuracy", "val/top5", "val/auc", "lr", "epoch_seconds",
)


class RunRecorder(Checkpoint):
    """Writes history.csv and the checkpoints after each epoch's validation.

    A `Checkpoint` subclass, so Lightning calls it after the LightningModule's own
    epoch-end hook (when the epoch's train metrics are logged) and after any
    weight-averaging callback (so it keeps the EMA weights that were validated).
    """

    def __init__(self, run_dir: Path, select: str, info: dict[str, Any], epochs: int, verbose: bool = True) -> None:
        self.run_dir = run_dir
        self.epochs = epochs
        self.verbose = verbose
        self.select = select  # "last" or a validation metric
        self.info = info  # class names, dataset, ... stored in every config.json
        self.best: Candidate | None = None  # the epoch in checkpoints/best (training/selection.py's rule)
        self.rows: list[dict[str, Any]] = []
        self._validated: dict[str, torch.Tensor] | None = None
        self._epoch_started = 0.0

    # Lightning state, so a resumed run keeps its best score and its history.
    def state_dict(self) -> dict[str, Any]:
        best = {"best_score": None, "best_epoch": None, "best_loss": None} if self.best is None else {
            "best_score": self.best.score, "best_epoch": self.best.epoch, "best_loss": self.best.loss}
        return {**best, "rows": self.rows}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = list(state_dict["rows"])
        epoch, score = state_dict["best_epoch"], state_dict["best_score"]
        if epoch is None or score is None:
            self.best = None
            return
        self.best = Candidate(epoch, score, state_dict["best_loss"])

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # A run killed after its checkpoint but before history.csv was rewritten resumes with
        # the rows its trainer state kept: write them now, even if no epoch is left to train.
        if self.rows and trainer.is_global_zero:
            write_history(self.run_dir / "history.csv", self.rows)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import time

        self._epoch_started = time.perf_counter()

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Lightning runs Checkpoint callbacks last, so a weight-averaging callback has
        # already swapped its averaged weights in: these are the weights being validated.
        # A copy, not a reference: later steps must not change the weights we keep.
        self._validated = {k: v.detach().cpu().clone() for k, v in pl_module.model.state_dict().items()}

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        import time

        epoch = trainer.current_epoch
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k in HISTORY_COLUMNS}
        row = {"epoch": epoch + 1, **metrics, "epoch_seconds": round(time.perf_counter() - self._epoch_started, 3)}
        self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]
        improved = self._update_best(metrics, epoch)
        self._write(trainer, pl_module, epoch, improved)

    def _update_best(self, metrics: dict[str, float], epoch: int) -> bool:
        found = None if self.select == "last" else candidate(self.select, epoch + 1, metrics)
        if found is None or not is_better(self.select, found, self.best):
            return False
        self.best = found
        return True

    def _write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, epoch: int, improved: bool) -> None:
        weights = self._validated or {k: v.detach().cpu() for k, v in pl_module.model.state_dict().items()}
        tag = f"{epoch + 1:04d}"
        checkpoints = self.run_dir / "checkpoints"
        # Every rank takes part in saving the trainer state (Lightning's barrier); rank 0 writes it.
        checkpoints.mkdir(parents=True, exist_ok=True)
        staged_state = checkpoints / f".{TRAINER_STATE}.{tag}.tmp"
        with _failure_named(f"the trainer state of epoch {epoch + 1}", checkpoints, staged_state):
            trainer.save_checkpoint(staged_state, weights_only=False)
        if not trainer.is_global_zero:
            return
        info = {**self.info, "epoch": epoch + 1}

        def write_last(directory: Path) -> None:
            # The digest in config.json lets a resume prove this run wrote the pickle it loads.
            save_model(directory, pl_module.model, weights, **info, trainer_state_sha256=file_sha256(staged_state))
            os.replace(staged_state, directory / TRAINER_STATE)

        try:
            if improved:
                publish(checkpoints, "best", tag, lambda d: save_model(d, pl_module.model, weights, **info, select=self.select))
            publish(checkpoints, "last", tag, write_last)
        finally:
            staged_state.unlink(missing_ok=True)  # moved into last/ on success; debris on failure
        with _failure_named("history.csv", self.run_dir, self.run_dir / "history.csv.tmp"):
            write_history(self.run_dir / "history.csv", self.rows)
        if self.verbose:
            print(format_row(self.rows[-1], self.epochs), flush=True)


@contextmanager
def _failure_named(what: str, where: Path, partial: Path) -> Iterator[None]:
    """A full disk (or any write error) while saving `what`: remove the partial file, say so in one line."""
    try:
        yield
    except (OSError, RuntimeError) as error:  # torch.save reports a full disk as RuntimeError
        partial.unlink(missing_ok=True)
        reason = getattr(error, "strerror", None) or str(error).strip().splitlines()[0]
        raise CheckpointError(
            f"Could not write {what} in {where} ({reason}); the previous checkpoints are untouched, "
            f"free some space and resume with --resume {where if where.name != 'checkpoints' else where.parent}"
        ) from None


def format_row(row: dict[str, Any], epochs: int) -> str:
    """One line per epoch on stdout, instead of a progress bar that floods logs."""
    parts = [f"epoch {row['epoch']}/{epochs}"]
    parts += [f"{key} {row[key]:.4f}" for key in HISTORY_COLUMNS[1:-2] if key in row]
    return "  ".join(parts + [f"({row['epoch_seconds']:.1f} s)"])


def write_history(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite history.csv whole, through a temporary file, so it is never half-written."""
    staging = path.with_suffix(".csv.tmp")
    with open(staging, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(staging, path)
