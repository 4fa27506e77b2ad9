""".npy and .npz files read without trusting their headers.

numpy allocates the array its header describes before it reads the data, so a
ten-byte file claiming shape (10**9, 10**9) would ask for an exabyte, and a small
compressed .npz member can expand to gigabytes. Before reading, each array's header
is checked against the bytes that hold it (the file size for .npy, the member's
recorded size for .npz, which zipfile enforces while inflating) and against the
memory this machine has free. Pickled (object) arrays are never loaded.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path
from tokenize import TokenError
from typing import BinaryIO

import numpy as np

from vivit.errors import DataError, first_line
from vivit.system_memory import available_memory, format_bytes

# numpy parses a .npy header as a Python literal: a damaged one raises SyntaxError or TokenError.
READ_ERRORS = (
    ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, NotImplementedError, SyntaxError, TokenError,
)
# Bit 0 of a zip entry's general-purpose flags: zipfile refuses such entries with a RuntimeError.
ENCRYPTED = 0x1


def read_npy(path: Path) -> np.ndarray:
    """The array of a .npy file, after checking its header against the file size."""
    try:
        with open(path, "rb") as handle:
            shape, dtype, offset = _header(handle)
            _check_size(path, shape, dtype, path.stat().st_size - offset, "the file holds")
        return np.load(path, allow_pickle=False)
    except DataError:
        raise
    except READ_ERRORS as error:
        raise DataError(f"{path} is corrupt or truncated, not a readable .npy array ({first_line(error)})") from None


def read_npz(path: Path, keys: list[str] | None = None) -> dict[str, np.ndarray]:
    """Arrays of a .npz archive (all, or those of `keys` present), headers checked first."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            wanted = [k for k in (keys if keys is not None else members) if k in members]
            for key in wanted:
                if members[key].flag_bits & ENCRYPTED:
                    raise ValueError(f"member '{key}' is password-protected; save it with numpy.savez, which does not encrypt")
                with archive.open(members[key]) as member:
                    shape, dtype, offset = _header(member)
                _check_size(path, shape, dtype, members[key].file_size - offset, f"member '{key}' holds", key)
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in wanted}
    except DataError:
        raise
    except READ_ERRORS as error:
        raise DataError(f"{path} is corrupt or truncated, not a readable .npz archive ({first_line(error)})") from None


def _header(handle: BinaryIO) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, bytes before the data) of the .npy stream at `handle`."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
    else:  # (3, 0) is (2, 0) with a utf-8 header; read as latin-1, shape and item size are the same
        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    if dtype.hasobject:
        raise ValueError("it holds Python objects (pickles), which are never loaded")
    return shape, dtype, handle.tell()


def _check_size(path: Path, shape: tuple[int, ...], dtype: np.dtype, stored: int, where: str, key: str = "") -> None:
    claimed = math.prod(shape) * dtype.itemsize
    name = f"{path}" + (f" ({key})" if key else "")
    if claimed != stored:
        raise DataError(
            f"{name} is truncated or corrupt: its header promises shape {shape} of {dtype} "
            f"({format_bytes(claimed)}) but {where} {format_bytes(max(stored, 0))}"
        )
    free = available_memory()
    if claimed > free:
        raise DataError(
            f"{name} holds an array of shape {shape} ({format_bytes(claimed)}), more than the "
            f"{format_bytes(free)} of memory available; give a smaller file"
        )
