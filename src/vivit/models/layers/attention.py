"""Multi-head self-attention, and the paper's factorised dot-product attention (Model 4).

Both go through `F.scaled_dot_product_attention`, which picks a fused kernel where the
device has one but returns no weights; `vivit.models.layers.attention_probe` switches a
module to the explicit softmax, which keeps them, for as long as it records.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vivit.models.layers.fast_dropout import attention_with_dropout


class SelfAttention(nn.Module):
    """Standard multi-head self-attention over the token axis of (B, N, D)."""

    # A list while `record_attention` listens: each attend() appends its weights to it.
    recorded: list[torch.Tensor] | None = None

    def __init__(
        self, dim: int, num_heads: int, head_dim: int, qkv_bias: bool = True, attn_dropout: float = 0.0, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.attn_dropout = attn_dropout
        self.qkv = nn.Linear(dim, 3 * num_heads * head_dim, bias=qkv_bias)
        self.proj = nn.Linear(num_heads * head_dim, dim)
        self.proj_dropout = nn.Dropout(dropout)

    def split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(..., N, D) -> q, k, v each (..., heads, N, head_dim)."""
        qkv = self.qkv(x).unflatten(-1, (3, self.num_heads, self.head_dim))  # (..., N, 3, H, Dh)
        lead = qkv.dim() - 4  # batch axes: 1, or 2 for Model 4's (B, nt)
        # One copy lays q, k and v out contiguously, so the attention kernels need not copy
        # each transposed view again (faster inference and batch-1 latency: docs/benchmarks.md).
        # Non-negative axes: the ONNX exporter writes negative ones into a Transpose perm,
        # which onnxruntime rejects.
        qkv = qkv.permute(lead + 1, *range(lead), lead + 2, lead, lead + 3).contiguous()  # (3, ..., H, N, Dh)
        q, k, v = qkv.unbind(0)
        return q, k, v

    def merge_heads(self, out: torch.Tensor) -> torch.Tensor:
        """(..., heads, N, head_dim) -> (..., N, D) through the output projection."""
        out = out.transpose(-3, -2).flatten(-2)  # (..., N, H*Dh)
        return self.proj_dropout(self.proj(out))

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        dropout = self.attn_dropout if self.training else 0.0
        if self.recorded is not None:
            return self.attend_explicitly(q, k, v, dropout)
        if dropout > 0 and q.device.type == "cpu":
            # SDPA's CPU kernels have no dropout; its fallback draws the mask slowly.
            return attention_with_dropout(q, k, v, dropout)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)

    def attend_explicitly(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout: float) -> torch.Tensor:
        """softmax(q k^T / sqrt(d)) v written out, recording the weights (..., heads, N, N)."""
        weights = (q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5).softmax(dim=-1)
        self.recorded.append(weights.detach())
        return F.dropout(weights, dropout, training=dropout > 0) @ v

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, D)
        return self.merge_heads(self.attend(*self.split_heads(x)))


class FactorisedDotProductAttention(SelfAttention):
    """Model 4: one attention whose first half of heads attends within a frame (same t)
    and second half along time (same spatial position); the heads are then concatenated."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, nt, ns, D)
        q, k, v = self.split_heads(x)  # (B, nt, H, ns, Dh)
        half = self.num_heads // 2
        spatial = self.attend(q[:, :, :half], k[:, :, :half], v[:, :, :half])  # over ns
        # Temporal heads: put time on the token axis: (B, ns, H/2, nt, Dh).
        qt, kt, vt = (t[:, :, half:].permute(0, 3, 2, 1, 4) for t in (q, k, v))
        temporal = self.attend(qt, kt, vt).permute(0, 3, 2, 1, 4)  # back to (B, nt, H/2, ns, Dh)
        return self.merge_heads(torch.cat([spatial, temporal], dim=2))
