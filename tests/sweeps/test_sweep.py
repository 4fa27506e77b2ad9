"""Sweeps as users run them: parallel workers share one study, a kill loses nothing,
and the best trial comes back as a recipe that `vivit train` takes."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import yaml

from tests.sweeps.sweeps import (
    TINY_TRIAL,
    assert_sweep_reached,
    finish,
    kill_in_second_trial,
    start_sweep,
    sweep_command,
    trials_of,
)
from tests.training.test_end_to_end import history, vivit_cli

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.slow
def test_two_workers_share_one_sqlite_study_and_the_best_recipe_trains(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'sweeps.db'}"
    out = finish(start_sweep(sweep_command(tmp_path, storage, "parallel", 4, "--workers", "2")))
    done = assert_sweep_reached(storage, "parallel", 4)
    for trial in done:  # every trial is a normal run directory
        assert (Path(trial.user_attrs["run_dir"]) / "config.yaml").exists()
    assert "best recipe:" in out
    for trial in done:  # each trial's epoch lines open with the trial and what it tries
        assert f"== trial {trial.number} (of 4): optim.lr={trial.params['optim.lr']:.4g}, " in out
    assert (tmp_path / "parallel" / "report" / "index.html").exists()
    best = tmp_path / "parallel" / "best-recipe.yaml"
    recipe = yaml.safe_load(best.read_text())
    winner = max((t for t in done if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert recipe["optim"]["lr"] == winner.params["optim.lr"]
    result = vivit_cli("train", "--recipe", str(best), "--epochs", "1", "--out", str(tmp_path / "retrain"))
    assert result.returncode == 0, result.stderr
    assert len(history(tmp_path / "retrain")) == 1


@pytest.mark.slow
def test_a_killed_worker_leaves_a_study_that_a_restart_completes(tmp_path: Path) -> None:
    """kill -9 in the second trial; the restart fails that trial and retries its parameters."""
    storage = f"sqlite:///{tmp_path / 'sweeps.db'}"
    command = sweep_command(tmp_path, storage, "killed", 2, "--heartbeat", "1")
    kill_in_second_trial(command, tmp_path / "killed")
    states = {t.number: t.state.name for t in trials_of(storage, "killed")}
    assert states[1] == "RUNNING", states  # what the kill left behind
    time.sleep(2.5)  # the grace period (2 heartbeats) passes: the trial is stale
    finish(start_sweep(command))
    trials = {t.number: t for t in trials_of(storage, "killed")}
    assert trials[1].state.name == "FAIL"
    retried = [t for t in trials.values() if t.system_attrs.get("failed_trial") == 1]
    assert len(retried) == 1 and retried[0].params == trials[1].params
    done = [t for t in trials.values() if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(done) == 2 and [n for n, t in trials.items() if t not in done] == [1]


def test_a_sweep_with_a_bad_space_key_ends_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text("optim.lrr: {type: float, low: 0.1, high: 1}\n")
    result = vivit_cli("sweep", "--trials", "2", "--space", str(tmp_path / "space.yaml"), "--storage",
                       f"sqlite:///{tmp_path / 's.db'}", *TINY_TRIAL)
    assert result.returncode == 2
    assert "Unknown key 'optim.lrr'" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_sweep_of_a_pretraining_recipe_must_optimise_its_reconstruction_loss(tmp_path: Path) -> None:
    from vivit.errors import ConfigError
    from vivit.sweeps.study import SweepSettings, check_settings

    settings = SweepSettings(recipe="vivit-mae-pretrain", overrides=(), space=(), trials=1, storage="", study="s", out=tmp_path)
    with pytest.raises(ConfigError, match="sweep it with --metric val/loss"):
        check_settings(settings)  # the default, val/auc
    check_settings(dataclasses.replace(settings, metric="val/loss"))


def test_a_report_of_an_unknown_study_names_the_known_ones(tmp_path: Path) -> None:
    import optuna

    storage = f"sqlite:///{tmp_path / 's.db'}"
    optuna.create_study(storage=storage, study_name="known")
    result = vivit_cli("sweep-report", "nope", "--storage", storage)
    assert result.returncode == 2
    assert "No study 'nope'" in result.stderr and "known" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_report_run_from_another_folder_creates_nothing_and_names_the_storage(tmp_path: Path) -> None:
    result = vivit_cli("sweep-report", "my-sweep", cwd=tmp_path, env={"PYTHONPATH": str(SRC)})
    assert result.returncode == 2
    assert list(tmp_path.iterdir()) == []
    (line,) = result.stderr.strip().splitlines()
    assert str(tmp_path / "runs" / "sweeps.db") in line and "--storage" in line


def test_a_trial_header_names_the_trial_its_parameters_and_its_run_directory() -> None:
    from vivit.sweeps.study import trial_header

    sampled = {"optim.lr": 0.000312345, "model.variant": "factorised_encoder"}
    assert trial_header(3, 12, sampled, Path("runs/sweeps/s/trial-0003")) == (
        "== trial 3 (of 12): optim.lr=0.0003123, model.variant=factorised_encoder -> runs/sweeps/s/trial-0003"
    )
