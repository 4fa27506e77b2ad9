"""How much memory a batch needs, from the config alone: a lower bound for pre-flight checks.

Per sample and per transformer block, a training step keeps for the backward pass at
least the inputs and outputs of both layer norms, q, k and v, the attention output, and
the MLP's hidden layer before and after its activation: (8 * embed_dim + 2 * mlp_dim)
floats per token. A convolutional stem keeps two maps (before and after the GELU) of each
layer's width per voxel. Fused attention kernels keep no (tokens x tokens) matrix, so
none is counted. The weights take four copies in training (weights, gradients and two
Adam moments). Counting only these makes the estimate a lower bound: a batch it refuses
cannot fit; one it accepts may still need more.
"""

from __future__ import annotations

import functools
import math

import torch

from vivit.models.config import ViViTConfig
from vivit.models.layers.tokenizers import token_grid

FLOAT_BYTES = 4


def tokens_per_block(config: ViViTConfig, input_size: tuple[int, int, int] | None = None) -> list[int]:
    """Tokens one sample passes through each transformer block (Model 2's temporal blocks see frames)."""
    size = input_size or config.input_size
    if config.tokenizer == "frames":
        frames = math.ceil(size[0] / config.frame_stride)
        _, nh, nw = token_grid((1, *size[1:]), config.tubelet_size, config.padding)
        nt, ns = frames, nh * nw
    else:
        nt, nh, nw = token_grid(size, config.tubelet_size, config.padding)
        ns = nh * nw
    cls = 1 if config.pooling == "cls" else 0
    if config.variant == "factorised_encoder":
        return [nt * (ns + cls)] * config.depth + [nt + cls] * config.temporal_depth
    return [nt * ns + cls] * config.depth


@functools.lru_cache(maxsize=32)
def parameter_count(config: ViViTConfig) -> int:
    from vivit.models.variants import build_model

    with torch.device("meta"):  # shapes only, nothing allocated
        model = build_model(config)
    return sum(p.numel() for p in model.parameters())


def estimate_bytes(config: ViViTConfig, batch_size: int, training: bool = True, input_size: tuple[int, int, int] | None = None) -> int:
    """Lower bound on the bytes one step of `batch_size` samples needs (see the module doc)."""
    size = input_size or config.input_size
    per_token = 8 * config.embed_dim + 2 * config.mlp_dim
    if config.variant == "factorised_self_attention":
        per_token += 6 * config.embed_dim  # a second attention (norm, q, k, v, output) in every block
    tokens = tokens_per_block(config, size)
    if training:
        activations = batch_size * sum(tokens) * per_token
    else:  # no graph is kept: one block's working set at a time
        activations = batch_size * max(tokens) * per_token
    inputs = batch_size * config.in_channels * math.prod(size)
    activations += batch_size * math.prod(size) * sum(config.stem_channels) * (2 if training else 1)  # stem maps
    weights = parameter_count(config) * (4 if training else 1)
    return FLOAT_BYTES * (activations + inputs + weights)
