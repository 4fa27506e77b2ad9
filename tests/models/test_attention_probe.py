"""Recorded attention weights are the weights the fused path uses, for every variant."""

from __future__ import annotations

import pytest
import torch

from vivit.errors import ConfigError
from vivit.models import VARIANTS
from vivit.models.layers.attention import FactorisedDotProductAttention, SelfAttention
from vivit.models.layers.attention_probe import attention_modules, record_attention

from .conftest import INPUT_SIZE, small_model


def output_from_weights(module: SelfAttention, x: torch.Tensor, recorded: list[torch.Tensor]) -> torch.Tensor:
    """The module's output rebuilt by hand: recorded weights @ v, through the projection."""
    _, _, v = module.split_heads(x)
    if isinstance(module, FactorisedDotProductAttention):
        half = module.num_heads // 2
        spatial_weights, temporal_weights = recorded
        spatial = spatial_weights @ v[:, :, :half]  # (B, nt, H/2, ns, Dh)
        temporal = temporal_weights @ v[:, :, half:].permute(0, 3, 2, 1, 4)  # (B, ns, H/2, nt, Dh)
        heads = torch.cat([spatial, temporal.permute(0, 3, 2, 1, 4)], dim=2)
    else:
        (weights,) = recorded
        heads = weights @ v
    return module.merge_heads(heads)


def fused_inputs_and_outputs(model: torch.nn.Module, video: torch.Tensor) -> tuple[dict, dict]:
    """Each attention module's input and output on the default (fused) path."""
    inputs, outputs = {}, {}

    def keep(name: str):
        def hook(module, args, output) -> None:
            inputs[name], outputs[name] = args[0], output

        return hook

    handles = [m.register_forward_hook(keep(name)) for name, m in attention_modules(model).items()]
    with torch.no_grad():
        model(video)
    for handle in handles:
        handle.remove()
    return inputs, outputs


# Every variant, and the class token where a variant has one.
POOLED_VARIANTS = [(v, "mean") for v in VARIANTS] + [("spatio_temporal", "cls"), ("factorised_encoder", "cls")]


@pytest.mark.parametrize("variant, pooling", POOLED_VARIANTS)
def test_recorded_weights_reproduce_every_attention_output(variant: str, pooling: str) -> None:
    model = small_model(variant, pooling=pooling).eval()
    video = torch.rand(2, 2, *INPUT_SIZE)
    inputs, outputs = fused_inputs_and_outputs(model, video)
    with torch.no_grad(), record_attention(model) as weights:
        model(video)
    assert set(weights) == set(outputs)
    for name, module in attention_modules(model).items():
        rebuilt = output_from_weights(module, inputs[name], weights[name])
        torch.testing.assert_close(rebuilt, outputs[name], rtol=1e-5, atol=1e-5)


def test_recorded_weights_are_distributions_over_keys(variant: str) -> None:
    model = small_model(variant).eval()
    with torch.no_grad(), record_attention(model) as weights:
        model(torch.rand(1, 2, *INPUT_SIZE))
    for tensors in weights.values():
        for w in tensors:
            assert w.min() >= 0
            torch.testing.assert_close(w.sum(dim=-1), torch.ones(w.shape[:-1]))


def test_recording_leaves_the_logits_unchanged_and_ends_with_the_block(variant: str) -> None:
    model = small_model(variant).eval()
    video = torch.rand(2, 2, *INPUT_SIZE)
    with torch.no_grad():
        expected = model(video)
        with record_attention(model):
            recorded_logits = model(video)
    torch.testing.assert_close(recorded_logits, expected, rtol=1e-5, atol=1e-5)
    assert all(module.recorded is None for module in attention_modules(model).values())


def test_recording_only_the_named_modules() -> None:
    model = small_model("spatio_temporal").eval()
    with torch.no_grad(), record_attention(model, ["blocks.1.attn"]) as weights:
        model(torch.rand(1, 2, *INPUT_SIZE))
    assert list(weights) == ["blocks.1.attn"]
    assert weights["blocks.1.attn"][0].shape[-2:] == (model.num_tokens, model.num_tokens)


def test_recording_an_unknown_module_names_the_ones_there_are() -> None:
    model = small_model("spatio_temporal")
    with pytest.raises(ConfigError, match="blocks.0.attn"):
        with record_attention(model, ["blocks.9.attn"]):
            pass
