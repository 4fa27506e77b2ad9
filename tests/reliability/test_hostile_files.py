"""Small files that claim or make far more than they are: refused in one line, before the work."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import vivit.data.video as video_module
from tests.conftest import SHARED
from vivit.data.video import decode_clip
from vivit.errors import ConfigError, DataError
from vivit.training.recipe import load_recipe

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n"
CLIP = SHARED / "video" / "unlabeled_test.mp4"


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
