"""MedMNIST 3D files: where they live, how they are fetched, checked and loaded.

A file is accepted when its *structure* matches the registry (keys, dtypes, shapes,
sample counts, label range). The official md5 is checked too, but a mismatch only
logs a one-line notice: a locally rebuilt file (same samples, another order) is as
good for training as the official one, and refusing it would strand offline users.
Loading shows that notice once per file content; `validate_npz` (a question the user
asked) shows it every time.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pooch
import torch

from vivit.data.arrays import TooLargeForMemory, read_npz
from vivit.data.cache import cache_root
from vivit.data.checksum_notices import first_notice
from vivit.data.registry import SPLITS, MedMNISTInfo, get_medmnist_info
from vivit.data.types import DatasetBundle, Split
from vivit.errors import DataError

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "VIVIT_DATA_DIR"


@dataclass(frozen=True)
class NpzReport:
    """What :func:`validate_npz` found: the structure passed; the checksum may differ."""

    path: Path
    name: str
    size: int
    split_sizes: dict[str, int]
    md5: str
    official_md5: str

    @property
    def checksum_matches(self) -> bool:
        return self.md5 == self.official_md5


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding dataset files: the argument, else $VIVIT_DATA_DIR, else the user cache."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    return cache_root()


def find_or_download(name: str, size: int = 28, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of the dataset file in the data folder, downloading it first if it is not there."""
    info = get_medmnist_info(name)
    folder = resolve_data_dir(data_dir)
    path = folder / info.filename(size)
    if path.exists():
        return path
    created = _missing_folders(folder)
    try:
        downloaded = pooch.retrieve(
            info.url(size), known_hash=f"md5:{info.md5[size]}", path=folder, fname=path.name
        )
    except ValueError as error:  # pooch's word for a download whose md5 is wrong
        _remove_empty(created)
        raise DataError(
            f"Downloaded {path.name} does not match the official md5 {info.md5[size]}; "
            f"retry, or put a good copy at {path} (from {info.url(size)})"
        ) from error
    except OSError as error:  # requests' connection errors derive from OSError
        _remove_empty(created)
        raise DataError(
            f"Could not download {path.name} (no network or download failed: "
            f"{type(error).__name__}); put the file at {path} (from {info.url(size)}) "
            f"or point --data-dir / ${DATA_DIR_ENV} at a folder holding it"
        ) from error
    return Path(downloaded)


def _missing_folders(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed download created; a folder that holds anything stays."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def validate_npz(path: str | os.PathLike, info: MedMNISTInfo, size: int = 28, notice: bool = True) -> NpzReport:
    """Check the file's structure against the registry, then its checksum.

    Raises DataError if the structure is wrong; a differing checksum only logs a notice
    (`notice=False`: the caller reports `checksum_matches` itself).
    """
    return _read_checked(Path(path), info, size, notice="always" if notice else "never")[1]


def load_medmnist(
    name: str,
    size: int = 28,
    data_dir: str | os.PathLike | None = None,
    path: str | os.PathLike | None = None,
) -> DatasetBundle:
    """Load a MedMNIST 3D dataset as uint8 volumes (N, 1, D, H, W) and int64 labels (N,).

    `path` names the file directly; otherwise it is found (or downloaded) in the data folder.
    """
    info = get_medmnist_info(name)
    file = Path(path) if path is not None else find_or_download(name, size, data_dir)
    arrays, _ = _read_checked(file, info, size, notice="once")
    splits = {}
    for split in SPLITS:
        images = torch.from_numpy(arrays[f"{split}_images"]).unsqueeze(1)  # (N, 1, D, H, W), a view
        labels = torch.from_numpy(arrays[f"{split}_labels"].reshape(-1).astype(np.int64))  # (N,)
        splits[split] = Split(images=images, labels=labels)
    return DatasetBundle(
        name=info.name,
        task=info.task,
        class_names=info.class_names,
        splits=splits,
        left_right_pairs=info.left_right_pairs,
        left_right_axis=info.left_right_axis,
    )


def file_md5(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as file:
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _read_checked(
    path: Path, info: MedMNISTInfo, size: int, notice: str
) -> tuple[dict[str, np.ndarray], NpzReport]:
    """Read every array once, check it, and report; shared by validation and loading.

    `notice` says when a differing checksum is logged: "always", "once" per file content, or "never".
    """
    arrays = _read_npz(path, info, size)
    for split in SPLITS:
        _check_split(path, split, arrays, info, size)
    md5 = file_md5(path)
    report = NpzReport(
        path=path,
        name=info.name,
        size=size,
        split_sizes={split: len(arrays[f"{split}_labels"]) for split in SPLITS},
        md5=md5,
        official_md5=info.md5[size],
    )
    noticed = notice == "always" or (notice == "once" and first_notice(path, md5))
    if not report.checksum_matches and noticed:
        logger.warning(
            "%s: md5 %s differs from the official %s, "
            "but its structure matches %s, so it is accepted",
            path, md5, report.official_md5, info.name,
        )
    return arrays, report


def _read_npz(path: Path, info: MedMNISTInfo, size: int) -> dict[str, np.ndarray]:
    if path.is_dir():
        raise DataError(
            f"{path} is a directory, not a MedMNIST .npz file; move it aside and put the file there "
            f"(from {info.url(size)}) or run `vivit datasets download {info.name} --size {size}`"
        )
    if not path.is_file():
        raise DataError(
            f"Dataset file {path} does not exist; put the file there (from {info.url(size)}) "
            f"or run `vivit datasets download {info.name} --size {size}`"
        )
    keys = [f"{split}_{part}" for split in SPLITS for part in ("images", "labels")]
    try:
        arrays = read_npz(path, keys)  # headers checked before anything is allocated
    except TooLargeForMemory as error:  # the file may be sound: re-downloading it would not help
        raise DataError(f"Dataset file {error}") from None
    except DataError as error:
        raise DataError(f"Dataset file {error}; delete it and re-download it from {info.url(size)}") from None
    for key in keys:
        if key not in arrays:
            raise DataError(
                f"Dataset file {path} is missing key '{key}'; re-download it from {info.url(size)}"
            )
    return arrays


def _check_split(
    path: Path, split: str, arrays: dict[str, np.ndarray], info: MedMNISTInfo, size: int
) -> None:
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    where = f"Dataset file {path}, split '{split}'"
    expected = info.split_sizes[split]
    if len(images) == 0:
        raise DataError(f"{where} is empty; expected {expected} samples")
    if images.dtype != np.uint8:
        raise DataError(f"{where}: images are {images.dtype}, expected uint8")
    if images.shape[1:] != (size,) * 3:
        raise DataError(
            f"{where}: images have shape {images.shape}, expected (N, {size}, {size}, {size})"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{where}: labels are {labels.dtype}, expected integers")
    if labels.shape not in ((len(labels), 1), (len(labels),)):
        raise DataError(f"{where}: labels have shape {labels.shape}, expected (N, 1) or (N,)")
    if len(images) != expected or len(labels) != expected:
        raise DataError(
            f"{where} has {len(images)} images and {len(labels)} labels; "
            f"{info.name} has {expected}"
        )
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= info.num_classes:
        raise DataError(
            f"{where}: labels span [{low}, {high}], outside [0, {info.num_classes - 1}] "
            f"for {info.num_classes} classes"
        )
