""".npy and .npz files read without trusting their headers.

numpy allocates the array its header describes before it reads the data, so a
ten-byte file claiming shape (10**9, 10**9) would ask for an exabyte, and a small
compressed .npz member can expand to gigabytes. Before reading, each array's header
is checked against the bytes that hold it (the file size for .npy, the member's
recorded size for .npz, which zipfile enforces while inflating) and against the
memory this machine has free; the arrays of one .npz read together are bounded by
their sum. Pickled (object) arrays are never loaded.

An .npz is a zip archive, and zip lets two entries share a name: numpy would then load
one entry while a check read the other. An archive naming one array twice (`x.npy`
twice, or a raw `x` beside `x.npy`) is refused, and every array is read through the
very zip entry whose header was checked (zipfile also compares each entry's local
header name with its central-directory name when it opens it).

A stack of many samples can be read a few rows at a time (`StoredArray.rows`), so its
reader's memory does not grow with the number of samples.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
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
CHUNK_BYTES = 4 << 20  # what `rows` reads at a time: 190 volumes of 28^3 (16 MiB made RSS 50 MiB higher)


class TooLargeForMemory(DataError):
    """An honest file whose arrays do not fit in the memory this machine has free."""


@dataclass(frozen=True)
class StoredArray:
    """An array of a .npy file or .npz member whose header is checked and whose data is not read yet."""

    name: str  # for messages: the path, and the member's key in parentheses
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    data: Callable[[], AbstractContextManager[BinaryIO]]  # opens a stream at the first byte of the data

    def read(self) -> np.ndarray:
        """The whole array, after checking that it fits in free memory."""
        _check_fits(self.name, self.shape, math.prod(self.shape) * self.dtype.itemsize)
        with self._reading(), self.data() as stream:
            return _read_into(stream, self.shape, self.dtype, self.fortran_order)
        raise AssertionError("unreachable")  # _reading turns every error into a DataError

    def rows(self, chunk_bytes: int = CHUNK_BYTES) -> Iterator[np.ndarray]:
        """The array along its first axis, a few rows at a time: (k, *shape[1:]) each."""
        if self.fortran_order or not self.shape:  # rows are not contiguous: read it whole
            yield self.read()
            return
        row_shape = self.shape[1:]
        row_bytes = math.prod(row_shape) * self.dtype.itemsize
        _check_fits(self.name, row_shape, row_bytes)
        per_chunk = max(1, chunk_bytes // max(row_bytes, 1))
        with self._reading(), self.data() as stream:
            for start in range(0, self.shape[0], per_chunk):
                yield _read_into(stream, (min(per_chunk, self.shape[0] - start), *row_shape), self.dtype, False)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except READ_ERRORS as error:
            raise DataError(f"{self.name} is corrupt or truncated ({first_line(error)})") from None


def read_npy(path: Path) -> np.ndarray:
    """The array of a .npy file, after checking its header against the file size and free memory."""
    return npy_array(path).read()


def npy_array(path: Path) -> StoredArray:
    """The .npy file at `path`, its header checked against the file size."""
    try:
        with open(path, "rb") as handle:
            shape, dtype, fortran_order, offset = _header(handle)
    except READ_ERRORS as error:
        raise DataError(f"{path} is corrupt or truncated, not a readable .npy array ({first_line(error)})") from None
    _check_stored(str(path), shape, dtype, path.stat().st_size - offset, "the file holds")

    @contextmanager
    def data() -> Iterator[BinaryIO]:
        with open(path, "rb") as handle:
            handle.seek(offset)
            yield handle

    return StoredArray(str(path), shape, dtype, fortran_order, data)


def read_npz(path: Path, keys: list[str] | None = None) -> dict[str, np.ndarray]:
    """Arrays of a .npz archive (all, or those of `keys` present), headers and their sum checked first."""
    arrays = npz_arrays(path, keys)
    claimed = sum(math.prod(a.shape) * a.dtype.itemsize for a in arrays.values())
    if len(arrays) > 1 and claimed > (free := available_memory()):
        raise TooLargeForMemory(
            f"{path} holds {len(arrays)} arrays of {format_bytes(claimed)} in all, more than the "
            f"{format_bytes(free)} of memory available; give a smaller file"
        )
    return {key: array.read() for key, array in arrays.items()}


def npz_arrays(path: Path, keys: list[str] | None = None) -> dict[str, StoredArray]:
    """The arrays of a .npz archive (all, or those of `keys` present), each header checked, no data read."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(path, archive)
            wanted = [k for k in (keys if keys is not None else members) if k in members]
            return {key: _member_array(path, key, members[key], archive) for key in wanted}
    except DataError:
        raise
    except READ_ERRORS as error:
        raise DataError(f"{path} is corrupt or truncated, not a readable .npz archive ({first_line(error)})") from None


