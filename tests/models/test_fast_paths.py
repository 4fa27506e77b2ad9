"""The CPU fast paths compute the same functions as the PyTorch ops they replace.

- `keep_scale_mask` is a Bernoulli dropout mask: the rate is p (on a 2^-15 grid), every
  element is dropped independently, kept values are scaled so the expectation is kept.
- `attention_with_dropout` is softmax(q k^T / sqrt d) with that mask, times v.
- `gelu_tanh_via_sigmoid` / `TanhGELU` is `F.gelu(approximate="tanh")`, and its
  hand-written backward is that function's derivative.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vivit.models.layers.attention import SelfAttention
from vivit.models.layers.fast_dropout import attention_with_dropout, keep_scale_mask, quantised_drop_rate
from vivit.models.layers.gelu import GeluTanhFunction, TanhGELU, gelu_tanh_via_sigmoid


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_mask_drops_at_rate_p_and_keeps_the_expectation(p: float) -> None:
    torch.manual_seed(0)
    mask = keep_scale_mask((1 << 22,), p)
    dropped = (mask == 0).double().mean().item()
    sigma = math.sqrt(p * (1 - p) / mask.numel())
    assert abs(dropped - p) < 5 * sigma + 1 / 32768
    torch.testing.assert_close(mask.unique(), torch.tensor([0.0, 1 / (1 - quantised_drop_rate(p))]))
    assert abs(mask.double().mean().item() - 1.0) < 5 * sigma / (1 - p)


def test_keep_mask_drops_neighbouring_elements_independently() -> None:
    # Four lanes share a 64-bit draw: any dependence between them would show here.
    torch.manual_seed(1)
    p = 0.3
    dropped = keep_scale_mask((1 << 22,), p) == 0
    lanes = dropped.view(-1, 4).double()
    for a in range(4):
        for b in range(a + 1, 4):
            both = (lanes[:, a] * lanes[:, b]).mean().item()
            assert abs(both - p * p) < 5 * math.sqrt(p * p * (1 - p * p) / lanes.shape[0])


def test_keep_mask_follows_the_global_seed_and_any_shape() -> None:
    torch.manual_seed(7)
    first = keep_scale_mask((3, 5, 7), 0.2)
    torch.manual_seed(7)
    assert torch.equal(first, keep_scale_mask((3, 5, 7), 0.2))
    assert first.shape == (3, 5, 7)


def test_keep_mask_refuses_a_rate_outside_zero_to_one() -> None:
    with pytest.raises(ValueError, match="must be in"):
        keep_scale_mask((4,), 1.0)


def test_attention_with_dropout_is_softmax_attention_times_the_mask() -> None:
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 9, 8) for _ in range(3))
    torch.manual_seed(5)
    out = attention_with_dropout(q, k, v, 0.25)
    torch.manual_seed(5)
    mask = keep_scale_mask((2, 3, 9, 9), 0.25)
    expected = ((q @ k.transpose(-2, -1)) / math.sqrt(8)).softmax(-1) * mask @ v
    torch.testing.assert_close(out, expected)


def test_attention_with_dropout_averages_to_attention_without_it() -> None:
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 2, 6, 4) for _ in range(3))
    mean = torch.stack([attention_with_dropout(q, k, v, 0.1) for _ in range(4000)]).mean(0)
    torch.testing.assert_close(mean, F.scaled_dot_product_attention(q, k, v), atol=0.03, rtol=0)


def test_self_attention_trains_through_the_fast_dropout_on_cpu() -> None:
    torch.manual_seed(0)
    attn = SelfAttention(dim=16, num_heads=2, head_dim=8, attn_dropout=0.2).train()
    x = torch.randn(3, 10, 16, requires_grad=True)
    torch.manual_seed(3)
    out = attn(x)
    torch.manual_seed(3)
    q, k, v = attn.split_heads(x)
    expected = attn.merge_heads(attention_with_dropout(q, k, v, 0.2))
    torch.testing.assert_close(out, expected)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_gelu_via_sigmoid_equals_gelu_tanh_over_the_float_range() -> None:
    x = torch.cat([torch.linspace(-12, 12, 100_001), torch.tensor([-1e30, -1e10, 1e10, 1e30, 0.0])])
    torch.testing.assert_close(gelu_tanh_via_sigmoid(x), F.gelu(x, approximate="tanh"), atol=1e-6, rtol=1e-6)


def test_tanh_gelu_module_gives_the_same_values_and_gradients_in_training_and_inference() -> None:
    x = torch.randn(64, 33) * 4
    with torch.inference_mode():
        inference = TanhGELU()(x)
    x.requires_grad_(True)
    training = TanhGELU()(x)
    torch.testing.assert_close(inference, training.detach(), atol=1e-6, rtol=1e-6)
    (grad,) = torch.autograd.grad(training.sum(), x)
    (expected,) = torch.autograd.grad(F.gelu(x, approximate="tanh").sum(), x)
    torch.testing.assert_close(grad, expected)


def test_gelu_backward_is_the_derivative_of_gelu_tanh() -> None:
    x = (torch.randn(40, dtype=torch.float64) * 3).requires_grad_(True)
    assert torch.autograd.gradcheck(GeluTanhFunction.apply, (x,))
    x64 = torch.linspace(-10, 10, 2001, dtype=torch.float64, requires_grad=True)
    (ours,) = torch.autograd.grad(GeluTanhFunction.apply(x64).sum(), x64)
    (reference,) = torch.autograd.grad(F.gelu(x64, approximate="tanh").sum(), x64)
    torch.testing.assert_close(ours, reference, atol=1e-12, rtol=1e-12)


def test_tanh_gelu_module_trains_like_f_gelu_in_a_whole_model() -> None:
    from vivit.models import create_model

    torch.manual_seed(0)
    model = create_model("keras-seed").eval()  # eval: no dropout, so the two passes are comparable
    video = torch.rand(2, 1, 28, 28, 28)
    model(video).sum().backward()
    ours = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    for module in model.modules():
        if isinstance(module, TanhGELU):
            module.forward = lambda x: F.gelu(x, approximate="tanh")
    model(video).sum().backward()
    for name, p in model.named_parameters():
        torch.testing.assert_close(ours[name], p.grad, atol=1e-5, rtol=1e-4, msg=name)
