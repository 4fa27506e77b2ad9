"""A broken MedMNIST file fails with one line that names the file and the fault."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vivit.data.medmnist import load_medmnist, validate_npz
from vivit.data.registry import MedMNISTInfo
from vivit.errors import DataError

Arrays = dict[str, np.ndarray]


def _assert_one_line_naming(caught: pytest.ExceptionInfo, path: Path, *fragments: str) -> None:
    message = str(caught.value)
    assert "\n" not in message, message
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_a_valid_tiny_file_loads(tiny_info: MedMNISTInfo, tiny_arrays: Arrays, save_npz) -> None:
    bundle = load_medmnist("tinymnist3d", path=save_npz(tiny_arrays))
    assert bundle.splits["train"].images.shape == (3, 1, 28, 28, 28)
    assert np.array_equal(bundle.splits["val"].images[:, 0].numpy(), tiny_arrays["val_images"])
    assert bundle.splits["test"].labels.tolist() == [0, 1]


def test_labels_of_shape_n_are_accepted_as_well_as_n_by_1(
    tiny_info: MedMNISTInfo, tiny_arrays: Arrays, save_npz
) -> None:
    tiny_arrays["train_labels"] = tiny_arrays["train_labels"].ravel().astype(np.int64)
    bundle = load_medmnist("tinymnist3d", path=save_npz(tiny_arrays))
    assert bundle.splits["train"].labels.tolist() == [0, 1, 0]


def _drop(key: str) -> Callable[[Arrays], None]:
    return lambda arrays: arrays.pop(key)


def _set(key: str, make: Callable[[np.ndarray], np.ndarray]) -> Callable[[Arrays], None]:
    def change(arrays: Arrays) -> None:
        arrays[key] = make(arrays[key])

    return change


def _empty_val(arrays: Arrays) -> None:
    arrays["val_images"] = arrays["val_images"][:0]
    arrays["val_labels"] = arrays["val_labels"][:0]


BREAKAGES = {
    "missing key": (_drop("val_images"), ("missing key 'val_images'", "re-download", "zenodo.org")),
    "float images": (_set("train_images", lambda a: a.astype(np.float32)), ("float32, expected uint8",)),
    "wrong shape": (_set("test_images", lambda a: a[..., :27]), ("(2, 28, 28, 27)", "(N, 28, 28, 28)")),
    "64 cubes in a 28 file": (
        _set("test_images", lambda a: np.zeros((2, 64, 64, 64), np.uint8)),
        ("(2, 64, 64, 64)",),
    ),
    "float labels": (_set("train_labels", lambda a: a.astype(np.float32)), ("expected integers",)),
    "label out of range": (_set("train_labels", lambda a: a + 1), ("outside [0, 1]", "2 classes")),
    "negative label": (_set("val_labels", lambda a: a.astype(np.int16) - 1), ("[-1, 0]",)),
    "empty split": (_empty_val, ("split 'val' is empty",)),
    "wrong count": (_set("train_images", lambda a: a[:2]), ("2 images and 3 labels", "tinymnist3d has 3")),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_file_is_refused_naming_file_and_fault(
    breakage: str, tiny_info: MedMNISTInfo, tiny_arrays: Arrays, save_npz
) -> None:
    break_arrays, fragments = BREAKAGES[breakage]
    break_arrays(tiny_arrays)
    path = save_npz(tiny_arrays)
    with pytest.raises(DataError) as caught:
        validate_npz(path, tiny_info)
    _assert_one_line_naming(caught, path, *fragments)


def test_a_truncated_file_is_refused_naming_the_file(
    tiny_info: MedMNISTInfo, tiny_arrays: Arrays, save_npz
) -> None:
    path = save_npz(tiny_arrays)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError) as caught:
        load_medmnist("tinymnist3d", path=path)
    _assert_one_line_naming(caught, path, "corrupt or truncated", "re-download")


def test_a_file_with_damaged_compressed_data_is_refused_naming_the_file(
    tiny_info: MedMNISTInfo, tiny_arrays: Arrays, save_npz
) -> None:
    path = save_npz(tiny_arrays)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # zero a stretch inside a compressed member
    path.write_bytes(bytes(data))
    with pytest.raises(DataError) as caught:
        validate_npz(path, tiny_info)
    _assert_one_line_naming(caught, path, "corrupt or truncated")


def test_a_file_that_is_not_an_npz_at_all_is_refused(tiny_info: MedMNISTInfo, tmp_path: Path) -> None:
    path = tmp_path / "tinymnist3d.npz"
    path.write_text("<html>Too many requests</html>")  # what a failed download often leaves
    with pytest.raises(DataError) as caught:
        validate_npz(path, tiny_info)
    _assert_one_line_naming(caught, path, "corrupt or truncated")


def test_a_missing_file_says_where_it_should_be(tiny_info: MedMNISTInfo, tmp_path: Path) -> None:
    path = tmp_path / "tinymnist3d.npz"
    with pytest.raises(DataError) as caught:
        validate_npz(path, tiny_info)
    _assert_one_line_naming(caught, path, "does not exist", "zenodo.org")


def test_a_sound_file_too_large_for_free_memory_says_so_without_asking_for_a_new_download(
    tiny_info: MedMNISTInfo, tiny_arrays: Arrays, save_npz, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_npz(tiny_arrays)
    monkeypatch.setattr("vivit.data.arrays.available_memory", lambda: 1000)
    with pytest.raises(DataError) as caught:
        load_medmnist("tinymnist3d", path=path)
    _assert_one_line_naming(caught, path, "memory available")
    assert "re-download" not in str(caught.value)
