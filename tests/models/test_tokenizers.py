"""Which voxels reach a token, and how many tokens there are."""

from __future__ import annotations

import pytest
import torch

from vivit.models import ViViTConfig, build_model, create_model
from vivit.models.layers.tokenizers import TubeletEmbedding, token_grid

from .conftest import INPUT_SIZE, small_model


def input_gradient(model: torch.nn.Module, size: tuple[int, int, int], channels: int) -> torch.Tensor:
    video = torch.rand(1, channels, *size, requires_grad=True)
    model(video).sum().backward()
    return video.grad[0].abs().sum(dim=0)  # (T, H, W)


def test_same_padding_covers_every_voxel(variant: str) -> None:
    model = small_model(variant, "tubelet", padding="same").eval()
    assert (input_gradient(model, INPUT_SIZE, 2) > 0).all()


def test_frame_sampling_with_stride_one_covers_every_voxel(variant: str) -> None:
    model = small_model(variant, "frames", padding="same", frame_stride=1).eval()
    assert (input_gradient(model, INPUT_SIZE, 2) > 0).all()


def test_frame_sampling_sees_only_every_stride_th_frame() -> None:
    model = small_model("spatio_temporal", "frames", frame_stride=2).eval()
    seen = input_gradient(model, INPUT_SIZE, 2).sum(dim=(1, 2)) > 0
    assert seen.tolist() == [t % 2 == 0 for t in range(INPUT_SIZE[0])]


def test_keras_seed_valid_tubelets_never_see_the_last_four_slices() -> None:
    model = create_model("keras-seed").eval()
    seen = input_gradient(model, (28, 28, 28), 1) > 0
    assert seen[:24, :24, :24].all()
    assert not seen[24:].any() and not seen[:, 24:].any() and not seen[:, :, 24:].any()
    unseen_fraction = 1 - seen.float().mean().item()
    assert unseen_fraction == pytest.approx(1 - (24 / 28) ** 3)  # 37% of the voxels
    assert round(unseen_fraction, 2) == 0.37


@pytest.mark.parametrize(
    ("size", "patch", "padding", "grid"),
    [
        ((28, 28, 28), (8, 8, 8), "valid", (3, 3, 3)),
        ((28, 28, 28), (8, 8, 8), "same", (4, 4, 4)),
        ((28, 28, 28), (4, 4, 4), "valid", (7, 7, 7)),
        ((32, 224, 224), (2, 16, 16), "valid", (16, 14, 14)),
        ((5, 9, 7), (2, 4, 3), "same", (3, 3, 3)),
    ],
)
def test_token_grid(size, patch, padding, grid) -> None:
    assert token_grid(size, patch, padding) == grid
    embedding = TubeletEmbedding(1, 4, patch, padding)
    assert embedding(torch.zeros(1, 1, *size)).shape == (1, *grid, 4)


def test_a_tubelet_larger_than_the_input_names_the_axis_and_what_fits() -> None:
    with pytest.raises(ValueError, match=r"input H=6 is smaller than the token extent 8 along H.*H >= 8"):
        build_model(ViViTConfig(input_size=(16, 6, 16), tubelet_size=(8, 8, 8), padding="valid"))
    model = create_model("keras-seed")
    with pytest.raises(ValueError, match="input T=4"):
        model(torch.zeros(1, 1, 4, 28, 28))


def test_wrong_channel_count_is_refused_with_the_expected_shape() -> None:
    model = create_model("keras-seed")
    with pytest.raises(ValueError, match=r"expected input of shape \(B, C=1, T, H, W\), got \(2, 3, 28, 28, 28\)"):
        model(torch.zeros(2, 3, 28, 28, 28))


@pytest.mark.parametrize("size, tubelet", [((28, 28, 28), (8, 8, 8)), ((9, 13, 12), (2, 4, 4)), ((4, 8, 8), (1, 8, 8))])
def test_tubelet_embedding_equals_the_valid_convolution_it_replaces(size, tubelet) -> None:
    torch.manual_seed(0)
    embedding = TubeletEmbedding(3, 16, tubelet, padding="valid")
    video = torch.rand(2, 3, *size)
    as_convolution = embedding.projection(video).permute(0, 2, 3, 4, 1)  # (B, nt, nh, nw, D)
    torch.testing.assert_close(embedding(video), as_convolution, rtol=1e-5, atol=1e-5)
