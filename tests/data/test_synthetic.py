"""Synthetic datasets: exact from a seed, balanced, and (for motion) only solvable over time."""

from __future__ import annotations

import pytest
import torch

from vivit.data.synthetic import (
    MOTION_CLASSES,
    SHAPE_CLASSES,
    make_synthetic_motion,
    make_synthetic_shapes,
    synthetic_motion_bundle,
    synthetic_shapes_bundle,
)
from vivit.data.types import Split

MAKERS = {"shapes": make_synthetic_shapes, "motion": make_synthetic_motion}


@pytest.fixture(scope="module")
def motion() -> Split:
    return make_synthetic_motion(800, num_frames=8, size=32, seed=0)


def test_shapes_are_single_channel_uint8_cubes() -> None:
    split = make_synthetic_shapes(10, size=20)
    assert split.images.shape == (10, 1, 20, 20, 20) and split.images.dtype == torch.uint8
    assert split.labels.dtype == torch.int64


def test_motion_clips_are_rgb_uint8_videos() -> None:
    split = make_synthetic_motion(6, num_frames=5, size=24)
    assert split.images.shape == (6, 3, 5, 24, 24) and split.images.dtype == torch.uint8
    assert split.labels.dtype == torch.int64


@pytest.mark.parametrize("kind", MAKERS)
def test_the_same_seed_gives_the_same_samples_and_another_seed_others(kind: str) -> None:
    make = MAKERS[kind]
    first, again, other = make(20, seed=4), make(20, seed=4), make(20, seed=5)
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.images, other.images)


@pytest.mark.parametrize(
    "kind, num_classes", [("shapes", len(SHAPE_CLASSES)), ("motion", len(MOTION_CLASSES))]
)
def test_classes_are_balanced_to_within_one_sample(kind: str, num_classes: int) -> None:
    counts = torch.bincount(MAKERS[kind](103).labels, minlength=num_classes)
    assert len(counts) == num_classes and counts.max() - counts.min() <= 1


def test_every_shape_is_visible_inside_its_volume() -> None:
    split = make_synthetic_shapes(100, size=28, seed=1)
    volumes = split.images[:, 0].float()  # (N, T, H, W)
    # Shapes are drawn at >= 140 on a background <= 60 with noise sigma <= 20.
    bright = (volumes > 120).sum(dim=(1, 2, 3))
    assert bright.min() > 50
    faces = torch.cat(
        [volumes[:, [0, -1]].flatten(1), volumes[:, :, [0, -1]].flatten(1), volumes[..., [0, -1]].flatten(1)],
        dim=1,
    )  # every voxel on the six faces of each cube
    assert (faces > 120).float().mean() < 0.01  # shapes stay clear of the borders


def test_shape_classes_differ_in_how_much_of_the_volume_they_fill() -> None:
    split = make_synthetic_shapes(250, seed=2)
    filled = (split.images[:, 0] > 120).float().mean(dim=(1, 2, 3))  # (N,)
    by_class = torch.stack([filled[split.labels == c].mean() for c in range(len(SHAPE_CLASSES))])
    assert by_class.argmax() == SHAPE_CLASSES.index("sphere")  # the largest of the unit shapes
    assert by_class.argmin() in (SHAPE_CLASSES.index("torus"), SHAPE_CLASSES.index("cone"))


def _blob_positions(split: Split, frame: int) -> torch.Tensor:
    """(N, 2) row and column of the brightest pixel of each clip's frame."""
    image = split.images[:, :, frame].float().sum(1)  # (N, H, W)
    flat = image.flatten(1).argmax(1)
    return torch.stack([flat // image.shape[-1], flat % image.shape[-1]], 1).float()


@pytest.mark.parametrize("frame", [0, 7])
def test_a_single_motion_frame_does_not_reveal_the_class(motion: Split, frame: int) -> None:
    positions = _blob_positions(motion, frame)  # uniform over the 32 x 32 frame: mean 15.5, sd 9.2
    for label in range(len(MOTION_CLASSES)):
        in_class = positions[motion.labels == label]
        assert (in_class.mean(0) - 15.5).abs().max() < 2.0, (MOTION_CLASSES[label], in_class.mean(0))
        assert (in_class.std(0) - 9.2).abs().max() < 1.5
    # The brightness of a frame tells nothing either.
    brightness = motion.images[:, :, frame].float().mean(dim=(1, 2, 3))
    means = torch.stack([brightness[motion.labels == c].mean() for c in range(len(MOTION_CLASSES))])
    assert means.max() - means.min() < 0.1 * brightness.std() * 4


def test_the_change_between_frames_reveals_the_direction(motion: Split) -> None:
    size = motion.images.shape[-1]
    step = _blob_positions(motion, 4) - _blob_positions(motion, 0)  # 4 to 8 pixels of travel
    step = (step + size / 2) % size - size / 2  # undo the wrap around the edges
    directions = torch.tensor([(0, -1), (0, 1), (-1, 0), (1, 0)], dtype=torch.float)  # MOTION_CLASSES
    predicted = (step @ directions.T).argmax(1)  # the direction the step points along most
    assert (predicted == motion.labels).float().mean() > 0.95


@pytest.mark.parametrize(
    "make_bundle, class_names",
    [(synthetic_shapes_bundle, SHAPE_CLASSES), (synthetic_motion_bundle, MOTION_CLASSES)],
)
def test_bundles_hold_three_different_splits_with_class_names(make_bundle, class_names) -> None:
    bundle = make_bundle(num_samples=12, seed=0)
    assert bundle.class_names == class_names and bundle.num_classes == len(class_names)
    assert set(bundle.splits) == {"train", "val", "test"}
    assert all(len(split) == 12 for split in bundle.splits.values())
    train, val = bundle.splits["train"].images, bundle.splits["val"].images
    assert not torch.equal(train, val)
