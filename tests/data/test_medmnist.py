"""Finding, fetching and loading real MedMNIST 3D files."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests
import torch

from vivit.data.medmnist import find_or_download, load_medmnist, resolve_data_dir, validate_npz
from vivit.data.registry import MedMNISTInfo, get_medmnist_info
from vivit.data.types import DatasetBundle
from vivit.errors import DataError

NOTICE_LOGGER = "vivit.data.medmnist"


def _checksum_notices(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == NOTICE_LOGGER and "md5" in r.getMessage()]


def _assert_matches_registry(bundle: DatasetBundle, size: int) -> None:
    info = get_medmnist_info(bundle.name)
    assert bundle.class_names == info.class_names
    assert bundle.task == info.task
    for split, count in info.split_sizes.items():
        images, labels = bundle.splits[split].images, bundle.splits[split].labels
        assert images.shape == (count, 1, size, size, size)
        assert images.dtype == torch.uint8
        assert labels.shape == (count,) and labels.dtype == torch.int64
        assert 0 <= labels.min() and labels.max() < info.num_classes


def test_organmnist3d_loads_with_registry_counts_and_classes(organmnist3d: DatasetBundle) -> None:
    _assert_matches_registry(organmnist3d, 28)
    assert organmnist3d.left_right_pairs == ((1, 2), (3, 4), (7, 8))
    assert organmnist3d.left_right_axis == "T"
    # Every class appears in training: the labels were read, not zero-filled.
    assert organmnist3d.splits["train"].labels.unique().tolist() == list(range(11))


def test_adrenalmnist3d_64_loads_as_64_cubed(adrenalmnist3d_64: DatasetBundle) -> None:
    _assert_matches_registry(adrenalmnist3d_64, 64)
    assert adrenalmnist3d_64.input_shape == (1, 64, 64, 64)


def test_loading_by_name_finds_the_file_through_vivit_data_dir(
    real_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIVIT_DATA_DIR", str(real_data_dir))
    monkeypatch.setattr(pooch, "retrieve", _fail_if_called)
    _assert_matches_registry(load_medmnist("adrenalmnist3d"), 28)


def test_volumes_are_views_of_the_file_arrays_not_copies(organmnist3d: DatasetBundle) -> None:
    images = organmnist3d.splits["train"].images
    assert images.is_contiguous()
    # unsqueeze(1) of the (N, D, H, W) array: the channel axis costs no memory.
    assert images.untyped_storage().nbytes() == images.numel()


def test_rebuilt_organmnist3d_is_accepted_with_a_one_line_checksum_notice(
    real_data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = real_data_dir / "organmnist3d.npz"
    with caplog.at_level(logging.WARNING, logger=NOTICE_LOGGER):
        report = validate_npz(path, get_medmnist_info("organmnist3d"))
    assert not report.checksum_matches
    assert report.md5 == "727cea3ca266e33fa9578b4fe4b0dcb8"
    assert report.split_sizes == {"train": 971, "val": 161, "test": 610}
    [notice] = _checksum_notices(caplog)
    assert "\n" not in notice
    assert str(path) in notice and "differs from the official" in notice and "structure matches" in notice


@pytest.mark.parametrize("filename, size", [("adrenalmnist3d.npz", 28), ("adrenalmnist3d_64.npz", 64)])
def test_official_adrenalmnist3d_matches_its_checksum_silently(
    real_data_dir: Path, filename: str, size: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=NOTICE_LOGGER):
        report = validate_npz(real_data_dir / filename, get_medmnist_info("adrenalmnist3d"), size)
    assert report.checksum_matches
    assert _checksum_notices(caplog) == []


def test_data_dir_argument_beats_environment_beats_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIVIT_DATA_DIR", raising=False)
    monkeypatch.delenv("VIVIT_CACHE_DIR", raising=False)
    assert resolve_data_dir() == Path(pooch.os_cache("vivit"))
    monkeypatch.setenv("VIVIT_CACHE_DIR", str(tmp_path / "cache"))
    assert resolve_data_dir() == tmp_path / "cache"  # downloads go to the cache the user named
    monkeypatch.setenv("VIVIT_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir() == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_a_file_already_in_the_data_dir_is_used_without_downloading(
    real_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pooch, "retrieve", _fail_if_called)
    assert find_or_download("adrenalmnist3d", 64, real_data_dir) == real_data_dir / "adrenalmnist3d_64.npz"


def test_a_missing_file_is_downloaded_from_zenodo_with_the_official_md5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fake_retrieve(url: str, known_hash: str, path: Path, fname: str) -> str:
        calls.append((url, known_hash, Path(path), fname))
        return str(Path(path) / fname)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    assert find_or_download("vesselmnist3d", 64, tmp_path) == tmp_path / "vesselmnist3d_64.npz"
    assert calls == [
        (
            "https://zenodo.org/records/10519652/files/vesselmnist3d_64.npz?download=1",
            "md5:6bb274a8846e1097066dcd64e2c4520f",
            tmp_path,
            "vesselmnist3d_64.npz",
        )
    ]


def test_offline_download_says_where_to_put_the_file_and_where_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(*args: object, **kwargs: object) -> str:
        raise requests.exceptions.ConnectionError("Failed to resolve 'zenodo.org'")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(DataError) as caught:
        find_or_download("nodulemnist3d", 28, tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert "no network" in message
    assert str(tmp_path / "nodulemnist3d.npz") in message
    assert "https://zenodo.org/records/10519652/files/nodulemnist3d.npz?download=1" in message


def test_a_download_with_the_wrong_checksum_is_a_data_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def corrupted(*args: object, **kwargs: object) -> str:
        raise ValueError("MD5 hash of downloaded file does not match the known hash")

    monkeypatch.setattr(pooch, "retrieve", corrupted)
    with pytest.raises(DataError, match="does not match the official md5 8755a7e9"):
        find_or_download("nodulemnist3d", 28, tmp_path)


def _fail_if_called(*args: object, **kwargs: object) -> str:
    raise AssertionError("pooch.retrieve must not be called when the file is present")


def test_the_checksum_notice_of_a_modified_file_is_shown_once_per_content(
    tiny_info: MedMNISTInfo, tiny_arrays: dict[str, np.ndarray], save_npz: Callable[..., Path],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("VIVIT_CACHE_DIR", str(tmp_path / "cache"))
    path = save_npz(tiny_arrays)  # its md5 is not the registry's
    with caplog.at_level(logging.WARNING, logger=NOTICE_LOGGER):
        load_medmnist(tiny_info.name, path=path)
        load_medmnist(tiny_info.name, path=path)
        assert len(_checksum_notices(caplog)) == 1
        tiny_arrays["test_images"][0, 0, 0, 0] ^= 1
        save_npz(tiny_arrays)  # another content at the same path
        load_medmnist(tiny_info.name, path=path)
        load_medmnist(tiny_info.name, path=path)
    assert len(_checksum_notices(caplog)) == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["cache", path.name], "nothing is written beside the data"
    assert list((tmp_path / "cache").rglob("*.json")), "the memory of shown notices lives in the cache dir"


def test_verify_shows_the_checksum_notice_every_time(
    tiny_info: MedMNISTInfo, tiny_arrays: dict[str, np.ndarray], save_npz: Callable[..., Path],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("VIVIT_CACHE_DIR", str(tmp_path / "cache"))
    path = save_npz(tiny_arrays)
    with caplog.at_level(logging.WARNING, logger=NOTICE_LOGGER):
        load_medmnist(tiny_info.name, path=path)
        validate_npz(path, tiny_info)
        validate_npz(path, tiny_info)
    assert len(_checksum_notices(caplog)) == 3


@pytest.mark.parametrize("failure", [
    requests.exceptions.ConnectionError("Failed to resolve 'zenodo.org'"),
    ValueError("MD5 hash of downloaded file does not match the known hash"),
], ids=["offline", "wrong md5"])
def test_a_failed_download_leaves_no_new_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception) -> None:
    def fails_after_making_the_folder(url: str, known_hash: str, path: Path, fname: str) -> str:
        Path(path).mkdir(parents=True, exist_ok=True)  # as pooch does before it downloads
        raise failure

    monkeypatch.setattr(pooch, "retrieve", fails_after_making_the_folder)
    with pytest.raises(DataError):
        find_or_download("nodulemnist3d", 28, tmp_path / "new" / "data")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_in_place_of_the_dataset_file_is_named_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nodulemnist3d.npz").mkdir()
    monkeypatch.setattr(pooch, "retrieve", _fail_if_called)
    with pytest.raises(DataError, match=rf"^{tmp_path / 'nodulemnist3d.npz'} is a directory, not a MedMNIST .npz file"):
        load_medmnist("nodulemnist3d", 28, data_dir=tmp_path)


def test_a_folder_named_npz_given_as_the_dataset_is_named_a_folder(tmp_path: Path) -> None:
    from vivit.data.datasets import load_dataset

    (tmp_path / "scans.npz").mkdir()
    with pytest.raises(DataError, match=rf"^{tmp_path / 'scans.npz'} is a directory, not a MedMNIST .npz file"):
        load_dataset(tmp_path / "scans.npz")
