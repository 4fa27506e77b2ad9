"""The optional convolutional stem: local features for the tokenizer, the same token grid."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vivit.checkpoints import load_model, publish, save_model
from vivit.errors import ConfigError
from vivit.models.memory_estimate import estimate_bytes
from vivit.transfer.finetune import freeze_spatial_encoder

from .conftest import INPUT_SIZE, small_config, small_model


def test_a_stem_keeps_the_token_grid_and_feeds_the_tokenizer_its_channels(variant: str, tokenizer: str) -> None:
    plain = small_model(variant, tokenizer)
    stemmed = small_model(variant, tokenizer, stem_channels=(3, 5))
    assert stemmed.grid == plain.grid
    assert stemmed.tokenizer.projection.in_channels == 5
    video = torch.rand(2, 2, *INPUT_SIZE)
    assert stemmed.tokens(video).shape == plain.tokens(video).shape
    stemmed(video).sum().backward()
    assert all(p.grad is not None for p in stemmed.parameters())


def test_without_a_stem_the_model_is_the_papers() -> None:
    model = small_model()
    assert isinstance(model.stem, torch.nn.Identity)
    assert not any(key.startswith("stem.") for key in model.state_dict())


def test_a_stem_is_three_by_three_by_three_convolutions_each_followed_by_a_gelu() -> None:
    stem = small_model(stem_channels=(3, 5)).stem
    convolutions = [m for m in stem if isinstance(m, torch.nn.Conv3d)]
    assert [c.kernel_size for c in convolutions] == [(3, 3, 3)] * 2
    assert [c.stride for c in convolutions] == [(1, 1, 1)] * 2
    assert [c.padding for c in convolutions] == [(1, 1, 1)] * 2  # SAME: the stem keeps (T, H, W)
    assert [type(m).__name__ for m in stem] == ["Conv3d", "GELU"] * 2


def test_the_stem_starts_from_he_initialisation_not_the_transformers() -> None:
    convolution = small_model(stem_channels=(16,)).stem[0]
    fan_in = 2 * 27  # two input channels, 3x3x3
    assert convolution.weight.std().item() == pytest.approx((2 / fan_in) ** 0.5, rel=0.1)
    assert (convolution.bias == 0).all()


def test_the_stem_widens_what_a_token_sees_by_one_voxel_per_layer() -> None:
    # Tubelets (2, 4, 4) on a (8, 12, 10) input with SAME padding: without a stem the first
    # token reads its own tubelet; each 3x3x3 layer adds one voxel on each side.
    def last_voxel_seen_by_first_token(model: torch.nn.Module) -> list[int]:
        video = torch.rand(1, 2, *INPUT_SIZE, requires_grad=True)
        model.eval().tokens(video)[0, 0, 0].sum().backward()
        return (video.grad[0].abs().sum(dim=0) > 0).nonzero().amax(dim=0).tolist()

    plain = last_voxel_seen_by_first_token(small_model(stem_channels=()))
    stemmed = last_voxel_seen_by_first_token(small_model(stem_channels=(3, 3)))
    assert [s - p for s, p in zip(stemmed, plain)] == [2, 2, 2]


@pytest.mark.parametrize("widths", [(0,), (4, -1)])
def test_a_stem_width_below_one_is_refused(widths: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError, match="stem_channels must be positive widths"):
        small_config(stem_channels=widths)


def test_the_stem_keeps_no_running_statistics_so_a_weight_average_is_a_whole_model() -> None:
    # An EMA of the weights is then the whole averaged model: nothing computed from other
    # weights (BatchNorm's running statistics) is left to disagree with it, and no sample
    # depends on the others of its batch.
    model = small_model(stem_channels=(3, 5))
    assert list(model.stem.buffers()) == []
    video = torch.rand(3, 2, *INPUT_SIZE)
    torch.testing.assert_close(model.train().stem(video), model.eval().stem(video))
    torch.testing.assert_close(model.stem(video[:1]), model.stem(video)[:1])


def test_a_checkpoint_of_a_model_with_a_stem_loads_as_the_same_model(tmp_path: Path) -> None:
    model = small_model(stem_channels=(3,)).eval()
    publish(tmp_path / "checkpoints", "last", "0001", lambda d: save_model(d, model))
    video = torch.rand(2, 2, *INPUT_SIZE)
    torch.testing.assert_close(load_model(tmp_path)(video), model(video))


def test_model_2_frozen_for_fine_tuning_freezes_its_stem_with_the_tokenizer() -> None:
    model = small_model("factorised_encoder", stem_channels=(3,))
    frozen = freeze_spatial_encoder(model)
    assert {"stem.0.weight", "stem.0.bias"} <= set(frozen)


def test_the_memory_estimate_counts_the_stem() -> None:
    plain, stemmed = small_config(), small_config(stem_channels=(8,))
    assert estimate_bytes(stemmed, 4) > estimate_bytes(plain, 4)
