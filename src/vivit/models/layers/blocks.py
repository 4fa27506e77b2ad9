"""Pre-norm transformer blocks shared by the four variants."""

from __future__ import annotations

import torch
from torch import nn

from vivit.models.layers.attention import FactorisedDotProductAttention, SelfAttention
from vivit.models.layers.drop_path import DropPath
from vivit.models.layers.mlp import Mlp


class TransformerBlock(nn.Module):
    """x + attention(norm(x)), then x + mlp(norm(x)); each branch under stochastic depth.

    The attention module decides which tokens see which: plain self-attention over
    (B, N, D) for Models 1 and 2, factorised dot-product attention over (B, nt, ns, D)
    for Model 4.
    """

    def __init__(self, dim: int, attention: nn.Module, mlp: Mlp, norm_eps: float, drop_path: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = attention
        self.drop_path1 = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = mlp
        self.drop_path2 = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path1(self.attn(self.norm1(x)))
        x = x + self.drop_path2(self.mlp(self.norm2(x)))
        return x


class FactorisedSelfAttentionBlock(nn.Module):
    """Model 3: spatial self-attention within each frame, then temporal self-attention at
    each spatial position, then the MLP; every step a residual branch under stochastic depth."""

    def __init__(
        self, dim: int, spatial: SelfAttention, temporal: SelfAttention, mlp: Mlp, norm_eps: float, drop_path: float
    ) -> None:
        super().__init__()
        self.norm_spatial = nn.LayerNorm(dim, eps=norm_eps)
        self.spatial_attn = spatial
        self.drop_path_spatial = DropPath(drop_path)
        self.norm_temporal = nn.LayerNorm(dim, eps=norm_eps)
        self.temporal_attn = temporal
        self.drop_path_temporal = DropPath(drop_path)
        self.norm_mlp = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = mlp
        self.drop_path_mlp = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, nt, ns, D)
        x = x + self.drop_path_spatial(self.spatial_attn(self.norm_spatial(x)))  # attends over ns
        xt = x.transpose(1, 2)  # (B, ns, nt, D): time on the token axis
        xt = xt + self.drop_path_temporal(self.temporal_attn(self.norm_temporal(xt)))
        x = xt.transpose(1, 2)
        return x + self.drop_path_mlp(self.mlp(self.norm_mlp(x)))


__all__ = ["FactorisedDotProductAttention", "FactorisedSelfAttentionBlock", "SelfAttention", "TransformerBlock"]
