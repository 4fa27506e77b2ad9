"""The factorisations of the paper, pinned against masked full attention written here.

Every factorised attention is full attention over all nt*ns tokens under a mask:
same frame (spatial), same spatial position (temporal). The references below spell
that out with explicit softmax maths on the very same weights.
"""

from __future__ import annotations

import math

import pytest
import torch

from vivit.models import build_model
from vivit.models.layers.attention import FactorisedDotProductAttention, SelfAttention

from .conftest import small_config, small_model

NT, NS, DIM, HEADS = 3, 5, 24, 4


def reference_attention(attn: SelfAttention, x: torch.Tensor, masks: list[torch.Tensor]) -> torch.Tensor:
    """Full attention over (B, L, D) with masks[h] (L, L) saying which token head h may see."""
    b, length, _ = x.shape
    qkv = x @ attn.qkv.weight.T + attn.qkv.bias
    q, k, v = qkv.reshape(b, length, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    scores = q @ k.transpose(-1, -2) / math.sqrt(attn.head_dim)  # (B, H, L, L)
    allowed = torch.stack(masks)  # (H, L, L)
    weights = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
    heads = (weights @ v).transpose(1, 2).reshape(b, length, -1)
    return heads @ attn.proj.weight.T + attn.proj.bias


def grid_masks() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    frame = torch.arange(NT).repeat_interleave(NS)  # token index -> its t (time-major order)
    position = torch.arange(NS).repeat(NT)  # token index -> its spatial position
    full = torch.ones(NT * NS, NT * NS, dtype=torch.bool)
    same_frame = frame[:, None] == frame[None, :]
    same_position = position[:, None] == position[None, :]
    return full, same_frame, same_position


def attention() -> SelfAttention:
    torch.manual_seed(0)
    return SelfAttention(DIM, HEADS, DIM // HEADS).eval()


def test_self_attention_equals_softmax_attention_written_out() -> None:
    attn, x = attention(), torch.randn(2, NT * NS, DIM)
    full, _, _ = grid_masks()
    torch.testing.assert_close(attn(x), reference_attention(attn, x, [full] * HEADS), rtol=1e-5, atol=1e-5)


def test_model3_spatial_step_is_attention_restricted_to_the_same_frame() -> None:
    attn, x = attention(), torch.randn(2, NT, NS, DIM)
    _, same_frame, _ = grid_masks()
    expected = reference_attention(attn, x.flatten(1, 2), [same_frame] * HEADS)
    torch.testing.assert_close(attn(x).flatten(1, 2), expected, rtol=1e-5, atol=1e-5)


def test_model3_temporal_step_is_attention_restricted_to_the_same_position() -> None:
    attn, x = attention(), torch.randn(2, NT, NS, DIM)
    _, _, same_position = grid_masks()
    expected = reference_attention(attn, x.flatten(1, 2), [same_position] * HEADS)
    temporal = attn(x.transpose(1, 2)).transpose(1, 2)  # what FactorisedSelfAttentionBlock does
    torch.testing.assert_close(temporal.flatten(1, 2), expected, rtol=1e-5, atol=1e-5)


def test_model3_block_is_spatial_then_temporal_masked_attention_then_mlp() -> None:
    model = small_model("factorised_self_attention").eval()
    block = model.blocks[0]
    x = torch.randn(2, NT, NS, model.config.embed_dim)
    _, same_frame, same_position = grid_masks()
    heads = model.config.num_heads
    flat = x.flatten(1, 2)
    flat = flat + reference_attention(block.spatial_attn, block.norm_spatial(flat), [same_frame] * heads)
    flat = flat + reference_attention(block.temporal_attn, block.norm_temporal(flat), [same_position] * heads)
    flat = flat + block.mlp(block.norm_mlp(flat))
    with torch.no_grad():
        torch.testing.assert_close(block(x).flatten(1, 2), flat, rtol=1e-5, atol=1e-5)


def test_model4_is_half_the_heads_over_space_and_half_over_time() -> None:
    torch.manual_seed(0)
    attn = FactorisedDotProductAttention(DIM, HEADS, DIM // HEADS).eval()
    x = torch.randn(2, NT, NS, DIM)
    _, same_frame, same_position = grid_masks()
    masks = [same_frame] * (HEADS // 2) + [same_position] * (HEADS // 2)
    expected = reference_attention(attn, x.flatten(1, 2), masks)
    torch.testing.assert_close(attn(x).flatten(1, 2), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_model2_with_one_frame_and_no_temporal_layers_is_a_plain_vit(pooling: str) -> None:
    """Model 2 over a single frame reduces to Model 1 over that frame's tokens: a ViT."""
    config = small_config("factorised_encoder", input_size=(2, 12, 12), temporal_depth=0, pooling=pooling)
    factorised = build_model(config).eval()
    assert factorised.grid[0] == 1
    vit = build_model(config.replace(variant="spatio_temporal")).eval()
    renamed = {
        key.replace("spatial_blocks", "blocks").replace("spatial_norm", "norm").replace("spatial_cls", "cls_token"): value
        for key, value in factorised.state_dict().items()
    }
    vit.load_state_dict(renamed)  # strict: the two hold exactly the same weights
    video = torch.rand(3, 2, 2, 12, 12)
    with torch.no_grad():
        torch.testing.assert_close(factorised(video), vit(video), rtol=1e-5, atol=1e-6)
