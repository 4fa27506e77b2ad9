"""Fixtures for the data tests: the real MedMNIST files in shared/data, and tiny fake ones.

The real files live beside the repository (<repo root>/../shared/data), never inside
it; $VIVIT_SHARED_DIR names another shared folder. CI has them; a checkout without
them skips the tests that need them, saying where it looked.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vivit.data import registry
from vivit.data.medmnist import load_medmnist
from vivit.data.registry import MedMNISTInfo
from vivit.data.types import DatasetBundle

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    shared = Path(os.environ.get("VIVIT_SHARED_DIR") or REPO_ROOT.parent / "shared")
    return shared.resolve() / "data"


def _require(filename: str) -> Path:
    path = shared_data_dir() / filename
    if not path.is_file():
        pytest.skip(f"real MedMNIST file {path} is missing (set VIVIT_SHARED_DIR to the shared folder)")
    return path


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    _require("organmnist3d.npz")
    _require("adrenalmnist3d.npz")
    return shared_data_dir()


@pytest.fixture(scope="session")
def organmnist3d() -> DatasetBundle:
    """The real 28^3 OrganMNIST3D, loaded once for the whole session."""
    return load_medmnist("organmnist3d", path=_require("organmnist3d.npz"))


@pytest.fixture(scope="session")
def adrenalmnist3d_64() -> DatasetBundle:
    return load_medmnist("adrenalmnist3d", size=64, path=_require("adrenalmnist3d_64.npz"))


TINY = MedMNISTInfo(
    name="tinymnist3d",
    task="binary",
    class_names=("no", "yes"),
    split_sizes={"train": 3, "val": 2, "test": 2},
    md5={28: "0" * 32, 64: "0" * 32},
)


@pytest.fixture
def tiny_info(monkeypatch: pytest.MonkeyPatch) -> MedMNISTInfo:
    """A registry entry for a 7-sample dataset, present only during the test."""
    monkeypatch.setitem(registry.MEDMNIST_3D, TINY.name, TINY)
    return TINY


@pytest.fixture
def tiny_arrays() -> dict[str, np.ndarray]:
    """A valid tinymnist3d in the official layout: (N, 28, 28, 28) uint8, labels (N, 1) uint8."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, count in TINY.split_sizes.items():
        arrays[f"{split}_images"] = rng.integers(0, 256, (count, 28, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(count, dtype=np.uint8) % 2).reshape(count, 1)
    return arrays


@pytest.fixture
def save_npz(tmp_path: Path) -> Callable[..., Path]:
    """Writes arrays as a compressed .npz in tmp_path, as the official files are."""

    def save(arrays: dict[str, np.ndarray], filename: str = "tinymnist3d.npz") -> Path:
        path = tmp_path / filename
        np.savez_compressed(path, **arrays)
        return path

    return save
