"""A trial knows its worker: a worker restarted on the same host fails the trials of a dead
one at once, without waiting out the heartbeat, and a report says when trials are outstanding."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sweeps.sweeps import finish, kill_in_second_trial, start_sweep, sweep_command, trials_of
from vivit.cli.main import main
from vivit.sweeps.trial_owners import HOST, PID, STARTED, owned_by_dead_process, owner

optuna = pytest.importorskip("optuna")


def a_finished_process() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_trial_of_this_live_process_is_not_dead() -> None:
    assert not owned_by_dead_process(owner())


def test_a_trial_whose_process_ended_is_dead() -> None:
    assert owned_by_dead_process({**owner(), PID: a_finished_process(), STARTED: "12345"})


def test_a_process_number_reused_by_another_process_is_dead() -> None:
    assert owned_by_dead_process({**owner(), STARTED: "0"})  # this pid, but a process started at boot


def test_a_trial_of_another_host_is_left_to_the_heartbeat() -> None:
    assert not owned_by_dead_process({**owner(), HOST: socket.gethostname() + "-elsewhere", PID: a_finished_process()})


def test_a_trial_without_an_owner_is_left_to_the_heartbeat() -> None:
    assert not owned_by_dead_process({})


def test_a_report_says_plainly_that_trials_are_outstanding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    storage = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=storage, study_name="half", direction="maximize")
    study.set_user_attr("metric", "val/auc")
    study.tell(study.ask(), 0.8)
    running = study.ask()
    for key, value in {**owner(), HOST: "node-7", PID: 4242}.items():
        running.set_user_attr(key, value)
    assert main(["sweep-report", "half", "--storage", storage, "--out", str(tmp_path / "report")]) == 0
    err = capsys.readouterr().err
    assert "study 'half' has 1 trial(s) still RUNNING: 1 (process 4242 on node-7)" in err
    assert "the best so far is from 1 completed trial(s)" in err and err.count("\n") == 1
    assert "Outstanding: study &#x27;half&#x27; has 1 trial(s) still RUNNING" in (tmp_path / "report" / "index.html").read_text()


def test_a_complete_study_reports_no_outstanding_trials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    storage = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=storage, study_name="done")
    study.tell(study.ask(), 0.5)
    assert main(["sweep-report", "done", "--storage", storage, "--out", str(tmp_path / "report")]) == 0
    assert "RUNNING" not in capsys.readouterr().err


@pytest.mark.slow
def test_a_worker_rerun_at_once_after_a_kill_finishes_every_trial(tmp_path: Path) -> None:
    """kill -9 in the second trial, restart within the heartbeat's grace (20 s heartbeats: 40 s)."""
    storage = f"sqlite:///{tmp_path / 'sweeps.db'}"
    command = sweep_command(tmp_path, storage, "rerun", 2)
    kill_in_second_trial(command, tmp_path / "rerun")
    assert {t.number: t.state.name for t in trials_of(storage, "rerun")}[1] == "RUNNING"
    rerun = start_sweep(command)
    finish(rerun)
    trials = {t.number: t for t in trials_of(storage, "rerun")}
    assert trials[1].state.name == "FAIL"
    retried = [t for t in trials.values() if t.system_attrs.get("failed_trial") == 1]
    assert len(retried) == 1 and retried[0].params == trials[1].params and retried[0].state.name == "COMPLETE"
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials.values()) == 2
