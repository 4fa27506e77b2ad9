"""Where a model looks: the last layer's attention of the pooled token, per input voxel.

For each variant, the attention that forms the pooled representation is traced back to
the input tokens through the last attention layer(s), following the variant's own
factorisation (heads averaged; residual paths ignored, as attention maps usually do):

- Model 1: the class token's row of the last layer, or with mean pooling the mean of all
  query rows: how much each token contributes to the pooled output.
- Model 2: the last spatial layer's map within each frame, weighted by the last temporal
  layer's map over frames (uniform when there is no temporal layer).
- Model 3: the last block's temporal step then its spatial step, composed: token (t', s')
  reaches the mean output through every (t, s) that attends temporally to (t', s) and
  spatially to (t', s').
- Model 4: half the heads attend within frames and half along time, side by side, so the
  two maps are averaged.

Each map sums to 1 over the (nt, nh, nw) token grid; `tokens_to_voxels` then gives
every voxel the value of the token that covers it (NaN where 'valid' tokenisation
drops the remainder), undoing the 'same' padding offset.
"""

from __future__ import annotations

import numpy as np
import torch

from vivit.models import ViViT
from vivit.models.layers.attention_probe import record_attention
from vivit.models.layers.tokenizers import same_padding


def final_attention_names(model: ViViT) -> list[str]:
    """The attention modules whose weights form the map, by variant."""
    config = model.config
    last = config.depth - 1
    if config.variant == "factorised_encoder":
        temporal = [f"temporal_blocks.{config.temporal_depth - 1}.attn"] if config.temporal_depth else []
        return [f"spatial_blocks.{last}.attn", *temporal]
    if config.variant == "factorised_self_attention":
        return [f"blocks.{last}.spatial_attn", f"blocks.{last}.temporal_attn"]
    return [f"blocks.{last}.attn"]  # Models 1 and 4


def pooled_row(weights: torch.Tensor, has_class_token: bool) -> torch.Tensor:
    """(..., heads, L, L) -> (..., tokens): the pooled query's attention over the input
    tokens, heads averaged. A class token's weight on itself is dropped and the rest
    renormalised, so the map covers the input tokens only."""
    weights = weights.mean(dim=-3)  # (..., L, L)
    if not has_class_token:
        return weights.mean(dim=-2)
    row = weights[..., 0, 1:]
    return row / row.sum(dim=-1, keepdim=True)


@torch.no_grad()
def token_attention(model: ViViT, video: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) in [0, 1] -> (B, nt, nh, nw) attention maps, each summing to 1."""
    model.eval()
    names = final_attention_names(model)
    with record_attention(model, names) as recorded:
        model(video)
    nt, nh, nw = model.tokenizer.grid(tuple(video.shape[2:]))
    maps = combine(model.config.variant, model.config.pooling == "cls", [recorded[n] for n in names], nt)
    return maps.reshape(video.shape[0], nt, nh, nw)


def combine(variant: str, has_class_token: bool, recorded: list[list[torch.Tensor]], nt: int) -> torch.Tensor:
    """The recorded last-layer weights of one variant -> (B, nt, ns) maps."""
    if variant == "spatio_temporal":
        (weights,) = recorded[0]  # (B, H, L, L)
        flat = pooled_row(weights, has_class_token)  # (B, nt*ns)
        return flat.unflatten(1, (nt, -1))
    if variant == "factorised_encoder":
        (spatial,) = recorded[0]  # (B*nt, H, Ls, Ls)
        within_frame = pooled_row(spatial, has_class_token).unflatten(0, (-1, nt))  # (B, nt, ns)
        if len(recorded) == 1:
            over_frames = torch.full(within_frame.shape[:2], 1.0 / nt)
        else:
            (temporal,) = recorded[1]  # (B, H, Lt, Lt)
            over_frames = pooled_row(temporal, has_class_token)  # (B, nt)
        return within_frame * over_frames[..., None]
    if variant == "factorised_self_attention":
        (spatial,), (temporal,) = recorded
        spatial = spatial.mean(dim=2)  # (B, nt, ns, ns): frame t', query s, key s'
        over_frames = pooled_row(temporal, False)  # (B, ns, nt): position s, key frame t'
        ns = spatial.shape[-1]
        return torch.einsum("bst,btsk->btk", over_frames, spatial) / ns
    if variant == "factorised_dot_product":
        spatial, temporal = recorded[0]  # (B, nt, H/2, ns, ns), (B, ns, H/2, nt, nt)
        within_frames = pooled_row(spatial, False)  # (B, nt, ns)
        along_time = pooled_row(temporal, False).transpose(1, 2)  # (B, nt, ns)
        ns = within_frames.shape[-1]
        return (within_frames / nt + along_time / ns) / 2
    raise ValueError(f"Unknown variant '{variant}'")


def token_index(size: int, extent: int, padding: str, num_tokens: int) -> np.ndarray:
    """For each voxel along one axis, the token covering it; -1 where no token does."""
    offset = same_padding(size, extent)[0] if padding == "same" else 0
    index = (np.arange(size) + offset) // extent
    return np.where(index < num_tokens, index, -1)


def tokens_to_voxels(token_map: np.ndarray, model: ViViT, size: tuple[int, int, int]) -> np.ndarray:
    """(nt, nh, nw) map -> (T, H, W), each voxel the value of its token (NaN if uncovered)."""
    config = model.config
    extents = list(config.tubelet_size)
    paddings = [config.padding] * 3
    if config.tokenizer == "frames":
        # Frame t*stride stands for the frames up to the next sampled one: no padding in time.
        extents[0], paddings[0] = config.frame_stride, "valid"
    indices = [token_index(n, e, p, g) for n, e, p, g in zip(size, extents, paddings, token_map.shape)]
    padded = np.pad(token_map.astype(np.float64), [(0, 1)] * 3, constant_values=np.nan)  # index -1 reads the NaN
    return padded[np.ix_(*indices)]
