"""Metrics follow the MedMNIST conventions, checked against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vivit.evaluation.metrics import ClassificationMetrics, auc, format_metric


def auc_by_ranks(scores: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def computed(logits: torch.Tensor, labels: torch.Tensor, batch: int = 7) -> dict:
    metrics = ClassificationMetrics(logits.shape[1])
    for start in range(0, len(labels), batch):  # accumulated over batches like an epoch
        metrics.update(logits[start : start + batch], labels[start : start + batch])
    return metrics.compute()


def test_binary_auc_scores_class_one() -> None:
    torch.manual_seed(0)
    logits, labels = torch.randn(50, 2), torch.randint(0, 2, (50,))
    probs = logits.softmax(-1)[:, 1].numpy()
    assert computed(logits, labels)["auc"] == pytest.approx(auc_by_ranks(probs, labels.numpy() == 1), abs=1e-6)
    assert "top5" not in computed(logits, labels)


def test_multiclass_auc_is_the_mean_of_one_vs_rest_aucs() -> None:
    torch.manual_seed(1)
    logits, labels = torch.randn(80, 11), torch.arange(80) % 11
    probs = logits.softmax(-1).numpy()
    expected = np.mean([auc_by_ranks(probs[:, c], labels.numpy() == c) for c in range(11)])
    assert computed(logits, labels)["auc"] == pytest.approx(expected, abs=1e-6)


def test_accuracy_top5_loss_per_class_and_confusion() -> None:
    torch.manual_seed(2)
    logits, labels = torch.randn(40, 6), torch.randint(0, 6, (40,))
    result = computed(logits, labels)
    predicted = logits.argmax(-1)
    assert result["accuracy"] == pytest.approx((predicted == labels).float().mean().item())
    top5 = logits.topk(5, dim=-1).indices
    assert result["top5"] == pytest.approx((top5 == labels[:, None]).any(-1).float().mean().item())
    assert result["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, labels).item(), rel=1e-5)
    confusion = np.zeros((6, 6), dtype=int)
    np.add.at(confusion, (labels.numpy(), predicted.numpy()), 1)
    assert result["confusion_matrix"] == confusion.tolist()
    per_class = [confusion[c, c] / max(1, confusion[c].sum()) for c in range(6)]
    assert result["per_class_accuracy"] == pytest.approx(per_class)


@pytest.mark.parametrize("num_classes", [2, 11])
def test_a_split_of_one_class_has_no_auc_rather_than_zero(num_classes: int) -> None:
    torch.manual_seed(0)
    logits, labels = torch.randn(20, num_classes), torch.full((20,), 1)
    assert computed(logits, labels)["auc"] is None
    assert auc(logits.softmax(-1), labels) is None
    assert format_metric(None, 10) == " undefined" and format_metric(0.5, 8) == "  0.5000"
