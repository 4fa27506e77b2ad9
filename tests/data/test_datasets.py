"""load_dataset: one entry point from a name or a path to a DatasetBundle."""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import pooch
import pytest

from vivit.data.datasets import list_datasets, load_dataset
from vivit.errors import ConfigError, DataError


def test_list_datasets_names_medmnist_and_synthetic_sets() -> None:
    assert list_datasets() == [
        "organmnist3d", "nodulemnist3d", "adrenalmnist3d", "fracturemnist3d",
        "vesselmnist3d", "synapsemnist3d", "synthetic-shapes", "synthetic-motion",
    ]


def test_a_medmnist_name_loads_from_the_data_dir(
    real_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pooch, "retrieve", _no_download)
    bundle = load_dataset("adrenalmnist3d", size=64, data_dir=real_data_dir)
    assert bundle.name == "adrenalmnist3d" and bundle.input_shape == (1, 64, 64, 64)


def test_an_official_file_name_tells_dataset_and_size(real_data_dir: Path, tmp_path: Path) -> None:
    # A copy elsewhere, so that nothing but the file name says what it is.
    path = Path(shutil.copy(real_data_dir / "adrenalmnist3d.npz", tmp_path / "adrenalmnist3d.npz"))
    bundle = load_dataset(path, size=64)  # the name wins over the size argument
    assert bundle.name == "adrenalmnist3d" and bundle.input_shape == (1, 28, 28, 28)


def test_an_npz_with_an_unofficial_name_is_refused_with_the_naming_rule(tmp_path: Path) -> None:
    path = tmp_path / "volumes.npz"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"volumes\.npz holds; name it .*<name>_64\.npz"):
        load_dataset(path)


@pytest.mark.parametrize(
    "name, options, shape",
    [
        ("synthetic-shapes", dict(num_samples=5, seed=1), (1, 16, 16, 16)),
        ("synthetic-motion", dict(num_samples=5, num_frames=4, seed=1), (3, 4, 16, 16)),
    ],
)
def test_synthetic_names_take_their_options(name: str, options: dict, shape: tuple) -> None:
    bundle = load_dataset(name, size=16, **options)
    assert bundle.name == name and bundle.input_shape == shape
    assert len(bundle.splits["test"]) == 5


def test_a_folder_is_handed_to_the_video_folder_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    fake_video = types.ModuleType("vivit.data.video")
    fake_video.load_video_folder = lambda path, **options: calls.append((path, options)) or "bundle"
    monkeypatch.setitem(sys.modules, "vivit.data.video", fake_video)
    monkeypatch.setenv("VIVIT_CACHE_DIR", str(tmp_path / "cache"))
    assert load_dataset(tmp_path, num_frames=8, data_dir=tmp_path / "data") == "bundle"
    # Frames of 112² unless told; the decode cache is in the user cache, never beside the data.
    assert calls == [(tmp_path, {"num_frames": 8, "size": 112, "cache_dir": tmp_path / "cache" / "video-cache"})]


def test_an_unknown_name_lists_the_valid_ones() -> None:
    expected = "Unknown dataset 'kinetics9000'; choose one of: organmnist3d, .*synthetic-motion"
    with pytest.raises(ConfigError, match=expected):
        load_dataset("kinetics9000")


@pytest.mark.parametrize("name", ["organmnist3d", "synthetic-shapes"])
def test_an_option_a_dataset_does_not_take_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="does not take option"):
        load_dataset(name, num_frames=8)


def _no_download(*args: object, **kwargs: object) -> str:
    raise AssertionError("no download expected")
