"""Run directories written by vivit 0.1.0 keep working: they load, evaluate and resume.

`tests/fixtures/run-0.1.0` is a tiny synthetic run (2 epochs, a 1-block keras-seed
model) written by the code of 0.1.0, kept byte for byte; nothing rewrites it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

import vivit
from vivit.cli.main import main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-0.1.0"


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run-0.1.0"
    shutil.copytree(FIXTURE, run_dir, symlinks=True)
    return run_dir


def test_a_checkpoint_written_by_0_1_0_loads(old_run: Path) -> None:
    model = vivit.load_model(old_run)
    assert model(torch.rand(2, 1, 28, 28, 28)).shape == (2, 5)


def test_evaluating_a_0_1_0_run_reproduces_the_figures_it_recorded(old_run: Path) -> None:
    recorded = json.loads((FIXTURE / "evaluation" / "test.json").read_text())
    assert main(["evaluate", str(old_run), "--split", "test"]) == 0
    again = json.loads((old_run / "evaluation" / "test.json").read_text())
    assert again["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-6)
    assert again["confusion_matrix"] == recorded["confusion_matrix"]


def test_resuming_a_finished_0_1_0_run_keeps_its_history(old_run: Path) -> None:
    before = (FIXTURE / "history.csv").read_text().splitlines()
    assert main(["train", "--resume", str(old_run)]) == 0
    after = (old_run / "history.csv").read_text().splitlines()
    assert after[: len(before)] == before
