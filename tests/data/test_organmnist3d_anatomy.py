"""Which axis of OrganMNIST3D is the patient's left-right axis, shown on the real samples.

Paired organs (kidneys, femurs, lungs) are mirror images of each other across the
body's midline. So along the left-right axis, and only along it, (a) flipping the
mean right-organ volume turns it into the mean left-organ volume, and (b) the
centre of mass of the tissue around the organ moves from one side to the other
(e.g. the bright mediastinum lies medial to each lung: on opposite sides of the
two lung crops).
"""

from __future__ import annotations

import pytest
import torch

from vivit.data.types import DatasetBundle

AXES = ("T", "H", "W")  # dims 1, 2, 3 of a (N, T, H, W) stack of volumes


def _all_volumes(bundle: DatasetBundle) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.cat([split.images[:, 0] for split in bundle.splits.values()]).double()  # (N, T, H, W)
    labels = torch.cat([split.labels for split in bundle.splits.values()])
    return images, labels


def _bright_tissue_centre(volumes: torch.Tensor) -> torch.Tensor:
    """(3,) mean over volumes of the centre of mass of the voxels brighter than the volume's mean."""
    weights = (volumes - volumes.mean(dim=(1, 2, 3), keepdim=True)).clamp(min=0)  # (N, T, H, W)
    total = weights.sum(dim=(1, 2, 3))
    centres = []
    for dim in (1, 2, 3):
        others = tuple(d for d in (1, 2, 3) if d != dim)
        profile = weights.sum(dim=others)  # (N, side)
        coordinates = torch.arange(profile.shape[1], dtype=profile.dtype)
        centres.append(((profile * coordinates).sum(1) / total).mean())
    return torch.stack(centres)


@pytest.fixture(scope="module")
def paired_organs(organmnist3d: DatasetBundle) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Organ name -> (right-organ volumes, left-organ volumes), from all splits."""
    images, labels = _all_volumes(organmnist3d)
    names = organmnist3d.class_names
    return {
        names[right].removesuffix("-right"): (images[labels == right], images[labels == left])
        for right, left in organmnist3d.left_right_pairs
    }


def test_organmnist3d_left_right_axis_separates_paired_organs(
    organmnist3d: DatasetBundle, paired_organs: dict[str, tuple[torch.Tensor, torch.Tensor]]
) -> None:
    lr = AXES.index(organmnist3d.left_right_axis)
    others = [i for i in range(3) if i != lr]
    shifts = {
        organ: (_bright_tissue_centre(left) - _bright_tissue_centre(right)).abs()
        for organ, (right, left) in paired_organs.items()
    }  # organ -> (3,) voxels, |left - right| along T, H, W
    for organ, shift in shifts.items():
        assert shift.argmax() == lr, f"{organ}: shift {shift.tolist()} is largest off {AXES[lr]}"
    mean_shift = torch.stack(list(shifts.values())).mean(0)
    assert mean_shift[lr] > 4 * mean_shift[others].max(), mean_shift.tolist()


def test_organmnist3d_left_organs_mirror_right_organs_along_the_left_right_axis(
    organmnist3d: DatasetBundle, paired_organs: dict[str, tuple[torch.Tensor, torch.Tensor]]
) -> None:
    lr = AXES.index(organmnist3d.left_right_axis)
    for organ, (right, left) in paired_organs.items():
        mean_right, mean_left = right.mean(0), left.mean(0)  # (T, H, W)
        unflipped = (mean_left - mean_right).abs().mean()
        flipped = [(mean_left - mean_right.flip(dim)).abs().mean() for dim in range(3)]
        assert flipped[lr] < 0.7 * unflipped, f"{organ}: {unflipped:.1f} -> {flipped[lr]:.1f}"
        for dim in set(range(3)) - {lr}:
            assert flipped[dim] > unflipped, f"{organ}: flipping {AXES[dim]} also mirrors"
