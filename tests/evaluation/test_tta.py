"""Test-time augmentation averages the recipe's flip views, reading mirrored views' left/right labels back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from vivit.cli.main import main
from vivit.data.augment import AugmentConfig
from vivit.data.types import DatasetBundle, Split
from vivit.errors import ConfigError
from vivit.evaluation.tta import FlipViews, flip_views

LEFT, RIGHT, LIVER = 0, 1, 2
MIRROR = torch.tensor([RIGHT, LEFT, LIVER])  # what a flip of T does to each label


class SideReader(nn.Module):
    """Logits from where the bright voxels are along T: the first half says LEFT, the second RIGHT.

    It is exactly mirror-equivariant: its reading of a flipped volume is its reading of the
    volume with LEFT and RIGHT exchanged.
    """

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        half = video.shape[2] // 2
        first, second = video[:, :, :half].mean(dim=(1, 2, 3, 4)), video[:, :, half:].mean(dim=(1, 2, 3, 4))
        return torch.stack([4 * first, 4 * second, first + second], dim=1)


def volumes() -> torch.Tensor:
    video = torch.zeros(3, 1, 8, 4, 4)
    video[0, :, :4] = 1  # bright on the left
    video[1, :, 4:] = 1  # bright on the right
    video[2, :, :, :2] = 0.5  # the same along T
    return video


def test_a_mirror_equivariant_model_gives_the_same_probabilities_with_tta() -> None:
    model = SideReader()
    tta = FlipViews(model, ["T"], MIRROR, "T")
    torch.testing.assert_close(tta(volumes()).softmax(-1), model(volumes()).softmax(-1))


def test_without_reading_labels_back_the_mirrored_view_would_blur_left_and_right() -> None:
    blind = FlipViews(SideReader(), ["T"])  # no pairs: the views are averaged as they come
    probabilities = blind(volumes()).softmax(-1)
    assert probabilities[0, LEFT] == pytest.approx(probabilities[0, RIGHT])


def test_tta_is_the_mean_of_the_views_probabilities() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(128, 3))
    video = torch.rand(5, 1, 8, 4, 4)
    tta = FlipViews(model, ["T", "W"], MIRROR, "T")
    views = [
        model(video).softmax(-1),
        model(video.flip(2)).softmax(-1)[:, MIRROR],
        model(video.flip(4)).softmax(-1),
        model(video.flip([2, 4])).softmax(-1)[:, MIRROR],
    ]
    assert [list(view) for view in tta.views] == [[], ["T"], ["W"], ["T", "W"]]
    torch.testing.assert_close(tta(video).exp(), torch.stack(views).mean(0))


def bundle(pairs: tuple[tuple[int, int], ...] = ((LEFT, RIGHT),)) -> DatasetBundle:
    split = Split(torch.zeros(1, 1, 8, 4, 4, dtype=torch.uint8), torch.zeros(1, dtype=torch.long))
    return DatasetBundle("organs", "multi-class", ("left", "right", "liver"), {"test": split}, pairs, "T" if pairs else None)


def test_the_views_are_the_flips_the_recipe_trained_with() -> None:
    tta = flip_views(SideReader(), AugmentConfig(flip_t=0.5, flip_h=0.5), bundle(), "run")
    assert [list(view) for view in tta.views] == [[], ["T"], ["H"], ["T", "H"]]
    assert tta.mirror.tolist() == MIRROR.tolist() and tta.left_right_axis == "T"


def test_a_run_trained_without_flips_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^Run keras trained with no flips .*; evaluate it without --tta$"):
        flip_views(SideReader(), AugmentConfig(), bundle(), "keras")


def test_vivit_evaluate_tta_writes_its_figures_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", "--dataset", "synthetic-shapes", "--epochs", "1",
                 "data.options={num_samples: 48}", "data.batch_size=16", "augment.flip_w=0.5", "--out", str(run)]) == 0
    capsys.readouterr()
    single_view = (run / "evaluation" / "val.json").read_text()
    assert main(["evaluate", str(run), "--split", "val", "--tta"]) == 0
    assert "val metrics (TTA: the mean of 2 flipped views)" in capsys.readouterr().out
    document = json.loads((run / "evaluation" / "val-tta.json").read_text())
    assert document["tta"] == [[], ["W"]] and 0 <= document["accuracy"] <= 1
    assert (run / "evaluation" / "val.json").read_text() == single_view  # single-view figures kept apart
