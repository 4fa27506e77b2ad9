"""Procedural datasets for tests and smoke runs: no download, exact from a seed.

synthetic-shapes: single-channel volumes (1, S, S, S), each holding one 3D shape at a
random pose, size and position; the class is the shape. It exercises the volume path
of the models the way MedMNIST does.

synthetic-motion: RGB videos (3, T, S, S) of a Gaussian blob sliding at constant
speed; the class is the direction. The blob starts anywhere and wraps around the
edges, so its position in any one frame is uniform whatever the class: only the
change between frames tells the class, which is what a video model must learn and
what a frame-by-frame model cannot.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from vivit.data.registry import SPLITS
from vivit.data.seeds import derive_seed
from vivit.data.types import DatasetBundle, Split

SHAPE_CLASSES = ("sphere", "cube", "torus", "cylinder", "cone")
MOTION_CLASSES = ("left", "right", "up", "down")
# Unit step per frame of each motion class, as (row, column): "up" is towards row 0.
_MOTION_STEPS = np.array([(0, -1), (0, 1), (-1, 0), (1, 0)], dtype=np.float32)

# Bounds the float32 work arrays to ~16 MB per chunk of samples, whatever the size.
_ELEMENTS_PER_CHUNK = 1 << 22


def make_synthetic_shapes(num_samples: int, size: int = 28, seed: int = 0) -> Split:
    """Volumes (N, 1, S, S, S) uint8, one randomly posed shape each; labels index SHAPE_CLASSES."""
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(rng, num_samples, len(SHAPE_CLASSES))
    rotations = _random_rotations(rng, num_samples)  # (N, 3, 3)
    centres = rng.uniform(-0.3, 0.3, size=(num_samples, 1, 3)).astype(np.float32)
    radii = rng.uniform(0.35, 0.55, size=(num_samples, 1, 1)).astype(np.float32)
    axis = (torch.arange(size) + 0.5) / size * 2 - 1  # voxel centres in [-1, 1]
    grid = torch.cartesian_prod(axis, axis, axis)  # (S^3, 3)
    rotations_t, centres_t, radii_t = (torch.from_numpy(a) for a in (rotations, centres, radii))

    def inside(chunk: slice) -> np.ndarray:
        # Rotate the grid into each shape's own frame: p_local = R^T (p - c) / r.
        local = torch.bmm(grid[None] - centres_t[chunk], rotations_t[chunk]) / radii_t[chunk]
        return _shape_masks(local, labels[chunk]).numpy()  # (n, S^3) bool

    mask = _in_chunks(num_samples, grid.shape[0], inside).reshape(num_samples, 1, size, size, size)
    foreground = rng.uniform(140, 230, size=(num_samples, 1, 1, 1, 1)).astype(np.float32)
    background = rng.uniform(10, 60, size=(num_samples, 1, 1, 1, 1)).astype(np.float32)
    noise_level = rng.uniform(5, 20, size=(num_samples, 1, 1, 1, 1)).astype(np.float32)
    volumes = np.where(mask, foreground, background)  # (N, 1, S, S, S) float32
    volumes += noise_level * rng.standard_normal(volumes.shape, dtype=np.float32)
    return _to_split(volumes, labels)


def make_synthetic_motion(
    num_samples: int, num_frames: int = 16, size: int = 32, seed: int = 0
) -> Split:
    """Videos (N, 3, T, S, S) uint8 of a wrapping, moving blob; labels index MOTION_CLASSES."""
    rng = np.random.default_rng(seed)
    labels = _balanced_labels(rng, num_samples, len(MOTION_CLASSES))
    starts = rng.uniform(0, size, size=(num_samples, 1, 2)).astype(np.float32)  # (N, 1, 2) row, col
    speeds = rng.uniform(1.0, 2.0, size=(num_samples, 1, 1)).astype(np.float32)
    widths = rng.uniform(1.5, 3.0, size=(num_samples, 1, 1, 1)).astype(np.float32)
    colours = rng.uniform(120, 255, size=(num_samples, 3, 1, 1, 1)).astype(np.float32)
    times = np.arange(num_frames, dtype=np.float32)[None, :, None]  # (1, T, 1)
    centres = (starts + speeds * times * _MOTION_STEPS[labels][:, None, :]) % size  # (N, T, 2)
    pixels = np.arange(size, dtype=np.float32) + 0.5

    def blobs(chunk: slice) -> np.ndarray:
        # Distance on the torus, so a blob leaving one edge re-enters at the opposite one.
        offsets = pixels[None, None, :, None] - centres[chunk, :, None, :]  # (n, T, S, 2)
        offsets = (offsets + size / 2) % size - size / 2
        rows, cols = offsets[..., 0], offsets[..., 1]  # (n, T, S) each
        squared = rows[..., :, None] ** 2 + cols[..., None, :] ** 2  # (n, T, S, S)
        return np.exp(-squared / (2 * widths[chunk] ** 2))

    blob = _in_chunks(num_samples, num_frames * size * size, blobs)[:, None]  # (N, 1, T, S, S)
    background = rng.uniform(0, 40, size=(num_samples, 3, 1, 1, 1)).astype(np.float32)
    videos = background + colours * blob  # (N, 3, T, S, S)
    videos += 8 * rng.standard_normal(videos.shape, dtype=np.float32)
    return _to_split(videos, labels)


def synthetic_shapes_bundle(num_samples: int = 256, size: int = 28, seed: int = 0) -> DatasetBundle:
    """synthetic-shapes with `num_samples` samples in each of train, val and test."""
    splits = {
        split: make_synthetic_shapes(num_samples, size, _split_seed(seed, split))
        for split in SPLITS
    }
    return DatasetBundle("synthetic-shapes", "multi-class", SHAPE_CLASSES, splits)


def synthetic_motion_bundle(
    num_samples: int = 256, num_frames: int = 16, size: int = 32, seed: int = 0
) -> DatasetBundle:
    """synthetic-motion with `num_samples` samples in each of train, val and test."""
    splits = {
        split: make_synthetic_motion(num_samples, num_frames, size, _split_seed(seed, split))
        for split in SPLITS
    }
    return DatasetBundle("synthetic-motion", "multi-class", MOTION_CLASSES, splits)


def _shape_masks(local: torch.Tensor, labels: np.ndarray) -> torch.Tensor:
    """Whether each point (n, P, 3), in its shape's unit frame, lies inside shape `labels` (n,)."""
    masks = torch.empty(local.shape[:2], dtype=torch.bool)
    for label, inside in enumerate(_SHAPE_TESTS):  # a loop over classes, not samples
        members = torch.from_numpy(np.flatnonzero(labels == label))
        masks[members] = inside(local[members])
    return masks


