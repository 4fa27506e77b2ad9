"""An optional convolutional stem before the tokenizer (not in the ViViT paper).

Early convolutions help transformers see better (Xiao et al., 2021, arXiv 2106.14881): a
few small convolutions before the patch embedding give it local features instead of raw
pixels, which makes ViTs train more stably and need less data. Here each layer is a
3x3x3 convolution with stride 1 and SAME padding followed by a GELU, so the stem keeps the
input's (T, H, W) and the tokenizer cuts the same token grid from its output as it would
from the input: positions and variants are unchanged, only the channels the tokenizer reads
are the stem's.

No normalisation, unlike Xiao et al.'s BatchNorm: with an EMA of the weights (as
`vivit-medmnist` trains), BatchNorm's running statistics are averaged too and lag far behind
the averaged weights early in training, which wrecked validation in a pilot; GroupNorm keeps no
statistics but normalises each volume as a whole, discarding its overall intensity, and learned
no faster than no normalisation. Without one, the weights alone define the model: an EMA of
them, every DDP rank and a batch of one compute the same function, and a token sees only its
tubelet and one voxel more on each side per layer.
"""

from __future__ import annotations

from torch import nn


class ConvStem(nn.Sequential):
    """(B, in_channels, T, H, W) -> (B, channels[-1], T, H, W)."""

    def __init__(self, in_channels: int, channels: tuple[int, ...]) -> None:
        layers: list[nn.Module] = []
        previous = in_channels
        for width in channels:
            layers += [nn.Conv3d(previous, width, kernel_size=3, padding=1), nn.GELU()]
            previous = width
        super().__init__(*layers)
        self.out_channels = previous
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # He initialisation keeps the features' scale through each GELU; the transformer's
        # std-0.02 initialisation would shrink a one-channel input about tenfold at once.
        for layer in self:
            if isinstance(layer, nn.Conv3d):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)


def build_stem(in_channels: int, channels: tuple[int, ...]) -> nn.Module:
    """The stem for `channels` (one convolution each), or nothing when there are none."""
    return ConvStem(in_channels, channels) if channels else nn.Identity()


def stem_out_channels(in_channels: int, channels: tuple[int, ...]) -> int:
    """Channels the tokenizer reads: the last stem layer's, or the input's without a stem."""
    return channels[-1] if channels else in_channels