def _members(path: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Key -> zip entry, refusing an archive in which two entries would answer to one key."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        key = info.filename.removesuffix(".npy")  # numpy answers to 'x' for 'x' and for 'x.npy'
        if key in members:
            first, second = members[key].filename, info.filename
            entries = f"two entries named {first!r}" if first == second else f"entries {first!r} and {second!r}"
            raise DataError(
                f"{path} is not a valid .npz archive: array '{key}' is stored twice ({entries}), "
                f"so numpy could read another copy than the one checked; "
                f"save the arrays again with numpy.savez"
            )
        members[key] = info
    return members


def _member_array(path: Path, key: str, info: zipfile.ZipInfo, archive: zipfile.ZipFile) -> StoredArray:
    if info.flag_bits & ENCRYPTED:
        raise ValueError(f"member '{key}' is password-protected; save it with numpy.savez, which does not encrypt")
    with archive.open(info) as member:  # zipfile checks the local header names this entry
        shape, dtype, fortran_order, offset = _header(member)
    name = f"{path} ({key})"
    _check_stored(name, shape, dtype, info.file_size - offset, f"member '{key}' holds")

    @contextmanager
    def data() -> Iterator[BinaryIO]:
        with zipfile.ZipFile(path) as again, again.open(_same_entry(again, info)) as member:
            member.read(offset)
            yield member

    return StoredArray(name, shape, dtype, fortran_order, data)


def _same_entry(archive: zipfile.ZipFile, checked: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """The entry of a reopened archive at the place of the one checked (not the last of its name)."""
    for info in archive.infolist():
        if info.header_offset == checked.header_offset and info.filename == checked.filename:
            return info
    raise ValueError(f"member '{checked.filename}' changed while it was read")


def _header(handle: BinaryIO) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """(shape, dtype, Fortran order, bytes before the data) of the .npy stream at `handle`."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
    else:  # (3, 0) is (2, 0) with a utf-8 header; read as latin-1, shape and item size are the same
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
    if dtype.hasobject:
        raise ValueError("it holds Python objects (pickles), which are never loaded")
    return shape, dtype, fortran_order, handle.tell()


def _read_into(stream: BinaryIO, shape: tuple[int, ...], dtype: np.dtype, fortran_order: bool) -> np.ndarray:
    """Exactly the bytes of an array of `shape` from `stream`, into a new (writable) array."""
    array = np.empty(shape[::-1] if fortran_order else shape, dtype=dtype)
    view = memoryview(array.reshape(-1).view(np.uint8))
    filled = 0
    while filled < len(view):
        count = stream.readinto(view[filled:])
        if not count:
            raise EOFError(f"the data ends after {filled} of {len(view)} bytes")
        filled += count
    return array.transpose() if fortran_order else array


def _check_stored(name: str, shape: tuple[int, ...], dtype: np.dtype, stored: int, where: str) -> None:
    claimed = math.prod(shape) * dtype.itemsize
    if claimed != stored:
        raise DataError(
            f"{name} is truncated or corrupt: its header promises shape {shape} of {dtype} "
            f"({format_bytes(claimed)}) but {where} {format_bytes(max(stored, 0))}"
        )


def _check_fits(name: str, shape: tuple[int, ...], claimed: int) -> None:
    free = available_memory()
    if claimed > free:
        raise TooLargeForMemory(
            f"{name} holds an array of shape {shape} ({format_bytes(claimed)}), more than the "
            f"{format_bytes(free)} of memory available; give a smaller file"
        )
