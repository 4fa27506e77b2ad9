"""Test-time augmentation (TTA): a model's class probabilities averaged over mirrored views.

Only views the model was trained to read are used: every combination of the flips its
recipe's augmentation draws (`augment.flip_t/h/w` above 0). On `vivit-medmnist` that is the
volume and its mirror along T. A view that mirrors the left-right axis of a dataset with
paired organs shows the mirror image, whose label is the paired one (the left kidney becomes
a right kidney), so that view's probabilities are permuted back before averaging, exactly as
training swapped the labels of flipped volumes.

TTA figures are reported apart from single-view ones: they cost one forward pass per view.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import torch
from torch import nn

from vivit.data.augment import BATCH_DIM, AugmentConfig, mirror_table
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError


class FlipViews(nn.Module):
    """Wraps a classifier: log of its mean class probabilities over flipped views of the input.

    The output goes wherever logits go: softmax gives back the averaged probabilities, and the
    cross-entropy of it is the negative log-likelihood of the averaged prediction.
    """

    def __init__(
        self, model: nn.Module, axes: Sequence[str], mirror: torch.Tensor | None = None, left_right_axis: str | None = None
    ) -> None:
        super().__init__()
        unknown = [axis for axis in axes if axis not in BATCH_DIM]
        if unknown or not axes:
            raise ConfigError(f"TTA flips axes among T, H, W; got {list(axes)}")
        self.model = model
        self.views = [view for size in range(len(axes) + 1) for view in combinations(axes, size)]
        self.left_right_axis = left_right_axis
        self.register_buffer("mirror", mirror if mirror is not None else torch.empty(0, dtype=torch.long), persistent=False)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        total = None
        for view in self.views:
            flipped = video.flip([BATCH_DIM[axis] for axis in view]) if view else video
            probabilities = self.model(flipped).float().softmax(dim=-1)
            if self.left_right_axis in view and self.mirror.numel():
                # The mirror image's class j is this input's class mirror[j]: read them back.
                probabilities = probabilities[:, self.mirror]
            total = probabilities if total is None else total + probabilities
        mean = total / len(self.views)
        return mean.clamp_min(torch.finfo(mean.dtype).tiny).log()


def flip_views(model: nn.Module, augment: AugmentConfig, bundle: DatasetBundle, run_name: str) -> FlipViews:
    """TTA over the flips `augment` trained with, label-aware on `bundle`'s left/right pairs."""
    axes = [axis for axis, prob in augment.flips.items() if prob > 0]
    if not axes:
        raise ConfigError(
            f"Run {run_name} trained with no flips (augment.flip_t, flip_h and flip_w are 0), so it has learnt no "
            "view but the original to read; evaluate it without --tta"
        )
    pairs, axis = bundle.left_right_pairs, bundle.left_right_axis
    mirror = mirror_table(bundle.num_classes, pairs, axis) if pairs else None
    return FlipViews(model, axes, mirror, axis if pairs else None)
