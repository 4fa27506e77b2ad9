"""Specification of the batched augmentations in vivit.data.augment."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vivit.data.augment import AugmentConfig, BatchAugmenter, affine_matrix
from vivit.errors import ConfigError, DataError

# OrganMNIST3D-style laterality: kidney, femur and lung come as right/left pairs.
PAIRS = ((1, 2), (3, 4), (7, 8))
NUM_CLASSES = 11
MIRROR = torch.tensor([0, 2, 1, 4, 3, 5, 6, 8, 7, 9, 10])

EVERY_TRANSFORM = {
    "flip": dict(flip_t=0.5, flip_h=0.5, flip_w=0.5),
    "rot90_half_turn": dict(rot90_prob=0.5, rot90_plane="TW", rot90_k=(2,)),
    "affine": dict(affine_prob=0.7, affine_degrees=20, affine_scale=(0.8, 1.2), affine_translate=0.1),
    "affine_border_hw": dict(affine_prob=0.7, affine_axes="HW", affine_degrees=30, affine_padding="border"),
    "resized_crop": dict(crop_prob=0.7, crop_axes="THW", crop_scale=(0.3, 1.0)),
    "affine_and_crop": dict(affine_prob=0.5, affine_degrees=10, crop_prob=0.5),
    "brightness": dict(brightness=0.3),
    "contrast": dict(contrast=0.5),
    "gamma": dict(gamma=0.5),
    "noise": dict(noise_std=0.1),
    "erase": dict(erase_prob=0.7, erase_size=(0.2, 0.6)),
    "mixup": dict(mixup_alpha=0.4),
    "cutmix": dict(cutmix_alpha=1.0),
    "mixup_or_cutmix": dict(mixup_alpha=0.4, cutmix_alpha=1.0, mix_prob=0.8),
}
MIXING = {"mixup", "cutmix", "mixup_or_cutmix"}
# Grey volumes and RGB clips, never cubic: T != H != W.
SHAPES = {"grey_volume": (1, 5, 6, 7), "rgb_clip": (3, 4, 6, 10)}


def make_batch(shape: tuple[int, ...], batch: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand((batch, *shape), generator=g)
    y = torch.randint(NUM_CLASSES, (batch,), generator=g)
    return x, y


def augment(settings: dict, x: torch.Tensor, y: torch.Tensor, seed: int = 0, **kwargs):
    augmenter = BatchAugmenter(AugmentConfig(**settings), NUM_CLASSES, **kwargs)
    return augmenter(x, y, torch.Generator().manual_seed(seed))


def lateral(settings: dict, **kwargs) -> BatchAugmenter:
    config = AugmentConfig(**settings)
    return BatchAugmenter(config, NUM_CLASSES, left_right_pairs=PAIRS, left_right_axis="W", **kwargs)


def same_sample(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.equal(a, b)


# --- every transform ---------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("name", EVERY_TRANSFORM)
def test_every_transform_keeps_shape_dtype_and_unit_range(name, shape):
    x, y = make_batch(shape)
    x_aug, y_soft = augment(EVERY_TRANSFORM[name], x, y)
    assert x_aug.shape == x.shape and x_aug.dtype == torch.float32
    assert x_aug.min() >= 0 and x_aug.max() <= 1
    assert y_soft.shape == (8, NUM_CLASSES) and y_soft.dtype == torch.float32
    assert torch.allclose(y_soft.sum(dim=1), torch.ones(8))
    assert (y_soft >= 0).all()


@pytest.mark.parametrize("name", EVERY_TRANSFORM)
def test_every_transform_is_reproduced_by_its_seed_and_varies_with_it(name):
    x, y = make_batch(SHAPES["rgb_clip"])
    first, again, other = (augment(EVERY_TRANSFORM[name], x, y, seed=s) for s in (1, 1, 2))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not (torch.equal(first[0], other[0]) and torch.equal(first[1], other[1]))
    assert not torch.equal(first[0], x)


@pytest.mark.parametrize("name", sorted(set(EVERY_TRANSFORM) - MIXING))
def test_transforms_other_than_mixing_keep_one_hot_labels(name):
    x, y = make_batch(SHAPES["rgb_clip"])
    _, y_soft = augment(EVERY_TRANSFORM[name], x, y)
    assert torch.equal(y_soft, F.one_hot(y, NUM_CLASSES).float())


def test_default_config_is_off_and_returns_the_batch_exactly():
    x, y = make_batch(SHAPES["rgb_clip"])
    assert not AugmentConfig().enabled
    x_aug, y_soft = augment({}, x, y)
    assert torch.equal(x_aug, x)
    assert torch.equal(y_soft, F.one_hot(y, NUM_CLASSES).float())


def test_augmenter_does_not_modify_its_input():
    x, y = make_batch(SHAPES["rgb_clip"])
    x_before, y_before = x.clone(), y.clone()
    for settings in EVERY_TRANSFORM.values():
        augment(settings, x, y)
    assert torch.equal(x, x_before) and torch.equal(y, y_before)


def test_a_batch_that_is_not_five_dimensional_float_is_refused():
    x, y = make_batch(SHAPES["rgb_clip"])
    with pytest.raises(DataError, match="B, C, T, H, W"):
        augment({}, x[0], y)
    with pytest.raises(DataError, match="int64 labels"):
        augment({}, x, y.float())
    with pytest.raises(DataError, match="labels outside 0..10"):
        augment({}, x, y + NUM_CLASSES)


# --- config -------------------------------------------------------------------------


def test_from_dict_names_an_unknown_key_and_the_valid_ones():
    with pytest.raises(
        ConfigError, match=r"Unknown augmentation setting 'flip_x'; valid settings: flip_t, flip_h"
    ):
        AugmentConfig.from_dict({"flip_x": 0.5})


def test_from_dict_accepts_lists_from_yaml():
    config = AugmentConfig.from_dict({"affine_scale": [0.9, 1.1], "rot90_k": [2], "flip_w": 0.5})
    assert config.affine_scale == (0.9, 1.1) and config.rot90_k == (2,) and config.flip_w == 0.5


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(flip_h=1.5), "flip_h must be a probability"),
        (dict(rot90_plane="XY"), "Unknown augment.rot90_plane 'XY'"),
        (dict(rot90_k=(4,)), "rot90_k"),
        (dict(affine_padding="wrap"), "Unknown augment.affine_padding"),
        (dict(crop_scale=(0.5, 1.5)), "crop_scale"),
        (dict(affine_axes="HX"), "affine_axes"),
        (dict(noise_std=-0.1), "noise_std must be >= 0"),
    ],
)
def test_impossible_settings_are_refused_in_one_line(settings, message):
    with pytest.raises(ConfigError, match=message) as error:
        AugmentConfig(**settings)
    assert "\n" not in str(error.value)


# --- laterality ---------------------------------------------------------------------


def test_flip_of_left_right_axis_swaps_paired_labels_of_exactly_the_flipped_samples():
    x, _ = make_batch(SHAPES["grey_volume"], batch=64)
    y = torch.arange(64) % NUM_CLASSES
    x_aug, y_soft = lateral(dict(flip_w=0.5))(x, y, torch.Generator().manual_seed(0))
    flipped = torch.tensor([same_sample(x_aug[i], x[i].flip(-1)) for i in range(64)])
    kept = torch.tensor([same_sample(x_aug[i], x[i]) for i in range(64)])
    assert (flipped ^ kept).all() and flipped.any() and kept.any()
    assert torch.equal(y_soft.argmax(dim=1), torch.where(flipped, MIRROR[y], y))


def test_flips_of_other_axes_keep_labels():
    x, y = make_batch(SHAPES["grey_volume"])
    x_aug, y_soft = lateral(dict(flip_t=1.0, flip_h=1.0))(x, y, torch.Generator().manual_seed(0))
    assert torch.equal(x_aug, x.flip(2).flip(3))
    assert torch.equal(y_soft.argmax(dim=1), y)


def test_flipping_the_left_right_axis_twice_is_identity():
    x, _ = make_batch(SHAPES["grey_volume"])
    y = torch.tensor([1, 2, 3, 4, 7, 8, 0, 5])
    augmenter = lateral(dict(flip_w=1.0))
    once, y_once = augmenter(x, y, torch.Generator().manual_seed(0))
    assert torch.equal(y_once.argmax(dim=1), MIRROR[y])
    twice, y_twice = augmenter(once, y_once.argmax(dim=1), torch.Generator().manual_seed(1))
    assert torch.equal(twice, x) and torch.equal(y_twice.argmax(dim=1), y)


def test_flip_of_left_right_axis_is_refused_when_labels_must_not_change():
    with pytest.raises(ConfigError, match="flip_w mirrors the left-right axis"):
        lateral(dict(flip_w=0.5, label_aware=False))
    lateral(dict(flip_h=0.5, label_aware=False))  # other axes are fine


def test_quarter_turns_in_a_plane_with_the_left_right_axis_are_refused():
    with pytest.raises(ConfigError, match="rot90_plane HW turns the left-right axis W"):
        lateral(dict(rot90_prob=0.5, rot90_plane="HW"))
    with pytest.raises(ConfigError, match="rot90_plane TW"):
        lateral(dict(rot90_prob=0.5, rot90_plane="TW", rot90_k=(2,), label_aware=False))
    lateral(dict(rot90_prob=0.5, rot90_plane="TH"))  # the plane without W is fine


def test_half_turn_with_the_left_right_axis_swaps_paired_labels_of_turned_samples():
    x, _ = make_batch(SHAPES["grey_volume"], batch=32)
    y = torch.arange(32) % NUM_CLASSES
    augmenter = lateral(dict(rot90_prob=0.5, rot90_plane="HW", rot90_k=(2,)))
    x_aug, y_soft = augmenter(x, y, torch.Generator().manual_seed(0))
    turned = torch.tensor([same_sample(x_aug[i], x[i].flip(-1).flip(-2)) for i in range(32)])
    assert turned.any() and not turned.all()
    assert torch.equal(y_soft.argmax(dim=1), torch.where(turned, MIRROR[y], y))


def test_affine_rotation_that_could_swap_left_and_right_is_refused():
    with pytest.raises(ConfigError, match="affine_degrees 90"):
        lateral(dict(affine_prob=0.5, affine_degrees=90))
    lateral(dict(affine_prob=0.5, affine_degrees=89))


def test_left_right_pairs_need_a_valid_axis_and_known_labels():
    config = AugmentConfig(flip_w=0.5)
    with pytest.raises(ConfigError, match="left_right_axis"):
        BatchAugmenter(config, NUM_CLASSES, left_right_pairs=PAIRS)
    with pytest.raises(ConfigError, match=r"\(1, 20\) names a label outside"):
        BatchAugmenter(config, NUM_CLASSES, left_right_pairs=((1, 20),), left_right_axis="W")


# --- geometry -----------------------------------------------------------------------


def test_quarter_turns_need_a_square_plane():
    x, y = make_batch(SHAPES["rgb_clip"])  # H=6, W=10
    with pytest.raises(ConfigError, match="need a square HW plane"):
        augment(dict(rot90_prob=1.0), x, y)


def test_each_turned_sample_is_a_rotation_of_the_original():
    x, y = make_batch((1, 3, 5, 5), batch=16)
    x_aug, _ = augment(dict(rot90_prob=0.8), x, y)
    turns = [[k for k in range(4) if same_sample(x_aug[i], torch.rot90(x[i], k, (2, 3)))] for i in range(16)]
    assert all(len(k) == 1 for k in turns)
    assert {k[0] for k in turns} == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "settings",
    [
        dict(affine_prob=1.0),  # zero degrees, unit scale, no shift
        dict(crop_prob=1.0, crop_scale=(1.0, 1.0), crop_axes="THW"),
    ],
    ids=["affine", "resized_crop"],
)
def test_resampling_with_identity_parameters_is_identity(settings):
    x, y = make_batch(SHAPES["rgb_clip"])
    x_aug, _ = augment(settings, x, y)
    assert torch.allclose(x_aug, x, atol=1e-5)


def test_affine_quarter_turn_matches_rot90():
    x = torch.rand(2, 1, 3, 5, 5)
    angles = torch.tensor([[0.0, 0.0, math.pi / 2]] * 2)
    theta = affine_matrix(angles, torch.ones(2, 3), torch.zeros(2, 3), (3, 5, 5))[:, :3]
    turned = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)
    assert torch.allclose(turned, torch.rot90(x, 1, (3, 4)), atol=1e-5)


def test_affine_turns_a_non_square_plane_rigidly_instead_of_shearing():
    # A 4x4 pattern at the centre of a 4x8 plane turns in place; the rest comes from outside (zeros).
    pattern = torch.rand(1, 1, 2, 4, 4)
    x = torch.zeros(1, 1, 2, 4, 8)
    x[..., 2:6] = pattern
    theta = affine_matrix(
        torch.tensor([[0.0, 0.0, math.pi / 2]]), torch.ones(1, 3), torch.zeros(1, 3), (2, 4, 8)
    )
    turned = F.grid_sample(
        x, F.affine_grid(theta[:, :3], list(x.shape), align_corners=False), align_corners=False
    )
    assert torch.allclose(turned[..., 2:6], torch.rot90(pattern, 1, (3, 4)), atol=1e-5)
    assert turned[..., :2].abs().max() == 0 and turned[..., 6:].abs().max() == 0


def test_samples_not_drawn_for_resampling_keep_their_exact_values():
    x, y = make_batch(SHAPES["rgb_clip"], batch=16)
    x_aug, _ = augment(dict(affine_prob=0.5, affine_degrees=30), x, y)
    unchanged = sum(same_sample(x_aug[i], x[i]) for i in range(16))
    assert 0 < unchanged < 16


# --- intensity and erasing ----------------------------------------------------------


def test_brightness_shifts_each_sample_by_one_constant():
    x, y = make_batch(SHAPES["rgb_clip"])
    x = 0.3 + 0.4 * x  # far enough from 0 and 1 that nothing is clamped
    x_aug, _ = augment(dict(brightness=0.2), x, y)
    shift = (x_aug - x).flatten(1)
    assert torch.allclose(shift, shift[:, :1].expand_as(shift), atol=1e-6)
    assert shift.abs().max() <= 0.2 + 1e-6


def test_erasing_zeros_a_box_and_leaves_the_rest():
    x, y = make_batch(SHAPES["rgb_clip"], batch=16)
    x_aug, _ = augment(dict(erase_prob=0.5, erase_size=(0.3, 0.6)), x, y)
    assert ((x_aug == x) | (x_aug == 0)).all()
    erased = (x_aug == 0).flatten(1).sum(dim=1)
    assert (erased > 0).any() and (erased == 0).any()


# --- mixing ---------------------------------------------------------------------------


def mixing_batch(batch: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """One class per sample, so each row of y_soft reads as the weights of the samples mixed."""
    x, _ = make_batch(SHAPES["rgb_clip"], batch=batch)
    return x, torch.arange(batch)


def test_mixup_targets_are_the_weights_of_the_mixed_pair():
    x, y = mixing_batch()
    augmenter = BatchAugmenter(AugmentConfig(mixup_alpha=0.4), num_classes=8)
    x_aug, y_soft = augmenter(x, y, torch.Generator().manual_seed(3))
    assert torch.allclose(y_soft.sum(dim=1), torch.ones(8))
    assert ((y_soft > 0).sum(dim=1) <= 2).all()  # the sample and one partner
    assert torch.allclose(x_aug, torch.einsum("bj,jcthw->bcthw", y_soft, x), atol=1e-6)
    assert (y_soft.max(dim=1).values < 1).any()


def test_cutmix_lambda_is_the_fraction_of_the_sample_outside_the_pasted_box():
    x = torch.arange(1, 9).float().div(10).view(8, 1, 1, 1, 1).expand(8, 3, 4, 6, 10).contiguous()
    y = torch.arange(8)
    augmenter = BatchAugmenter(AugmentConfig(cutmix_alpha=1.0), num_classes=8)
    x_aug, y_soft = augmenter(x, y, torch.Generator().manual_seed(5))
    own_fraction = (x_aug == x).flatten(1).float().mean(dim=1)
    assert torch.allclose(y_soft[y, y], own_fraction)
    assert torch.allclose(y_soft.sum(dim=1), torch.ones(8))
    assert (own_fraction < 1).any()


def test_mixing_is_off_with_mix_prob_zero():
    x, y = mixing_batch()
    x_aug, y_soft = BatchAugmenter(AugmentConfig(mixup_alpha=0.4, mix_prob=0.0), 8)(x, y, torch.Generator())
    assert torch.equal(x_aug, x) and torch.equal(y_soft, torch.eye(8))
