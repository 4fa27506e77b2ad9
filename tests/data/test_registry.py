"""The registry states the MedMNIST v2 metadata exactly."""

from __future__ import annotations

import pytest

from vivit.data.registry import MEDMNIST_3D, get_medmnist_info, parse_medmnist_filename
from vivit.errors import ConfigError

EXPECTED_SPLITS = {
    "organmnist3d": (971, 161, 610),
    "nodulemnist3d": (1158, 165, 310),
    "adrenalmnist3d": (1188, 98, 298),
    "fracturemnist3d": (1027, 103, 240),
    "vesselmnist3d": (1335, 191, 382),
    "synapsemnist3d": (1230, 177, 352),
}


def test_registry_holds_the_six_medmnist_3d_datasets() -> None:
    assert sorted(MEDMNIST_3D) == sorted(EXPECTED_SPLITS)


@pytest.mark.parametrize("name", EXPECTED_SPLITS)
def test_split_sizes_match_the_medmnist_metadata(name: str) -> None:
    info = get_medmnist_info(name)
    assert tuple(info.split_sizes[s] for s in ("train", "val", "test")) == EXPECTED_SPLITS[name]


@pytest.mark.parametrize("name", EXPECTED_SPLITS)
def test_binary_datasets_have_two_classes_and_multiclass_more(name: str) -> None:
    info = get_medmnist_info(name)
    assert info.task in ("binary", "multi-class")
    assert (info.num_classes == 2) == (info.task == "binary")


def test_organmnist3d_class_names_are_in_label_order() -> None:
    assert get_medmnist_info("organmnist3d").class_names == (
        "liver", "kidney-right", "kidney-left", "femur-right", "femur-left",
        "bladder", "heart", "lung-right", "lung-left", "spleen", "pancreas",
    )


def test_left_right_pairs_name_right_then_left_of_the_same_organ() -> None:
    info = get_medmnist_info("organmnist3d")
    for right, left in info.left_right_pairs:
        organ = info.class_names[right].removesuffix("-right")
        assert (info.class_names[right], info.class_names[left]) == (f"{organ}-right", f"{organ}-left")
    rights = {info.class_names[r] for r, _ in info.left_right_pairs}
    assert rights == {"kidney-right", "femur-right", "lung-right"}


@pytest.mark.parametrize("name", [n for n in EXPECTED_SPLITS if n != "organmnist3d"])
def test_only_organmnist3d_has_left_right_classes(name: str) -> None:
    info = get_medmnist_info(name)
    assert info.left_right_pairs == () and info.left_right_axis is None


def test_urls_point_at_the_zenodo_record_with_size_suffix() -> None:
    info = get_medmnist_info("adrenalmnist3d")
    assert info.url(28) == "https://zenodo.org/records/10519652/files/adrenalmnist3d.npz?download=1"
    assert info.url(64) == "https://zenodo.org/records/10519652/files/adrenalmnist3d_64.npz?download=1"
    assert (info.md5[28], info.md5[64]) == (
        "bbd3c5a5576322bc4cdfea780653b1ce",
        "17721accfe9fb005146a47d33bc54b2f",
    )


def test_sizes_other_than_28_and_64_are_refused() -> None:
    with pytest.raises(ConfigError, match="32"):
        get_medmnist_info("organmnist3d").filename(32)


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="Unknown dataset 'organmnist2d'; choose one of: organmnist3d, "):
        get_medmnist_info("organmnist2d")


@pytest.mark.parametrize(
    "filename, expected",
    [
        ("organmnist3d.npz", ("organmnist3d", 28)),
        ("adrenalmnist3d_64.npz", ("adrenalmnist3d", 64)),
        ("adrenalmnist3d_32.npz", None),
        ("my_volumes.npz", None),
        ("organmnist3d.zip", None),
    ],
)
def test_official_file_names_tell_dataset_and_size(filename: str, expected: tuple | None) -> None:
    assert parse_medmnist_filename(filename) == expected
