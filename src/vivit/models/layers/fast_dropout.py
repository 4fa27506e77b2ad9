"""Dropout on the attention weights without `bernoulli_`'s cost on a CPU.

PyTorch's CPU dropout draws one number per element from a generator held under a lock,
serially: on keras-seed's attention weights (32 x 8 x 27 x 27 per layer) that was 9% of a
training step (`benchmarks/profiling.py step`). One 64-bit draw holds four independent 15-bit
uniform numbers, so drawing a quarter as many words and comparing their 16-bit lanes
makes the same Bernoulli mask ~6x faster. The drop rate is `p` rounded to a multiple of
2^-15 (0.1 becomes 0.100006), and the kept values are scaled by the rounded rate's
1 / (1 - p), so the expected output still equals the input, as with `F.dropout`.
"""

from __future__ import annotations

import math

import torch

LANE_LEVELS = 1 << 15  # values per lane: the top bit of each 16-bit lane is dropped


def quantised_drop_rate(p: float) -> float:
    """The drop rate the mask actually uses: `p` on a grid of 2^-15."""
    return round(p * LANE_LEVELS) / LANE_LEVELS


def keep_scale_mask(shape: torch.Size | tuple[int, ...], p: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A CPU tensor of `shape` holding 0 (dropped, probability ~p) or 1 / (1 - p) (kept)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
    count = math.prod(shape)
    # random_() on int64 is uniform on [0, 2^63): every 16-bit lane's low 15 bits are uniform
    # and independent of the other lanes'.
    words = torch.empty((count + 3) // 4, dtype=torch.int64).random_()
    lanes = words.view(torch.int16)[:count].bitwise_and(LANE_LEVELS - 1)
    threshold = round(p * LANE_LEVELS)
    keep = lanes >= threshold
    return keep.view(shape).to(dtype).mul_(LANE_LEVELS / (LANE_LEVELS - threshold))


def attention_with_dropout(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, p: float) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) with dropout p, times v: what `F.scaled_dot_product_attention`
    computes in training, written out so that the mask comes from `keep_scale_mask`.

    The written-out form also skips the guard SDPA's math path adds against rows that are
    entirely masked (an `all` and a `where` per call), which cannot happen without a mask.
    """
    weights = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # (..., N, N)
    weights = weights.softmax(dim=-1) * keep_scale_mask(weights.shape, p, weights.dtype)
    return weights @ v
