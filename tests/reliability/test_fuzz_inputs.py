"""Property-based fuzzing of every reader of user files.

Each case builds a valid file (an array, a real clip, a recipe, a checkpoint, a scan),
damages it the way disks, downloads and people do (truncation, flipped bytes, spliced
garbage, a header that lies, a wrong extension, a wrong value in a config), and hands
it to the reader the CLI uses. It must end in a result or in one VivitError line that
names the file: no traceback, no hang, no allocation the file cannot back.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SHARED
from tests.reliability.fuzzing import FUZZ, outcome
from vivit.checkpoints import CONFIG, WEIGHTS, load_model, publish, save_model
from vivit.inference.inputs import read_inputs
from vivit.models import ViViTConfig, build_model

VOLUME = ViViTConfig(num_classes=3, input_size=(8, 8, 8), tubelet_size=(4, 4, 4), embed_dim=16, depth=1, num_heads=2, mlp_dim=16)
VIDEO = VOLUME.replace(in_channels=3, input_size=(4, 16, 16))
CLIPS = sorted((SHARED / "video").glob("*.[am][vp][i4]")) if (SHARED / "video").is_dir() else []

# Values a YAML or JSON file may hold where a setting was expected.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=12),
    st.sampled_from([0, -1, 1e308, "nan", "inf", "", "spatio_temporal", "[1, 2]"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` truncated, with bytes flipped, garbage spliced in, or replaced by noise."""
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "noise", "intact"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if kind == "noise":
        return draw(st.binary(max_size=4096))
    buffer = bytearray(data)
    if kind == "flip":
        for _ in range(draw(st.integers(1, 16))):
            # Headers are where parsers go wrong: aim half the flips at the first 512 bytes.
            end = min(len(buffer), 512) if draw(st.booleans()) else len(buffer)
            buffer[draw(st.integers(0, end - 1))] = draw(st.integers(0, 255))
    elif kind == "splice":
        at = draw(st.integers(0, len(buffer)))
        buffer[at:at] = draw(st.binary(min_size=1, max_size=256))
    return bytes(buffer)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def lying_header(array: np.ndarray, shape: tuple[int, ...]) -> bytes:
    """A .npy whose header claims `shape` but whose data is `array`'s."""
    data = npy_bytes(array)
    header = np.lib.format.header_data_from_array_1_0(array) | {"shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data[len(npy_bytes(array)) - array.nbytes :]


arrays = st.builds(
    lambda shape, dtype, seed: (np.random.default_rng(seed).random(shape) * (255 if dtype == np.uint8 else 1)).astype(dtype),
    st.sampled_from([(8, 8, 8), (2, 8, 8, 8), (1, 8, 8, 8), (4, 8), (8, 8, 8, 8, 8, 1)]),
    st.sampled_from([np.uint8, np.float32, np.float64, np.int16, ">f4", ">i2", "<U2"]),
    st.integers(0, 2**16),
)
huge_shapes = st.lists(st.integers(0, 2**40), min_size=1, max_size=5).map(tuple)


@FUZZ
@given(array=arrays, data=st.data())
def test_a_damaged_npy_volume_is_read_or_named_in_one_line(tmp_path: Path, array: np.ndarray, data: st.DataObject) -> None:
    path = tmp_path / "volume.npy"
    path.write_bytes(data.draw(damaged(npy_bytes(array))))
    outcome("npy volume", [path.name], lambda: read_inputs(path, VOLUME))


@FUZZ
@given(array=arrays, shape=huge_shapes)
def test_an_npy_header_claiming_a_huge_shape_allocates_nothing(tmp_path: Path, array: np.ndarray, shape: tuple[int, ...]) -> None:
    path = tmp_path / "liar.npy"
    path.write_bytes(lying_header(array, shape))
    outcome("npy lying header", [path.name], lambda: read_inputs(path, VOLUME))


@FUZZ
@given(members=st.dictionaries(st.sampled_from(["a", "b", "stack"]), arrays, min_size=1, max_size=2),
       compress=st.booleans(), lie=st.one_of(st.none(), huge_shapes), data=st.data())
def test_a_damaged_npz_is_read_or_named_in_one_line(
    tmp_path: Path, members: dict[str, np.ndarray], compress: bool, lie: tuple[int, ...] | None, data: st.DataObject
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as archive:
        for key, array in members.items():
            archive.writestr(f"{key}.npy", lying_header(array, lie) if lie else npy_bytes(array))
    path = tmp_path / "stack.npz"
    path.write_bytes(data.draw(damaged(buffer.getvalue())))
    outcome("npz volumes", [path.name], lambda: read_inputs(path, VOLUME))


def test_a_compressed_npz_bomb_is_refused_before_it_is_inflated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """256 MiB of zeros deflated to under 1 MiB, on a machine with 64 MiB free: refused unread."""
    from vivit.data import arrays as array_files
    from vivit.errors import DataError

    monkeypatch.setattr(array_files, "available_memory", lambda: 2**26)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (2**28,)})
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("x.npy", "w", force_zip64=True) as member:
        member.write(header.getvalue())
        for _ in range(16):
            member.write(bytes(2**24))
    assert path.stat().st_size < 2**20
    with pytest.raises(DataError, match=r"bomb\.npz \(x\) holds an array of shape \(268435456,\) \(256\.0 MiB\), more than the 64\.0 MiB"):
        read_inputs(path, VOLUME)


