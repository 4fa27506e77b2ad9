"""Specification of the evaluation protocol's views and of bounded decoding.

Temporal views spread over the whole video, spatial crops cover its long side, one view is
the centre clip, a video shorter than a clip is padded; seeking decodes exactly the pixels
that decoding every frame gives.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

import vivit.data.video as video_module
from tests.data.test_video import REAL_CLIPS, SHARED_VIDEO, frame_indices, needs_real_clips, write_clip
from vivit.data.video import decode_clip, decode_views
from vivit.data.video_sampling import clip_span, crop_windows, resized_size, view_indices
from vivit.errors import ConfigError


def write_gop_clip(path: Path, num_frames: int, gop: int, codec: str = "libx264") -> Path:
    """Grey level = frame index (as test_video.write_clip), a keyframe every `gop` frames, B-frames."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"crf": "0", "preset": "ultrafast", "g": str(gop), "bf": "2"} if codec == "libx264" else {}
        stream.gop_size = gop
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), (i * 2) % 256, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


# --- where the views are -----------------------------------------------------------------------


@pytest.mark.parametrize("sampling, stride", [("uniform", 1), ("dense", 2), ("dense", 5)])
@pytest.mark.parametrize("available, num_clips", [(40, 2), (300, 4), (1000, 10)])
def test_first_and_last_views_touch_the_ends_of_the_video(sampling, stride, available, num_clips):
    views = view_indices(available, 8, sampling, stride, num_clips)
    assert views.shape == (num_clips, 8)
    assert views[0, 0] == 0 and views[-1, -1] == available - 1
    assert (np.diff(views, axis=1) > 0).all(), "each view moves forward in time"


@pytest.mark.parametrize("sampling", ["uniform", "dense"])
def test_temporal_views_are_spread_evenly(sampling):
    starts = view_indices(1000, 8, sampling, 2, 5)[:, 0]
    assert np.ptp(np.diff(starts)) <= 1, starts  # equal steps, up to rounding


@pytest.mark.parametrize("resized, crop", [((112, 150), (112, 112)), ((128, 227), (112, 112)), ((200, 112), (112, 112))])
def test_three_crops_cover_the_long_side(resized, crop):
    windows = crop_windows(resized, crop, 3)
    long_axis = 1 if resized[1] >= resized[0] else 0
    starts = sorted(window[long_axis] for window in windows)
    assert starts[0] == 0 and starts[-1] + crop[long_axis] == resized[long_axis]
    assert starts[1] == round((resized[long_axis] - crop[long_axis]) / 2)
    short_axis = 1 - long_axis
    assert {window[short_axis] for window in windows} == {round((resized[short_axis] - crop[short_axis]) / 2)}


def test_three_crops_go_along_the_axis_with_room_when_the_crop_is_not_square():
    # A square frame and a wide crop: the room is along the height, not along the (equal) width.
    windows = crop_windows((224, 224), (160, 224), 3)
    assert windows == [(0, 0), (32, 0), (64, 0)]


def test_a_recorded_preprocessing_with_a_malformed_size_is_a_config_error():
    from vivit.data.video_preprocessing import VideoPreprocessing

    for size in ([1, 2, 3], [112.5, 112], "112"):
        with pytest.raises(ConfigError, match="config.json holds no valid video preprocessing"):
            VideoPreprocessing.from_dict({"num_frames": 8, "size": size}, "config.json")


def test_the_short_side_is_resized_to_short_side_keeping_the_aspect():
    assert resized_size(256, 340, 112, 112, short_side=128) == (128, 170)
    assert resized_size(256, 340, 112, 112) == (112, 149)  # no short_side: the smallest that covers the crop
    assert resized_size(340, 256, 112, 112, short_side=128) == (170, 128)


def test_a_short_side_below_the_crop_is_refused():
    with pytest.raises(ConfigError, match=r"short_side \(100\) is below the crop \(112x112\)"):
        decode_clip("unused.mp4", 4, 112, short_side=100)


def test_one_view_is_the_centre_clip(tmp_path):
    clip = write_clip(tmp_path / "ramp.mp4", 30, gradient=True)
    for sampling in ("uniform", "dense"):
        single = decode_clip(clip, 4, 32, sampling=sampling, short_side=40)
        views = decode_views(clip, 4, 32, 1, 1, sampling=sampling, short_side=40)
        assert np.array_equal(views[0], single)


