"""training/selection.py: which epoch `train.select` keeps, ties included."""

from __future__ import annotations

import math
from pathlib import Path

from vivit.training.callbacks import RunRecorder
from vivit.training.run_dir import RunDir
from vivit.training.selection import Candidate, best_epoch, is_better


def row(epoch: int, accuracy: float, loss: float) -> dict[str, float]:
    return {"epoch": epoch, "val/accuracy": accuracy, "val/loss": loss}


def test_a_higher_metric_wins_whatever_the_loss() -> None:
    assert is_better("val/accuracy", Candidate(2, 0.9, 5.0), Candidate(1, 0.8, 0.1))
    assert not is_better("val/accuracy", Candidate(2, 0.8, 0.1), Candidate(1, 0.9, 5.0))


def test_a_tie_goes_to_the_lower_validation_loss_and_otherwise_to_the_earlier_epoch() -> None:
    history = [row(1, 0.5, 1.0), row(2, 0.9, 0.40), row(3, 0.9, 0.30), row(4, 0.9, 0.35), row(5, 0.9, 0.30)]
    assert best_epoch("val/accuracy", history) == 3


def test_val_loss_is_minimised_and_its_ties_keep_the_earlier_epoch() -> None:
    history = [row(1, 0.1, 1.0), row(2, 0.2, 0.5), row(3, 0.9, 0.5), row(4, 0.9, 0.7)]
    assert best_epoch("val/loss", history) == 2


def test_nan_never_wins_and_a_missing_metric_is_no_candidate() -> None:
    assert not is_better("val/auc", Candidate(2, math.nan, 0.1), Candidate(1, 0.5, 1.0))
    assert is_better("val/auc", Candidate(2, 0.5, 0.3), Candidate(1, 0.5, math.nan))  # a measured loss wins the tie
    assert not is_better("val/auc", Candidate(2, 0.5, math.nan), Candidate(1, 0.5, 0.3))
    assert best_epoch("val/auc", [row(1, 0.5, 1.0)]) is None


def test_the_first_maximum_of_a_long_tie_is_no_longer_kept() -> None:
    # The shape of vivit-medmnist seed 42 on OrganMNIST3D: best val accuracy from epoch 59 to 100
    # while the val loss fell from 0.398 to 0.254.
    history = [row(e, 0.9, 1.0) for e in range(1, 59)]
    history += [row(e, 0.9441, 0.398 - (e - 59) * (0.398 - 0.254) / 41) for e in range(59, 101)]
    assert best_epoch("val/accuracy", history) == 100


def test_a_resumed_recorder_keeps_its_best_and_breaks_later_ties_on_its_loss(tmp_path: Path) -> None:
    recorder = RunRecorder(RunDir(tmp_path), "val/accuracy", {}, epochs=10, verbose=False)
    recorder.load_state_dict(
        {"best_score": 0.9, "best_epoch": 2, "best_loss": 0.4, "rows": [row(1, 0.5, 1.0), row(2, 0.9, 0.4)]}
    )
    assert recorder.best == Candidate(2, 0.9, 0.4)
    assert not recorder._update_best({"val/accuracy": 0.9, "val/loss": 0.5}, epoch=2)  # epoch 3 ties, worse loss
    assert recorder._update_best({"val/accuracy": 0.9, "val/loss": 0.3}, epoch=3)  # epoch 4 ties, better loss
    assert recorder.state_dict()["best_epoch"] == 4 and recorder.state_dict()["best_loss"] == 0.3
    fresh = RunRecorder(RunDir(tmp_path), "val/accuracy", {}, epochs=10, verbose=False)
    fresh.load_state_dict(recorder.state_dict())
    assert fresh.best == recorder.best


def test_a_recorder_that_selects_the_last_epoch_resumes_with_no_best(tmp_path: Path) -> None:
    recorder = RunRecorder(RunDir(tmp_path), "last", {}, epochs=10, verbose=False)
    recorder.load_state_dict({"best_score": None, "best_epoch": None, "best_loss": None, "rows": [row(1, 0.5, 1.0)]})
    assert recorder.best is None and recorder.rows == [row(1, 0.5, 1.0)]