def test_an_npz_member_marked_encrypted_is_refused_in_one_line(tmp_path: Path) -> None:
    """zipfile raises a bare RuntimeError for such a member; atheris found one by flipping a flag bit."""
    from vivit.errors import DataError

    path = tmp_path / "locked.npz"
    np.savez(path, a=np.zeros((8, 8, 8), np.uint8))
    raw = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local header, central directory
        at = raw.find(signature)
        raw[at + flag_offset] |= 0x1
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"^\S*locked\.npz is corrupt .*member 'a' is password-protected[^\n]*$"):
        read_inputs(path, VOLUME)


@FUZZ
@given(data=st.data())
def test_a_damaged_medmnist_file_is_loaded_or_named_in_one_line(
    tmp_path: Path, tiny_info, tiny_arrays: dict[str, np.ndarray], data: st.DataObject
) -> None:
    from vivit.data.medmnist import load_medmnist

    path = tmp_path / "tinymnist3d.npz"
    buffer = io.BytesIO()
    np.savez(buffer, **tiny_arrays)
    path.write_bytes(data.draw(damaged(buffer.getvalue())))
    outcome("medmnist npz", [str(path)], lambda: load_medmnist("tinymnist3d", path=path))


@pytest.fixture
def tiny_info(monkeypatch: pytest.MonkeyPatch):
    from tests.data.conftest import TINY
    from vivit.data import registry

    monkeypatch.setitem(registry.MEDMNIST_3D, TINY.name, TINY)
    return TINY


@pytest.fixture
def tiny_arrays() -> dict[str, np.ndarray]:
    from tests.data.conftest import TINY

    rng = np.random.default_rng(0)
    return {
        key: value
        for split, count in TINY.split_sizes.items()
        for key, value in (
            (f"{split}_images", rng.integers(0, 256, (count, 28, 28, 28), dtype=np.uint8)),
            (f"{split}_labels", (np.arange(count, dtype=np.uint8) % 2).reshape(count, 1)),
        )
    }


@pytest.mark.skipif(not CLIPS, reason=f"real clips not found in {SHARED / 'video'} (CI has them)")
@FUZZ
@given(clip=st.sampled_from(CLIPS or [Path("none")]), suffix=st.sampled_from([".mp4", ".avi", ".mkv", ".webm", ".npy"]), data=st.data())
def test_a_damaged_or_misnamed_video_is_decoded_or_named_in_one_line(
    tmp_path: Path, clip: Path, suffix: str, data: st.DataObject
) -> None:
    path = tmp_path / f"clip{suffix}"
    path.write_bytes(data.draw(damaged(clip.read_bytes())))
    samples = outcome("video", [path.name], lambda: read_inputs(path, VIDEO))
    for _, sample in samples or []:
        assert sample.shape == (3, *VIDEO.input_size) and 0 <= float(sample.min()) <= float(sample.max()) <= 1


