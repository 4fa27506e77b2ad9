"""Read what a user asks us to classify: .npy/.npz volumes or stacks, NIfTI files, DICOM
folders and video files.

Every input becomes a float tensor (C, T, H, W) in [0, 1] of the model's input size: videos are
sampled, resized and cropped as the model's training clips were (`VideoReading`: the
checkpoint's preprocessing record), scans cropped to a cube, and volumes of another size
resized trilinearly. With several views a video becomes (V, C, T, H, W), one clip per view.
Samples are made one at a time as they are consumed: a stack of many volumes is read from its
file a few rows at a time, so memory does not grow with the number of samples; a folder of
inputs is walked file by file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from vivit.data.arrays import StoredArray, npy_array, npz_arrays
from vivit.data.video_preprocessing import VideoPreprocessing
from vivit.errors import DataError
from vivit.inference.medical import is_nifti, read_medical
from vivit.models.config import ViViTConfig

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov")
ARRAY_SUFFIXES = (".npy", ".npz")


class Sample(NamedTuple):
    name: str  # the input as given, with ':key' and '[i]' for a member of a file
    pixels: torch.Tensor  # (C, T, H, W) float in [0, 1], at the model's input size; (V, C, T, H, W) for V views
    native_size: tuple[int, ...]  # (T, H, W) as read, before any resizing


@dataclass(frozen=True)
class VideoReading:
    """How video files become model inputs: the model's preprocessing record and the views."""

    preprocessing: VideoPreprocessing
    clips: int = 1  # temporal views
    crops: int = 1  # spatial crops

    @classmethod
    def of_model(cls, model: torch.nn.Module, clips: int = 1, crops: int = 1) -> VideoReading:
        """From a loaded checkpoint's `checkpoint_info['preprocessing']`; a checkpoint without
        one (written before it existed) was trained on uniform clips resized to cover the crop."""
        info = getattr(model, "checkpoint_info", {}) or {}
        record = info.get("preprocessing")
        preprocessing = (VideoPreprocessing.from_dict(record, "the checkpoint's config.json") if record
                         else VideoPreprocessing.for_input_size(model.config.input_size))
        return cls(preprocessing, clips, crops)


def read_inputs(path: str | Path, config: ViViTConfig, video: VideoReading | None = None) -> list[tuple[str, torch.Tensor]]:
    """(file name, (C, T, H, W) float tensor) for each sample the file holds."""
    return [(sample.name, sample.pixels) for sample in iter_samples(path, config, video=video)]


