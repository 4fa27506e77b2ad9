"""The unlabelled data of a pretraining run: train splits of one or several datasets, or every
video under a folder, as one DatasetBundle whose labels are all 0 (they are never read).

`data.dataset` names one dataset or several joined by `+` (`organmnist3d+adrenalmnist3d`).
A dataset contributes its train split, and its val split (if it has one) to the val split on
which the reconstruction loss is followed; its test split is never read. A folder contributes
every video under it, at any depth, labelled or not, except those under `val/` or `test/`
folders; it has no val split of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from vivit.data.cache import video_cache_dir
from vivit.data.datasets import DEFAULT_FRAME_SIZE, load_dataset, sample_size
from vivit.data.types import DatasetBundle, Split
from vivit.errors import ConfigError, DataError

UNLABELLED = "unlabelled"
HELD_OUT_FOLDERS = ("val", "test")  # a split folder layout's held-out videos stay unseen


def dataset_names(dataset: str) -> list[str]:
    """`a+b+c` -> [a, b, c]; a path that exists is one name even if it holds a `+`."""
    if Path(dataset).expanduser().exists():
        return [dataset]
    return [name for name in dataset.split("+") if name]


def load_pretraining_bundle(dataset: str, size: int | None, data_dir: str | None, options: dict[str, Any]) -> DatasetBundle:
    """The union of the unlabelled splits of every dataset `dataset` names."""
    size, options = sample_size(dataset, size, options)
    parts = [_unlabelled(name, size, data_dir, options) for name in dataset_names(dataset)]
    if not parts:
        raise ConfigError(f"data.dataset '{dataset}' names no dataset; give a name, a folder, or names joined by '+'")
    shapes = {name: tuple(train.images.shape[1:]) for name, train, _ in parts}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in shapes.items())
        raise DataError(f"Pretraining on several datasets needs samples of one shape, got {listed}; set data.size to one side for all")
    splits = {"train": _joined([train for _, train, _ in parts])}
    vals = [val for _, _, val in parts if val is not None]
    if vals:
        splits["val"] = _joined(vals)
    return DatasetBundle(name=dataset, task=UNLABELLED, class_names=(UNLABELLED,), splits=splits)


def _unlabelled(name: str, size: int | None, data_dir: str | None, options: dict[str, Any]) -> tuple[str, Split, Split | None]:
    path = Path(name).expanduser()
    if path.is_dir() and path.suffix != ".npz":
        return path.name, video_clips(path, size or DEFAULT_FRAME_SIZE, options), None
    bundle = load_dataset(name, size=size, data_dir=data_dir, **options)
    return bundle.name, bundle.splits["train"], bundle.splits.get("val")


def video_clips(root: Path, size: int, options: dict[str, Any]) -> Split:
    """Every video under `root` (but under val/ or test/) as one clip each, decoded once into the cache."""
    from vivit.data.video import decode_clip  # the decoding stack only for video
    from vivit.data.video_cache import DecodeCache
    from vivit.data.video_folder import VIDEO_EXTENSIONS

    unknown = sorted(set(options) - {"num_frames", "sampling", "stride"})
    if unknown:
        raise ConfigError(f"Pretraining on the video folder {root} takes data.options num_frames, sampling, stride; not {', '.join(unknown)}")
    settings = {"num_frames": 16, "size": [size, size], "sampling": "uniform", "stride": 2, **options}
    videos = sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
        and not any(part in HELD_OUT_FOLDERS or part.startswith(".") for part in p.relative_to(root).parts[:-1])
    )
    if not videos:
        raise DataError(f"Video folder {root} holds no video files ({', '.join(sorted(VIDEO_EXTENSIONS))}) to pretrain on")
    cache = DecodeCache(video_cache_dir())

    def decode(path: Path) -> np.ndarray:
        return cache.get_or_create(path, settings, lambda: decode_clip(
            path, settings["num_frames"], (size, size), settings["sampling"], settings["stride"]))

    images = torch.from_numpy(np.stack([decode(path) for path in videos]))  # (N, 3, T, H, W) uint8
    return Split(images, torch.zeros(len(videos), dtype=torch.int64))


def _joined(splits: list[Split]) -> Split:
    images = torch.cat([split.images for split in splits])
    return Split(images, torch.zeros(len(images), dtype=torch.int64))
