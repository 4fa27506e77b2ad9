"""Small files that claim or make far more than they are, or say one thing to one reader and
another to the next: refused in one line before the work, or read as what they hold."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import vivit.data.arrays as array_files
import vivit.data.video as video_module
from tests.conftest import SHARED
from tests.reliability import hostile
from tests.reliability.hostile import ALIAS_BOMB
from vivit.checkpoints import CONFIG, load_model
from vivit.data.arrays import npy_array, npz_arrays, read_npz
from vivit.data.video import decode_clip, load_video_folder
from vivit.data.video_cache import DecodeCache
from vivit.errors import CheckpointError, ConfigError, DataError
from vivit.inference.inputs import read_inputs
from vivit.models import ViViTConfig
from vivit.training.recipe import load_recipe

CLIP = SHARED / "video" / "unlabeled_test.mp4"
FIXTURE_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "run-0.1.0"
VOLUMES = ViViTConfig(num_classes=3, input_size=(28, 28, 28), tubelet_size=(14, 14, 14), embed_dim=16, depth=1, num_heads=2, mlp_dim=16)


def test_a_recipe_of_nested_aliases_is_refused_before_it_expands(tmp_path: Path) -> None:
    recipe = tmp_path / "bomb.yaml"
    recipe.write_text(ALIAS_BOMB)
    with pytest.raises(ConfigError, match=r"bomb.yaml is not valid YAML: aliases \(\*name\) are not accepted.*line 2"):
        load_recipe(str(recipe))


def test_a_search_space_of_aliases_is_refused(tmp_path: Path) -> None:
    from vivit.sweeps.space import load_space

    space = tmp_path / "space.yaml"
    space.write_text("optim.lr: &lr {type: float, low: 1.0e-4, high: 1.0e-2}\noptim.min_lr: *lr\n")
    with pytest.raises(ConfigError, match="aliases"):
        load_space(space)


def test_an_override_with_unclosed_braces_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"Override 'data.options=\{num_frames: 16' has a value that is not valid YAML"):
        load_recipe("keras-seed", ["data.options={num_frames: 16"])


def test_a_list_of_files_named_like_a_video_is_refused_before_ffmpeg_opens_them(tmp_path: Path) -> None:
    listing = tmp_path / "loop.mp4"
    listing.write_text("ffconcat version 1.0\n" + f"file {CLIP}\n" * 2000)
    with pytest.raises(DataError, match="loop.mp4 is a playlist or list of files, not a video"):
        decode_clip(listing, 4, (32, 32))


def test_an_image_renamed_mp4_is_refused_by_its_container(tmp_path: Path) -> None:
    from PIL import Image

    image = tmp_path / "photo.mp4"
    Image.new("L", (64, 64)).save(image, format="PNG")
    with pytest.raises(DataError, match=r"photo.mp4 is a 'png_pipe' file, not a video container"):
        decode_clip(image, 4, (32, 32))


def test_frames_larger_than_the_bound_are_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not CLIP.exists():
        pytest.skip(f"real clip {CLIP} not found (CI has it)")
    monkeypatch.setattr(video_module, "MAX_FRAME_PIXELS", 100 * 100)
    with pytest.raises(DataError, match=r"unlabeled_test.mp4 has \d+×\d+ frames, more than the 10,000 pixels"):
        decode_clip(shutil.copy(CLIP, tmp_path), 4, (32, 32))


def test_real_clips_still_decode() -> None:
    if not CLIP.exists():
        pytest.skip(f"real clip {CLIP} not found (CI has it)")
    for clip in sorted((SHARED / "video").glob("*.*[4i]")):
        assert decode_clip(clip, 4, (32, 32)).shape == (3, 4, 32, 32) and decode_clip(clip, 4, (32, 32)).dtype == np.uint8


# --- .npz archives that answer differently to the check and to numpy ---------------------------

def read_as_medmnist(path: Path) -> object:
    return read_npz(path, ["volume"])


@pytest.mark.parametrize("raw", [False, True], ids=["two volume.npy", "volume beside volume.npy"])
@pytest.mark.parametrize("reader", [read_as_medmnist, lambda path: read_inputs(path, VOLUMES)], ids=["dataset", "predict"])
def test_an_npz_storing_an_array_twice_is_refused_in_one_line(tmp_path: Path, raw: bool, reader) -> None:
    path = hostile.npz_storing_an_array_twice(tmp_path / "twice.npz", raw=raw)
    entries = "entries 'volume.npy' and 'volume'" if raw else "two entries named 'volume.npy'"
    with pytest.raises(DataError, match=rf"twice\.npz is not a valid \.npz archive: array 'volume' is stored twice \({entries}\)[^\n]*numpy\.savez$"):
        reader(path)


def test_an_npz_whose_local_header_names_another_entry_is_refused_in_one_line(tmp_path: Path) -> None:
    path = hostile.npz_whose_local_header_names_another_entry(tmp_path / "renamed.npz")
    with pytest.raises(DataError, match=r"renamed\.npz is corrupt .*File name in directory 'volume\.npy' and header b'vol_me\.npy' differ[^\n]*$"):
        read_inputs(path, VOLUMES)


def test_arrays_read_together_are_refused_when_their_sum_exceeds_free_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each member fits alone (32 MiB of 64 MiB free); the three together (96 MiB) do not."""
    monkeypatch.setattr(array_files, "available_memory", lambda: 64 << 20)
    path = hostile.npz_of_members_summing_past(tmp_path / "sum.npz", 96 << 20, ["a", "b", "c"])
    assert path.stat().st_size < 4096
    with pytest.raises(DataError, match=r"sum\.npz holds 3 arrays of 96\.0 MiB in all, more than the 64\.0 MiB of memory available"):
        read_npz(path)
    assert {key: array.shape for key, array in npz_arrays(path).items()} == {k: ((32 << 20),) for k in "abc"}  # each alone passes


