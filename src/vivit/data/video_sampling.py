"""Where a clip comes from in a video: which frames (in time) and which window (in space).

Pure arithmetic on frame counts and sizes, so every rule of the evaluation protocol can be
checked without decoding a file.

Time (ViViT, Sec. 4.1):
- "uniform": the paper's uniform frame sampling. The video is cut into ``num_frames`` equal
  segments and one frame of each is taken, so a clip spans the whole video. One view takes
  the centre of each segment; ``num_clips`` views move that frame from the first of its
  segment to the last, so the first view starts at frame 0 and the last ends on the last frame.
- "dense": ``num_frames`` frames ``stride`` apart. One view starts at the centre; ``num_clips``
  views start evenly from frame 0 to the last start that still fits, so the first view
  begins the video and the last one ends it (the Kinetics convention of several temporal
  clips spread over the video).

A video shorter than one clip: uniform sampling repeats frames (each segment holds less than
one frame), dense sampling pads by repeating the last frame; every view is then the same.

Space (the Kinetics convention, as Scenic and mmaction2 implement it): each frame is resized,
keeping its aspect, so that its short side is ``short_side`` (at least the crop), then a
crop is cut. One crop is the centre; three crops are left, centre and right along the long
side (top, centre, bottom for a portrait video), each centred on the short side.
"""

from __future__ import annotations

import numbers

import numpy as np

from vivit.errors import ConfigError

SAMPLINGS = ("uniform", "dense")


def clip_span(num_frames: int, sampling: str, stride: int) -> int:
    """Frames a dense clip covers from its first to its last frame (uniform: the whole video)."""
    return (num_frames - 1) * stride + 1 if sampling == "dense" else num_frames


def frame_indices(available: int, num_frames: int, sampling: str, stride: int, position: float = 0.5) -> np.ndarray:
    """Indices (num_frames,) of one clip into a video of ``available`` frames.

    ``position`` in [0, 1] places the clip: for dense sampling its start between the first
    and the last start that fits; for uniform sampling the frame taken within each segment.
    """
    if sampling == "uniform":
        # Frame i * segment + segment / 2 + (position - 1/2) * (segment - 1): the centre of each
        # segment at 0.5, its first frame at 0, its last at 1; the centre for every view when a
        # segment holds less than one frame.
        segment = available / num_frames
        shift = (position - 0.5) * max(segment - 1, 0.0)
        taken = np.floor(np.arange(num_frames) * segment + segment / 2 + shift)
        return np.clip(taken, 0, available - 1).astype(np.int64)
    span = clip_span(num_frames, sampling, stride)
    first = round(position * max(available - span, 0))
    return np.minimum(first + stride * np.arange(num_frames), available - 1).astype(np.int64)


def view_positions(count: int) -> list[float]:
    """Positions of ``count`` views spread from 0 to 1 (the centre for one view)."""
    return [0.5] if count == 1 else [i / (count - 1) for i in range(count)]


def view_indices(available: int, num_frames: int, sampling: str, stride: int, num_clips: int) -> np.ndarray:
    """Indices (num_clips, num_frames) of ``num_clips`` temporal views spread over the video."""
    return np.stack([frame_indices(available, num_frames, sampling, stride, p) for p in view_positions(num_clips)])


def resized_size(frame_h: int, frame_w: int, crop_h: int, crop_w: int, short_side: int | None = None) -> tuple[int, int]:
    """A frame's size after the aspect-keeping resize: its short side ``short_side`` (None: the
    smallest size that covers the crop), and never smaller than the crop."""
    scale = max(crop_h / frame_h, crop_w / frame_w)
    if short_side is not None:
        scale = max(scale, short_side / min(frame_h, frame_w))
    return max(crop_h, round(frame_h * scale)), max(crop_w, round(frame_w * scale))


def crop_origin(resized: tuple[int, int], crop: tuple[int, int], row: float, column: float) -> tuple[int, int]:
    """(top, left) of a crop placed at fractions ``row``, ``column`` of the room the frame leaves."""
    return round(row * (resized[0] - crop[0])), round(column * (resized[1] - crop[1]))


def crop_windows(resized: tuple[int, int], crop: tuple[int, int], num_crops: int) -> list[tuple[int, int]]:
    """(top, left) of ``num_crops`` crops spread along the axis with room for them (the long side
    for a square crop), centred on the other."""
    along_width = resized[1] - crop[1] >= resized[0] - crop[0]
    return [
        crop_origin(resized, crop, 0.5, p) if along_width else crop_origin(resized, crop, p, 0.5)
        for p in view_positions(num_crops)
    ]


def check_clip_request(num_frames: int, size: int | tuple[int, int], sampling: str, stride: int,
                       short_side: int | None = None) -> tuple[int, int]:
    """(height, width) of the crop, once the request is known to make sense."""
    if sampling not in SAMPLINGS:
        raise ConfigError(f"Unknown frame sampling '{sampling}'; choose one of {', '.join(SAMPLINGS)}")
    if isinstance(size, numbers.Integral):
        height = width = size
    elif isinstance(size, (list, tuple)) and len(size) == 2:
        height, width = size
    else:
        raise ConfigError(f"size must be one side or (height, width), got {size!r}")
    given = (num_frames, stride, height, width, *(() if short_side is None else (short_side,)))
    if not all(isinstance(value, numbers.Integral) and not isinstance(value, bool) for value in given):
        raise ConfigError(f"num_frames, stride, size and short_side must be whole numbers, got {num_frames}, {stride}, "
                          f"{size}, {short_side}")
    if num_frames < 1 or stride < 1 or height < 1 or width < 1:
        raise ConfigError(f"num_frames, stride and size must be positive, got {num_frames}, {stride}, {size}")
    if short_side is not None and short_side < min(height, width):
        raise ConfigError(
            f"short_side ({short_side}) is below the crop ({height}x{width}); set short_side to at least "
            f"{min(height, width)}, or leave it out to resize the short side to the crop"
        )
    return height, width


def check_views(num_clips: int, num_crops: int) -> None:
    if num_clips < 1 or num_crops < 1:
        raise ConfigError(f"temporal views and spatial crops must be >= 1, got {num_clips} and {num_crops}")

