"""What `vivit train` tells its user from start to stop: the banner, progress, signals,
a second writer, a run that diverges, and a run extended with more epochs."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.training.test_end_to_end import SMALL_SYNTHETIC, history, vivit_cli

TINY = [*SMALL_SYNTHETIC, "model.embed_dim=16", "model.depth=1", "model.num_heads=2", "model.mlp_dim=32"]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vivit.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not path.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert path.exists(), f"{path} never appeared"


def test_training_starts_by_saying_where_what_on_what_and_how_much_data(tmp_path: Path) -> None:
    result = vivit_cli("train", *TINY, "--epochs", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    banner = result.stdout.split("epoch 1/1")[0]
    assert f"run directory: {tmp_path / 'run'}" in banner
    assert re.search(r"model: keras-seed, spatio_temporal \(Model 1\), [\d,]+ parameters, 27 tokens", banner)
    assert "data: synthetic-shapes, 5 classes, input 1x28x28x28; train 48 / val 48 / test 48" in banner
    assert re.search(r"on cpu \(.+\), precision 32-true \(auto: this CPU has no bf16 instructions\)", banner)


def test_a_pipe_gets_one_line_per_epoch_with_the_time_left(tmp_path: Path) -> None:
    result = vivit_cli("train", *TINY, "--epochs", "3", "--out", str(tmp_path / "run"))
    lines = [line for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "\r" not in result.stdout and "it/s" not in result.stdout


def test_a_terminal_gets_a_progress_bar_with_an_eta(tmp_path: Path) -> None:
    main_side, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 rows, 120 columns
    command = [sys.executable, "-m", "vivit.cli.main", "train", *TINY, "--epochs", "2", "--out", str(tmp_path / "run")]
    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    os.close(terminal)
    screen = b""
    while True:
        ready, _, _ = select.select([main_side], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(main_side, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        screen += chunk
    process.wait(timeout=60)
    text = screen.decode(errors="replace")
    assert process.returncode == 0, text[-2000:]
    assert re.search(r"Epoch 1: +\d+%\|.*\| \d/3 \[\d\d:\d\d<\d\d:\d\d", text), text[-2000:]  # elapsed<remaining
    assert "epoch 2/2" in text  # the epoch's figures are kept above the bar


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_keeps_a_resumable_checkpoint_says_how_to_resume_and_resumes_exactly(
    tmp_path: Path, signum: int, status: int
) -> None:
    args = ["train", *SMALL_SYNTHETIC, "--epochs", "4", "model.dropout=0.1", "model.drop_path_rate=0.2"]
    stopped, whole = tmp_path / "stopped", tmp_path / "whole"
    process = start(*args, "--out", str(stopped))
    wait_for(stopped / "checkpoints" / "last", process)  # published: the first epoch is saved
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == status, err
    assert "Traceback" not in err and f"resume with: vivit train --resume {stopped}" in err
    assert re.search(r"the last checkpoint \(epoch \d\) is in .*checkpoints/last", err)
    assert not (stopped / "metrics.json").exists()
    one_thread = {"OMP_NUM_THREADS": "1"}  # as the stopped run: kernels sum in another order on more threads
    assert vivit_cli("train", "--resume", str(stopped), env=one_thread).returncode == 0
    assert vivit_cli(*args, "--out", str(whole), env=one_thread).returncode == 0
    assert history(stopped) == history(whole)
    assert json.loads((stopped / "metrics.json").read_text()) == json.loads((whole / "metrics.json").read_text())


def test_a_second_training_into_a_running_run_is_refused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = start("train", *SMALL_SYNTHETIC, "--epochs", "500", "--out", str(run))  # minutes: killed below
    wait_for(run / "config.yaml", first)
    try:
        for second in (["train", *TINY, "--out", str(run)], ["train", "--resume", str(run)]):
            result = vivit_cli(*second)
            assert result.returncode == 2
            assert f"{run} is being trained by process {first.pid}" in result.stderr
    finally:
        first.kill()
        first.wait()
    # The kernel drops the lock with its process: nothing stale is left to clear by hand.
    assert vivit_cli("train", "--resume", str(run), "--epochs", "1").returncode in (0, 2)


def test_a_loss_that_becomes_nan_stops_the_run_with_one_line_and_keeps_earlier_checkpoints(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = vivit_cli("train", *TINY, "--epochs", "4", "optim.lr=1e12", "--out", str(run))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert re.match(r"vivit: error: The training loss became (nan|inf) in epoch \d, step \d+; .*Lower optim.lr \(now 1e\+12\)", line)
    assert not (run / "metrics.json").exists()


def test_a_finished_run_is_extended_with_more_epochs_and_other_changes_are_refused(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert vivit_cli("train", *TINY, "--epochs", "2", "--out", str(run)).returncode == 0
    refused = vivit_cli("train", "--resume", str(run), "optim.lr=1")
    assert refused.returncode == 2 and "it takes only --epochs and --data-dir, not optim.lr=1" in refused.stderr
    extended = vivit_cli("train", "--resume", str(run), "--epochs", "3")
    assert extended.returncode == 0, extended.stderr
    assert [row["epoch"] for row in history(run)] == ["1", "2", "3"]
    assert json.loads((run / "metrics.json").read_text())["epoch"] == 3
    shorter = vivit_cli("train", "--resume", str(run), "--epochs", "2")
    assert shorter.returncode == 2 and "--epochs must be 3 or more" in shorter.stderr


@pytest.mark.parametrize("logger, made", [("tensorboard", "tensorboard"), ("mlflow", "mlflow.db")])
def test_a_tracker_records_the_epochs_beside_history(tmp_path: Path, logger: str, made: str) -> None:
    pytest.importorskip(logger, reason='the tracking extra: pip install -e ".[tracking]"')
    run = tmp_path / "run"
    result = vivit_cli("train", *TINY, "--epochs", "1", f"train.logger={logger}", "--out", str(run))
    assert result.returncode == 0, result.stderr
    assert (run / made).exists() and (run / "history.csv").exists()
    assert "INFO" not in result.stderr + result.stdout
