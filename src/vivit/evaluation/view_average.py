"""The mean of a model's class probabilities over several views of each input (see views.py
for why probabilities, not logits). Apart from views.py so that `vivit predict` loads no torchmetrics."""

from __future__ import annotations

import torch
from torch import nn


def average_views(model: nn.Module, views: torch.Tensor) -> torch.Tensor:
    """(B, V, C, T, H, W) views of B videos -> (B, classes): the log of the mean view probability,
    which goes wherever logits go (its softmax is the mean)."""
    batch, count = views.shape[:2]
    probabilities = model(views.flatten(0, 1)).float().softmax(dim=-1)  # (B * V, K)
    mean = probabilities.unflatten(0, (batch, count)).mean(dim=1)  # (B, K)
    return mean.clamp_min(torch.finfo(mean.dtype).tiny).log()
