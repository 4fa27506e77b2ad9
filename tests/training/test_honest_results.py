"""What a run records is true whatever the data and the working directory: an AUC that
cannot exist is reported as undefined, and a run found by relative paths works from anywhere."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from vivit.cli.main import main

TINY = [
    "--model", "vivit-tiny-video", "--epochs", "1", "model.depth=1", "model.embed_dim=16", "model.num_heads=2",
    "model.mlp_dim=32", "data.batch_size=8",
]
ONE_SAMPLE_A_SPLIT = ["--dataset", "synthetic-motion", "data.size=16", "data.options={num_samples: 1, num_frames: 4}",
                      "model.tubelet_size=[2,8,8]"]


def test_a_validation_split_of_one_class_reports_auc_as_undefined(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["train", *ONE_SAMPLE_A_SPLIT, *TINY, "--out", str(run)]) == 0
    table = capsys.readouterr().out
    assert json.loads((run / "metrics.json").read_text())["val"]["auc"] is None
    assert json.loads((run / "evaluation" / "val.json").read_text())["auc"] is None
    val_row = next(line for line in table.splitlines() if line.startswith("val "))
    assert val_row.split()[3] == "undefined"  # the auc column, where 0.0000 used to stand
    assert main(["evaluate", str(run), "--split", "val"]) == 0
    assert "auc             undefined" in capsys.readouterr().out


def test_selecting_by_auc_on_a_one_class_validation_split_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert main(["train", *ONE_SAMPLE_A_SPLIT, *TINY, "train.select=val/auc", "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "train.select=val/auc, but the val split of synthetic-motion holds a single class" in err
    assert not run.exists()


def test_a_relative_data_dir_is_kept_absolute_so_the_run_evaluates_from_anywhere(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work" / "data").mkdir(parents=True)
    (tmp_path / "work" / "data" / "adrenalmnist3d.npz").symlink_to(shared_data / "adrenalmnist3d.npz")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert main([
        "train", "--dataset", "adrenalmnist3d", "--data-dir", "data", *TINY, "model.tubelet_size=[4,7,7]",
        "train.limit_train_batches=1", "--out", "run",
    ]) == 0
    config = yaml.safe_load((tmp_path / "work" / "run" / "config.yaml").read_text())
    assert config["data"]["data_dir"] == str(tmp_path / "work" / "data")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["evaluate", os.path.join("..", "work", "run"), "--split", "val"]) == 0
