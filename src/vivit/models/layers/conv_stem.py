"""An optional convolutional stem before the tokenizer (not in the ViViT paper).

Early convolutions help transformers see better (Xiao et al., 2021, arXiv 2106.14881): a
few small convolutions before the patch embedding give it local features instead of raw
pixels, which makes ViTs train more stably and need less data. Here each layer is a
3x3x3 convolution with stride 1 and SAME padding, a GroupNorm and a GELU, so the stem
keeps the input's (T, H, W) and the tokenizer cuts the same token grid from its output as
it would from the input: positions, variants and checkpoints of the token grid are
unchanged, only the channels the tokenizer reads are the stem's.

GroupNorm with one group (each sample normalised over its channels and voxels) rather than
Xiao et al.'s BatchNorm: it keeps no running statistics, so an average of the weights (EMA),
every DDP rank and a batch of one all compute the same function. BatchNorm's running
statistics, averaged by the EMA, lagged far behind the averaged weights: on OrganMNIST3D the
EMA model read val ACC 0.12 at epoch 15 where the same weights with recomputed statistics
read 0.75 (2026-11-29, a pilot of `vivit-medmnist` with an 8-channel BatchNorm stem).
"""

from __future__ import annotations

from torch import nn


class ConvStem(nn.Sequential):
    """(B, in_channels, T, H, W) -> (B, channels[-1], T, H, W)."""

    def __init__(self, in_channels: int, channels: tuple[int, ...]) -> None:
        layers: list[nn.Module] = []
        previous = in_channels
        for width in channels:
            # No bias: the GroupNorm that follows subtracts any constant.
            layers += [nn.Conv3d(previous, width, kernel_size=3, padding=1, bias=False), nn.GroupNorm(1, width), nn.GELU()]
            previous = width
        super().__init__(*layers)
        self.out_channels = previous


def build_stem(in_channels: int, channels: tuple[int, ...]) -> nn.Module:
    """The stem for `channels` (one convolution each), or nothing when there are none."""
    return ConvStem(in_channels, channels) if channels else nn.Identity()


def stem_out_channels(in_channels: int, channels: tuple[int, ...]) -> int:
    """Channels the tokenizer reads: the last stem layer's, or the input's without a stem."""
    return channels[-1] if channels else in_channels
