""".npy and .npz inputs: uint8 or float pixels in any byte order are read; other dtypes are
refused in one line that names the file and says what to give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vivit.errors import DataError
from vivit.inference.inputs import read_inputs
from vivit.models import ViViTConfig

CONFIG = ViViTConfig(num_classes=3, input_size=(8, 8, 8), tubelet_size=(4, 4, 4), embed_dim=16, depth=1, num_heads=2, mlp_dim=16)
VOLUME = np.random.default_rng(0).random((8, 8, 8))


@pytest.mark.parametrize("suffix", ["npy", "npz"])
@pytest.mark.parametrize("dtype", [">f4", ">f8", "<f2"])
def test_a_float_volume_written_in_another_byte_order_reads_as_the_native_one(tmp_path: Path, suffix: str, dtype: str) -> None:
    path = tmp_path / f"volume.{suffix}"
    array = VOLUME.astype(dtype)
    np.save(path, array) if suffix == "npy" else np.savez(path, volume=array)
    [(_, sample)] = read_inputs(path, CONFIG)
    expected = torch.from_numpy(array.astype(np.float32))[None]
    torch.testing.assert_close(sample, expected)


@pytest.mark.parametrize("suffix", ["npy", "npz"])
@pytest.mark.parametrize("dtype", ["<U3", "S2", "M8[s]", "m8[s]", "V4", ">u2", ">i8", "c8", "bool"])
def test_a_volume_that_is_not_pixels_is_named_in_one_line(tmp_path: Path, suffix: str, dtype: str) -> None:
    path = tmp_path / f"volume.{suffix}"
    array = np.zeros((8, 8, 8), dtype=dtype)
    np.save(path, array) if suffix == "npy" else np.savez(path, volume=array)
    with pytest.raises(DataError, match=rf"^Input volume\.{suffix}.* has dtype .*; give uint8 \(0-255\) or float \(0-1\) values$"):
        read_inputs(path, CONFIG)
