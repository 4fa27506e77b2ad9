"""The position-wise MLP of a transformer block."""

from __future__ import annotations

import torch
from torch import nn

from vivit.models.layers.gelu import TanhGELU


def gelu(kind: str) -> nn.Module:
    # Keras 3's ops.gelu defaults to the tanh approximation; the paper's ViT uses the exact form.
    return TanhGELU() if kind == "gelu_tanh" else nn.GELU()


class Mlp(nn.Module):
    """Linear -> GELU -> Linear (-> GELU, as the Keras example does when `output_activation`)."""

    def __init__(
        self, dim: int, hidden_dim: int, activation: str = "gelu", output_activation: bool = False, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act1 = gelu(activation)
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.act2 = gelu(activation) if output_activation else nn.Identity()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.act1(self.fc1(x)))
        return self.dropout(self.act2(self.fc2(x)))