@FUZZ
@given(section=st.sampled_from(["data", "optim", "train", "model", "augment", "top"]), key=st.text(max_size=14),
       known=st.booleans(), value=values, text=st.one_of(st.none(), st.text(max_size=200), st.binary(max_size=200)))
def test_a_broken_recipe_file_is_loaded_or_named_in_one_line(
    tmp_path: Path, section: str, key: str, known: bool, value: object, text: str | bytes | None
) -> None:
    from vivit.training.recipe import load_recipe, read_recipe_file

    recipe = read_recipe_file("keras-seed")
    if known and section in recipe and isinstance(recipe[section], dict) and recipe[section]:
        key = sorted(recipe[section])[len(key) % len(recipe[section])]  # a real key, a wrong value
    if section == "top":
        recipe[key] = value
    else:
        recipe.setdefault(section, {})[key] = value
    path = tmp_path / "recipe.yaml"
    if text is None:
        path.write_text(yaml.safe_dump(recipe))
    else:
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    outcome("recipe YAML", [path.name], lambda: load_recipe(str(path)))


VALID_SPACES = st.sampled_from([
    {"optim.lr": {"type": "float", "low": 1e-5, "high": 1e-3, "log": True}},
    {"model.depth": {"type": "int", "low": 2, "high": 4}},
    {"model.variant": {"type": "categorical", "choices": ["spatio_temporal", "factorised_encoder"]}},
])


@FUZZ
@given(valid=VALID_SPACES, space=st.dictionaries(st.sampled_from(["optim.lr", "model.depth", "data.batch_size", "train.seed", "model.variant", "lr", "x.y"]),
                             st.one_of(values, st.fixed_dictionaries({"type": st.sampled_from(["float", "int", "categorical", "x"])},
                                                                     optional={"low": values, "high": values, "log": values, "step": values, "choices": values})),
                             max_size=3) | st.just({}),
       garbage=st.one_of(st.none(), st.binary(max_size=200)))
def test_a_broken_search_space_is_loaded_or_named_in_one_line(tmp_path: Path, valid: dict, space: dict, garbage: bytes | None) -> None:
    from vivit.sweeps.space import check_space, load_space
    from vivit.training.recipe import read_recipe_file

    path = tmp_path / "space.yaml"
    path.write_bytes(garbage if garbage is not None else yaml.safe_dump({**valid, **space}).encode())
    # check_space compares the space with the recipe: its errors name the space's key.
    outcome("sweep space YAML", [path.name, "Search space key '"], lambda: check_space(load_space(path), read_recipe_file("keras-seed")))


@pytest.fixture(scope="module")
def checkpoint_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("checkpoint")
    publish(folder, "last", "0001", lambda d: save_model(d, build_model(VOLUME), class_names=["a", "b", "c"]))
    return {name: (folder / "last" / name).read_bytes() for name in (CONFIG, WEIGHTS)}


@FUZZ
@given(target=st.sampled_from([CONFIG, WEIGHTS, "model-field", "safetensors-header"]), key=st.sampled_from(sorted(VOLUME.to_dict())),
       value=values, data=st.data())
