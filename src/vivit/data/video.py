"""Decoding video files into fixed-size uint8 clips with PyAV, and folders of them into datasets.

A clip is uint8 of shape (3, T, H, W): RGB, ``num_frames`` frames, each resized so
that it covers H x W (its short side scaled when H == W) and then cropped.

Frame sampling (ViViT, Sec. 4.1 and 5):
- "uniform": the paper's uniform frame sampling. The clip is cut into ``num_frames``
  equal segments and the centre frame of each is taken, so the frames span the whole
  clip. A clip shorter than ``num_frames`` repeats frames.
- "dense": ``num_frames`` frames ``stride`` apart from a start (the centre of the clip
  for evaluation, random for training). A clip shorter than the span is padded by
  repeating its last frame.

Frames are decoded in order from the start; decoding stops after the last frame
needed, and only the needed frames are kept (resized), so a long clip never sits in
memory whole. The frame count comes from the container header (``stream.frames``);
containers that do not record it (it reads 0, e.g. Matroska/WebM and some AVI
muxers) are counted by decoding once. A file whose header promises more frames than
it holds is reported as truncated.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch

from vivit.data.types import DatasetBundle, Split
from vivit.data.video_cache import DecodeCache
from vivit.data.video_folder import list_videos
from vivit.errors import ConfigError, DataError

SAMPLINGS = ("uniform", "dense")
# FFmpeg's demuxer names of the containers of VIDEO_EXTENSIONS; any other (concat lists,
# image files renamed .mp4, network playlists) is refused.
VIDEO_CONTAINERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "avi", "matroska,webm"})
PLAYLIST_SIGNATURES = (b"ffconcat", b"#extm3u", b"#extinf", b"[playlist]", b"v=0", b"<?xml", b"file ")
MAX_FRAME_PIXELS = 7680 * 4320  # 8K: a frame is decoded whole before it is resized
NAMED_POSITIONS = {"center": 0.5, "centre": 0.5, "left": 0.0, "right": 1.0}
Position = str | float  # "center" | "random" | fraction in [0, 1] along an axis
PathLike = str | Path


def decode_clip(
    path: PathLike,
    num_frames: int,
    size: int | tuple[int, int] = (224, 224),
    sampling: str = "uniform",
    stride: int = 2,
    crop: Position = "center",
    start: Position = "center",
    generator: torch.Generator | None = None,
) -> np.ndarray:
    """One clip of a video file: uint8 (3, num_frames, H, W).

    crop places the H x W window: "center", "random", or a fraction (0 = left/top,
    1 = right/bottom). start places a dense clip within the video the same way; uniform
    sampling always spans the whole video. "random" draws from ``generator`` (torch's
    global generator when None).
    """
    height, width = _check_request(num_frames, size, sampling, stride)
    path = Path(path)
    with _Video(path) as video:
        indices = _indices(video.num_frames, num_frames, sampling, stride, _draw(start, generator))
        frames = video.read(indices, height, width)  # (T, h, w, 3)
    return _crop(frames, height, width, _draw(crop, generator), _draw(crop, generator))


def decode_views(
    path: PathLike,
    num_frames: int,
    size: int | tuple[int, int] = (224, 224),
    temporal_views: int = 1,
    spatial_crops: int = 1,
    sampling: str = "uniform",
    stride: int = 2,
) -> np.ndarray:
    """Multi-view test clips: uint8 (temporal_views * spatial_crops, 3, T, H, W).

    Views are ordered temporal-major: view v is temporal clip v // spatial_crops and
    crop v % spatial_crops. Temporal clips are spread evenly over the video (dense:
    starts from first to last possible; uniform: segment offsets shifted); crops go
    left/top to right/bottom (3 crops: left, centre, right). The video is decoded once.
    """
    height, width = _check_request(num_frames, size, sampling, stride)
    if temporal_views < 1 or spatial_crops < 1:
        raise ConfigError(
            f"temporal_views and spatial_crops must be >= 1, got {temporal_views} and {spatial_crops}"
        )
    path = Path(path)
    with _Video(path) as video:
        per_view = [
            _indices(
                video.num_frames,
                num_frames,
                sampling,
                stride,
                _spread(v, temporal_views),
                view=(v, temporal_views),
            )
            for v in range(temporal_views)
        ]
        frames = video.read(np.concatenate(per_view), height, width)  # (k * T, h, w, 3)
    clips = frames.reshape(temporal_views, num_frames, *frames.shape[1:])
    return np.stack(
        [
            _crop(clip, height, width, _spread(c, spatial_crops), _spread(c, spatial_crops))
            for clip in clips
            for c in range(spatial_crops)
        ]
    )


def count_frames(path: PathLike) -> int:
    """Number of frames of a video: from its header, or by decoding when the header has none."""
    with _Video(Path(path)) as video:
        return video.num_frames


def load_video_folder(
    root: PathLike,
    *,
    num_frames: int = 16,
    size: int | tuple[int, int] = (112, 112),
    sampling: str = "uniform",
    stride: int = 2,
    cache_dir: PathLike | None = None,
    skip_bad: bool = False,
    csv: PathLike | None = None,
    split_fractions: Sequence[float] | None = None,
    seed: int = 0,
) -> DatasetBundle:
    """A labelled folder (or CSV) of videos as a DatasetBundle of uint8 (N, 3, T, H, W) splits.

    Layouts and splitting are described in vivit.data.video_folder. Every clip is the
    deterministic evaluation clip (centre start, centre crop); training randomness comes
    from the batch augmenter. With ``cache_dir`` each file is decoded once and later
    loads read the cached array; without it every load decodes. A bad file raises
    DataError, or with ``skip_bad`` is skipped with a warning naming it and a final
    warning counting them. All splits are held in memory.
    """
    root = Path(root)
    height, width = _check_request(num_frames, size, sampling, stride)
    listing = list_videos(root, csv=csv, split_fractions=split_fractions, seed=seed)
    cache = DecodeCache(cache_dir) if cache_dir is not None else None
    settings = {"num_frames": num_frames, "size": [height, width], "sampling": sampling, "stride": stride}
    splits, skipped = {}, 0
    for split_name, items in listing.splits.items():
        images = np.empty((len(items), 3, num_frames, height, width), dtype=np.uint8)
        labels = []
        for path, label in items:
            try:
                images[len(labels)] = _load_clip(path, settings, cache)
            except DataError as error:
                if not skip_bad:
                    raise
                warnings.warn(f"Skipping bad video: {error}", stacklevel=2)
                skipped += 1
                continue
            labels.append(label)
        splits[split_name] = Split(
            torch.from_numpy(images[: len(labels)]), torch.tensor(labels, dtype=torch.int64)
        )
    total = sum(len(items) for items in listing.splits.values())
    if skipped:
        warnings.warn(
            f"Skipped {skipped} of {total} videos under {root} that could not be decoded", stacklevel=2
        )
    if skipped == total:
        raise DataError(f"None of the {total} videos under {root} could be decoded")
    return DatasetBundle(name=root.name, task="multi-class", class_names=listing.class_names, splits=splits)


def _load_clip(path: Path, settings: dict[str, Any], cache: DecodeCache | None) -> np.ndarray:
    def decode() -> np.ndarray:
        return decode_clip(
            path, settings["num_frames"], tuple(settings["size"]), settings["sampling"], settings["stride"]
        )

    return decode() if cache is None else cache.get_or_create(path, settings, decode)


class _Video:
    """An open video file whose decoder errors become one-line DataErrors naming it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> _Video:
        if not self.path.is_file():
            raise DataError(f"Video {self.path} does not exist or is not a file")
        if self.path.stat().st_size == 0:
            raise DataError(f"Video {self.path} is empty (0 bytes)")
        self._open()
        try:
            self.num_frames = self.stream.frames or self._guard(self._count_by_decoding)
            if self.num_frames == 0:
                raise DataError(f"Video {self.path} has no frames")
        except BaseException:
            self.container.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.container.close()

    def read(self, indices: np.ndarray, height: int, width: int) -> np.ndarray:
        """The frames at ``indices`` (repeats allowed), resized to cover height x width: (T, h, w, 3)."""
        return self._guard(lambda: self._read(indices, height, width))

    def _read(self, indices: np.ndarray, height: int, width: int) -> np.ndarray:
        wanted, last = set(indices.tolist()), int(indices.max())
        kept: dict[int, np.ndarray] = {}
        index = -1
        for index, frame in enumerate(self.container.decode(self.stream)):
            if index in wanted:
                h, w = _cover(frame.height, frame.width, height, width)
                kept[index] = frame.to_ndarray(width=w, height=h, format="rgb24", interpolation="AREA")
            if index == last:
                break
        if index < last:
            raise DataError(
                f"Video {self.path} is truncated or corrupt: its header promises {self.num_frames} frames "
                f"but decoding ends after {index + 1}"
            )
        return np.stack([kept[i] for i in indices.tolist()])

    def _open(self) -> None:
        _refuse_playlists(self.path)
        self.container = self._guard(lambda: av.open(str(self.path)))
        try:
            self._check_container()
        except BaseException:
            self.container.close()
            raise
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"

    def _check_container(self) -> None:
        kind = self.container.format.name
        if kind not in VIDEO_CONTAINERS:
            raise DataError(
                f"File {self.path} is a '{kind}' file, not a video container vivit reads "
                f"(MP4/MOV, AVI, Matroska/WebM); convert it, e.g. ffmpeg -i {self.path.name} out.mp4"
            )
        if not self.container.streams.video:
            raise DataError(f"File {self.path} has no video stream")
        frame = self.container.streams.video[0].codec_context
        if frame.width * frame.height > MAX_FRAME_PIXELS:
            raise DataError(
                f"Video {self.path} has {frame.width}×{frame.height} frames, more than the {MAX_FRAME_PIXELS:,} pixels "
                f"(8K) vivit decodes; downscale it first, e.g. ffmpeg -i {self.path.name} -vf scale=-2:1080 out.mp4"
            )

    def _count_by_decoding(self) -> int:
        count = sum(1 for _ in self.container.decode(self.stream))
        # Reopen rather than seek back: seeking to frame 0 is not exact in every container.
        self.container.close()
        self._open()
        return count

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except av.FFmpegError as error:
            raise DataError(f"Cannot decode video {self.path}: {error.strerror or error}") from None
        except UnicodeDecodeError:  # PyAV decodes container metadata as text
            raise DataError(f"Cannot decode video {self.path}: its metadata is not valid text") from None