def stack_files(tmp_path: Path, stack: np.ndarray) -> dict[str, object]:
    np.save(tmp_path / "stack.npy", stack)
    np.save(tmp_path / "fortran.npy", np.asfortranarray(stack))
    np.savez(tmp_path / "stored.npz", stack=stack)
    np.savez_compressed(tmp_path / "deflated.npz", stack=stack)
    return {
        "npy": npy_array(tmp_path / "stack.npy"),
        "fortran npy": npy_array(tmp_path / "fortran.npy"),
        "stored npz": npz_arrays(tmp_path / "stored.npz")["stack"],
        "deflated npz": npz_arrays(tmp_path / "deflated.npz")["stack"],
    }


def test_a_stack_is_read_a_few_rows_at_a_time_and_adds_up_to_the_whole(tmp_path: Path) -> None:
    stack = np.random.default_rng(0).integers(0, 256, (50, 6, 7, 8), dtype=np.uint8)
    for kind, stored in stack_files(tmp_path, stack).items():
        chunks = list(stored.rows(chunk_bytes=4 * 6 * 7 * 8))
        expected = [50] if kind == "fortran npy" else [4] * 12 + [2]  # Fortran rows are not contiguous: read whole
        assert [len(chunk) for chunk in chunks] == expected, kind
        np.testing.assert_array_equal(np.concatenate(chunks), stack, err_msg=kind)
        assert all(chunk.flags.writeable for chunk in chunks), kind  # torch.from_numpy takes them without a warning


def test_a_stack_damaged_inside_a_deflated_npz_names_the_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "damaged.npz"
    np.savez_compressed(path, stack=np.random.default_rng(0).integers(0, 256, (300, 28, 28, 28), dtype=np.uint8))
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2  # deep inside the deflated data: the header and the directory still read
    raw[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"damaged\.npz \(stack\) is corrupt or truncated \([^\n]*\)$"):
        read_inputs(path, VOLUMES)


