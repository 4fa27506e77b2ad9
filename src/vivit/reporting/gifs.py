"""Animated GIFs of samples: one frame per slice along T (volumes) or per video frame.

Videos play forward, as time runs. Volumes sweep from the middle slice to the last, back
to the first and up to the middle again: the loop never jumps, and the first frame, the
one a still image shows, is the middle of the volume rather than its (often empty) edge.

Small inputs (28^3 MedMNIST) are upscaled by whole pixels, nearest neighbour, so that
voxels stay sharp and a sample is big enough to read; a heat map can be blended over
the frames, and a caption drawn in a band beneath them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from vivit.output_locations import staged

# Samples are scaled up by whole pixels until their longer side reaches this.
DISPLAY_SIZE = 112
FRAME_MS = 100
HEAT_ALPHA = 0.55
CAPTION_FONT_SIZE = 12


def caption(predicted: str, true: str | None = None, probability: float | None = None) -> str:
    """'T: liver | P: liver' (true | predicted, as the Keras ViViT example titles its grid);
    without a known truth the P part alone, and '(p=0.93)' after it when `probability` is given."""
    prediction = f"P: {predicted}" if probability is None else f"P: {predicted} (p={probability:.2f})"
    return prediction if true is None else f"T: {true} | {prediction}"


def display_scale(height: int, width: int, target: int = DISPLAY_SIZE) -> int:
    """Whole-pixel factor that brings the longer side up to `target` (1 if already there)."""
    return max(1, math.ceil(target / max(height, width)))


def play_order(sample: np.ndarray | torch.Tensor) -> np.ndarray:
    """Indices along T of a (C, T, H, W) sample in the order the GIF shows them (see the
    module's docstring). Empty slices at either end of a volume are left out: a mask
    filling a third of the volume would otherwise be black for two thirds of the loop."""
    num_frames = sample.shape[1]
    if not is_volume(sample):
        return np.arange(num_frames)
    filled = np.flatnonzero(to_uint8(sample)[0].reshape(num_frames, -1).max(axis=1) > 0)
    first, last = (int(filled[0]), int(filled[-1])) if filled.size else (0, num_frames - 1)
    return first + sweep(last - first + 1)


def is_volume(sample: np.ndarray | torch.Tensor) -> bool:
    """Videos are decoded to RGB; anything else (MedMNIST, .npy stacks) is a volume."""
    return sample.shape[0] != 3


def sweep(num_slices: int) -> np.ndarray:
    """0 .. n-1 .. 1, rotated to start at the middle slice: continuous, loop included."""
    there_and_back = np.r_[np.arange(num_slices), np.arange(num_slices - 2, 0, -1)]
    return np.roll(there_and_back, -(num_slices // 2))


def to_uint8(sample: np.ndarray | torch.Tensor) -> np.ndarray:
    """A (C, T, H, W) sample as uint8: uint8 as is, floats in [0, 1] scaled to 0-255."""
    array = sample.detach().cpu().numpy() if isinstance(sample, torch.Tensor) else np.asarray(sample)
    if array.dtype == np.uint8:
        return array
    return (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)


def sample_frames(sample: np.ndarray | torch.Tensor, scale: int | None = None) -> np.ndarray:
    """(C, T, H, W) -> (T, H*s, W*s, 3) uint8 RGB frames. One channel is shown as grey,
    three as colour; other channel counts show their first channel."""
    array = to_uint8(sample)
    channels, _, height, width = array.shape
    rgb = array if channels == 3 else np.repeat(array[:1], 3, axis=0)
    frames = rgb.transpose(1, 2, 3, 0)  # (T, H, W, 3)
    s = scale or display_scale(height, width)
    return frames.repeat(s, axis=1).repeat(s, axis=2)


def overlay_heat(frames: np.ndarray, heat: np.ndarray, alpha: float = HEAT_ALPHA) -> np.ndarray:
    """Blend `heat` (T, H, W) in [0, 1] over `frames` (T, H*s, W*s, 3) with the inferno
    colour map. The opacity grows with the heat, so cold regions keep the image; NaN
    (voxels no token covers) leaves the image as it is."""
    from matplotlib import colormaps  # only reports with attention maps need it

    scale = frames.shape[1] // heat.shape[1]
    heat = heat.repeat(scale, axis=1).repeat(scale, axis=2)
    covered = np.isfinite(heat)
    heat = np.where(covered, heat, 0.0)
    colours = colormaps["inferno"](heat)[..., :3] * 255  # (T, H, W, 3)
    opacity = np.where(covered, alpha * (0.3 + 0.7 * heat), 0.0)[..., None]
    return (frames * (1 - opacity) + colours * opacity).round().astype(np.uint8)


def side_by_side(*panels: np.ndarray, gap: int = 4) -> np.ndarray:
    """Frames (T, H, W, 3) of the same shape next to each other, white gaps between."""
    spacer = np.full((*panels[0].shape[:2], gap, 3), 255, dtype=np.uint8)
    pieces = [piece for panel in panels for piece in (panel, spacer)][:-1]
    return np.concatenate(pieces, axis=2)


def add_caption(frames: np.ndarray, text: str, font_size: int = CAPTION_FONT_SIZE) -> np.ndarray:
    """Frames with `text` in a white band beneath; the canvas widens if the text needs it.
    A ' | ' in the text starts a new line."""
    font = ImageFont.load_default(size=font_size)
    lines = text.split(" | ")
    line_height = font_size + 4
    text_width = max(math.ceil(font.getlength(line)) for line in lines) + 8
    count, height, width, _ = frames.shape
    canvas_width = max(width, text_width)
    band = Image.new("RGB", (canvas_width, line_height * len(lines) + 4), "white")
    draw = ImageDraw.Draw(band)
    for row, line in enumerate(lines):
        draw.text((canvas_width / 2, 2 + row * line_height), line, fill="black", font=font, anchor="ma")
    canvas = np.full((count, height + band.height, canvas_width, 3), 255, dtype=np.uint8)
    left = (canvas_width - width) // 2
    canvas[:, :height, left : left + width] = frames
    canvas[:, height:] = np.asarray(band)
    return canvas


def write_gif(path: Path, frames: np.ndarray, frame_ms: int = FRAME_MS) -> Path:
    """Write (T, H, W, 3) uint8 frames as a looping GIF.

    Grey frames are written as greyscale, which needs no colour reduction; colour frames
    get a fast octree palette each. Pillow's default (median cut) is ~5x slower, and GIFs
    are most of the time a report takes.
    """
    if (frames == frames[..., :1]).all():
        images = [Image.fromarray(frame[..., 0]) for frame in frames]
    else:
        octree, exact = Image.Quantize.FASTOCTREE, Image.Dither.NONE
        images = [Image.fromarray(frame).quantize(256, method=octree, dither=exact) for frame in frames]
    with staged(path) as staging:  # a full disk leaves no half GIF under the final name
        images[0].save(staging, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0)
    return path


def write_captioned_gif(path: Path, sample: np.ndarray | torch.Tensor, text: str) -> Path:
    """One (C, T, H, W) sample as a GIF in its play order, `text` beneath it."""
    return write_gif(path, add_caption(sample_frames(sample)[play_order(sample)], text))
