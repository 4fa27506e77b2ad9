"""What a finished run's curves and test errors show: under- or over-fitting, and left/right confusions.

Read from the run directory (history.csv, evaluation/test.json) when the run's entry is recorded,
so that docs/results.md can say it from benchmarks/results/accuracy.json alone. The issue asks,
where a target is missed, for what the curves show; these are the few numbers that answer it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vivit.data.registry import MEDMNIST_3D
from vivit.training.run_dir import RunDir


def curves(run_dir: Path) -> dict[str, Any]:
    """The end of training against the best of validation.

    Train accuracy is measured on augmented, label-smoothed batches (as trained), so a gap to val
    accuracy is not over-fitting by itself; the val loss (plain cross-entropy) is the better sign:
    lowest near the last epoch means training stopped while it still helped (under-training), and a
    last value well above its lowest means the model over-fitted after that epoch.
    """
    history = RunDir(run_dir).read_history()
    losses = history["val/loss"]
    lowest = int(np.nanargmin(losses))  # the first epoch of a tie
    return {
        "train_accuracy_last": round(float(history["train/accuracy"][-1]), 6),
        "val_loss_lowest": round(float(losses[lowest]), 6),
        "val_loss_lowest_epoch": int(history["epoch"][lowest]),
        "val_loss_last": round(float(losses[-1]), 6),
    }


def errors_on_test_split(run_dir: Path, left_right_pairs: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    """Errors of the tested checkpoint, how many take a left organ for its right twin (or the reverse),
    and every confusion that happened, commonest first, from the confusion matrix (rows true, columns predicted)."""
    document = RunDir(run_dir).read_evaluation("test")
    matrix, names = document["confusion_matrix"], document["class_names"]
    classes = range(len(matrix))
    confusions = sorted(([names[i], names[j], matrix[i][j]] for i in classes for j in classes if i != j and matrix[i][j]),
                        key=lambda confusion: -confusion[2])
    return {
        "samples": sum(map(sum, matrix)),
        "errors": sum(count for _, _, count in confusions),
        "left_right_swaps": sum(matrix[a][b] + matrix[b][a] for a, b in left_right_pairs) if left_right_pairs else None,
        "confusions": confusions,
    }


def diagnosis(run_dir: Path, dataset: str) -> dict[str, Any]:
    """{"diagnosis": {"curves", "test_errors"}} of a finished run; {} when it has no test evaluation."""
    if RunDir(run_dir).read_evaluation("test") is None:
        return {}
    pairs = MEDMNIST_3D[dataset].left_right_pairs
    return {"diagnosis": {"curves": curves(run_dir), "test_errors": errors_on_test_split(run_dir, pairs)}}
