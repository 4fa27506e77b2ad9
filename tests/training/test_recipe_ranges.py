"""Every recipe number is checked against what it means: a value outside its range is one
line naming the key, the value and what is allowed, before any data is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vivit.cli.main import main
from vivit.training.recipe import RANGES, Range, load_recipe

BAD_SETTINGS = [
    ("optim.lr=-1", "optim.lr must be greater than 0, got -1"),
    ("optim.lr=0", "optim.lr must be greater than 0, got 0"),
    ("optim.lr=.inf", "optim.lr must be a finite number, got inf"),
    ("optim.betas=[2,3]", r"optim.betas must each be in [0, 1), got [2, 3]"),
    ("optim.betas=[0.9,1.0]", r"optim.betas must each be in [0, 1), got [0.9, 1.0]"),
    ("optim.gamma=-5", "optim.gamma must be greater than 0, got -5"),
    ("optim.min_lr=0.1", "optim.min_lr (0.1) is above optim.lr (0.0001)"),
    ("optim.weight_decay=-1", "optim.weight_decay must be at least 0, got -1"),
    ("optim.grad_clip=-1", "optim.grad_clip must be at least 0, got -1"),
    ("optim.warmup_epochs=-1", "optim.warmup_epochs must be at least 0, got -1"),
    ("optim.milestones=[-0.5,0.75]", r"optim.milestones must each be in [0, 1], got [-0.5, 0.75]"),
    ("train.ema_decay=2", r"train.ema_decay must be in [0, 1), got 2"),
    ("train.label_smoothing=1", r"train.label_smoothing must be in [0, 1), got 1"),
    ("train.label_smoothing=-0.1", r"train.label_smoothing must be in [0, 1), got -0.1"),
    ("train.precision=bogus", "Unknown train.precision 'bogus'; choose one of: auto, 32-true"),
    ("train.accelerator=tpux", "Unknown train.accelerator 'tpux'; choose one of: auto, cpu"),
    ("train.devices=0", "train.devices must be at least 1, got 0"),
    ("train.threads=0", "train.threads must be at least 1, got 0"),
    ("train.num_nodes=0", "train.num_nodes must be at least 1, got 0"),
    ("train.seed=-1", r"train.seed must be in [0, 4294967295], got -1"),
    ("train.early_stopping_patience=0", "train.early_stopping_patience must be at least 1, got 0"),
    ("data.eval_batch_size=0", "data.eval_batch_size must be at least 1, got 0"),
    ("data.options={num_samples: 0}", "data.options.num_samples must be at least 1, got 0"),
    ("data.options={num_frames: 0}", "data.options.num_frames must be at least 1, got 0"),
    ("data.options={short_side: 0}", "data.options.short_side must be at least 1, got 0"),
    ("data.eval_clips=0", "data.eval_clips must be at least 1, got 0"),
    ("data.eval_crops=2", "Unknown data.eval_crops '2'; choose one of: 1, 3"),
    ("data.options={num_samples: 8", "Override 'data.options={num_samples: 8' has a value that is not valid YAML"),
]


@pytest.mark.parametrize(("override", "message"), BAD_SETTINGS, ids=[o for o, _ in BAD_SETTINGS])
def test_a_setting_outside_its_range_is_one_line_naming_key_value_and_range(
    override: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(["train", "--dataset", "synthetic-motion", "--epochs", "1", "--out", str(out), override])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("vivit: error: ") and message in err
    assert not out.exists()  # refused before anything was created


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("accelerator", ["gpu", "cuda"])
def test_a_gpu_accelerator_without_cuda_is_one_line_before_data_loads(
    accelerator: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(["train", "--dataset", "synthetic-shapes", "--out", str(out), f"train.accelerator={accelerator}"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"train.accelerator={accelerator} but this machine has no CUDA GPU" in err and "train.accelerator=auto" in err
    assert not out.exists()


def test_a_recipe_file_with_a_bad_value_names_the_file(tmp_path: Path) -> None:
    recipe = tmp_path / "mine.yaml"
    recipe.write_text("optim:\n  gamma: 0\n")
    with pytest.raises(ValueError, match=rf"Recipe {recipe}: optim.gamma must be greater than 0, got 0"):
        load_recipe(str(recipe))


def test_the_edges_of_each_range_are_accepted() -> None:
    load_recipe("keras-seed", [
        "optim.weight_decay=0", "optim.betas=[0,0.999]", "optim.milestones=[0,1]", "optim.min_lr=1e-4",
        "train.label_smoothing=0", "train.ema_decay=0", "train.seed=0", "train.early_stopping_patience=1",
    ])


@pytest.mark.parametrize(("allowed", "inside", "outside", "text"), [
    (Range(0, low_open=True), 1e-9, 0, "greater than 0"),
    (Range(1), 1, 0.5, "at least 1"),
    (Range(0, 1, high_open=True), 0, 1, "in [0, 1)"),
    (Range(0, 1), 1, 1.5, "in [0, 1]"),
])
def test_a_range_states_its_rule_and_holds_its_ends(allowed: Range, inside: float, outside: float, text: str) -> None:
    assert inside in allowed and outside not in allowed and float("nan") not in allowed
    assert str(allowed) == text


def test_every_range_names_a_recipe_key() -> None:
    recipe = load_recipe("vivit-mae-pretrain").to_dict()  # a pretraining recipe has every section, mae too
    for key in RANGES:
        section, _, name = key.partition(".")
        assert name in recipe[section], key
