"""Positional embeddings over the (nt, nh, nw) token grid.

A model built for one grid must run on another (a longer clip, a 64^3 volume), so the
learned tables are resized at run time, each axis on its own: time is interpolated
along time only and never mixed into the spatial axes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vivit.errors import ConfigError

Grid = tuple[int, int, int]


def _resize(table: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    """Resize a (1, *grid, D) table to (1, *size, D) by separable (per-axis) linear interpolation."""
    if tuple(table.shape[1:-1]) == tuple(size):
        return table
    modes = {1: "linear", 2: "bilinear", 3: "trilinear"}
    channels_first = table.movedim(-1, 1)  # (1, D, *grid)
    resized = F.interpolate(channels_first, size=size, mode=modes[len(size)], align_corners=False)
    return resized.movedim(1, -1)


class LearnedPositionalEmbedding(nn.Module):
    """One learned vector per token position, as in the Keras example."""

    def __init__(self, grid: Grid, embed_dim: int) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.zeros(1, *grid, embed_dim))
        nn.init.trunc_normal_(self.table, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, nt, nh, nw, D)
        return tokens + _resize(self.table, tuple(tokens.shape[1:4]))


class SeparablePositionalEmbedding(nn.Module):
    """A learned spatial table (nh, nw) plus a learned temporal table (nt), added."""

    def __init__(self, grid: Grid, embed_dim: int) -> None:
        super().__init__()
        self.temporal = nn.Parameter(torch.zeros(1, grid[0], embed_dim))
        self.spatial = nn.Parameter(torch.zeros(1, grid[1], grid[2], embed_dim))
        nn.init.trunc_normal_(self.temporal, std=0.02)
        nn.init.trunc_normal_(self.spatial, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, nt, nh, nw, D)
        nt, nh, nw = tokens.shape[1:4]
        temporal = _resize(self.temporal, (nt,))[:, :, None, None]  # (1, nt, 1, 1, D)
        spatial = _resize(self.spatial, (nh, nw))[:, None]  # (1, 1, nh, nw, D)
        return tokens + temporal + spatial


def sinusoid_1d(positions: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """(positions, dim) sin/cos table of the Transformer paper; dim must be even."""
    omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64, device=device) / (dim // 2))
    angles = torch.arange(positions, dtype=torch.float64, device=device)[:, None] * omega[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1).float()


class SinusoidalPositionalEmbedding(nn.Module):
    """Fixed 3D sin/cos: a third of the channels (rounded down to even) per axis, the rest zero."""

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.embed_dim = embed_dim
        self.axis_dim = 2 * (embed_dim // 6)
        if self.axis_dim == 0:
            raise ConfigError(f"sinusoidal positions need embed_dim >= 6, got {embed_dim}")

    def table(self, grid: Grid, device: torch.device) -> torch.Tensor:
        nt, nh, nw = grid
        d = self.axis_dim
        t = sinusoid_1d(nt, d, device)[:, None, None].expand(nt, nh, nw, d)
        h = sinusoid_1d(nh, d, device)[None, :, None].expand(nt, nh, nw, d)
        w = sinusoid_1d(nw, d, device)[None, None, :].expand(nt, nh, nw, d)
        rest = torch.zeros(nt, nh, nw, self.embed_dim - 3 * d, device=device)
        return torch.cat([t, h, w, rest], dim=-1)[None]  # (1, nt, nh, nw, D)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return tokens + self.table(tuple(tokens.shape[1:4]), tokens.device).to(tokens.dtype)


def build_pos_embedding(kind: str, grid: Grid, embed_dim: int) -> nn.Module:
    """The positional embedding `kind` for a token grid (nt, nh, nw) of width `embed_dim`.

    `learned`: one vector per token, as the Keras example and the paper (resized per axis
    when the input size changes). `separable`: a learned temporal table (nt) plus a
    learned spatial table (nh, nw). `sinusoidal`: fixed 3D sine-cosine, no parameters.
    """
    if kind == "learned":
        return LearnedPositionalEmbedding(grid, embed_dim)
    if kind == "separable":
        return SeparablePositionalEmbedding(grid, embed_dim)
    if kind == "sinusoidal":
        return SinusoidalPositionalEmbedding(embed_dim)
    raise ConfigError(f"Unknown pos_embedding '{kind}'; choose one of: learned, separable, sinusoidal")
