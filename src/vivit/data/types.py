"""The in-memory form every dataset takes: uint8 arrays of whole splits.

A split is small enough to hold in memory as uint8 (a 28^3 MedMNIST split is tens
of MB), so the loader can batch by indexing and convert to float once per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from vivit.data.video import VideoFiles


@dataclass(frozen=True)
class Split:
    """One split of a dataset.

    images: uint8 tensor of shape (N, C, T, H, W); for volumes T is the depth axis.
    labels: int64 tensor of shape (N,).
    """

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class DatasetBundle:
    """A named dataset: its classes and its splits ('train', 'val', 'test')."""

    name: str
    task: str  # "multi-class" or "binary"
    class_names: tuple[str, ...]
    splits: dict[str, Split]
    # Pairs of labels that a flip of the left-right axis exchanges (e.g. kidney-left/right).
    left_right_pairs: tuple[tuple[int, int], ...] = field(default_factory=tuple)
    # Which axis of (T, H, W) is the patient's left-right axis, if the data has one.
    left_right_axis: str | None = None
    # A video folder's files and how each became a clip: for multi-view evaluation and for
    # the preprocessing record of checkpoints. None for volumes and generated data.
    videos: VideoFiles | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """(C, T, H, W) of one sample."""
        any_split = next(iter(self.splits.values()))
        return tuple(any_split.images.shape[1:])  # type: ignore[return-value]
