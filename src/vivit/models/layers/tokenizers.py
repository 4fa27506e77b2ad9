"""Turning a video (B, C, T, H, W) into a grid of tokens (B, nt, nh, nw, D).

The paper's two tokenisations (Section 3.2):
- uniform frame sampling: keep every `frame_stride`-th frame and cut each into 2D patches;
- tubelet embedding: non-overlapping spatio-temporal tubes, one linear map each (a Conv3d
  whose kernel equals its stride).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vivit.errors import ConfigError

AXES = ("T", "H", "W")


def same_padding(size: int, patch: int) -> tuple[int, int]:
    """Zeros (before, after) that make `size` a multiple of `patch`, split as TensorFlow's SAME does."""
    total = math.ceil(size / patch) * patch - size
    return total // 2, total - total // 2


def token_grid(size: tuple[int, int, int], patch: tuple[int, int, int], padding: str) -> tuple[int, int, int]:
    """Number of tokens along (T, H, W) for an input of `size`; raises if an axis cannot hold one."""
    grid = []
    for axis, n, p in zip(AXES, size, patch):
        if padding == "valid" and n < p:
            raise ConfigError(
                f"input {axis}={n} is smaller than the token extent {p} along {axis}; "
                f"use an input with {axis} >= {p}, a smaller tubelet_size, or padding='same'"
            )
        grid.append(n // p if padding == "valid" else math.ceil(n / p))
    return tuple(grid)  # type: ignore[return-value]


class TubeletEmbedding(nn.Module):
    """Non-overlapping (t, h, w) tubelets, each mapped linearly to `embed_dim`.

    The map is kept as a Conv3d (kernel = stride = tubelet) so its weights read and load
    like the paper's, but it runs as one matrix product over the cut-out tubelets: the
    same arithmetic, and on CPU a convolution's backward with an 8^3 kernel costs more
    than the rest of keras-seed's training step (benchmarks/throughput.py, docs/benchmarks.md).
    """

    def __init__(self, in_channels: int, embed_dim: int, tubelet_size: tuple[int, int, int], padding: str) -> None:
        super().__init__()
        self.tubelet_size = tubelet_size
        self.padding = padding
        self.projection = nn.Conv3d(in_channels, embed_dim, kernel_size=tubelet_size, stride=tubelet_size)

    def grid(self, size: tuple[int, int, int]) -> tuple[int, int, int]:
        return token_grid(size, self.tubelet_size, self.padding)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        self.grid(tuple(video.shape[2:]))  # raises a readable error for inputs that are too small
        if self.padding == "same":
            # F.pad lists the last axis first: (W, H, T).
            pads = [v for n, p in reversed(list(zip(video.shape[2:], self.tubelet_size))) for v in same_padding(n, p)]
            if any(pads):  # F.pad copies even when it adds nothing: a whole stem output per step
                video = F.pad(video, pads)
        return tubelet_projection(video, self.projection.weight, self.projection.bias)


def tubelet_projection(video: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Conv3d with kernel = stride = weight's (t, h, w), as one GEMM: (B, C, T, H, W) -> (B, nt, nh, nw, D).

    Voxels past the last whole tubelet are dropped, as a VALID convolution drops them.
    """
    _, channels, t, h, w = weight.shape
    b, c = video.shape[:2]
    nt, nh, nw = (n // k for n, k in zip(video.shape[2:], (t, h, w)))
    video = video[:, :, : nt * t, : nh * h, : nw * w]
    tubes = video.reshape(b, c, nt, t, nh, h, nw, w).permute(0, 2, 4, 6, 1, 3, 5, 7)  # (B, nt, nh, nw, C, t, h, w)
    return F.linear(tubes.reshape(b, nt, nh, nw, c * t * h * w), weight.reshape(weight.shape[0], -1), bias)


class FrameSampling(nn.Module):
    """Uniform frame sampling: every `frame_stride`-th frame, cut into 2D patches by a Conv2d."""

    def __init__(
        self, in_channels: int, embed_dim: int, patch_size: tuple[int, int], frame_stride: int, padding: str
    ) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.frame_stride = frame_stride
        self.padding = padding
        self.projection = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)

    def grid(self, size: tuple[int, int, int]) -> tuple[int, int, int]:
        num_frames = math.ceil(size[0] / self.frame_stride)
        _, nh, nw = token_grid((1, *size[1:]), (1, *self.patch_size), self.padding)
        return num_frames, nh, nw

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        self.grid(tuple(video.shape[2:]))
        frames = video[:, :, :: self.frame_stride]  # (B, C, nt, H, W)
        b, c, nt, h, w = frames.shape
        frames = frames.transpose(1, 2).reshape(b * nt, c, h, w)
        if self.padding == "same":
            (top, bottom), (left, right) = (same_padding(n, p) for n, p in zip((h, w), self.patch_size))
            if any((left, right, top, bottom)):
                frames = F.pad(frames, [left, right, top, bottom])
        tokens = self.projection(frames)  # (B*nt, D, nh, nw)
        return tokens.unflatten(0, (b, nt)).permute(0, 1, 3, 4, 2)  # (B, nt, nh, nw, D)


def build_tokenizer(
    tokenizer: str,
    in_channels: int,
    embed_dim: int,
    tubelet_size: tuple[int, int, int],
    frame_stride: int,
    padding: str,
) -> TubeletEmbedding | FrameSampling:
    if tokenizer == "tubelet":
        return TubeletEmbedding(in_channels, embed_dim, tubelet_size, padding)
    if tokenizer == "frames":
        return FrameSampling(in_channels, embed_dim, tubelet_size[1:], frame_stride, padding)
    raise ConfigError(f"Unknown tokenizer '{tokenizer}'; choose one of: tubelet, frames")
