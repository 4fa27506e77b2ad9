"""GELU's tanh approximation (Keras 3's default GELU, which keras-seed uses), fast on a CPU.

    gelu_tanh(x) = 0.5 x (1 + tanh u) = x sigmoid(2u),   u = sqrt(2/pi) (x + 0.044715 x^3)

The two forms are the same function. On a CPU torch.tanh costs about 3x torch.sigmoid per
element, and tanh is most of `F.gelu(approximate="tanh")`'s cost, forward and backward.
Written in the sigmoid form with in-place passes, GELU costs less in inference and in
training (tests/models/test_fast_paths.py pins both against `F.gelu`; docs/benchmarks.md
has the measurements). Elsewhere (GPU, torch.compile, export) `F.gelu` is used: a
compiler fuses it anyway, and exported graphs keep one GELU op.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715
# 0-dim and float64: broadcasts, takes x's dtype, and loses no digits for float64 inputs.
TWICE_SQRT_2_OVER_PI = torch.tensor(2 * SQRT_2_OVER_PI, dtype=torch.float64)


def sigmoid_of_twice_u(x: torch.Tensor) -> torch.Tensor:
    """sigmoid(2u) as a new tensor: 2u / x = 2 sqrt(2/pi) (1 + 0.044715 x^2), one addcmul pass."""
    return torch.addcmul(TWICE_SQRT_2_OVER_PI, x, x, value=CUBIC * 2 * SQRT_2_OVER_PI).mul_(x).sigmoid_()


def gelu_tanh_via_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """gelu_tanh(x) = x sigmoid(2u), without autograd support (inference)."""
    return sigmoid_of_twice_u(x).mul_(x)


class GeluTanhFunction(torch.autograd.Function):
    """gelu_tanh with a hand-written backward in the same sigmoid form.

    d/dx [x s] = s + x s (1 - s) 2u',  s = sigmoid(2u),  2u' = 2 sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        s = sigmoid_of_twice_u(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        x, s = ctx.saved_tensors
        slope = torch.addcmul(TWICE_SQRT_2_OVER_PI, x, x, value=3 * CUBIC * 2 * SQRT_2_OVER_PI).mul_(x)  # x 2u'
        slope = torch.addcmul(slope, slope, s, value=-1)  # x 2u' (1 - s)
        return slope.add_(1).mul_(s).mul_(grad)


def exporting_or_compiling() -> bool:
    return torch.jit.is_scripting() or torch.jit.is_tracing() or torch.compiler.is_compiling()


class TanhGELU(nn.Module):
    """`nn.GELU(approximate="tanh")`, computed in the sigmoid form on a CPU in eager mode."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or exporting_or_compiling():
            return F.gelu(x, approximate="tanh")
        if x.requires_grad:
            return GeluTanhFunction.apply(x)
        return gelu_tanh_via_sigmoid(x)
