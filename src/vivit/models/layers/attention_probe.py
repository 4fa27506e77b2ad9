"""Recording attention weights, opt-in: `with record_attention(model) as weights: model(x)`.

The fused kernel behind `F.scaled_dot_product_attention` never forms the weights, so
while recording, each listened-to attention module computes softmax(q k^T / sqrt(d))
explicitly (same maths, slower) and keeps it. Outside the `with` block every module is
back on the fused path.

What one forward pass leaves in `weights[name]` (name as in `model.named_modules()`):
- SelfAttention: one tensor (..., heads, N, N) per call, the leading axes those of its
  input; e.g. (B, H, N, N) for Model 1, (B, nt, H, ns, ns) for Model 3's spatial step and
  (B, ns, H, nt, nt) for its temporal step.
- FactorisedDotProductAttention (Model 4): two tensors per call, the spatial heads
  (B, nt, H/2, ns, ns) then the temporal heads (B, ns, H/2, nt, nt).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from vivit.errors import ConfigError
from vivit.models.layers.attention import SelfAttention


def attention_modules(model: nn.Module) -> dict[str, SelfAttention]:
    """Every attention module of `model` by its qualified name."""
    return {name: module for name, module in model.named_modules() if isinstance(module, SelfAttention)}


@contextmanager
def record_attention(model: nn.Module, names: Iterable[str] | None = None) -> Iterator[dict[str, list[torch.Tensor]]]:
    """Record the weights of the attention modules called `names` (default: all of them)."""
    available = attention_modules(model)
    chosen = list(available) if names is None else list(names)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise ConfigError(f"No attention module named '{unknown[0]}'; the model has: {', '.join(available)}")
    weights: dict[str, list[torch.Tensor]] = {name: [] for name in chosen}
    for name in chosen:
        available[name].recorded = weights[name]
    try:
        yield weights
    finally:
        for name in chosen:
            del available[name].recorded  # back to the class default, None: the fused path
