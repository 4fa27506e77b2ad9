"""Decoding video files into fixed-size uint8 clips with PyAV, and folders of them into datasets.

A clip is uint8 of shape (3, T, H, W): RGB, ``num_frames`` frames, each resized keeping its
aspect (its short side to ``short_side``, or to the smallest size that covers H x W) and then
cropped. Which frames and which window: `vivit.data.video_sampling`, which also states how a
video shorter than one clip is padded. Several views of one video (temporal clips x spatial
crops, for multi-view evaluation) come from one decoding pass (`decode_views`).

Decoding is bounded by what is sampled, not by the file:
- Only the sampled frames are converted, straight from the decoder's YUV to the resized RGB
  (``to_ndarray(width=, height=)``), and only they are kept; a full-size RGB frame never exists.
- In a long or large video (more pixels than ``SEEK_MIN_PIXELS``, 10 s of 1080p), the
  packets are read once without decoding, for each frame's timestamp and the keyframes; a
  target whose keyframe lies ahead of the decoder is reached by seeking to that keyframe
  (``container.seek(pts, backward=True, any_frame=False)``) and decoding forward to the
  target's timestamp, so a 10-minute clip costs the GOPs its views touch. This needs
  timestamps in display order that name each frame once: MP4/MOV and Matroska/WebM (whose
  headers give no frame count, so such a file is first decoded once to count them). AVI
  (decode-order timestamps), a stream whose packets lack timestamps or do not match its
  frame count, and a seek that lands past its target are decoded in order from the start.
- Codecs whose FFmpeg decoder can decode at 1/2, 1/4 or 1/8 resolution (``lowres``: MPEG-4
  Part 2, MPEG-1/2, MJPEG, H.263) do so when the smaller frame still covers the resize.
  H.264, HEVC, VP9 and AV1 decoders have no such mode: their frames are decoded whole.
- Every frame is resized to the size the stream's header gives, so a stream whose resolution
  changes mid-way still yields one clip shape.

The frame count comes from the container header (``stream.frames``); containers that do not
record it (it reads 0, e.g. Matroska/WebM and some AVI muxers) are counted by decoding once.
A file whose header promises more frames than it holds is reported as truncated.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch

from vivit.data.types import DatasetBundle, Split
from vivit.data.video_cache import DecodeCache
from vivit.data.video_folder import SPLIT_NAMES, list_videos
from vivit.data.video_preprocessing import VideoPreprocessing
from vivit.data.video_sampling import (
    check_clip_request,
    check_views,
    crop_origin,
    crop_windows,
    frame_indices,
    resized_size,
    view_indices,
)
from vivit.errors import ConfigError, DataError

# FFmpeg's demuxer names of the containers of VIDEO_EXTENSIONS; any other (concat lists,
# image files renamed .mp4, network playlists) is refused.
VIDEO_CONTAINERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "avi", "matroska,webm"})
# Containers whose packet timestamps are display times; AVI's follow decode order.
SEEKABLE_CONTAINERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})
# Seek only in videos whose frames hold more pixels than this (10 s of 1080p at 25 fps):
# below it, decoding every frame costs less than reading the packets first.
SEEK_MIN_PIXELS = 250 * 1920 * 1080
# Decoders with FFmpeg's `lowres` option (max_lowres 3 in libavcodec).
LOWRES_CODECS = frozenset({"mpeg4", "mpeg1video", "mpeg2video", "mjpeg", "h263", "msmpeg4v3", "wmv2"})
MAX_LOWRES = 3
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
    short_side: int | None = None,
) -> np.ndarray:
    """One clip of a video file: uint8 (3, num_frames, H, W).

    crop places the H x W window: "center", "random", or a fraction (0 = left/top,
    1 = right/bottom). start places the clip within the video the same way (dense: its
    start; uniform: the frame within each segment). "random" draws from ``generator``
    (torch's global generator when None).
    """
    height, width = check_clip_request(num_frames, size, sampling, stride, short_side)
    with _Video(Path(path)) as video:
        indices = frame_indices(video.num_frames, num_frames, sampling, stride, _draw(start, generator))
        resized = video.resized_for(height, width, short_side)
        frames = video.read(indices, *resized)  # (T, h, w, 3)
    top, left = crop_origin(resized, (height, width), _draw(crop, generator), _draw(crop, generator))
    return _crop(frames, top, left, height, width)


def decode_views(
    path: PathLike,
    num_frames: int,
    size: int | tuple[int, int] = (224, 224),
    temporal_views: int = 1,
    spatial_crops: int = 1,
    sampling: str = "uniform",
    stride: int = 2,
    short_side: int | None = None,
) -> np.ndarray:
    """Multi-view test clips: uint8 (temporal_views * spatial_crops, 3, T, H, W).

    Views are ordered temporal-major: view v is temporal clip v // spatial_crops and crop
    v % spatial_crops. Temporal clips spread over the video, the first touching its start and
    the last its end; crops go along the long side (3 crops: left, centre, right), centred on
    the short side (`vivit.data.video_sampling`). The video is decoded once, each frame that
    several views share once. One view is `decode_clip`'s centre clip.
    """
    height, width = check_clip_request(num_frames, size, sampling, stride, short_side)
    check_views(temporal_views, spatial_crops)
    with _Video(Path(path)) as video:
        per_view = view_indices(video.num_frames, num_frames, sampling, stride, temporal_views)
        resized = video.resized_for(height, width, short_side)
        frames = video.read(per_view.reshape(-1), *resized)  # (views * T, h, w, 3)
    clips = frames.reshape(temporal_views, num_frames, *frames.shape[1:])
    windows = crop_windows(resized, (height, width), spatial_crops)
    return np.stack([_crop(clip, top, left, height, width) for clip in clips for top, left in windows])


def decode_preprocessed(path: PathLike, preprocessing: VideoPreprocessing, num_clips: int = 1, num_crops: int = 1) -> np.ndarray:
    """The views of a file as `preprocessing` decodes them: uint8 (num_clips * num_crops, 3, T, H, W)."""
    p = preprocessing
    return decode_views(path, p.num_frames, p.size, num_clips, num_crops, p.sampling, p.stride, p.short_side)


def count_frames(path: PathLike) -> int:
    """Number of frames of a video: from its header, or by decoding when the header has none."""
    with _Video(Path(path)) as video:
        return video.num_frames


@dataclass(frozen=True)
class VideoFiles:
    """The files behind a video folder's splits, to decode other views of them than the one
    clip each split holds (multi-view evaluation). Views are cached like clips."""

    preprocessing: VideoPreprocessing
    paths: dict[str, tuple[Path, ...]]  # split -> its files, in the order of its samples
    cache_dir: Path | None = None

    def views(self, split: str, num_clips: int, num_crops: int) -> Iterator[np.ndarray]:
        """uint8 (num_clips * num_crops, 3, T, H, W) for each file of `split`, in order."""
        check_views(num_clips, num_crops)
        cache = DecodeCache(self.cache_dir) if self.cache_dir is not None else None
        settings = {**self.preprocessing.to_dict(), "views": [num_clips, num_crops]}
        for path in self.paths[split]:
            def decode(path: Path = path) -> np.ndarray:
                return decode_preprocessed(path, self.preprocessing, num_clips, num_crops)

            shape = (num_clips * num_crops, 3, self.preprocessing.num_frames, *self.preprocessing.size)
            yield decode() if cache is None else cache.get_or_create(path, settings, decode, shape)


def load_video_folder(
    root: PathLike,
    *,
    num_frames: int = 16,
    size: int | tuple[int, int] = (112, 112),
    sampling: str = "uniform",
    stride: int = 2,
    short_side: int | None = None,
    cache_dir: PathLike | None = None,
    skip_bad: bool = False,
    csv: PathLike | None = None,
    split_fractions: Sequence[float] | None = None,
    seed: int = 0,
    splits: Sequence[str] = SPLIT_NAMES,
) -> DatasetBundle:
    """A labelled folder (or CSV) of videos as a DatasetBundle of uint8 (N, 3, T, H, W) splits.

    Layouts and splitting are described in vivit.data.video_folder. Every clip is the
    deterministic evaluation clip (centre start; short side resized to ``short_side``, then
    the centre crop); training randomness (random resized crop, horizontal flip) comes from
    the batch augmenter. With ``cache_dir`` each file is decoded once and later loads read
    the cached array; without it every load decodes. A bad file raises DataError, or with
    ``skip_bad`` is skipped with a warning naming it and a final warning counting them. All
    splits are held in memory; the bundle's `videos` names their files for multi-view evaluation.
    ``splits`` decodes only those (pretraining leaves the test videos unseen).
    """
    root = Path(root)
    preprocessing = VideoPreprocessing(num_frames, check_clip_request(num_frames, size, sampling, stride, short_side),
                                       sampling, stride, short_side)
    listing = list_videos(root, csv=csv, split_fractions=split_fractions, seed=seed)
    wanted = {name: items for name, items in listing.splits.items() if name in splits}
    clips = ClipDecoding(preprocessing, cache_dir, skip_bad)
    decoded = {name: clips.decode([path for path, _ in items], [label for _, label in items])
               for name, items in wanted.items()}
    clips.check_any_decoded(root, sum(len(items) for items in wanted.values()))
    split_data = {name: Split(images, labels) for name, (images, labels, _) in decoded.items()}
    paths = {name: kept for name, (_, _, kept) in decoded.items()}
    videos = VideoFiles(preprocessing, paths, Path(cache_dir) if cache_dir is not None else None)
    return DatasetBundle(name=root.name, task="multi-class", class_names=listing.class_names, splits=split_data, videos=videos)


class ClipDecoding:
    """Each video of a list as its evaluation clip, from the decode cache when it has one; a bad
    file raises DataError, or with ``skip_bad`` is skipped with a warning that names it."""

    def __init__(self, preprocessing: VideoPreprocessing, cache_dir: PathLike | None, skip_bad: bool) -> None:
        self.settings = {"num_frames": preprocessing.num_frames, "size": list(preprocessing.size),
                         "sampling": preprocessing.sampling, "stride": preprocessing.stride,
                         "short_side": preprocessing.short_side}
        self.cache = DecodeCache(cache_dir) if cache_dir is not None else None
        self.skip_bad = skip_bad
        self.skipped = 0

    def decode(self, files: Sequence[Path], labels: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor, tuple[Path, ...]]:
        """(uint8 (N, 3, T, H, W) clips, their labels, their files) of the files that decoded."""
        images = np.empty((len(files), 3, self.settings["num_frames"], *self.settings["size"]), dtype=np.uint8)
        kept_labels, kept = [], []
        for path, label in zip(files, labels):
            try:
                images[len(kept)] = _load_clip(path, self.settings, self.cache)
            except DataError as error:
                if not self.skip_bad:
                    raise
                warnings.warn(f"Skipping bad video: {error}", stacklevel=2)
                self.skipped += 1
                continue
            kept_labels.append(label)
            kept.append(path)
        return torch.from_numpy(images[: len(kept)]), torch.tensor(kept_labels, dtype=torch.int64), tuple(kept)

    def check_any_decoded(self, root: Path, total: int) -> None:
        if self.skipped:
            warnings.warn(f"Skipped {self.skipped} of {total} videos under {root} that could not be decoded", stacklevel=3)
        if self.skipped == total:
            raise DataError(f"None of the {total} videos under {root} could be decoded")


def _load_clip(path: Path, settings: dict[str, Any], cache: DecodeCache | None) -> np.ndarray:
    def decode() -> np.ndarray:
        return decode_clip(
            path, settings["num_frames"], tuple(settings["size"]), settings["sampling"], settings["stride"],
            short_side=settings["short_side"],
        )

    shape = (3, settings["num_frames"], *settings["size"])
    return decode() if cache is None else cache.get_or_create(path, settings, decode, shape)


class _SeekMissed(Exception):
    """A seek that did not land where the timestamps said: decode in order instead."""


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
                raise DataError(f"Video {self.path} has no frames; re-encode it, e.g. ffmpeg -i {self.path.name} out.mp4, or remove it")
        except BaseException:
            self.container.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.container.close()

    @property
    def frame_size(self) -> tuple[int, int]:
        """(height, width) of the frames, as the stream's header gives it."""
        return self.stream.codec_context.height, self.stream.codec_context.width

    def resized_for(self, crop_h: int, crop_w: int, short_side: int | None) -> tuple[int, int]:
        """The frame size the crop is cut from; refused when a thin frame would resize to a huge one."""
        resized = resized_size(*self.frame_size, crop_h, crop_w, short_side)
        if resized[0] * resized[1] > MAX_FRAME_PIXELS:
            frame_h, frame_w = self.frame_size
            raise DataError(
                f"Video {self.path} has {frame_w}×{frame_h} frames, which would resize to {resized[1]}×{resized[0]} to "
                f"cover a {crop_w}×{crop_h} crop, more than the {MAX_FRAME_PIXELS:,} pixels (8K) vivit decodes; crop it "
                f"to a usual aspect first, e.g. ffmpeg -i {self.path.name} -vf crop=ih:ih out.mp4"
            )
        return resized

    def read(self, indices: np.ndarray, height: int, width: int) -> np.ndarray:
        """The frames at ``indices`` (repeats allowed), each resized to height x width: (T, height, width, 3)."""
        return self._guard(lambda: self._read(indices, height, width))

    def _read(self, indices: np.ndarray, height: int, width: int) -> np.ndarray:
        wanted = sorted(set(indices.tolist()))
        kept = None
        timestamps = self._frame_timestamps() if self._worth_seeking() else None
        if timestamps is not None:
            try:
                kept = self._read_seeking(wanted, height, width, *timestamps)
            except (_SeekMissed, av.FFmpegError):  # a damaged stream then fails in order, named
                self._reopen()
        if kept is None:
            kept = self._read_in_order(wanted, height, width)
        return np.stack([kept[i] for i in indices.tolist()])

    def _read_in_order(self, wanted: list[int], height: int, width: int) -> dict[int, np.ndarray]:
        self._use_lowres(height, width)
        remaining, last = set(wanted), wanted[-1]
        kept: dict[int, np.ndarray] = {}
        index = -1
        for index, frame in enumerate(self.container.decode(self.stream)):
            if index in remaining:
                kept[index] = _resized_rgb(frame, height, width)
            if index == last:
                break
        if index < last:
            raise self._truncated(index + 1)
        return kept

    def _read_seeking(
        self, wanted: list[int], height: int, width: int, timestamps: list[int], keyframes: list[int]
    ) -> dict[int, np.ndarray]:
        """Seek to the keyframe before a target when it lies ahead of the decoder, then decode
        forward to the target's timestamp; the frames passed on the way are not converted."""
        self._use_lowres(height, width)
        index_of = {pts: index for index, pts in enumerate(timestamps)}
        kept: dict[int, np.ndarray] = {}
        frames: Iterator[av.VideoFrame] | None = None
        position = 0  # the index the decoder yields next
        for target in wanted:
            keyframe = keyframes[bisect.bisect_right(keyframes, target) - 1]
            if frames is None or keyframe > position:
                if keyframe > 0:
                    self.container.seek(timestamps[keyframe], stream=self.stream, backward=True, any_frame=False)
                frames = self.container.decode(self.stream)
            for frame in frames:
                index = index_of.get(frame.pts)
                if index is None or index > target:
                    raise _SeekMissed
                position = index + 1
                if index == target:
                    kept[target] = _resized_rgb(frame, height, width)
                    break
            else:
                raise _SeekMissed  # the file ends before a frame its packets announced
        return kept

    def _worth_seeking(self) -> bool:
        """Decoding every frame costs more than reading the packets once (long or large
        videos), and the container's timestamps follow display order (not AVI's)."""
        frame_h, frame_w = self.frame_size
        pixels = self.num_frames * frame_h * frame_w
        return self.container.format.name in SEEKABLE_CONTAINERS and pixels >= SEEK_MIN_PIXELS

    def _frame_timestamps(self) -> tuple[list[int], list[int]] | None:
        """The timestamp of every frame in display order, and the indices of the keyframes, read
        from the packets without decoding them; None when they do not name each frame once."""
        timestamps, keys = [], []
        for packet in self.container.demux(self.stream):
            if packet.size == 0:  # the demuxer's end-of-stream marker
                continue
            if packet.pts is None:
                self._reopen()
                return None
            timestamps.append(packet.pts)
            if packet.is_keyframe:
                keys.append(packet.pts)
        self._reopen()  # back to the start: seeking to frame 0 is not exact in every container
        timestamps.sort()
        if len(timestamps) != self.num_frames or len(set(timestamps)) != len(timestamps) or not keys:
            return None
        index_of = {pts: index for index, pts in enumerate(timestamps)}
        keyframes = sorted(index_of[pts] for pts in keys)
        return (timestamps, keyframes) if keyframes[0] == 0 else None

    def _use_lowres(self, height: int, width: int) -> None:
        """Ask the decoder for 1/2^k frames when its codec can and they still cover height x width."""
        context = self.stream.codec_context
        if context.name not in LOWRES_CODECS:
            return
        frame_h, frame_w = self.frame_size
        level = 0
        while level < MAX_LOWRES and -(-frame_h >> (level + 1)) >= height and -(-frame_w >> (level + 1)) >= width:
            level += 1
        if level:
            context.options = {**context.options, "lowres": str(level)}

    def _truncated(self, decoded: int) -> DataError:
        return DataError(
            f"Video {self.path} is truncated or corrupt: its header promises {self.num_frames} frames "
            f"but decoding ends after {decoded}; re-encode what is left, e.g. ffmpeg -i {self.path.name} out.mp4, or remove it"
        )

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
        # The header's size is checked above; this stops a frame that grows mid-stream before FFmpeg allocates it.
        context = self.stream.codec_context
        context.options = {**context.options, "max_pixels": str(MAX_FRAME_PIXELS)}

    def _reopen(self) -> None:
        # Reopen rather than seek back: seeking to frame 0 is not exact in every container.
        self.container.close()
        self._open()

    def _check_container(self) -> None:
        kind = self.container.format.name
        if kind not in VIDEO_CONTAINERS:
            raise DataError(
                f"File {self.path} is a '{kind}' file, not a video container vivit reads "
                f"(MP4/MOV, AVI, Matroska/WebM); convert it, e.g. ffmpeg -i {self.path.name} out.mp4"
            )
        if not self.container.streams.video:
            raise DataError(f"File {self.path} has no video stream (audio or data only); give a video, or remove it")
        frame = self.container.streams.video[0].codec_context
        if frame is None:  # a codec id FFmpeg has no decoder for (atheris made one by flipping two bits)
            raise DataError(
                f"Video {self.path} is in a codec FFmpeg cannot decode here, or its header is damaged; "
                f"convert it, e.g. ffmpeg -i {self.path.name} out.mp4"
            )
        if frame.width < 1 or frame.height < 1:
            raise DataError(
                f"Video {self.path} has frames of {frame.width}×{frame.height} pixels in its header, which is damaged; "
                f"re-encode it, e.g. ffmpeg -i {self.path.name} out.mp4"
            )
        if frame.width * frame.height > MAX_FRAME_PIXELS:
            raise DataError(
                f"Video {self.path} has {frame.width}×{frame.height} frames, more than the {MAX_FRAME_PIXELS:,} pixels "
                f"(8K) vivit decodes; downscale it first, e.g. ffmpeg -i {self.path.name} -vf scale=-2:1080 out.mp4"
            )

    def _count_by_decoding(self) -> int:
        count = sum(1 for _ in self.container.decode(self.stream))
        self._reopen()
        return count

    def _guard(self, action: Any) -> Any:
        try:
            return action()
        except av.FFmpegError as error:
            raise DataError(f"Cannot decode video {self.path}: {error.strerror or error}; re-encode it, e.g. "
                            f"ffmpeg -i {self.path.name} out.mp4, or remove it") from None
        except UnicodeDecodeError:  # PyAV decodes container metadata as text
            raise DataError(f"Cannot decode video {self.path}: its metadata is not valid text") from None


# One scaling thread. PyAV 18 gives swscale slice threads by default; on clip-sized frames they
# save nothing, and a process forked after they started (a DataLoader worker, a test replaying
# cases in forks) hangs for ever freeing them when a stream changes size. Older PyAV has no such
# argument and scales on one thread anyway.
_ONE_SCALING_THREAD: dict[str, int] = {"threads": 1}


def _resized_rgb(frame: av.VideoFrame, height: int, width: int) -> np.ndarray:
    """(height, width, 3) uint8, scaled straight from the decoder's YUV: no full-size RGB frame."""
    global _ONE_SCALING_THREAD
    try:
        return frame.to_ndarray(width=width, height=height, format="rgb24", interpolation="AREA", **_ONE_SCALING_THREAD)
    except TypeError:
        if not _ONE_SCALING_THREAD:
            raise
        _ONE_SCALING_THREAD = {}
        return frame.to_ndarray(width=width, height=height, format="rgb24", interpolation="AREA")


def _refuse_playlists(path: Path) -> None:
    """Lists of other files (ffconcat, m3u/HLS, SDP) would make FFmpeg open what they name:
    refuse them by their first bytes, before FFmpeg probes the file."""
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(PLAYLIST_SIGNATURES):
        raise DataError(f"File {path} is a playlist or list of files, not a video; give the video files themselves")


def _crop(frames: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """(T, h, w, 3) -> (3, T, height, width), the window at (top, left)."""
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