@pytest.mark.parametrize("sampling, expected", [("uniform", [0, 0, 1, 2, 2, 3, 4, 4]), ("dense", [0, 2, 4, 4, 4, 4, 4, 4])])
def test_a_video_shorter_than_one_clip_is_padded_and_its_views_are_all_the_same(tmp_path, sampling, expected):
    clip = write_clip(tmp_path / "five.mp4", 5)
    assert clip_span(8, "dense", 2) > 5
    views = decode_views(clip, 8, 32, 3, 1, sampling=sampling, stride=2)
    assert frame_indices(views[1]) == expected
    assert all(np.array_equal(view, views[0]) for view in views)


def test_views_are_temporal_major_and_crops_go_along_the_long_side(tmp_path):
    clip = write_clip(tmp_path / "ramp.mp4", 20, gradient=True)  # 48 x 64: brightness grows to the right
    views = decode_views(clip, 2, 32, 2, 3, short_side=40)
    assert views.shape == (6, 3, 2, 32, 32)
    brightness = [float(view.mean()) for view in views]
    assert brightness[0] < brightness[1] < brightness[2] and brightness[:3] == brightness[3:]


# --- bounded decoding --------------------------------------------------------------------------


@pytest.fixture
def always_seek(monkeypatch):
    """Seek in every video, however small; the list records each fall back to decoding in order."""
    monkeypatch.setattr(video_module, "SEEK_MIN_PIXELS", 0)
    fallbacks = []
    in_order = video_module._Video._read_in_order
    monkeypatch.setattr(video_module._Video, "_read_in_order", lambda self, *a: fallbacks.append(1) or in_order(self, *a))
    return fallbacks


def assert_seeking_decodes_every_frame_alike(path: Path, sampling: str, monkeypatch, fallbacks: list) -> None:
    def views() -> np.ndarray:  # 4 temporal views x 3 crops
        return decode_views(path, 6, (40, 48), 4, 3, sampling=sampling, stride=3)

    monkeypatch.setattr(video_module, "SEEK_MIN_PIXELS", 10**15)
    everything = views()
    monkeypatch.setattr(video_module, "SEEK_MIN_PIXELS", 0)
    fallbacks.clear()
    assert np.array_equal(views(), everything)
    assert not fallbacks, "the clip was decoded in order, not by seeking"


@pytest.mark.parametrize("gop", [1, 7, 50])
@pytest.mark.parametrize("sampling", ["uniform", "dense"])
def test_seeking_gives_the_pixels_of_decoding_every_frame_in_generated_clips(tmp_path, monkeypatch, always_seek, gop, sampling):
    clip = write_gop_clip(tmp_path / f"gop{gop}.mp4", 200, gop)
    assert_seeking_decodes_every_frame_alike(clip, sampling, monkeypatch, always_seek)


@needs_real_clips
@pytest.mark.parametrize("name", [name for name in REAL_CLIPS if name.endswith(".mp4")])
@pytest.mark.parametrize("sampling", ["uniform", "dense"])
def test_seeking_gives_the_pixels_of_decoding_every_frame_in_the_real_clips(name, monkeypatch, always_seek, sampling):
    assert_seeking_decodes_every_frame_alike(SHARED_VIDEO / name, sampling, monkeypatch, always_seek)


@needs_real_clips
def test_an_avi_is_decoded_in_order_since_its_timestamps_follow_decode_order(always_seek):
    decode_views(SHARED_VIDEO / "unlabeled_test.avi", 4, 32, 2, 1)
    assert always_seek == [1]


def test_mpeg4_is_decoded_at_reduced_resolution_when_that_still_covers_the_resize(tmp_path, monkeypatch):
    clip = write_gop_clip(tmp_path / "part2.avi", 12, 4, codec="mpeg4")  # 64 x 48 frames
    widths = []
    resize = video_module._resized_rgb
    monkeypatch.setattr(video_module, "_resized_rgb", lambda frame, h, w: widths.append(frame.width) or resize(frame, h, w))
    decode_clip(clip, 4, 20)  # the resize is 20 x 27: a quarter-size frame (16 x 12) would not cover it
    assert set(widths) == {32}
    widths.clear()
    decode_clip(clip, 4, 48)
    assert set(widths) == {64}
