"""The unlabelled data of a pretraining run: train splits of one or several datasets, or every
video under a folder, as one DatasetBundle whose labels are all 0 (they are never read).

`data.dataset` names one dataset or several joined by `+` (`organmnist3d+adrenalmnist3d`).
A dataset contributes its train split, and its val split (if it has one) to the val split on
which the reconstruction loss is followed; its test split is never read. A labelled video folder
(the layouts of vivit.data.video_folder) is such a dataset: its splits are cut as `vivit train`
on it cuts them (same data.options), so the videos fine-tuning will test on stay unseen. Any
other folder contributes every video under it, at any depth, except those under `val/` or
`test/` folders, and has no val split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from vivit.data.cache import video_cache_dir
from vivit.data.datasets import DEFAULT_FRAME_SIZE, load_dataset, sample_size
from vivit.data.types import DatasetBundle, Split
from vivit.data.video_folder import VIDEO_EXTENSIONS, is_labelled_layout
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


def _unlabelled(name: str, size: Any, data_dir: str | None, options: dict[str, Any]) -> tuple[str, Split, Split | None]:
    path = Path(name).expanduser()
    if path.is_dir() and path.suffix != ".npz" and not is_labelled_layout(path, options.get("csv")):
        return path.name, every_video(path, size or DEFAULT_FRAME_SIZE, options), None
    bundle = load_dataset(name, size=size, data_dir=data_dir, **options, **_decode_only_train_and_val(path))
    return bundle.name, bundle.splits["train"], bundle.splits.get("val")


def _decode_only_train_and_val(path: Path) -> dict[str, Any]:
    return {"splits": ("train", "val")} if path.is_dir() else {}


UNLABELLED_FOLDER_OPTIONS = ("num_frames", "sampling", "stride", "short_side", "skip_bad")


def every_video(root: Path, size: int | tuple[int, int], options: dict[str, Any]) -> Split:
    """Every video under `root` (but under val/ or test/) as its evaluation clip, decoded once into the cache."""
    from vivit.data.video import ClipDecoding  # the decoding stack only for video
    from vivit.data.video_preprocessing import VideoPreprocessing
    from vivit.data.video_sampling import check_clip_request

    unknown = sorted(set(options) - set(UNLABELLED_FOLDER_OPTIONS))
    if unknown:
        raise ConfigError(f"Pretraining on the unlabelled video folder {root} takes data.options "
                          f"{', '.join(UNLABELLED_FOLDER_OPTIONS)}; not {', '.join(unknown)}")
    settings = {"num_frames": 16, "sampling": "uniform", "stride": 2, "short_side": None, **options}
    skip_bad = bool(settings.pop("skip_bad", False))
    crop = check_clip_request(settings["num_frames"], size, settings["sampling"], settings["stride"], settings["short_side"])
    videos = sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
        and not any(part in HELD_OUT_FOLDERS or part.startswith(".") for part in p.relative_to(root).parts[:-1])
    )
    if not videos:
        raise DataError(f"Video folder {root} holds no video files ({', '.join(sorted(VIDEO_EXTENSIONS))}) to pretrain on")
    clips = ClipDecoding(VideoPreprocessing(settings["num_frames"], crop, settings["sampling"], settings["stride"],
                                            settings["short_side"]), video_cache_dir(), skip_bad)
    images, _, _ = clips.decode(videos, [0] * len(videos))
    clips.check_any_decoded(root, len(videos))
    return Split(images, torch.zeros(len(images), dtype=torch.int64))


def _joined(splits: list[Split]) -> Split:
    images = torch.cat([split.images for split in splits])
    return Split(images, torch.zeros(len(images), dtype=torch.int64))
