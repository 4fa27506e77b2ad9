"""Evaluate a model on a whole split, in one process, exactly (no padded shards)."""

from __future__ import annotations

from typing import Any

import torch

from vivit.data.loader import BatchLoader
from vivit.data.types import Split
from vivit.evaluation.metrics import ClassificationMetrics


@torch.no_grad()
def evaluate_model(
    model: torch.nn.Module, split: Split, num_classes: int, batch_size: int = 128, device: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Accuracy, top-5 (> 5 classes), AUC, loss, per-class accuracy and confusion matrix."""
    was_training = model.training
    model.eval().to(device)
    # The whole split is here: nothing to gather, even when called on rank 0 of a DDP run.
    metrics = ClassificationMetrics(num_classes, sync_across_ranks=False).to(device)
    for video, labels in BatchLoader(split, batch_size, device=device):
        metrics.update(model(video), labels)
    model.train(was_training)
    return metrics.compute()
