"""Attention maps: traced through each variant's factorisation, then laid on the voxels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.models.conftest import INPUT_SIZE, small_model
from vivit.models import VARIANTS
from vivit.reporting.attention_maps import combine, token_attention, token_index, tokens_to_voxels

B, NT, NS, HEADS = 1, 3, 4, 2


def attending_to(key: int, *leading: int, length: int) -> torch.Tensor:
    """Weights (*leading, heads, L, L) where every query of every head looks at `key` only."""
    weights = torch.zeros(*leading, HEADS, length, length)
    weights[..., key] = 1.0
    return weights


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_gives_one_distribution_over_the_token_grid(variant: str) -> None:
    model = small_model(variant)
    maps = token_attention(model, torch.rand(2, 2, *INPUT_SIZE))
    assert maps.shape == (2, *model.grid)
    assert maps.min() >= 0
    torch.testing.assert_close(maps.sum(dim=(1, 2, 3)), torch.ones(2))


def test_model1_map_is_where_every_query_looks() -> None:
    maps = combine("spatio_temporal", False, [[attending_to(5, B, length=NT * NS)]], NT)
    assert maps.shape == (B, NT, NS) and maps[0, 1, 1] == 1.0  # token 5 = frame 1, position 1


def test_model1_class_token_row_ignores_the_class_token_itself() -> None:
    weights = torch.zeros(B, HEADS, 1 + NT * NS, 1 + NT * NS)
    weights[..., 0, 0] = 0.5  # the class token looks half at itself...
    weights[..., 0, 3] = 0.5  # ...and half at token 2
    maps = combine("spatio_temporal", True, [[weights]], NT)
    assert maps[0, 0, 2] == 1.0


def test_model2_map_is_the_spatial_map_weighted_by_the_temporal_one() -> None:
    spatial = attending_to(2, B * NT, length=NS)  # every frame looks at position 2
    temporal = attending_to(1, B, length=NT)  # the frames' vectors look at frame 1
    maps = combine("factorised_encoder", False, [[spatial], [temporal]], NT)
    expected = torch.zeros(B, NT, NS)
    expected[0, 1, 2] = 1.0
    torch.testing.assert_close(maps, expected)


def test_model2_without_temporal_layers_weighs_frames_equally() -> None:
    maps = combine("factorised_encoder", False, [[attending_to(2, B * NT, length=NS)]], NT)
    torch.testing.assert_close(maps[0, :, 2], torch.full((NT,), 1 / NT))


def test_model3_composes_the_temporal_then_spatial_steps() -> None:
    spatial = attending_to(3, B, NT, length=NS)  # within each frame: position 3
    temporal = attending_to(0, B, NS, length=NT)  # at each position: frame 0
    maps = combine("factorised_self_attention", False, [[spatial], [temporal]], NT)
    expected = torch.zeros(B, NT, NS)
    expected[0, 0, 3] = 1.0  # the one token both steps lead to
    torch.testing.assert_close(maps, expected)


def test_model4_averages_its_spatial_and_temporal_heads() -> None:
    spatial = attending_to(1, B, NT, length=NS)  # spatial heads: position 1 of each frame
    temporal = attending_to(2, B, NS, length=NT)  # temporal heads: frame 2 at each position
    maps = combine("factorised_dot_product", False, [[spatial, temporal]], NT)
    expected = torch.zeros(B, NT, NS)
    expected[0, :, 1] += 0.5 / NT
    expected[0, 2, :] += 0.5 / NS
    torch.testing.assert_close(maps, expected)


def test_valid_tokens_leave_the_remainder_uncovered() -> None:
    np.testing.assert_array_equal(token_index(10, 4, "valid", 2), [0] * 4 + [1] * 4 + [-1] * 2)


def test_same_padding_shifts_tokens_by_the_zeros_before() -> None:
    # 10 voxels, extent 4: TensorFlow SAME pads 1 before and 1 after, so token 0 covers voxels 0-2.
    np.testing.assert_array_equal(token_index(10, 4, "same", 3), [0] * 3 + [1] * 4 + [2] * 3)


def test_token_map_is_laid_on_the_voxels_it_covers() -> None:
    model = small_model("spatio_temporal")  # tubelets (2, 4, 4), 'same', input (8, 12, 10): grid (4, 3, 3)
    token_map = np.arange(np.prod(model.grid), dtype=np.float64).reshape(model.grid)
    voxels = tokens_to_voxels(token_map, model, INPUT_SIZE)
    assert voxels.shape == INPUT_SIZE
    assert voxels[0, 0, 0] == token_map[0, 0, 0]
    assert voxels[7, 11, 9] == token_map[3, 2, 2]
    assert voxels[2, 4, 3] == token_map[1, 1, 1]  # W: one zero before, so voxel 3 is token 1's


def test_valid_cropping_leaves_nan_where_no_token_looks() -> None:
    model = small_model("spatio_temporal", padding="valid")  # W=10 holds two 4-wide tokens
    voxels = tokens_to_voxels(np.ones(model.grid), model, INPUT_SIZE)
    assert np.isnan(voxels[:, :, 8:]).all() and np.isfinite(voxels[:, :, :8]).all()


def test_sampled_frames_stand_for_the_frames_up_to_the_next_one() -> None:
    model = small_model("spatio_temporal", tokenizer="frames")  # frame_stride 2: 4 token frames of 8
    token_map = np.zeros(model.grid)
    token_map[1] = 1.0
    voxels = tokens_to_voxels(token_map, model, INPUT_SIZE)
    assert (voxels[2:4] == 1).all() and (voxels[:2] == 0).all() and (voxels[4:] == 0).all()