def test_a_damaged_checkpoint_is_loaded_or_named_in_one_line(
    tmp_path: Path, checkpoint_files: dict[str, bytes], target: str, key: str, value: object, data: st.DataObject
) -> None:
    files = dict(checkpoint_files)
    if target == "model-field":  # valid JSON, a wrong value for one model setting
        document = json.loads(files[CONFIG])
        document["model"][key] = value
        files[CONFIG] = json.dumps(document).encode()
    elif target == "safetensors-header":  # a header length or dtype/shape/offsets that lie
        weights = files[WEIGHTS]
        (length,) = struct.unpack("<Q", weights[:8])
        header = json.loads(weights[8 : 8 + length])
        name = sorted(k for k in header if k != "__metadata__")[0]
        header[name][data.draw(st.sampled_from(["dtype", "shape", "data_offsets"]))] = value
        blob = json.dumps(header).encode()
        files[WEIGHTS] = struct.pack("<Q", data.draw(st.sampled_from([len(blob), 2**63, len(blob) + 7]))) + blob + weights[8 + length :]
    else:
        files[target] = data.draw(damaged(files[target]))
    directory = tmp_path / "checkpoint"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    for name, content in files.items():
        (directory / name).write_bytes(content)
    outcome("checkpoint directory", [directory.name], lambda: load_model(directory))


@FUZZ
@given(compressed=st.booleans(), shape=st.sampled_from([(6, 7, 8), (5, 5, 5, 1), (4, 4)]), data=st.data())
def test_a_damaged_nifti_file_is_read_or_named_in_one_line(tmp_path: Path, compressed: bool, shape: tuple[int, ...], data: st.DataObject) -> None:
    nibabel = pytest.importorskip("nibabel")
    clean = tmp_path / ("clean.nii.gz" if compressed else "clean.nii")
    nibabel.save(nibabel.Nifti1Image(np.random.default_rng(0).random(shape).astype(np.float32), affine=np.eye(4)), str(clean))
    path = tmp_path / ("scan.nii.gz" if compressed else "scan.nii")
    path.write_bytes(data.draw(damaged(clean.read_bytes())))
    outcome("NIfTI", [path.name], lambda: read_inputs(path, VOLUME))


@functools.lru_cache(maxsize=1)
def clean_dicom_slices() -> tuple[bytes, ...]:
    """Three CT slices, written once: their random UIDs must not change between hypothesis replays."""
    from tests.inference.test_medical import write_dicom_slice

    with tempfile.TemporaryDirectory() as folder:
        for z in range(3):
            write_dicom_slice(Path(folder) / f"{z}.dcm", np.full((6, 6), 40.0 * z), z=float(z))
        return tuple((Path(folder) / f"{z}.dcm").read_bytes() for z in range(3))


def test_a_nifti_header_promising_gigabytes_in_a_small_file_allocates_nothing(tmp_path: Path) -> None:
    """Found by atheris: 897 bytes whose header claims (6, 11783, 28781) float32 took 8 GB in nibabel."""
    nibabel = pytest.importorskip("nibabel")
    from vivit.errors import DataError

    header = nibabel.Nifti1Header()
    header.set_data_shape((6, 11783, 28781))
    header.set_data_dtype(np.float32)
    path = tmp_path / "liar.nii"
    path.write_bytes(header.binaryblock + bytes(4) + bytes(545))  # 348-byte header, 4-byte extension flag, a few voxels
    with pytest.raises(DataError, match=r"liar\.nii is truncated: its header promises 7\.6 GiB"):
        read_inputs(path, VOLUME)


@FUZZ
@given(data=st.data(), slices=st.integers(1, 3))
def test_a_damaged_dicom_series_is_read_or_named_in_one_line(tmp_path: Path, data: st.DataObject, slices: int) -> None:
    pytest.importorskip("pydicom")
    series = tmp_path / "series"
    shutil.rmtree(series, ignore_errors=True)
    series.mkdir()
    for z, content in enumerate(clean_dicom_slices()[:slices]):
        (series / f"{z}.dcm").write_bytes(content)
    victim = series / f"{data.draw(st.integers(0, slices - 1))}.dcm"
    victim.write_bytes(data.draw(damaged(victim.read_bytes())))
    outcome("DICOM series", [series.name, victim.name], lambda: read_inputs(series, VOLUME))
