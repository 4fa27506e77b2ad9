"""Specification of video decoding, the decode cache and video folder datasets.

Real clips come from the shared folder (``$VIVIT_SHARED_DIR/video``, by default
``<repo>/../shared/video``). Generated clips encode the frame index in their grey
level, so a test can read back which frames were sampled.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
import torch

import vivit.data.video as video_module
from vivit.data.video import count_frames, decode_clip, decode_views, load_video_folder
from vivit.data.video_cache import DecodeCache
from vivit.data.video_folder import list_videos
from vivit.errors import ConfigError, DataError

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_VIDEO = Path(os.environ.get("VIVIT_SHARED_DIR") or REPO_ROOT.parent / "shared") / "video"
REAL_CLIPS = {  # name -> frame count
    "kinetics400_arm_wrestling_demo.mp4": 280,
    "unlabeled_test.avi": 164,
    "unlabeled_test.mp4": 300,
}
needs_real_clips = pytest.mark.skipif(
    not SHARED_VIDEO.is_dir(), reason=f"shared test videos not found at {SHARED_VIDEO}"
)

GREY_STEP = 6  # grey level per frame index; lossless codecs keep it within +-2


def write_clip(
    path: Path,
    num_frames: int,
    size: tuple[int, int] = (48, 64),
    codec: str = "libx264",
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0),
    gradient: bool = False,
) -> Path:
    """A clip whose frame i has grey level i * GREY_STEP (times colour), optionally with a left-to-right ramp."""
    height, width = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "0", "preset": "ultrafast"}
        for i in range(num_frames):
            level = np.full((height, width, 3), i * GREY_STEP, dtype=np.float64) * np.array(colour)
            if gradient:
                level = np.broadcast_to(np.linspace(0, 255, width)[None, :, None], (height, width, 3))
            frame = av.VideoFrame.from_ndarray(level.astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def frame_indices(clip: np.ndarray) -> list[int]:
    """Read back the frame index of each frame of a (3, T, H, W) clip of write_clip."""
    return [round(float(level) / GREY_STEP) for level in clip.astype(np.float64).mean(axis=(0, 2, 3))]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "forty": write_clip(folder / "forty.mp4", 40),
        "five": write_clip(folder / "five.mp4", 5),
        "headerless": write_clip(folder / "headerless.mkv", 12, codec="ffv1"),
        "ramp": write_clip(folder / "ramp.mp4", 4, gradient=True),
    }


def assert_one_line_error_naming(path: Path, match: str, call) -> None:
    with pytest.raises(DataError, match=match) as error:
        call()
    assert str(path) in str(error.value) and "\n" not in str(error.value)


# --- real clips ------------------------------------------------------------------------


@needs_real_clips
@pytest.mark.parametrize("name", REAL_CLIPS)
def test_real_clip_decodes_to_uint8_rgb_clip_of_requested_shape(name):
    path = SHARED_VIDEO / name
    uniform = decode_clip(path, 8, (64, 80))
    dense = decode_clip(path, 4, 48, sampling="dense", stride=3)
    assert uniform.shape == (3, 8, 64, 80) and uniform.dtype == np.uint8
    assert dense.shape == (3, 4, 48, 48) and dense.dtype == np.uint8
    assert uniform.std() > 10  # real picture content, not a blank


@needs_real_clips
@pytest.mark.parametrize("name, frames", REAL_CLIPS.items())
def test_real_clip_frame_count(name, frames):
    assert count_frames(SHARED_VIDEO / name) == frames


@needs_real_clips
def test_uniform_sampling_of_the_real_avi_takes_frames_spread_over_all_164():
    path = SHARED_VIDEO / "unlabeled_test.avi"
    every_frame = decode_clip(path, 164, 32)  # uniform with T == N takes each frame once
    sampled = decode_clip(path, 8, 32)
    expected = [10, 30, 51, 71, 92, 112, 133, 153]  # centres of 8 segments of 164 / 8 frames
    assert np.array_equal(sampled, every_frame[:, expected])


@needs_real_clips
def test_multi_view_of_a_real_clip():
    views = decode_views(SHARED_VIDEO / "unlabeled_test.avi", 4, 32, temporal_views=2, spatial_crops=3)
    assert views.shape == (6, 3, 4, 32, 32) and views.dtype == np.uint8


# --- which frames are sampled ------------------------------------------------------------


def test_uniform_sampling_takes_the_centre_frame_of_equal_segments(clips):
    indices = frame_indices(decode_clip(clips["forty"], 8, 32))
    assert indices == [2, 7, 12, 17, 22, 27, 32, 37]


def test_dense_sampling_takes_frames_stride_apart_from_the_centre(clips):
    # Span (8 - 1) * 3 + 1 = 22 of 40 frames; the centred start is (40 - 22) / 2 = 9.
    indices = frame_indices(decode_clip(clips["forty"], 8, 32, sampling="dense", stride=3))
    assert indices == list(range(9, 31, 3))


def test_dense_random_start_is_reproduced_by_its_seed(clips):
    def sample(seed: int) -> list[int]:
        clip = decode_clip(
            clips["forty"],
            4,
            32,
            sampling="dense",
            stride=2,
            start="random",
            generator=torch.Generator().manual_seed(seed),
        )
        return frame_indices(clip)

    starts = {sample(seed)[0] for seed in range(6)}
    assert all(np.diff(sample(seed)).tolist() == [2, 2, 2] for seed in range(3))
    assert sample(1) == sample(1) and len(starts) > 1 and max(starts) <= 40 - 7


def test_short_clip_repeats_frames_for_uniform_and_pads_with_the_last_for_dense(clips):
    assert frame_indices(decode_clip(clips["five"], 8, 32)) == [0, 0, 1, 2, 2, 3, 4, 4]
    assert frame_indices(decode_clip(clips["five"], 5, 32, sampling="dense", stride=2)) == [0, 2, 4, 4, 4]


def test_a_container_without_frame_count_is_counted_by_decoding(clips):
    with av.open(str(clips["headerless"])) as container:
        assert container.streams.video[0].frames == 0  # Matroska records no count
    assert count_frames(clips["headerless"]) == 12
    assert frame_indices(decode_clip(clips["headerless"], 4, 32)) == [1, 4, 7, 10]


def test_temporal_views_spread_over_the_clip_and_share_their_crops(clips):
    views = decode_views(clips["forty"], 4, 32, temporal_views=2, spatial_crops=3)
    assert views.shape == (6, 3, 4, 32, 32)
    # Segments of 10 frames: the first view takes the first frame of each, the last view the last.
    assert [frame_indices(v) for v in views[::3]] == [[0, 10, 20, 30], [9, 19, 29, 39]]
    assert frame_indices(views[1]) == frame_indices(views[0])


def test_spatial_crops_go_from_left_to_right(clips):
    views = decode_views(clips["ramp"], 2, 32, spatial_crops=3)  # brightness grows to the right
    left, centre, right = (float(v.mean()) for v in views)
    assert left < centre < right


def test_random_crop_is_reproduced_by_its_seed(clips):
    def crop(seed: int) -> np.ndarray:
        return decode_clip(clips["ramp"], 2, 24, crop="random", generator=torch.Generator().manual_seed(seed))

    assert np.array_equal(crop(3), crop(3))
    assert len({float(crop(seed).mean()) for seed in range(6)}) > 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sampling="random"), "Unknown frame sampling 'random'"),
        (dict(crop="middle"), "Unknown position 'middle'"),
        (dict(crop=1.5), r"fraction in \[0, 1\]"),
        (dict(num_frames=0), "must be positive"),
    ],
)
def test_impossible_requests_are_config_errors(clips, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        decode_clip(clips["forty"], **{"num_frames": 4, "size": 32, **kwargs})


# --- bad files -----------------------------------------------------------------------------


def test_random_bytes_named_mp4_name_the_file(tmp_path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    assert_one_line_error_naming(path, "Cannot decode video", lambda: decode_clip(path, 4, 32))


def test_a_frame_that_would_resize_past_8k_to_cover_the_crop_is_refused_before_decoding(clips):
    # 48 x 64 frames under a 5000-pixel square crop: 5000 x 6667, more than 8K's 7680 x 4320 pixels.
    assert_one_line_error_naming(clips["forty"], "would resize to 6667×5000", lambda: decode_clip(clips["forty"], 4, 5000))


def test_empty_file_names_the_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    assert_one_line_error_naming(path, r"is empty \(0 bytes\)", lambda: decode_clip(path, 4, 32))


def test_text_renamed_avi_names_the_file(tmp_path):
    path = tmp_path / "notes.avi"
    path.write_text("these are not frames\n" * 20)
    assert_one_line_error_naming(path, "Cannot decode video", lambda: decode_clip(path, 4, 32))


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "absent.mp4"
    assert_one_line_error_naming(path, "does not exist", lambda: decode_clip(path, 4, 32))


def test_audio_only_file_names_the_file(tmp_path):
    path = tmp_path / "sound.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    assert_one_line_error_naming(path, "is a 'wav' file, not a video container", lambda: decode_clip(path, 4, 32))


@needs_real_clips
def test_truncated_avi_is_reported_as_truncated(tmp_path):
    data = (SHARED_VIDEO / "unlabeled_test.avi").read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(data[: len(data) // 2])  # the header still promises 164 frames
    assert_one_line_error_naming(
        path, "truncated or corrupt: its header promises 164 frames", lambda: decode_clip(path, 8, 32)
    )


@needs_real_clips
def test_truncated_mp4_names_the_file(tmp_path):
    data = (SHARED_VIDEO / "kinetics400_arm_wrestling_demo.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])  # loses the index (moov) at the end of the file
    assert_one_line_error_naming(path, "Cannot decode video", lambda: decode_clip(path, 8, 32))


# --- video folders -----------------------------------------------------------------------------

CLASS_COLOURS = {"cat": (1.0, 0.1, 0.1), "dog": (0.1, 0.1, 1.0)}  # red cats, blue dogs


def write_class_folders(root: Path, per_class: int = 5) -> Path:
    for name, colour in CLASS_COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            write_clip(root / name / f"{name}{i}.mp4", 10 + i, size=(24, 32), colour=colour)
    return root


@pytest.fixture
def folder(tmp_path) -> Path:
    return write_class_folders(tmp_path / "pets")


def assert_labels_match_colours(bundle) -> None:
    for split in bundle.splits.values():
        red, blue = (
            split.images[:, 0].float().mean(dim=(1, 2, 3)),
            split.images[:, 2].float().mean(dim=(1, 2, 3)),
        )
        assert torch.equal(split.labels, (blue > red).long())  # cat = 0 (red), dog = 1 (blue)


def test_class_folders_become_a_seeded_stratified_70_15_15_split(folder):
    bundle = load_video_folder(folder, num_frames=4, size=16)
    assert bundle.name == "pets" and bundle.class_names == ("cat", "dog") and bundle.task == "multi-class"
    assert {name: len(split) for name, split in bundle.splits.items()} == {"train": 6, "val": 2, "test": 2}
    for split in bundle.splits.values():
        assert split.images.dtype == torch.uint8 and split.images.shape[1:] == (3, 4, 16, 16)
        half = len(split) // 2
        assert split.labels.dtype == torch.int64 and split.labels.tolist() == [0] * half + [1] * half
    assert_labels_match_colours(bundle)
    again = load_video_folder(folder, num_frames=4, size=16)
    assert all(torch.equal(bundle.splits[n].images, again.splits[n].images) for n in bundle.splits)


def test_split_depends_on_the_seed_alone(folder):
    def train_files(seed: int) -> list[str]:
        return [path.name for path, _ in list_videos(folder, seed=seed).splits["train"]]

    assert train_files(0) == train_files(0)
    assert any(train_files(seed) != train_files(0) for seed in range(1, 5))


def test_given_train_and_test_folders_are_kept_and_val_is_split_off_train(tmp_path):
    root = tmp_path / "given"
    write_class_folders(root / "train", per_class=4)
    write_class_folders(root / "test", per_class=1)
    bundle = load_video_folder(root, num_frames=2, size=16)
    assert {name: len(split) for name, split in bundle.splits.items()} == {"train": 6, "val": 2, "test": 2}
    assert_labels_match_colours(bundle)


def test_csv_lists_videos_by_class_name(folder):
    listing = folder / "list.csv"
    listing.write_text("path,label\ncat/cat0.mp4,cat\ndog/dog1.mp4,dog\ncat/cat2.mp4,cat\ndog/dog3.mp4,dog\n")
    bundle = load_video_folder(folder, num_frames=2, size=16, csv=listing, split_fractions=(1.0, 0.0, 0.0))
    assert bundle.class_names == ("cat", "dog") and len(bundle.splits["train"]) == 4
    assert_labels_match_colours(bundle)


def missing_root(tmp_path: Path) -> Path:
    return tmp_path / "absent"


def root_without_class_folders(tmp_path: Path) -> Path:
    return tmp_path


def class_folder_without_videos(tmp_path: Path) -> Path:
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "notes.txt").write_text("not a video")
    return tmp_path


def split_folders_beside_class_folders(tmp_path: Path) -> Path:
    (tmp_path / "train" / "cat").mkdir(parents=True)
    (tmp_path / "dog").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    "make_root, match",
    [
        (missing_root, "does not exist"),
        (root_without_class_folders, "has no class folders"),
        (class_folder_without_videos, "has no video files"),
        (split_folders_beside_class_folders, "mixes split folders"),
    ],
)
def test_folder_layout_mistakes_name_the_path(tmp_path, make_root, match):
    with pytest.raises(DataError, match=match) as error:
        load_video_folder(make_root(tmp_path))
    assert str(tmp_path) in str(error.value) and "\n" not in str(error.value)


def test_a_bad_video_stops_loading_unless_skipped_with_a_warning_and_a_count(folder):
    bad = folder / "dog" / "broken.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(DataError, match="broken.mp4"):
        load_video_folder(folder, num_frames=2, size=16)
    with pytest.warns(UserWarning) as caught:
        bundle = load_video_folder(folder, num_frames=2, size=16, skip_bad=True)
    messages = [str(w.message) for w in caught]
    assert any("broken.mp4" in m for m in messages)
    assert any("Skipped 1 of 11 videos" in m for m in messages)
    assert sum(len(split) for split in bundle.splits.values()) == 10


# --- decode cache -----------------------------------------------------------------------------


def test_second_load_reads_the_cache_without_decoding(folder, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = load_video_folder(folder, num_frames=4, size=16, cache_dir=cache)
    assert len(list(cache.glob("*.npy"))) == 10

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(video_module, "decode_clip", no_decoding)
    second = load_video_folder(folder, num_frames=4, size=16, cache_dir=cache)
    assert all(torch.equal(first.splits[n].images, second.splits[n].images) for n in first.splits)
    assert not list(cache.glob("*.tmp")) and not list(cache.glob(".*"))


def test_changed_file_or_settings_are_decoded_again(folder, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    load_video_folder(folder, num_frames=4, size=16, cache_dir=cache)
    decoded = []

    def counting_decoder(path, *args, **kwargs):
        decoded.append(Path(path).name)
        return decode_clip(path, *args, **kwargs)

    monkeypatch.setattr(video_module, "decode_clip", counting_decoder)
    changed = folder / "cat" / "cat0.mp4"
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    load_video_folder(folder, num_frames=4, size=16, cache_dir=cache)
    assert decoded == ["cat0.mp4"]
    load_video_folder(folder, num_frames=2, size=16, cache_dir=cache)
    assert len(decoded) == 11


def test_an_interrupted_cache_write_leaves_no_entry_and_no_temporary_file(tmp_path, clips, monkeypatch):
    cache = DecodeCache(tmp_path / "cache")

    def dies_half_way(file, array):
        file.write(b"\x93NUMPY half an entry")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        cache.get_or_create(clips["five"], {"num_frames": 2}, lambda: np.zeros((3, 2, 4, 4), np.uint8))
    assert list((tmp_path / "cache").iterdir()) == []


def test_an_unreadable_cache_entry_is_decoded_again(tmp_path, clips):
    cache = DecodeCache(tmp_path / "cache")
    settings = {"num_frames": 2}
    cache.entry(clips["five"], settings).write_bytes(b"not an array")
    clip = cache.get_or_create(clips["five"], settings, lambda: np.ones((3, 2, 4, 4), np.uint8))
    assert clip.shape == (3, 2, 4, 4) and np.load(cache.entry(clips["five"], settings)).sum() == 96


# --- a video folder as a recipe names it -------------------------------------------------------

def recipe_bundle(folder: Path, *overrides: str):
    from vivit.training.recipe import load_recipe
    from vivit.training.run_dir import load_bundle

    return load_bundle(load_recipe("keras-seed", [f"data.dataset={folder}", *overrides]))


def test_the_frame_size_of_a_video_folder_is_data_size(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("VIVIT_CACHE_DIR", str(tmp_path / "cache"))
    assert recipe_bundle(folder, "data.size=16", "data.options={num_frames: 4}").input_shape == (3, 4, 16, 16)
    # As the loader calls it, too: the user guide's spelling.
    assert recipe_bundle(folder, "data.options={num_frames: 4, size: 24}").input_shape == (3, 4, 24, 24)
    with pytest.raises(ConfigError, match=r"given twice \(data.size=16, data.options.size=24\)"):
        recipe_bundle(folder, "data.size=16", "data.options={num_frames: 4, size: 24}")


def test_the_decode_cache_is_written_to_the_user_cache_not_beside_the_videos(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("VIVIT_CACHE_DIR", str(tmp_path / "cache"))
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    recipe_bundle(folder, "data.size=16", "data.options={num_frames: 4}", f"data.data_dir={folder}")
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert list((tmp_path / "cache" / "video-cache").iterdir())


def test_a_folder_too_small_for_its_split_fractions_says_how_many_videos_it_needs(tmp_path):
    small = write_class_folders(tmp_path / "small", per_class=3)
    with pytest.raises(DataError, match=r"small leaves the val split empty.*add videos to each class \(4 or more"):
        list_videos(small)
    assert set(list_videos(small, split_fractions=(0.7, 0.3, 0.0)).splits) == {"train", "val"}
