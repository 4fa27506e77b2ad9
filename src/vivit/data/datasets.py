"""One entry point from a dataset name or path to a DatasetBundle.

Accepted: a MedMNIST 3D name (fetched into the data folder), a synthetic dataset
name, a folder of videos, or a MedMNIST-format .npz file named as the official one
(e.g. organmnist3d_64.npz), whose name tells which registry entry and size it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vivit.data.cache import video_cache_dir
from vivit.data.medmnist import load_medmnist
from vivit.data.registry import MEDMNIST_3D, identify_medmnist_file
from vivit.data.synthetic import synthetic_motion_bundle, synthetic_shapes_bundle
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError, DataError

# Each synthetic dataset's generator and the options it takes besides `size`.
SYNTHETIC: dict[str, tuple[Callable[..., DatasetBundle], tuple[str, ...]]] = {
    "synthetic-shapes": (synthetic_shapes_bundle, ("num_samples", "seed")),
    "synthetic-motion": (synthetic_motion_bundle, ("num_samples", "num_frames", "seed")),
}


def list_datasets() -> list[str]:
    """Every dataset name `load_dataset` accepts (besides paths)."""
    return [*MEDMNIST_3D, *SYNTHETIC]


# The side of a sample when `size` is not given: MedMNIST's small cubes, and the
# frame side of the video presets.
DEFAULT_VOLUME_SIZE = 28
DEFAULT_FRAME_SIZE = 112


def load_dataset(
    name_or_path: str | os.PathLike,
    *,
    size: int | None = None,
    data_dir: str | os.PathLike | None = None,
    **options: Any,
) -> DatasetBundle:
    """Load a dataset by name or path.

    size: the side of a sample: of MedMNIST cubes (28 or 64), of synthetic samples, of
    video frames (square); None takes the dataset's own (28 for volumes, 112 for video
    frames). A .npz file's side comes from its name instead.
    options: synthetic-shapes takes num_samples (per split) and seed; synthetic-motion
    also num_frames; a video folder passes them to vivit.data.video.load_video_folder
    (its decode cache defaults to the user cache, vivit.data.cache).
    """
    name = str(name_or_path)
    if name in MEDMNIST_3D:
        _check_options(name, options, allowed=())
        return load_medmnist(name, size=size or DEFAULT_VOLUME_SIZE, data_dir=data_dir)
    if name in SYNTHETIC:
        make, allowed = SYNTHETIC[name]
        _check_options(name, options, allowed)
        return make(size=size or DEFAULT_VOLUME_SIZE, **options)
    path = Path(name_or_path).expanduser()
    if path.is_dir() and path.suffix == ".npz":  # meant as a file: a video folder is never named so
        raise DataError(f"{path} is a directory, not a MedMNIST .npz file; give the .npz file itself")
    if path.is_dir():
        from vivit.data.video import load_video_folder  # decoding stack only when needed

        options = {**options, "size": size or DEFAULT_FRAME_SIZE}
        options.setdefault("cache_dir", video_cache_dir())
        try:
            return load_video_folder(path, **options)
        except TypeError as error:
            if "unexpected keyword argument" not in str(error):
                raise
            raise ConfigError(f"Video folder {path}: {error}; see vivit.data.video.load_video_folder") from None
    if path.is_file() and path.suffix == ".npz":
        return _load_npz_file(path, options)
    raise ConfigError(
        f"Unknown dataset '{name}'; choose one of: {', '.join(list_datasets())}, "
        "or give a video folder or a MedMNIST .npz file"
    )


def sample_size(dataset: str, size: int | None, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """`data.size` and the loader options without `size`: a video folder's frame size may be
    written either as data.size or, as its loader calls it, data.options.size, not both."""
    rest = {key: value for key, value in options.items() if key != "size"}
    if "size" not in options:
        return size, rest
    if size is not None and options["size"] != size:
        raise ConfigError(
            f"Dataset {dataset}: the sample size is given twice (data.size={size}, "
            f"data.options.size={options['size']}); give it once, as --size or data.size"
        )
    return options["size"], rest


def _load_npz_file(path: Path, options: dict[str, Any]) -> DatasetBundle:
    info, size = identify_medmnist_file(path)
    _check_options(info.name, options, allowed=())
    return load_medmnist(info.name, size=size, path=path)


def _check_options(name: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        accepted = ", ".join(allowed) or "none"
        raise ConfigError(
            f"Dataset '{name}' does not take option(s) {', '.join(unknown)}; it takes: {accepted}"
        )
