"""Masked-autoencoder pretraining (VideoMAE) of every variant: masks, targets, loss, encoder parity."""

from __future__ import annotations

import copy

import pytest
import torch

from vivit.errors import ConfigError
from vivit.models import MAEConfig, MaskedAutoencoder
from vivit.models.layers.masking import draw_mask
from vivit.models.mae import masked_reconstruction_loss, pixels_to_voxels, tubelet_pixels

from .conftest import INPUT_SIZE, small_model

FACTORISED = ("factorised_encoder", "factorised_self_attention", "factorised_dot_product")


def small_mae(variant: str, tokenizer: str = "tubelet", ratio: float = 0.5, masking: str = "tube") -> MaskedAutoencoder:
    return MaskedAutoencoder(small_model(variant, tokenizer), MAEConfig(mask_ratio=ratio, masking=masking, decoder_dim=12,
                                                                       decoder_depth=1, decoder_heads=2))


@pytest.mark.parametrize("ratio", [0.0, 0.5, 0.75, 0.9])
def test_tube_masking_hides_exactly_the_ratio_and_the_same_positions_at_every_time_step(ratio: float) -> None:
    nt, ns = 4, 20
    hidden = draw_mask("tube", ratio, batch=8, grid=(nt, ns), generator=torch.Generator().manual_seed(0)).hidden
    assert hidden.shape == (8, nt, ns)
    assert (hidden.sum(dim=2) == int(ratio * ns)).all()  # every frame of every sample
    assert (hidden == hidden[:, :1]).all()  # a hidden position is hidden through all time: a tube


@pytest.mark.parametrize("ratio", [0.3, 0.9])
def test_random_masking_hides_exactly_the_ratio_of_all_tokens_anywhere(ratio: float) -> None:
    hidden = draw_mask("random", ratio, batch=16, grid=(4, 20), generator=torch.Generator().manual_seed(0)).hidden
    assert (hidden.flatten(1).sum(dim=1) == int(ratio * 80)).all()
    assert not (hidden == hidden[:, :1]).all()  # not tubes: frames differ


def test_masks_differ_between_samples_and_follow_the_generator() -> None:
    first = draw_mask("tube", 0.75, 4, (2, 16), torch.Generator().manual_seed(5)).visible
    again = draw_mask("tube", 0.75, 4, (2, 16), torch.Generator().manual_seed(5)).visible
    assert torch.equal(first, again)
    assert len({tuple(row.tolist()) for row in first}) > 1


@pytest.mark.parametrize("masking", ["tube", "random"])
def test_visible_tokens_go_back_to_their_own_places(masking: str) -> None:
    tokens = torch.randn(3, 4, 6, 5)  # (B, nt, ns, D)
    mask = draw_mask(masking, 0.5, 3, (4, 6), torch.Generator().manual_seed(1))
    fill = torch.full((5,), 7.0)
    back = mask.scatter(mask.gather(tokens), fill).unflatten(1, (4, 6))
    hidden = mask.hidden
    assert torch.equal(back[~hidden], tokens[~hidden])
    assert (back[hidden] == 7.0).all()


def test_the_loss_ignores_visible_tokens() -> None:
    target = torch.randn(2, 4, 6, 10)
    prediction = torch.randn(2, 4, 6, 10, requires_grad=True)
    hidden = draw_mask("tube", 0.5, 2, (4, 6), torch.Generator().manual_seed(2)).hidden
    masked_reconstruction_loss(prediction, target, hidden).backward()
    assert (prediction.grad[~hidden] == 0).all()  # a visible token's reconstruction has no say
    assert (prediction.grad[hidden] != 0).all()


def test_with_ratio_zero_the_encoder_equals_the_supervised_encoders_forward(variant: str, tokenizer: str) -> None:
    supervised = small_model(variant, tokenizer).eval()
    video = torch.rand(2, 2, *INPUT_SIZE)
    for masking in ("tube", "random") if variant == "spatio_temporal" else ("tube",):  # random: Model 1 only
        mae = MaskedAutoencoder(copy.deepcopy(supervised), MAEConfig(mask_ratio=0.0, masking=masking)).eval()
        with torch.no_grad():
            tokens = supervised.encode_tokens(supervised.tokens(video))
            visible = mae.encode_visible(video, mae.draw_mask(video))
            torch.testing.assert_close(visible.reshape(tokens.shape), tokens, rtol=0, atol=0)
            if variant != "factorised_encoder":  # mean pooling: the classifier reads the mean of these very outputs
                torch.testing.assert_close(tokens.mean(dim=(1, 2)), supervised.forward_features(video))


def test_random_masking_is_refused_where_it_breaks_the_token_grid() -> None:
    for variant in FACTORISED:
        with pytest.raises(ConfigError, match="mae.masking=tube"):
            small_mae(variant, masking="random")


def test_every_variant_and_tokenizer_pretrains_end_to_end(variant: str, tokenizer: str) -> None:
    mae = small_mae(variant, tokenizer, ratio=0.5)
    output = mae(torch.rand(3, 2, *INPUT_SIZE), generator=torch.Generator().manual_seed(0))
    assert output.prediction.shape == output.target.shape
    assert torch.isfinite(output.loss)
    output.loss.backward()
    for name, parameter in mae.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, f"{name} received no gradient"


def test_targets_are_the_voxels_each_token_reads(tokenizer: str) -> None:
    mae = small_mae("spatio_temporal", tokenizer)
    video = torch.rand(2, 2, *INPUT_SIZE)
    pixels = tubelet_pixels(video, mae.config)
    grid = mae.encoder.tokenizer.grid(INPUT_SIZE)
    assert pixels.shape[1:3] == (grid[0], grid[1] * grid[2])
    voxels = pixels_to_voxels(pixels, mae.config, grid)  # padded ('same') along W: 10 -> 12
    sampled = video[:, :, :: mae.config.frame_stride] if tokenizer == "frames" else video
    torch.testing.assert_close(voxels[..., :12, 1:11], sampled)
    # A perfect prediction of the normalised targets reconstructs the input.
    torch.testing.assert_close(mae.reconstruct(video, mae.targets(video))[..., 1:11], sampled, rtol=1e-4, atol=1e-4)


def test_each_target_holds_the_voxels_its_token_is_computed_from(tokenizer: str) -> None:
    mae = small_mae("spatio_temporal", tokenizer)
    encoder, video = mae.encoder, torch.rand(2, 2, *INPUT_SIZE)
    weight = encoder.tokenizer.projection.weight  # (D, C, t, h, w), or (D, C, h, w) for frames
    per_voxel = weight.movedim(1, -1).flatten(1)  # the (t, h, w, C) order of a target's pixels
    with torch.no_grad():
        tokens = encoder.tokenizer(encoder.stem(video)).flatten(2, 3)  # (B, nt, ns, D)
        from_targets = tubelet_pixels(video, mae.config) @ per_voxel.T + encoder.tokenizer.projection.bias
    torch.testing.assert_close(from_targets, tokens, rtol=1e-5, atol=1e-5)


def test_the_encoder_keeps_no_classifier() -> None:
    mae = small_mae("spatio_temporal")
    assert not any(name.startswith("encoder.head") for name in mae.state_dict())