# --- videos that change their resolution, and cache entries of the wrong shape ------------------

@pytest.mark.parametrize("suffix", [".avi", ".mkv", ".mp4"])
def test_a_video_changing_resolution_mid_stream_gives_every_frame_the_size_its_header_states(tmp_path: Path, suffix: str) -> None:
    path = hostile.video_changing_resolution(tmp_path / f"switch{suffix}", sizes=((48, 64), (96, 80)), frames_each=6)
    clip = decode_clip(path, 12, (32, 32))
    assert clip.shape == (3, 12, 32, 32)
    levels = clip[0, :, 16, 16].astype(int)  # frame i of part p is filled with 40 * (i + p)
    np.testing.assert_allclose(levels, [40 * i for i in range(6)] + [40 * (i + 1) for i in range(6)], atol=6)


def test_a_video_in_a_codec_without_decoder_is_refused_in_one_line(tmp_path: Path) -> None:
    path = hostile.video_of_unknown_codec(tmp_path / "unknown.mkv")
    with pytest.raises(DataError, match=r"unknown\.mkv is in a codec FFmpeg cannot decode here, or its header is damaged[^\n]*$"):
        decode_clip(path, 4, (32, 32))


def test_a_video_folder_holding_a_clip_that_changes_resolution_loads_every_clip(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bundle = load_video_folder(hostile.video_folder(tmp_path / "videos"), num_frames=4, size=16, skip_bad=True)
    assert not [w for w in caught if "Skipping" in str(w.message)]  # read, not skipped
    assert {name: len(split) for name, split in bundle.splits.items()} == {"train": 2, "val": 2, "test": 2}


def test_a_cached_clip_of_the_wrong_shape_is_decoded_again(tmp_path: Path) -> None:
    path = hostile.video_changing_resolution(tmp_path / "clip.avi", sizes=((48, 64),), frames_each=8)
    cache = DecodeCache(tmp_path / "cache")
    settings = {"num_frames": 4, "size": [16, 16], "sampling": "uniform", "stride": 2}
    np.save(cache.entry(path, settings), np.zeros((3, 2, 9, 9), np.uint8))  # another version's, or a forged one
    clip = cache.get_or_create(path, settings, lambda: decode_clip(path, 4, (16, 16)), shape=(3, 4, 16, 16))
    assert clip.shape == (3, 4, 16, 16) and np.load(cache.entry(path, settings)).shape == (3, 4, 16, 16)


# --- a config.json edited to another model whose tensors have the same shapes -----------------

@pytest.mark.parametrize("edit", [{"num_heads": 4, "head_dim": 8}, {"variant": "factorised_dot_product"}, {"norm_eps": 1e-5}],
                         ids=["num_heads", "variant", "norm_eps"])
def test_a_config_json_changing_settings_that_keep_every_shape_is_refused_in_one_line(tmp_path: Path, edit: dict) -> None:
    from vivit.checkpoints import publish, save_model
    from vivit.models import build_model

    config = ViViTConfig.from_dict({**json.loads((FIXTURE_RUN / "checkpoints" / "last" / CONFIG).read_text())["model"]})
    publish(tmp_path / "checkpoints", "last", "0001", lambda d: save_model(d, build_model(config), class_names=list("abcde")))
    assert load_model(tmp_path).config == config
    config_path = tmp_path / "checkpoints" / "last" / CONFIG
    document = json.loads(config_path.read_text())
    document["model"].update(edit)
    config_path.write_text(json.dumps(document))
    first = sorted(edit)[0]
    with pytest.raises(CheckpointError, match=rf"config\.json does not describe the model its weights were saved from "
                                               rf"\({', '.join(sorted(edit))} changed, e\.g\. {first} is .*restore the original config\.json$"):
        load_model(tmp_path)


def test_a_checkpoint_written_before_settings_were_recorded_still_loads() -> None:
    assert load_model(FIXTURE_RUN).config.num_heads == 2
