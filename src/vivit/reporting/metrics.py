"""ROC curves and per-class precision/recall, from predictions.

`vivit.evaluation.metrics` owns the AUC (through torchmetrics); the report draws the
same torchmetrics ROC, one curve per class, and tabulates precision and recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torchmetrics.functional.classification import binary_auroc, binary_roc


@dataclass(frozen=True)
class RocCurve:
    false_positive_rate: np.ndarray  # starts at 0, ends at 1
    true_positive_rate: np.ndarray
    auc: float


def roc_curve(scores: np.ndarray, positive: np.ndarray) -> RocCurve | None:
    """ROC of `scores` for the boolean labels `positive`; None when either class is absent.

    One point per distinct score (ties move both rates at once), so the area under the
    curve equals the probability that a positive outranks a negative, ties counting half.
    """
    scores = torch.as_tensor(np.asarray(scores, dtype=np.float64))
    positive = torch.as_tensor(np.asarray(positive, dtype=bool)).long()
    if positive.min() == positive.max():  # an AUC needs positives and negatives
        return None
    fpr, tpr, _ = binary_roc(scores, positive)
    return RocCurve(fpr.numpy(), tpr.numpy(), float(binary_auroc(scores, positive)))


def one_vs_rest_roc(probabilities: np.ndarray, labels: np.ndarray) -> dict[int, RocCurve | None]:
    """Class -> its ROC against all other classes (None if the class is absent or alone)."""
    return {c: roc_curve(probabilities[:, c], labels == c) for c in range(probabilities.shape[1])}


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) counts, rows the true class and columns the predicted one."""
    return np.bincount(labels * num_classes + predicted, minlength=num_classes**2).reshape(num_classes, num_classes)


@dataclass(frozen=True)
class PerClassScores:
    support: np.ndarray  # samples of each true class
    precision: np.ndarray  # NaN where a class is never predicted
    recall: np.ndarray  # the per-class accuracy of `vivit evaluate`; NaN where a class has no samples
    f1: np.ndarray


def per_class_scores(confusion: np.ndarray) -> PerClassScores:
    confusion = np.asarray(confusion, dtype=np.float64)
    correct = np.diag(confusion)
    support, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, correct / predicted, np.nan)
        recall = np.where(support > 0, correct / support, np.nan)
        f1 = 2 * precision * recall / (precision + recall)
    f1 = np.where((precision == 0) & (recall == 0), 0.0, f1)
    return PerClassScores(support.astype(np.int64), precision, recall, f1)