def _sphere(p: torch.Tensor) -> torch.Tensor:
    return p.square().sum(-1) <= 1.0


def _cube(p: torch.Tensor) -> torch.Tensor:
    return p.abs().amax(-1) <= 0.75


def _torus(p: torch.Tensor) -> torch.Tensor:  # ring around the z axis
    return (p[..., :2].norm(dim=-1) - 0.7).square() + p[..., 2].square() <= 0.3**2


def _cylinder(p: torch.Tensor) -> torch.Tensor:  # along the z axis
    return (p[..., :2].norm(dim=-1) <= 0.6) & (p[..., 2].abs() <= 0.9)


def _cone(p: torch.Tensor) -> torch.Tensor:  # apex at z = 0.9, base at z = -0.9
    z = p[..., 2]
    return (z.abs() <= 0.9) & (p[..., :2].norm(dim=-1) <= 0.8 * (0.9 - z) / 1.8)


# Indexed by label, in the order of SHAPE_CLASSES.
_SHAPE_TESTS = (_sphere, _cube, _torus, _cylinder, _cone)


def _random_rotations(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 3, 3) rotations, uniform over SO(3) via normalised Gaussian quaternions."""
    q = rng.standard_normal((count, 4)).astype(np.float32)
    w, x, y, z = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=1,
    )


def _balanced_labels(rng: np.random.Generator, count: int, num_classes: int) -> np.ndarray:
    """Labels whose class counts differ by at most one, in random order."""
    return rng.permutation(np.arange(count) % num_classes)


def _in_chunks(
    count: int, elements_per_sample: int, make: Callable[[slice], np.ndarray]
) -> np.ndarray:
    step = max(1, _ELEMENTS_PER_CHUNK // elements_per_sample)
    return np.concatenate([make(slice(start, start + step)) for start in range(0, count, step)])


def _split_seed(seed: int, split: str) -> int:
    """Independent seeds per split, so val and test never repeat a training sample."""
    return derive_seed(seed, SPLITS.index(split))


def _to_split(values: np.ndarray, labels: np.ndarray) -> Split:
    images = torch.from_numpy(values).round_().clamp_(0, 255).to(torch.uint8)
    return Split(images=images, labels=torch.from_numpy(labels.astype(np.int64)))
