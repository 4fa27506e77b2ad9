"""NIfTI files and DICOM series as model inputs, prepared the way MedMNIST made its volumes.

MedMNIST 3D cut the region of interest to a cube and resized it to 28^3 (or 64^3); an
arbitrary scan has no labelled region, so we take the central cube (each axis cropped
to the shortest side) and resize it trilinearly to the model's (T, H, W).

Intensities become [0, 1]:
- CT (DICOM Modality 'CT', or a NIfTI whose values go below -500, which only Hounsfield
  units do): clip to a HU window, default the abdominal window [-150, 250] that suits
  MedMNIST's abdominal-CT sets, then scale;
- anything else (MR, ...): min-max over the volume.

Axes: NIfTI is reoriented to the closest canonical (RAS) orientation and kept in
nibabel's (x, y, z) order; a DICOM series is stacked along its slice position and
arranged (columns, rows, slices), the same (x, y, z) order. T is then the left-right
axis, as it is in OrganMNIST3D (see docs/data.md).
"""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F

from vivit.errors import DataError, first_line
from vivit.system_memory import available_memory, format_bytes

NIFTI_SUFFIXES = (".nii", ".nii.gz")
ABDOMINAL_WINDOW = (-150.0, 250.0)
HU_THRESHOLD = -500.0  # below this, values are Hounsfield units (air is -1000)


def is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def read_medical(path: Path, size: tuple[int, int, int], window: tuple[float, float] = ABDOMINAL_WINDOW) -> torch.Tensor:
    """A NIfTI file or a DICOM folder as a (1, T, H, W) float tensor in [0, 1] of `size`."""
    volume, is_ct = read_dicom_series(path) if path.is_dir() else read_nifti(path)
    if volume.ndim != 3 or min(volume.shape) < 1:
        raise DataError(f"Input {path} holds an array of shape {volume.shape}; expected one 3D volume")
    scaled = window_to_unit(volume, window) if is_ct else min_max(volume)
    return resize_cube(torch.from_numpy(scaled), size).unsqueeze(0)


def read_nifti(path: Path) -> tuple[np.ndarray, bool]:
    nibabel = _optional("nibabel")
    try:
        image = nibabel.load(str(path))
        _check_fits(path, image.shape, np.dtype(np.float32).itemsize)  # before the voxels are read
        _check_stored(path, image)
        image = nibabel.as_closest_canonical(image)  # reorienting reads the voxels
        volume = np.asarray(image.get_fdata(dtype=np.float32))
    except DataError:
        raise
    except Exception as error:  # noqa: BLE001 - nibabel parses untrusted bytes and raises many kinds
        raise DataError(f"Input {path} is not a readable NIfTI file ({first_line(error)})") from None
    if volume.ndim == 4 and volume.shape[3] == 1:
        volume = volume[..., 0]
    return volume, bool(volume.size) and float(volume.min()) < HU_THRESHOLD


def read_dicom_series(folder: Path) -> tuple[np.ndarray, bool]:
    """The slices of one series in `folder`, ordered by position, as (columns, rows, slices)."""
    pydicom = _optional("pydicom")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"Input folder {folder} holds no DICOM files")
    slices = []
    for file in files:
        try:
            dataset = pydicom.dcmread(str(file))
            _check_fits(file, (int(dataset.Rows), int(dataset.Columns), int(getattr(dataset, "NumberOfFrames", 1) or 1)), 4)
            pixels = dataset.pixel_array.astype(np.float32)
            # Stored values -> modality values (HU for CT).
            pixels = pixels * float(getattr(dataset, "RescaleSlope", 1)) + float(getattr(dataset, "RescaleIntercept", 0))
            slices.append((_slice_position(dataset), pixels, str(getattr(dataset, "Modality", ""))))
        except DataError:
            raise
        except Exception as error:  # noqa: BLE001 - pydicom parses untrusted bytes and raises many kinds
            raise DataError(f"Input {file} is not a readable DICOM slice ({first_line(error)})") from None
    if len({s[1].shape for s in slices}) > 1:
        raise DataError(f"Input folder {folder} mixes slices of different sizes; give one DICOM series per folder")
    slices.sort(key=lambda s: s[0])
    volume = np.stack([s[1] for s in slices])  # (slices, rows, columns)
    return np.ascontiguousarray(volume.transpose(2, 1, 0)), slices[0][2] == "CT"


def _check_fits(path: Path, shape: tuple[int, ...], itemsize: int) -> None:
    """Refuse, before reading, a header whose voxels would not fit in free memory."""
    needed = math.prod(shape) * itemsize
    if needed > available_memory():
        raise DataError(
            f"Input {path} holds a volume of shape {tuple(shape)} ({format_bytes(needed)} as float32), more than "
            f"the {format_bytes(available_memory())} of memory available"
        )


def _check_stored(path: Path, image: object) -> None:
    """An uncompressed NIfTI must hold the voxels its header promises: nibabel allocates
    them all before it finds the file short (found by fuzzing: 545 bytes claiming 8 GB)."""
    if path.name.lower().endswith(".gz"):
        return  # the inflated size is unknown until read; _check_fits bounds it by free memory
    needed = int(image.dataobj.offset) + math.prod(image.shape) * image.get_data_dtype().itemsize
    stored = path.stat().st_size
    if stored < needed:
        raise DataError(
            f"Input {path} is truncated: its header promises {format_bytes(needed)} of voxels and header "
            f"but the file holds {format_bytes(stored)}"
        )


def _slice_position(dataset: object) -> float:
    position = getattr(dataset, "ImagePositionPatient", None)
    if position is not None and len(position) == 3:
        return float(position[2])
    return float(getattr(dataset, "InstanceNumber", 0))


def window_to_unit(volume: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    low, high = window
    return ((np.clip(volume, low, high) - low) / (high - low)).astype(np.float32)


def min_max(volume: np.ndarray) -> np.ndarray:
    low, high = float(volume.min()), float(volume.max())
    if high == low:
        return np.zeros_like(volume, dtype=np.float32)
    return ((volume - low) / (high - low)).astype(np.float32)


def resize_cube(volume: torch.Tensor, size: tuple[int, int, int]) -> torch.Tensor:
    """Central cube of (X, Y, Z), resized trilinearly to `size`."""
    side = min(volume.shape)
    starts = [(n - side) // 2 for n in volume.shape]
    cube = volume[tuple(slice(s, s + side) for s in starts)]
    resized = F.interpolate(cube[None, None].float(), size=size, mode="trilinear", align_corners=False)
    return resized[0, 0].clamp_(0, 1)


def _optional(name: str) -> ModuleType:
    try:
        return __import__(name)
    except ImportError:
        raise DataError(f"Reading medical formats needs {name}: pip install 'vivit[medical]'") from None
