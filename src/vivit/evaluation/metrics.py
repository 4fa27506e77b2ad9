"""Classification metrics by the MedMNIST conventions, through torchmetrics.

AUC: binary tasks score class 1; multi-class tasks average one-vs-rest AUCs over
classes (macro). A split whose labels are all one class has no AUC (nothing to rank
against): it is None, never a number. Accuracy is top-1 over samples (micro); top-5
only with > 5 classes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric, Metric
from torchmetrics.classification import (
    BinaryAUROC,
    MulticlassAccuracy,
    MulticlassAUROC,
    MulticlassConfusionMatrix,
)


def auc_metric(num_classes: int, sync_across_ranks: bool = True) -> Metric:
    """The one AUC of this project (MedMNIST's): class 1's for two classes, else the
    macro mean of one-vs-rest AUCs. Feed it `auc_scores(probabilities)`."""
    sync = {"sync_on_compute": sync_across_ranks}
    return BinaryAUROC(**sync) if num_classes == 2 else MulticlassAUROC(num_classes, average="macro", **sync)


def auc_scores(probabilities: torch.Tensor) -> torch.Tensor:
    """(N,) class-1 probabilities for two classes, else the (N, K) probabilities unchanged."""
    return probabilities[:, 1] if probabilities.shape[1] == 2 else probabilities


def auc(probabilities: torch.Tensor, labels: torch.Tensor) -> float | None:
    """The AUC of a whole split's (N, K) probabilities, as `ClassificationMetrics` reports it;
    None when the labels hold fewer than two classes."""
    if labels.unique().numel() < 2:
        return None
    metric = auc_metric(probabilities.shape[1], sync_across_ranks=False)
    metric.update(auc_scores(probabilities), labels)
    return float(metric.compute())


class ClassificationMetrics(nn.Module):
    """Accumulates logits and labels over batches (and ranks); `compute()` gives the summary."""

    def __init__(self, num_classes: int, sync_across_ranks: bool = True) -> None:
        super().__init__()
        self.num_classes = num_classes
        # Training shards a split across DDP ranks, so compute() gathers every rank's
        # states; a whole-split evaluation runs on rank 0 alone and must not wait for peers.
        sync = {"sync_on_compute": sync_across_ranks}
        self.accuracy = MulticlassAccuracy(num_classes, average="micro", **sync)
        self.top5 = MulticlassAccuracy(num_classes, top_k=5, average="micro", **sync) if num_classes > 5 else None
        self.auc = auc_metric(num_classes, sync_across_ranks)
        self.confusion = MulticlassConfusionMatrix(num_classes, **sync)
        # A torchmetrics state, not a module buffer: weight averaging (EMA) swaps buffers.
        self.loss = MeanMetric(**sync)

    def update(self, logits: torch.Tensor, labels: torch.Tensor) -> None:
        logits = logits.detach().float()
        probs = logits.softmax(dim=-1)
        self.accuracy.update(probs, labels)
        if self.top5 is not None:
            self.top5.update(probs, labels)
        self.auc.update(auc_scores(probs), labels)
        self.confusion.update(probs, labels)
        self.loss.update(F.cross_entropy(logits, labels), weight=labels.numel())

    def compute(self) -> dict[str, Any]:
        """Scalars (accuracy, top5, auc, loss) plus per-class accuracy and the confusion matrix."""
        confusion = self.confusion.compute()
        per_class = confusion.diag() / confusion.sum(dim=1).clamp(min=1)
        classes_seen = int((confusion.sum(dim=1) > 0).sum())
        result: dict[str, Any] = {
            "accuracy": float(self.accuracy.compute()),
            "auc": float(self.auc.compute()) if classes_seen >= 2 else None,
            "loss": float(self.loss.compute()),
        }
        if self.top5 is not None:
            result["top5"] = float(self.top5.compute())
        result["per_class_accuracy"] = [float(v) for v in per_class]
        result["confusion_matrix"] = confusion.int().tolist()
        return result

    def reset(self) -> None:
        for metric in (self.accuracy, self.top5, self.auc, self.confusion, self.loss):
            if metric is not None:
                metric.reset()


SCALARS = ("accuracy", "top5", "auc", "loss")


def scalars(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The summary figures; an undefined one (AUC of one class) stays, as None."""
    return {k: metrics[k] for k in SCALARS if k in metrics}


def format_metric(value: float | None, width: int = 0) -> str:
    """A figure for a table: 4 decimals, or "undefined" where it has no value."""
    return f"{value:>{width}.4f}" if value is not None else f"{'undefined':>{width}}"
