"""Batched, seeded augmentation of clips and volumes, applied on the batch's device.

A batch is float32 ``x`` of shape (B, C, T, H, W) in [0, 1] (for volumes T is the
depth axis) and int64 labels ``y`` of shape (B,). Every per-sample decision is a
mask over the batch, so one call is a handful of batched tensor operations, never
a Python loop over samples. All randomness comes from the ``torch.Generator`` the
caller passes, so one seed reproduces a batch exactly.

Order of the steps: flips, 90-degree turns, one resampling for affine + resized
crop, intensity (brightness, contrast, gamma, noise, then clamp to [0, 1]),
erasing, mixing (mixup / cutmix). Every step is off by default, and a config with
every step off returns the batch untouched.

Laterality: datasets such as OrganMNIST3D label left and right organs separately,
so mirroring the patient's left-right axis must exchange those labels. The
augmenter does that for exactly the flipped samples, and refuses (ConfigError) any
transform whose effect on left/right it cannot state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from vivit.errors import ConfigError, DataError
from vivit.validation import check_fields

AXES = ("T", "H", "W")
BATCH_DIM = {"T": 2, "H": 3, "W": 4}  # dims of (B, C, T, H, W)
# F.affine_grid orders grid coordinates (x, y, z) = (W, H, T).
_GRID_INDEX = {"W": 0, "H": 1, "T": 2}
PLANES = ("TH", "TW", "HW")
PADDING_MODES = ("zeros", "border", "reflection")
_PROBABILITIES = (
    "flip_t",
    "flip_h",
    "flip_w",
    "rot90_prob",
    "affine_prob",
    "crop_prob",
    "erase_prob",
    "mix_prob",
)
_STRENGTHS = (
    "affine_degrees",
    "affine_translate",
    "brightness",
    "contrast",
    "gamma",
    "noise_std",
    "mixup_alpha",
    "cutmix_alpha",
)


@dataclass(frozen=True)
class AugmentConfig:
    """Which augmentations to apply; every field defaults to "off".

    Probabilities are per sample. Strengths (brightness, contrast, gamma) are the
    half-width of a per-sample uniform draw, so 0 means off.
    """

    # Mirror an axis with this probability.
    flip_t: float = 0.0
    flip_h: float = 0.0
    flip_w: float = 0.0
    # True: a flip of the left-right axis swaps paired labels. False: refuse such a flip.
    label_aware: bool = True
    # Turn by k * 90 degrees in one plane, k drawn from rot90_k. Quarter turns (k = 1, 3)
    # need a square plane; k = 2 (a flip of both axes) works on any shape.
    rot90_prob: float = 0.0
    rot90_plane: str = "HW"
    rot90_k: tuple[int, ...] = (1, 2, 3)
    # Random affine acting on affine_axes: a rotation of up to +-affine_degrees in every
    # plane of two of those axes, an isotropic zoom in affine_scale (>1 zooms in) and a
    # shift of up to +-affine_translate of the extent along each. Use "HW" for videos.
    affine_prob: float = 0.0
    affine_axes: str = "THW"
    affine_degrees: float = 0.0
    affine_scale: tuple[float, float] = (1.0, 1.0)
    affine_translate: float = 0.0
    affine_padding: str = "zeros"
    # Random resized crop: a box of a fraction in crop_scale of the volume of crop_axes
    # (same aspect), resampled back to the input size.
    crop_prob: float = 0.0
    crop_axes: str = "HW"
    crop_scale: tuple[float, float] = (0.5, 1.0)
    # Intensity: x + U(-b, b); (x - mean) * U(1 - c, 1 + c) + mean; x ** exp(U(-g, g));
    # x + N(0, noise_std^2) per voxel.
    brightness: float = 0.0
    contrast: float = 0.0
    gamma: float = 0.0
    noise_std: float = 0.0
    # Random erasing: zero a 3D box whose side along each axis is a fraction in erase_size.
    erase_prob: float = 0.0
    erase_size: tuple[float, float] = (0.1, 0.4)
    # Mixing with a random partner of the batch. lambda ~ Beta(alpha, alpha); with both
    # alphas set, each mixed sample uses one of the two at random. Off while both are 0.
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    mix_prob: float = 1.0

    def __post_init__(self) -> None:
        check_fields(self, "augment.")  # values from YAML may be of any type
        for name in _PROBABILITIES:
            _check_probability(name, getattr(self, name))
        for name in _STRENGTHS:
            if getattr(self, name) < 0:
                raise ConfigError(f"augment.{name} must be >= 0, got {getattr(self, name)}")
        if self.contrast > 1:
            raise ConfigError(f"augment.contrast must be in [0, 1], got {self.contrast}")
        if self.affine_degrees > 180:
            raise ConfigError(f"augment.affine_degrees must be in [0, 180], got {self.affine_degrees}")
        if self.rot90_plane not in PLANES:
            raise ConfigError(
                f"Unknown augment.rot90_plane '{self.rot90_plane}'; choose one of {', '.join(PLANES)}"
            )
        if not self.rot90_k or any(k not in (1, 2, 3) for k in self.rot90_k):
            raise ConfigError(
                f"augment.rot90_k must list quarter turns from 1, 2, 3, got {list(self.rot90_k)}"
            )
        if self.affine_padding not in PADDING_MODES:
            raise ConfigError(
                f"Unknown augment.affine_padding '{self.affine_padding}'; choose one of {', '.join(PADDING_MODES)}"
            )
        _check_axes("affine_axes", self.affine_axes)
        _check_axes("crop_axes", self.crop_axes)
        _check_range("affine_scale", self.affine_scale, 0.0, math.inf)
        _check_range("crop_scale", self.crop_scale, 0.0, 1.0)
        _check_range("erase_size", self.erase_size, 0.0, 1.0)

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> AugmentConfig:
        """Build from a config file's mapping; unknown keys are an error, lists become tuples."""
        known = {f.name: f for f in fields(cls)}
        for key in settings:
            if key not in known:
                raise ConfigError(f"Unknown augmentation setting '{key}'; valid settings: {', '.join(known)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
        return cls(**values)

    @property
    def flips(self) -> dict[str, float]:
        return {"T": self.flip_t, "H": self.flip_h, "W": self.flip_w}

    @property
    def enabled(self) -> bool:
        """Whether any step can change a batch."""
        mixing = self.mix_prob > 0 and (self.mixup_alpha > 0 or self.cutmix_alpha > 0)
        switches = (
            "flip_t",
            "flip_h",
            "flip_w",
            "rot90_prob",
            "affine_prob",
            "crop_prob",
            "erase_prob",
            "brightness",
            "contrast",
            "gamma",
            "noise_std",
        )
        return mixing or any(getattr(self, name) > 0 for name in switches)


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"augment.{name} must be a probability in [0, 1], got {value}")


