"""The position-wise MLP of a transformer block."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu_tanh_via_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """GELU's tanh approximation, computed as x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3).

    The same function (0.5 (1 + tanh u) = sigmoid 2u), in place on one new tensor: on a CPU
    torch.tanh is about 3x slower than torch.sigmoid, and tanh is most of `F.gelu`'s cost.
    """
    out = x * x
    return out.mul_(0.044715 * 2 * SQRT_2_OVER_PI).add_(2 * SQRT_2_OVER_PI).mul_(x).sigmoid_().mul_(x)


def exporting_or_compiling() -> bool:
    return torch.jit.is_scripting() or torch.jit.is_tracing() or torch.compiler.is_compiling()


class TanhGELU(nn.Module):
    """`nn.GELU(approximate="tanh")`, faster in CPU inference (see `gelu_tanh_via_sigmoid`).

    Training keeps `F.gelu`: its fused backward beats the sigmoid form's several passes.
    Export and scripting keep it too, so exported graphs hold one GELU op.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.requires_grad or x.device.type != "cpu" or exporting_or_compiling():
            return F.gelu(x, approximate="tanh")
        return gelu_tanh_via_sigmoid(x)


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
