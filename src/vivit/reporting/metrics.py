"""ROC curves and per-class precision/recall, from predictions, in numpy.

`vivit.evaluation.metrics` gives the summary numbers (through torchmetrics); the report
also needs the curves and the per-class table, which these few lines compute exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    scores, positive = np.asarray(scores, dtype=np.float64), np.asarray(positive, dtype=bool)
    num_positive = int(positive.sum())
    num_negative = positive.size - num_positive
    if num_positive == 0 or num_negative == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    scores, positive = scores[order], positive[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    true_positives = np.cumsum(positive)[last_of_each_score]
    false_positives = (last_of_each_score + 1) - true_positives
    tpr = np.r_[0.0, true_positives / num_positive]
    fpr = np.r_[0.0, false_positives / num_negative]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids
    return RocCurve(fpr, tpr, auc)


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