def _check_axes(name: str, axes: str) -> None:
    if not axes or any(a not in AXES for a in axes) or len(set(axes)) != len(axes):
        raise ConfigError(f"augment.{name} must be distinct axes from 'THW', got '{axes}'")


def _check_range(name: str, bounds: Sequence[float], low: float, high: float) -> None:
    if len(bounds) != 2 or not (low < bounds[0] <= bounds[1] <= high):
        raise ConfigError(
            f"augment.{name} must be [min, max] with {low} < min <= max <= {high}, got {list(bounds)}"
        )


class BatchAugmenter:
    """Augments a batch: ``x_aug, y_soft = augmenter(x, y, generator)``.

    y_soft is float (B, num_classes): one-hot targets, or mixed ones after mixup/cutmix.
    left_right_pairs lists labels that mirroring ``left_right_axis`` ("T", "H" or "W")
    exchanges. A CPU generator works for a batch on any device; one on the batch's
    device avoids drawing the per-voxel noise on the CPU.
    """

    def __init__(
        self,
        config: AugmentConfig,
        num_classes: int,
        left_right_pairs: Sequence[tuple[int, int]] = (),
        left_right_axis: str | None = None,
    ) -> None:
        self.config = config
        self.num_classes = num_classes
        self.left_right_axis = left_right_axis
        self._mirror_label = mirror_table(num_classes, left_right_pairs, left_right_axis)
        self._has_pairs = bool(left_right_pairs)
        _check_laterality(config, left_right_axis if self._has_pairs else None)

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_batch(x, y, self.num_classes)
        if self.config.enabled:
            x, y = self._flip(x, y, generator)
            x, y = self._rot90(x, y, generator)
            x = self._resample(x, generator)
            x = self._intensity(x, generator)
            x = self._erase(x, generator)
        return self._mix(x, F.one_hot(y, self.num_classes).to(x.dtype), generator)

    def _swap_where(self, y: torch.Tensor, mirrored: torch.Tensor) -> torch.Tensor:
        table = self._mirror_label.to(y.device)
        return torch.where(mirrored, table[y], y)

    def _flip(
        self, x: torch.Tensor, y: torch.Tensor, g: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        for axis, prob in self.config.flips.items():
            if prob == 0:
                continue
            flipped = _coin(g, x.shape[0], prob, x.device)  # (B,)
            x = torch.where(_per_sample(flipped), x.flip(BATCH_DIM[axis]), x)
            if axis == self.left_right_axis and self._has_pairs:
                y = self._swap_where(y, flipped)
        return x, y

    def _rot90(
        self, x: torch.Tensor, y: torch.Tensor, g: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        if c.rot90_prob == 0:
            return x, y
        plane = c.rot90_plane
        dims = (BATCH_DIM[plane[0]], BATCH_DIM[plane[1]])
        if any(k % 2 for k in c.rot90_k) and x.shape[dims[0]] != x.shape[dims[1]]:
            raise ConfigError(
                f"augment.rot90_k {list(c.rot90_k)} has quarter turns, which need a square {plane} plane, "
                f"got {plane[0]}={x.shape[dims[0]]}, {plane[1]}={x.shape[dims[1]]}; use rot90_k: [2]"
            )
        B = x.shape[0]
        choices = torch.tensor(c.rot90_k, device=g.device)
        k = choices[torch.randint(len(c.rot90_k), (B,), generator=g, device=g.device)].to(x.device)
        k = torch.where(_coin(g, B, c.rot90_prob, x.device), k, 0)  # (B,) 0 = not turned
        out = x
        for quarter in c.rot90_k:
            out = torch.where(_per_sample(k == quarter), torch.rot90(x, quarter, dims), out)
        if self._has_pairs and self.left_right_axis in plane:
            # Only k = 2 is allowed here: a half turn mirrors both axes of the plane, once the left-right one.
            y = self._swap_where(y, k == 2)
        return out, y

    def _resample(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Affine and resized crop composed into one grid_sample, so the batch is interpolated once."""
        c = self.config
        if c.affine_prob == 0 and c.crop_prob == 0:
            return x
        B, _, T, H, W = x.shape
        theta = torch.eye(4, device=g.device).expand(B, 4, 4)
        touched = torch.zeros(B, dtype=torch.bool, device=g.device)
        if c.affine_prob > 0:
            chosen = _coin(g, B, c.affine_prob, g.device)
            theta = torch.where(chosen[:, None, None], self._random_affine(B, (T, H, W), g), theta)
            touched |= chosen
        if c.crop_prob > 0:
            chosen = _coin(g, B, c.crop_prob, g.device)
            theta = theta @ torch.where(
                chosen[:, None, None], self._random_crop(B, g), torch.eye(4, device=g.device)
            )
            touched |= chosen
        theta = theta[:, :3, :].to(device=x.device, dtype=x.dtype)  # (B, 3, 4)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, T, H, W, 3)
        warped = F.grid_sample(x, grid, mode="bilinear", padding_mode=c.affine_padding, align_corners=False)
        # Untouched samples keep their exact values rather than an identity resampling.
        return torch.where(_per_sample(touched.to(x.device)), warped, x)

    def _random_affine(self, B: int, shape: tuple[int, int, int], g: torch.Generator) -> torch.Tensor:
        c = self.config
        limit = math.radians(c.affine_degrees)
        angles = torch.zeros(B, len(PLANES), device=g.device)
        for i, plane in enumerate(PLANES):
            if plane[0] in c.affine_axes and plane[1] in c.affine_axes:
                angles[:, i] = _uniform(g, (B,), -limit, limit, g.device)
        on_axis = torch.tensor([a in c.affine_axes for a in AXES], device=g.device)  # (3,) over T, H, W
        zoom = _uniform(g, (B, 1), *c.affine_scale, g.device)
        scale = torch.where(on_axis, zoom, 1.0)
        shift = torch.where(
            on_axis, _uniform(g, (B, 3), -c.affine_translate, c.affine_translate, g.device), 0.0
        )
        return affine_matrix(angles, scale, shift, shape)

    def _random_crop(self, B: int, g: torch.Generator) -> torch.Tensor:
        c = self.config
        fraction = _uniform(g, (B, 1), *c.crop_scale, g.device) ** (1.0 / len(c.crop_axes))  # side per axis
        on_axis = torch.tensor([a in c.crop_axes for a in AXES], device=g.device)
        side = torch.where(on_axis, fraction, 1.0)  # (B, 3) over T, H, W
        # The box lies inside the input: its centre is within +-(1 - side) in normalised coordinates.
        centre = (1 - side) * _uniform(g, (B, 3), -1.0, 1.0, g.device)
        theta = torch.zeros(B, 4, 4, device=g.device)
        for axis_index, axis in enumerate(AXES):
            i = _GRID_INDEX[axis]
            theta[:, i, i] = side[:, axis_index]
            theta[:, i, 3] = centre[:, axis_index]
        theta[:, 3, 3] = 1
        return theta

    def _intensity(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c = self.config
        if not (c.brightness or c.contrast or c.gamma or c.noise_std):
            return x
        B = x.shape[0]
        if c.brightness:
            x = x + _uniform(g, (B, 1, 1, 1, 1), -c.brightness, c.brightness, x.device)
        if c.contrast:
            mean = x.mean(dim=(1, 2, 3, 4), keepdim=True)
            x = (x - mean) * _uniform(g, (B, 1, 1, 1, 1), 1 - c.contrast, 1 + c.contrast, x.device) + mean
        if c.gamma:
            # Clamp first: a fractional power of a negative value is NaN.
            x = x.clamp(0, 1) ** torch.exp(_uniform(g, (B, 1, 1, 1, 1), -c.gamma, c.gamma, x.device))
        if c.noise_std:
            x = x + c.noise_std * torch.randn(x.shape, generator=g, device=g.device).to(x.device)
        return x.clamp(0, 1)

    def _erase(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c = self.config
        if c.erase_prob == 0:
            return x
        B, _, T, H, W = x.shape
        sides = _uniform(g, (B, 3), *c.erase_size, g.device)
        start, stop = random_boxes(sides, (T, H, W), g)
        erased = box_mask(start, stop, (T, H, W)).to(x.device)  # (B, 1, T, H, W)
        erased &= _per_sample(_coin(g, B, c.erase_prob, x.device))
        return x.masked_fill(erased, 0.0)

    def _mix(
        self, x: torch.Tensor, y_soft: torch.Tensor, g: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        if c.mix_prob == 0 or (c.mixup_alpha == 0 and c.cutmix_alpha == 0):
            return x, y_soft
        B, _, T, H, W = x.shape
        partner = torch.randperm(B, generator=g, device=g.device).to(x.device)
        x_partner = x[partner]  # the partners as they were before mixing
        mixed = _coin(g, B, c.mix_prob, x.device)
        if c.mixup_alpha > 0 and c.cutmix_alpha > 0:
            by_cutmix = _coin(g, B, 0.5, x.device)
        else:
            by_cutmix = torch.full((B,), c.cutmix_alpha > 0, device=x.device)
        lam = torch.ones(B, device=x.device, dtype=x.dtype)  # weight of the sample itself
        out = x
        if c.mixup_alpha > 0:
            chosen = mixed & ~by_cutmix
            lam = torch.where(chosen, _beta(g, c.mixup_alpha, B).to(x.device, x.dtype), lam)
            weight = lam.view(B, 1, 1, 1, 1)
            out = torch.where(_per_sample(chosen), weight * x + (1 - weight) * x_partner, out)
        if c.cutmix_alpha > 0:
            chosen = mixed & by_cutmix
            # A box of volume fraction (1 - lambda): each side is (1 - lambda)^(1/3) of its axis.
            sides = (1 - _beta(g, c.cutmix_alpha, B)).clamp(0, 1)[:, None].expand(B, 3) ** (1 / 3)
            start, stop = random_boxes(sides.to(g.device), (T, H, W), g)
            # Rounding the box to whole voxels changes its volume; lambda follows the real box.
            box_fraction = (stop - start).prod(dim=1).to(x.device, x.dtype) / (T * H * W)
            lam = torch.where(chosen, 1 - box_fraction, lam)
            pasted = box_mask(start, stop, (T, H, W)).to(x.device) & _per_sample(chosen)
            out = torch.where(pasted, x_partner, out)
        y_mixed = lam[:, None] * y_soft + (1 - lam[:, None]) * y_soft[partner]
        return out, y_mixed


def affine_matrix(
    angles: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, shape: tuple[int, int, int]
) -> torch.Tensor:
    """Homogeneous (B, 4, 4) matrices for F.affine_grid mapping output to input coordinates.

    angles: (B, 3) radians for the planes TH, TW, HW; +90 degrees turns a sample as
    torch.rot90(x, 1, dims=(first axis, second axis)) does.
    scale: (B, 3) zoom along T, H, W (>1 zooms in).
    shift: (B, 3) translation along T, H, W as a fraction of each extent.
    The rotation happens in voxel units, not normalised ones, so a non-cubic volume is
    turned rigidly instead of being sheared: theta = S^-1 R S diag(1/scale), S = sizes.
    """
    B = angles.shape[0]
    device = angles.device
    rotation = torch.eye(3, device=device).repeat(B, 1, 1)  # (B, 3, 3) in grid order (W, H, T)
    for plane_index, plane in enumerate(PLANES):
        i, j = _GRID_INDEX[plane[0]], _GRID_INDEX[plane[1]]
        cos, sin = torch.cos(angles[:, plane_index]), torch.sin(angles[:, plane_index])
        turn = torch.eye(3, device=device).repeat(B, 1, 1)
        turn[:, i, i], turn[:, i, j], turn[:, j, i], turn[:, j, j] = cos, sin, -sin, cos
        rotation = rotation @ turn
    order = [AXES.index(a) for a in ("W", "H", "T")]  # (T, H, W) -> grid order
    sizes = torch.tensor([shape[k] for k in order], dtype=torch.float32, device=device)
    linear = rotation * sizes[None, None, :] / sizes[None, :, None] / scale[:, None, order]
    theta = torch.zeros(B, 4, 4, device=device)
    theta[:, :3, :3] = linear
    theta[:, :3, 3] = 2 * shift[:, order]  # normalised coordinates span 2 per axis
    theta[:, 3, 3] = 1
    return theta


def random_boxes(
    sides: torch.Tensor, shape: tuple[int, int, int], g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes inside a (T, H, W) volume: sides (B, 3) as fractions -> start, stop (B, 3) int64."""
    sizes = torch.tensor(shape, device=sides.device)
    length = (sides * sizes).round().long().clamp(min=0).minimum(sizes)
    start = (
        torch.rand(sides.shape, generator=g, device=g.device).to(sides.device) * (sizes - length + 1)
    ).long()
    return start, start + length


def box_mask(start: torch.Tensor, stop: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """Boolean (B, 1, T, H, W) mask of the voxels inside each sample's box."""
    inside = [
        (torch.arange(n, device=start.device) >= start[:, k, None])
        & (torch.arange(n, device=start.device) < stop[:, k, None])
        for k, n in enumerate(shape)
    ]  # (B, T), (B, H), (B, W)
    return (
        inside[0][:, None, :, None, None]
        & inside[1][:, None, None, :, None]
        & inside[2][:, None, None, None, :]
    )


def mirror_table(num_classes: int, pairs: Sequence[tuple[int, int]], axis: str | None) -> torch.Tensor:
    """label -> its mirror image's label (identity for unpaired labels)."""
    if (pairs or axis is not None) and axis not in AXES:
        raise ConfigError(
            f"left_right_axis must be one of T, H, W when left_right_pairs are given, got {axis!r}"
        )
    table = torch.arange(num_classes)
    for left, right in pairs:
        if not (0 <= left < num_classes and 0 <= right < num_classes):
            raise ConfigError(
                f"left_right_pairs ({left}, {right}) names a label outside 0..{num_classes - 1}"
            )
        table[left], table[right] = right, left
    return table


def _check_laterality(config: AugmentConfig, axis: str | None) -> None:
    """Refuse transforms whose effect on left/right labels is not a plain swap or nothing."""
    if axis is None or not config.enabled:
        return
    if not config.label_aware and config.flips[axis] > 0:
        raise ConfigError(
            f"augment.flip_{axis.lower()} mirrors the left-right axis, which would mislabel paired organs; "
            "set label_aware: true to swap their labels, or turn the flip off"
        )
    if (
        config.rot90_prob > 0
        and axis in config.rot90_plane
        and (not config.label_aware or tuple(config.rot90_k) != (2,))
    ):
        raise ConfigError(
            f"augment.rot90_plane {config.rot90_plane} turns the left-right axis {axis} into another, which makes "
            "left/right labels ambiguous; use another plane, or rot90_k: [2] with label_aware: true"
        )
    # A rotation by theta keeps left on the left while cos(theta) > 0.
    turns_axis = axis in config.affine_axes and len(config.affine_axes) > 1
    if config.affine_prob > 0 and turns_axis and config.affine_degrees >= 90:
        raise ConfigError(
            f"augment.affine_degrees {config.affine_degrees} can turn the left-right axis {axis} past 90 degrees, "
            "which swaps left and right; use less than 90"
        )


def _check_batch(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> None:
    if x.ndim != 5 or not x.is_floating_point():
        raise DataError(
            f"augment expects a float batch (B, C, T, H, W), got {x.dtype} of shape {tuple(x.shape)}"
        )
    if y.shape != (x.shape[0],) or y.dtype != torch.int64:
        raise DataError(
            f"augment expects int64 labels of shape ({x.shape[0]},), got {y.dtype} of shape {tuple(y.shape)}"
        )
    if y.numel() and not 0 <= int(y.min()) <= int(y.max()) < num_classes:
        raise DataError(
            f"augment got labels outside 0..{num_classes - 1}: min {int(y.min())}, max {int(y.max())}"
        )


def _per_sample(mask: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 1, 1, 1, 1), to select whole samples of a (B, C, T, H, W) batch."""
    return mask.view(-1, 1, 1, 1, 1)


def _uniform(
    g: torch.Generator, shape: tuple[int, ...], low: float, high: float, device: torch.device
) -> torch.Tensor:
    # Drawn on the generator's device so a CPU generator reproduces a batch on any device.
    return (torch.rand(shape, generator=g, device=g.device) * (high - low) + low).to(device)


def _coin(g: torch.Generator, n: int, prob: float, device: torch.device) -> torch.Tensor:
    """(n,) bool, each True with probability prob."""
    return _uniform(g, (n,), 0.0, 1.0, device) < prob


def _beta(g: torch.Generator, alpha: float, n: int) -> torch.Tensor:
    """(n,) draws from Beta(alpha, alpha) on the generator's device.

    torch's Beta cannot take a generator, so numpy draws it from a seed taken from ours.
    """
    seed = int(torch.randint(0, 2**62, (1,), generator=g, device=g.device).item())
    draws = np.random.default_rng(seed).beta(alpha, alpha, size=n)
    return torch.from_numpy(draws).float().to(g.device)