def _refuse_playlists(path: Path) -> None:
    """Lists of other files (ffconcat, m3u/HLS, SDP) would make FFmpeg open what they name:
    refuse them by their first bytes, before FFmpeg probes the file."""
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(PLAYLIST_SIGNATURES):
        raise DataError(f"File {path} is a playlist or list of files, not a video; give the video files themselves")


def _indices(
    available: int,
    num_frames: int,
    sampling: str,
    stride: int,
    position: float,
    view: tuple[int, int] = (0, 1),
) -> np.ndarray:
    """Frame indices (num_frames,) into a video of ``available`` frames."""
    if sampling == "uniform":
        # Centre of each of num_frames equal segments; views shift within the segment.
        offset = (view[0] + 0.5) / view[1]
        return np.floor((np.arange(num_frames) + offset) * available / num_frames).astype(np.int64)
    span = (num_frames - 1) * stride + 1
    first = round(position * max(available - span, 0))
    return np.minimum(first + stride * np.arange(num_frames), available - 1)


def _cover(frame_h: int, frame_w: int, height: int, width: int) -> tuple[int, int]:
    """Size of a frame scaled (keeping its aspect) to the smallest that covers height x width."""
    scale = max(height / frame_h, width / frame_w)
    return max(height, round(frame_h * scale)), max(width, round(frame_w * scale))


