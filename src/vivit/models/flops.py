"""Analytic cost of a forward pass, counted by PyTorch's FLOP counter."""

from __future__ import annotations

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from vivit.models.base import ViViT


def forward_flops(model: ViViT, input_size: tuple[int, int, int] | None = None) -> int:
    """FLOPs (multiply and add counted separately) of one sample's forward pass.

    The fused CPU attention kernel is invisible to the counter, so attention is counted
    through the math backend, whose matmuls are the same arithmetic.
    """
    size = input_size or model.config.input_size
    video = torch.zeros(1, model.config.in_channels, *size)
    was_training = model.training
    model.eval()
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        model(video)
    model.train(was_training)
    return int(counter.get_total_flops())
