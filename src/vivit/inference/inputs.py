"""Read what a user asks us to classify: .npy/.npz volumes or stacks, NIfTI files, DICOM
folders and video files.

Every input becomes a float tensor (C, T, H, W) in [0, 1] of the model's input size: videos are
sampled and cropped, scans cropped to a cube, and volumes of another size resized trilinearly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vivit.data.arrays import read_npy, read_npz
from vivit.errors import DataError
from vivit.inference.medical import is_nifti, read_medical
from vivit.models.config import ViViTConfig

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov")


def read_inputs(path: str | Path, config: ViViTConfig) -> list[tuple[str, torch.Tensor]]:
    """(name, (C, T, H, W) float tensor) for each sample the file holds."""
    path = Path(path)
    if path.is_dir() or is_nifti(path):  # a DICOM series is a folder of slices
        if not path.exists():
            raise DataError(f"Input {path} does not exist")
        return [(path.name, _to_model(read_medical(path, config.input_size), config, path.name))]
    if not path.is_file():
        raise DataError(f"Input {path} does not exist or is not a file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _samples(path.name, _load_npy(path), config)
    if suffix == ".npz":
        return [s for key, array in _load_npz(path).items() for s in _samples(f"{path.name}:{key}", array, config)]
    if suffix in VIDEO_SUFFIXES:
        from vivit.data.video import decode_clip  # the decoding stack only when needed

        clip = decode_clip(path, config.input_size[0], config.input_size[1:])  # uint8 (3, T, H, W)
        return [(path.name, _to_model(torch.from_numpy(np.ascontiguousarray(clip)), config, path.name))]
    raise DataError(
        f"Input {path} has an unknown type '{suffix}'; give a .npy, .npz, .nii/.nii.gz, a DICOM folder "
        f"or a video ({', '.join(VIDEO_SUFFIXES)})"
    )


def _load_npy(path: Path) -> np.ndarray:
    return read_npy(path)  # header checked against the file size and free memory first


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    arrays = read_npz(path)
    if not arrays:
        raise DataError(f"Input {path} holds no arrays")
    return arrays


def _samples(name: str, array: np.ndarray, config: ViViTConfig) -> list[tuple[str, torch.Tensor]]:
    """A volume (D, H, W) or (C, D, H, W), or a stack (N, D, H, W) / (N, C, D, H, W)."""
    tensor = torch.from_numpy(np.ascontiguousarray(_native_pixels(array, name)))
    channels = config.in_channels
    if tensor.ndim == 3 or (tensor.ndim == 4 and channels > 1 and tensor.shape[0] == channels):
        return [(name, _to_model(tensor, config, name))]
    if tensor.ndim in (4, 5):
        return [(f"{name}[{i}]", _to_model(sample, config, name)) for i, sample in enumerate(tensor)]
    raise DataError(
        f"Input {name} has shape {tuple(array.shape)}; expected a volume (D, H, W) or a stack (N, D, H, W)"
    )


def _native_pixels(array: np.ndarray, name: str) -> np.ndarray:
    """uint8 or float pixels in this machine's byte order.

    Files written on a big-endian machine are converted, not refused; strings, dates, records
    and integers wider than a byte are refused here, before torch would raise its own error.
    """
    if array.dtype.kind == "f" or array.dtype == np.uint8:
        return array.astype(array.dtype.newbyteorder("="), copy=False)
    raise DataError(f"Input {name} has dtype {array.dtype}; give uint8 (0-255) or float (0-1) values")


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