def iter_samples(
    path: str | Path, config: ViViTConfig, name: str | None = None, video: VideoReading | None = None
) -> Iterator[Sample]:
    """The samples of one input file (or DICOM series folder), made as they are consumed.

    `name` labels them (default: the file name); a bad file raises DataError on first use.
    `video` says how a video file is read (default: one uniform clip at the model's input size).
    """
    path = Path(path)
    name = name or path.name
    if path.is_dir() or is_nifti(path):  # a DICOM series is a folder of slices
        if not path.exists():
            raise DataError(f"Input {path} does not exist")
        volume = read_medical(path, config.input_size)
        yield Sample(name, _to_model(volume, config, name), tuple(volume.shape[-3:]))
        return
    if not path.is_file():
        raise DataError(f"Input {path} does not exist or is not a file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        yield from _samples(name, npy_array(path), config)  # header checked against the file size
    elif suffix == ".npz":
        for key, array in _npz_arrays(path).items():
            yield from _samples(f"{name}:{key}", array, config)
    elif suffix in VIDEO_SUFFIXES:
        yield _video_sample(path, name, config, video or VideoReading(VideoPreprocessing.for_input_size(config.input_size)))
    else:
        raise DataError(
            f"Input {path} has an unknown type '{suffix}'; give a .npy, .npz, .nii/.nii.gz, a DICOM folder "
            f"or a video ({', '.join(VIDEO_SUFFIXES)})"
        )


def _video_sample(path: Path, name: str, config: ViViTConfig, video: VideoReading) -> Sample:
    from vivit.data.video import decode_preprocessed  # the decoding stack only when needed

    views = torch.from_numpy(decode_preprocessed(path, video.preprocessing, video.clips, video.crops))  # (V, 3, T, H, W)
    if views.shape[1] != config.in_channels:
        raise DataError(f"Input {name} has {views.shape[1]} channel(s) but the model takes {config.in_channels}")
    pixels = torch.stack([_resized(clip, config.input_size) for clip in video.preprocessing.normalise(views)])
    return Sample(name, pixels[0] if len(pixels) == 1 else pixels, tuple(views.shape[2:]))


def is_dicom_series(folder: Path) -> bool:
    """A folder of slices: files only, none of them another kind of input."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return bool(entries) and all(p.is_file() and not _is_input_file(p) for p in entries)


def walk_inputs(folder: Path) -> Iterator[Path]:
    """Every input under `folder`, in sorted order: array, NIfTI and video files, and DICOM series folders."""
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        here = Path(directory)
        if here != folder and is_dicom_series(here):
            subfolders[:] = []
            yield here
            continue
        yield from (here / f for f in sorted(files) if _is_input_file(here / f))


def _is_input_file(path: Path) -> bool:
    return path.suffix.lower() in (*ARRAY_SUFFIXES, *VIDEO_SUFFIXES) or is_nifti(path)


def _npz_arrays(path: Path) -> dict[str, StoredArray]:
    arrays = npz_arrays(path)  # every header checked before any data is read
    if not arrays:
        raise DataError(f"Input {path} holds no arrays")
    return arrays


def _samples(name: str, stored: StoredArray, config: ViViTConfig) -> Iterator[Sample]:
    """A volume (D, H, W) or (C, D, H, W), read whole; or a stack (N, D, H, W) / (N, C, D, H, W),
    read a few samples at a time."""
    _check_pixels(stored.dtype, name)
    ndim, channels = len(stored.shape), config.in_channels
    if ndim in (4, 5) and not (ndim == 4 and channels > 1 and stored.shape[0] == channels):
        index = 0
        for rows in stored.rows():  # (k, [C,] D, H, W)
            for sample in torch.from_numpy(_native_pixels(rows)):
                yield Sample(f"{name}[{index}]", _to_model(sample, config, name), tuple(sample.shape[-3:]))
                index += 1
        return
    array = stored.read()  # checked against free memory first
    if ndim not in (3, 4):
        raise DataError(
            f"Input {name} has shape {tuple(array.shape)}; expected a volume (D, H, W) or a stack (N, D, H, W)"
        )
    tensor = torch.from_numpy(_native_pixels(array))
    yield Sample(name, _to_model(tensor, config, name), tuple(tensor.shape[-3:]))


def _check_pixels(dtype: np.dtype, name: str) -> None:
    """uint8 or float pixels only: strings, dates, records and integers wider than a byte are
    refused here, before torch would raise its own error."""
    if not (dtype.kind == "f" or dtype == np.uint8):
        raise DataError(f"Input {name} has dtype {dtype}; give uint8 (0-255) or float (0-1) values")


def _native_pixels(array: np.ndarray) -> np.ndarray:
    """The pixels in this machine's byte order, contiguous: files written on a big-endian
    machine are converted, not refused."""
    return np.ascontiguousarray(array.astype(array.dtype.newbyteorder("="), copy=False))


def _to_model(sample: torch.Tensor, config: ViViTConfig, name: str) -> torch.Tensor:
    if sample.ndim == 3:
        sample = sample.unsqueeze(0)  # (1, D, H, W)
    if sample.shape[0] != config.in_channels:
        raise DataError(f"Input {name} has {sample.shape[0]} channel(s) but the model takes {config.in_channels}")
    if sample.dtype == torch.uint8:
        sample = sample.float().div_(255)
    elif not sample.is_floating_point():
        raise DataError(f"Input {name} has dtype {sample.dtype}; give uint8 (0-255) or float (0-1) values")
    else:
        sample = sample.float()
        if not torch.isfinite(sample).all():
            raise DataError(f"Input {name} has NaN or infinite values; replace them before predicting")
        if sample.min() < 0 or sample.max() > 1:
            raise DataError(f"Input {name} has float values outside [0, 1]; scale it to [0, 1] or give uint8")
    return _resized(sample, config.input_size)


def _resized(sample: torch.Tensor, size: tuple[int, int, int]) -> torch.Tensor:
    """(C, D, H, W) resized to the model's (T, H, W), as videos and scans are, so a large
    volume costs what the model's input costs, not a token count that grows with its size."""
    if tuple(sample.shape[1:]) == tuple(size):
        return sample
    return F.interpolate(sample[None], size=size, mode="trilinear", align_corners=False)[0].clamp_(0, 1)


class Unreadable(NamedTuple):
    name: str
    reason: str  # the one-line DataError


def samples_of(paths: list[Path], config: ViViTConfig, video: VideoReading | None = None) -> Iterator[Sample | Unreadable]:
    """The samples of every input, as given: a file, a DICOM series, or a folder of inputs.

    A file named on the command line that cannot be read stops everything (DataError); one
    found by walking a folder is reported as Unreadable and the walk goes on.
    """
    for path in paths:
        if path.is_dir() and not is_dicom_series(path):
            for found in walk_inputs(path):
                try:
                    yield from iter_samples(found, config, name=str(found), video=video)
                except DataError as error:
                    yield Unreadable(str(found), str(error))
        else:
            yield from iter_samples(path, config, name=str(path), video=video)
