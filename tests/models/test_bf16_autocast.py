"""bf16 autocast on a CPU, the path `precision: auto` takes on CPUs with bf16 instructions,
computes what fp32 computes, within bf16's rounding (8 bits of mantissa)."""

from __future__ import annotations

import pytest
import torch

from vivit.models import VARIANTS

from .conftest import INPUT_SIZE, small_model


def _relative_error(fast: torch.Tensor, exact: torch.Tensor) -> float:
    return float((fast.float() - exact).norm() / exact.norm())


@pytest.mark.parametrize("variant", VARIANTS)
def test_bf16_autocast_matches_fp32_logits_and_gradients(variant: str) -> None:
    model = small_model(variant).eval()  # no dropout: both passes see the same network
    video = torch.rand(4, 2, *INPUT_SIZE, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 3])

    def run(autocast: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        model.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            logits = model(video)
        torch.nn.functional.cross_entropy(logits.float(), labels).backward()
        return logits.detach().float(), [p.grad.detach().clone() for p in model.parameters() if p.grad is not None]

    exact_logits, exact_grads = run(autocast=False)
    fast_logits, fast_grads = run(autocast=True)
    assert _relative_error(fast_logits, exact_logits) < 0.03
    assert len(fast_grads) == len(exact_grads)
    whole_fast, whole_exact = torch.cat([g.flatten() for g in fast_grads]), torch.cat([g.flatten() for g in exact_grads])
    assert _relative_error(whole_fast, whole_exact) < 0.05
    assert torch.nn.functional.cosine_similarity(whole_fast, whole_exact, dim=0) > 0.998
