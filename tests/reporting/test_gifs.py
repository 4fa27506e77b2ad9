"""Captions, frame order and size of the sample GIFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageSequence

from vivit.reporting.gifs import (
    add_caption,
    caption,
    display_scale,
    overlay_heat,
    play_order,
    sample_frames,
    write_captioned_gif,
    write_gif,
)


def test_caption_reads_truth_then_prediction_as_the_keras_example_grid() -> None:
    assert caption("liver", true="liver") == "T: liver | P: liver"
    assert caption("kidney-left", true="kidney-right") == "T: kidney-right | P: kidney-left"


def test_caption_without_a_known_truth_shows_the_prediction_and_its_probability() -> None:
    assert caption("normal", probability=0.5) == "P: normal (p=0.50)"


@pytest.mark.parametrize("side, scale", [(28, 4), (32, 4), (64, 2), (112, 1), (224, 1)])
def test_small_samples_are_scaled_up_by_whole_pixels(side: int, scale: int) -> None:
    assert display_scale(side, side) == scale


def test_frames_are_nearest_neighbour_upscaled_grey_rgb() -> None:
    volume = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(1, 2, 3, 3)
    frames = sample_frames(volume, scale=2)  # (T, 6, 6, 3)
    assert frames.shape == (2, 6, 6, 3)
    np.testing.assert_array_equal(frames[1, 2:4, 4:6], np.full((2, 2, 3), volume[0, 1, 1, 2]))


def test_float_samples_in_zero_one_become_uint8() -> None:
    frames = sample_frames(torch.ones(3, 1, 4, 4) * 0.5, scale=1)
    assert frames.dtype == np.uint8 and (frames == 128).all()


def test_video_plays_forward() -> None:
    np.testing.assert_array_equal(play_order(np.ones((3, 4, 2, 2))), [0, 1, 2, 3])


def test_volume_sweeps_from_its_middle_slice_without_jumps() -> None:
    order = play_order(np.ones((1, 5, 2, 2)))
    np.testing.assert_array_equal(order, [2, 3, 4, 3, 2, 1, 0, 1])
    steps = np.abs(np.diff(np.r_[order, order[0]]))  # including the wrap of the loop
    assert steps.max() == 1


def test_volume_sweep_skips_empty_slices_at_either_end() -> None:
    volume = np.zeros((1, 8, 2, 2), dtype=np.uint8)
    volume[0, 2:5] = 200  # a mask in slices 2-4
    np.testing.assert_array_equal(play_order(volume), [3, 4, 3, 2])


def test_heat_overlay_leaves_uncovered_voxels_untouched() -> None:
    frames = np.full((1, 4, 4, 3), 100, dtype=np.uint8)
    heat = np.array([[[1.0, np.nan], [0.0, np.nan]]])  # (1, 2, 2): the right column uncovered
    blended = overlay_heat(frames, heat)
    assert (blended[:, :, 2:] == 100).all()
    assert (blended[0, :2, :2] != 100).any()


def test_caption_band_widens_the_canvas_for_long_class_names() -> None:
    frames = np.zeros((3, 28, 28, 3), dtype=np.uint8)
    captioned = add_caption(frames, caption("a-rather-long-class-name", true="another-long-name"))
    count, height, width, _ = captioned.shape
    assert count == 3 and height > 28 and width > 28


def test_gif_keeps_every_frame(tmp_path: Path) -> None:
    frames = np.stack([np.full((8, 8, 3), 40 * t, dtype=np.uint8) for t in range(5)])
    with Image.open(write_gif(tmp_path / "a.gif", frames)) as gif:
        assert gif.size == (8, 8)
        assert [int(np.asarray(f.convert("L"))[0, 0]) for f in ImageSequence.Iterator(gif)] == [0, 40, 80, 120, 160]


def test_captioned_gif_of_a_volume(tmp_path: Path) -> None:
    volume = np.random.default_rng(0).integers(0, 255, (1, 6, 28, 28), dtype=np.uint8)
    with Image.open(write_captioned_gif(tmp_path / "v.gif", volume, caption("cube", probability=0.8))) as gif:
        assert gif.width >= 112 and gif.height > 112
        assert gif.n_frames == len(play_order(volume))
