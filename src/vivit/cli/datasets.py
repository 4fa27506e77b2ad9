"""`vivit datasets list | info | download | verify`: the datasets and their files."""

from __future__ import annotations

import argparse
from pathlib import Path

# The registry is plain data; the loaders (torch, numpy, pooch) are imported by the
# commands that use them, so `vivit --help` does not load them.
from vivit.data.registry import (
    MEDMNIST_3D,
    SIZES,
    MedMNISTInfo,
    get_medmnist_info,
    identify_medmnist_file,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("datasets", help="list, describe, download and verify datasets")
    actions = parser.add_subparsers(dest="action", required=True)

    actions.add_parser("list", help="the datasets vivit knows").set_defaults(func=list_command)

    info = actions.add_parser("info", help="facts of one MedMNIST 3D dataset")
    info.add_argument("name")
    info.set_defaults(func=info_command)

    download = actions.add_parser("download", help="fetch a MedMNIST 3D file into the data folder")
    download.add_argument("name")
    _add_file_options(download)
    download.set_defaults(func=download_command)

    verify = actions.add_parser("verify", help="check a MedMNIST 3D file's structure and checksum")
    verify.add_argument(
        "path_or_name", help="a .npz file, or a dataset name to look up in the data folder"
    )
    _add_file_options(verify)
    verify.set_defaults(func=verify_command)


def _add_file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, choices=SIZES, default=28, help="side of the cubes")
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder of dataset files (default: $VIVIT_DATA_DIR, else a user cache)",
    )


def list_command(args: argparse.Namespace) -> int:
    from vivit.data.datasets import SYNTHETIC

    print(f"{'name':<18} {'task':<12} {'classes':>7}  train / val / test")
    for info in MEDMNIST_3D.values():
        sizes = " / ".join(str(n) for n in info.split_sizes.values())
        print(f"{info.name:<18} {info.task:<12} {info.num_classes:>7}  {sizes}")
    for name in SYNTHETIC:
        print(f"{name:<18} {'multi-class':<12} {'':>7}  generated from a seed")
    return 0


def info_command(args: argparse.Namespace) -> int:
    info = get_medmnist_info(args.name)
    print(f"name:        {info.name}")
    print(f"task:        {info.task}, {info.num_classes} classes")
    for label, class_name in enumerate(info.class_names):
        print(f"  {label:>2}  {class_name}")
    print("splits:      " + ", ".join(f"{split} {n}" for split, n in info.split_sizes.items()))
    for size in SIZES:
        print(f"file {size}^3:   {info.filename(size)}  md5 {info.md5[size]}  {info.url(size)}")
    if info.left_right_axis is not None:
        names = info.class_names
        pairs = ", ".join(f"{names[a]}/{names[b]}" for a, b in info.left_right_pairs)
        print(f"left-right:  axis {info.left_right_axis} of (T, H, W); pairs {pairs}")
    from vivit.data.medmnist import resolve_data_dir

    print(f"data folder: {resolve_data_dir(None)}")
    return 0


def download_command(args: argparse.Namespace) -> int:
    from vivit.data.medmnist import find_or_download

    path = find_or_download(args.name, args.size, args.data_dir)
    return _print_verification(path, get_medmnist_info(args.name), args.size)


def verify_command(args: argparse.Namespace) -> int:
    given = Path(args.path_or_name).expanduser()
    if given.is_file():
        info, size = identify_medmnist_file(given)
        return _print_verification(given, info, size)
    if given.exists() or given.suffix == ".npz" or len(given.parts) > 1:  # meant as a path, not a name
        from vivit.errors import DataError

        what = "is a directory, not a MedMNIST .npz file" if given.is_dir() else "does not exist"
        raise DataError(f"{given} {what}; give the path of an .npz file, or a dataset name (vivit datasets list)")
    from vivit.data.medmnist import resolve_data_dir

    info = get_medmnist_info(args.path_or_name)
    path = resolve_data_dir(args.data_dir) / info.filename(args.size)
    return _print_verification(path, info, args.size)


def _print_verification(path: Path, info: MedMNISTInfo, size: int) -> int:
    from vivit.data.medmnist import validate_npz

    report = validate_npz(path, info, size, notice=False)  # the checksum line below says it
    counts = ", ".join(f"{split} {n}" for split, n in report.split_sizes.items())
    print(f"{path}: structure OK ({info.name}, {size}^3, {counts})")
    if report.checksum_matches:
        print(f"checksum: matches the official md5 {report.md5}")
    else:
        print(
            f"checksum: differs from the official md5 (file {report.md5}, official "
            f"{report.official_md5}); usable, since the structure matches"
        )
    return 0