def _crop(frames: np.ndarray, height: int, width: int, row: float, column: float) -> np.ndarray:
    """(T, h, w, 3) -> (3, T, height, width), the window placed at fractions row, column."""
    top = round(row * (frames.shape[1] - height))
    left = round(column * (frames.shape[2] - width))
    window = frames[:, top : top + height, left : left + width]
    return np.ascontiguousarray(window.transpose(3, 0, 1, 2))


def _draw(position: Position, generator: torch.Generator | None) -> float:
    """A crop or start position as a fraction in [0, 1]."""
    if position == "random":
        return float(torch.rand((), generator=generator))
    if isinstance(position, str):
        if position not in NAMED_POSITIONS:
            raise ConfigError(
                f"Unknown position '{position}'; choose random, {', '.join(NAMED_POSITIONS)} or a fraction in [0, 1]"
            )
        return NAMED_POSITIONS[position]
    if not 0.0 <= position <= 1.0:
        raise ConfigError(f"A crop or start position must be a fraction in [0, 1], got {position}")
    return float(position)


def _spread(i: int, n: int) -> float:
    """Position of item i of n spread from 0 to 1 (the centre when n == 1)."""
    return 0.5 if n == 1 else i / (n - 1)


def _check_request(
    num_frames: int, size: int | tuple[int, int], sampling: str, stride: int
) -> tuple[int, int]:
    if sampling not in SAMPLINGS:
        raise ConfigError(f"Unknown frame sampling '{sampling}'; choose one of {', '.join(SAMPLINGS)}")
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    if num_frames < 1 or stride < 1 or height < 1 or width < 1:
        raise ConfigError(f"num_frames, stride and size must be positive, got {num_frames}, {stride}, {size}")
    return height, width
