"""Finding the labelled videos of a dataset folder, and splitting them.

Three layouts are understood (classes are sorted by name, labels are their indices):
- ``root/<class_name>/*.mp4`` (also .avi, .mkv, .webm, .mov; any letter case);
- ``root/{train,val,test}/<class_name>/...``: the given splits. ``train`` is required;
  without ``val``, one is split off ``train`` (stratified, seeded);
- a CSV of ``path,label`` rows (label = class name, path relative to root unless
  absolute; an optional ``path,label`` header row).

Without given splits, each class is shuffled with ``seed`` and cut into train / val /
test by ``split_fractions`` (default 70 / 15 / 15), keeping at least one training
video per class. Nothing here decodes a video.
"""

from __future__ import annotations

import csv as csv_module
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vivit.errors import ConfigError, DataError

VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mkv", ".webm", ".mov"})
SPLIT_NAMES = ("train", "val", "test")
DEFAULT_SPLIT_FRACTIONS = (0.7, 0.15, 0.15)

Item = tuple[Path, int]  # (video file, label)


@dataclass(frozen=True)
class VideoListing:
    class_names: tuple[str, ...]
    splits: dict[str, list[Item]]


def list_videos(
    root: str | Path,
    csv: str | Path | None = None,
    split_fractions: Sequence[float] | None = None,
    seed: int = 0,
) -> VideoListing:
    """The labelled videos of ``root`` (or of ``csv``), split into train / val / test."""
    root = Path(root)
    fractions = _check_fractions(split_fractions or DEFAULT_SPLIT_FRACTIONS)
    if not root.is_dir():
        raise DataError(f"Video folder {root} does not exist or is not a folder")
    if csv is not None:
        by_class = _read_csv(Path(csv), root)
    elif not any((root / name).is_dir() for name in SPLIT_NAMES):
        by_class = _class_folders(root)
    else:
        return _given_splits(root, [name for name in SPLIT_NAMES if (root / name).is_dir()], fractions, seed)
    class_names = tuple(sorted(by_class))
    splits = stratified_split(_label(by_class, class_names), fractions, seed)
    return VideoListing(class_names, _without_empty_splits(root, splits, fractions))


def _without_empty_splits(root: Path, splits: dict[str, list[Item]], fractions: tuple[float, ...]) -> dict[str, list[Item]]:
    """Drop a split asked to be empty (fraction 0); refuse one left empty by too few videos."""
    kept = {}
    for (name, items), fraction in zip(splits.items(), fractions):
        if not items and fraction == 0:
            continue
        if not items:
            raise DataError(
                f"Video folder {root} leaves the {name} split empty: its classes have too few videos for "
                f"split fractions {list(fractions)}; add videos to each class (4 or more for the default "
                f"70/15/15), or give train/val/test folders, or set data.options.split_fractions"
            )
        kept[name] = items
    return kept


def stratified_split(items: Sequence[Item], fractions: Sequence[float], seed: int) -> dict[str, list[Item]]:
    """Split each class by (train, val, test) fractions; seeded, keeping >= 1 training item per class."""
    rng = np.random.default_rng(seed)
    splits: dict[str, list[Item]] = {name: [] for name in SPLIT_NAMES}
    for label in sorted({label for _, label in items}):
        members = sorted(item for item in items if item[1] == label)
        order = rng.permutation(len(members))
        n_val, n_test = (round(len(members) * f) for f in fractions[1:])
        while n_val + n_test >= len(members) and n_val + n_test > 0:
            if n_val >= n_test:
                n_val -= 1
            else:
                n_test -= 1
        cut = {"val": order[:n_val], "test": order[n_val : n_val + n_test], "train": order[n_val + n_test :]}
        for name, indices in cut.items():
            splits[name] += [members[i] for i in indices]
    return {name: sorted(split) for name, split in splits.items()}


def is_labelled_layout(root: Path, csv: str | Path | None = None) -> bool:
    """Whether `root` is one of the labelled layouts above: a CSV, split folders with a `train`
    one and nothing else, or class folders that each hold videos; never with loose videos."""
    if csv is not None:
        return True
    if any(_is_video(p) for p in root.iterdir()):
        return False
    names = {folder.name for folder in _folders(root)}
    if names & set(SPLIT_NAMES):
        return "train" in names and names <= set(SPLIT_NAMES)
    return bool(names) and all(any(_is_video(p) for p in (root / name).iterdir()) for name in names)


def _is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS


def _given_splits(root: Path, given: list[str], fractions: tuple[float, ...], seed: int) -> VideoListing:
    others = [p.name for p in _folders(root) if p.name not in SPLIT_NAMES]
    if others:
        raise DataError(
            f"Video folder {root} mixes split folders ({', '.join(given)}) "
            f"with other folders ({', '.join(others)}); use one layout"
        )
    if "train" not in given:
        raise DataError(f"Video folder {root} has {', '.join(given)} folders but no train folder")
    by_split = {name: _class_folders(root / name) for name in given}
    class_names = tuple(sorted(set().union(*by_split.values())))
    splits = {name: _label(by_class, class_names) for name, by_class in by_split.items()}
    if "val" not in splits:
        # Split val off train in the proportion val : train of the fractions.
        train_fraction, val_fraction, _ = fractions
        carved = stratified_split(
            splits["train"], (0.0, val_fraction / (train_fraction + val_fraction), 0.0), seed
        )
        splits["train"], splits["val"] = carved["train"], carved["val"]
    return VideoListing(class_names, {name: splits[name] for name in SPLIT_NAMES if name in splits})


def _class_folders(root: Path) -> dict[str, list[Path]]:
    """class name -> its video files, for the class folders directly under root."""
    folders = _folders(root)
    if not folders:
        raise DataError(f"Video folder {root} has no class folders; expected {root}/<class_name>/<video>.mp4")
    by_class = {}
    for folder in folders:
        videos = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
        if not videos:
            raise DataError(
                f"Class folder {folder} has no video files ({', '.join(sorted(VIDEO_EXTENSIONS))})"
            )
        by_class[folder.name] = videos
    return by_class


def _folders(root: Path) -> list[Path]:
    """Sub-folders of root, sorted, without hidden ones (.git, .cache)."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read_csv(csv_path: Path, root: Path) -> dict[str, list[Path]]:
    if not csv_path.is_file():
        raise DataError(f"Video list {csv_path} does not exist")
    by_class: dict[str, list[Path]] = {}
    with csv_path.open(newline="") as file:
        for line_number, row in enumerate(csv_module.reader(file), start=1):
            if not row or (line_number == 1 and [c.strip().lower() for c in row] == ["path", "label"]):
                continue
            if len(row) != 2 or not row[0].strip() or not row[1].strip():
                raise DataError(
                    f"Video list {csv_path} line {line_number} is not 'path,label': {','.join(row)}"
                )
            path, label = Path(row[0].strip()), row[1].strip()
            by_class.setdefault(label, []).append(path if path.is_absolute() else root / path)
    if not by_class:
        raise DataError(f"Video list {csv_path} has no 'path,label' rows")
    return by_class


def _label(by_class: dict[str, list[Path]], class_names: tuple[str, ...]) -> list[Item]:
    return [(path, class_names.index(name)) for name, paths in by_class.items() for path in paths]


def _check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6 or fractions[0] == 0:
        raise ConfigError(
            f"split_fractions must be (train, val, test) >= 0 summing to 1 with train > 0, got {list(fractions)}"
        )
    return fractions
