"""Stochastic depth (Huang et al., 2016): drop a whole residual branch per sample."""

from __future__ import annotations

import torch
from torch import nn


class DropPath(nn.Module):
    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        # One decision per sample, broadcast over its tokens and channels.
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


def drop_path_schedule(rate: float, num_blocks: int) -> list[float]:
    """Linearly increasing drop probabilities, 0 for the first block and `rate` for the last."""
    if num_blocks <= 1:
        return [rate] * num_blocks
    return [rate * i / (num_blocks - 1) for i in range(num_blocks)]
