"""Multi-view evaluation, the protocol of the paper's video results: each video is scored over
``num_clips`` temporal clips x ``num_crops`` spatial crops (`vivit.data.video_sampling` places
them) and the views' class probabilities are averaged.

Probabilities, not logits, are averaged, as mmaction2 does by default (``average_clips='prob'``
in its test configs): each view casts a vote bounded to [0, 1], so one crop that shows nothing
of the action but gets large logits cannot outweigh the others, as it would in a mean of
logits; and it is how TTA (`tta.py`) averages its flipped views, so the two figures are built
alike. The log of the mean goes where logits go: its softmax gives the mean back, and its
cross-entropy is the negative log-likelihood of the averaged prediction.

Multi-view figures are reported apart from single-view ones: they cost one forward pass per view.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from vivit.data.video_preprocessing import VideoPreprocessing
from vivit.evaluation.metrics import ClassificationMetrics
from vivit.evaluation.view_average import average_views


@torch.no_grad()
def evaluate_views(
    model: nn.Module,
    videos: Iterable[np.ndarray],
    labels: torch.Tensor,
    num_classes: int,
    preprocessing: VideoPreprocessing,
    batch_size: int = 128,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Metrics of `evaluate_model` with each video's views averaged.

    `videos` yields uint8 (V, 3, T, H, W) per video, in the order of `labels`; a batch holds
    at most `batch_size` views (at least one video's).
    """
    was_training = model.training
    model.eval().to(device)
    metrics = ClassificationMetrics(num_classes, sync_across_ranks=False).to(device)
    done = 0
    for batch in _batches(videos, batch_size):
        views = preprocessing.normalise(torch.from_numpy(np.stack(batch))).to(device)  # (B, V, 3, T, H, W)
        metrics.update(average_views(model, views), labels[done : done + len(batch)].to(device))
        done += len(batch)
    model.train(was_training)
    return metrics.compute()


def _batches(videos: Iterable[np.ndarray], max_views: int) -> Iterator[list[np.ndarray]]:
    batch: list[np.ndarray] = []
    for views in videos:
        if batch and (len(batch) + 1) * len(views) > max_views:
            yield batch
            batch = []
        batch.append(views)
    if batch:
        yield batch
