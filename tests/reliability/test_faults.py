"""Faults during training: kill -9 anywhere, a full disk mid-checkpoint.

A run killed at any point (half-way through writing weights, the trainer state or
history.csv, between staging a checkpoint and publishing it, or at a random moment)
and resumed, again and again, ends with the history and metrics of a run never
interrupted; after every kill, each published checkpoint loads. A full disk during a
checkpoint write is reported in one line, leaves the previous checkpoint loadable, and
the run resumes once there is space. (A sweep worker killed mid-trial:
tests/sweeps/test_sweep.py::test_a_killed_worker_leaves_a_study_that_a_restart_completes.)
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch

from tests.reliability.fuzzing import record
from tests.training.test_end_to_end import SMALL_SYNTHETIC, history, vivit_cli
from vivit.checkpoints import load_model
from vivit.errors import CheckpointError
from vivit.training.callbacks import TRAINER_STATE

ARGS = ["train", *SMALL_SYNTHETIC, "--epochs", "3", "model.dropout=0.1", "model.drop_path_rate=0.2", "train.select=val/loss"]
# (point, n): SIGKILL the n-th time this process reaches point; None: at a random moment.
KILLS = [("weights", 1), ("trainer_state", 2), ("swap", 1), ("swapped", 2), ("history", 1), None]


# Every run of the comparison uses one thread: float sums split over another number of
# threads round differently (seen in CI: val/loss 1.6300077 against 1.6300079).
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


def killed_run(args: list[str], kill: tuple[str, int] | None, rng: random.Random) -> int:
    env = {**os.environ, **ONE_THREAD}
    if kill is None:
        process = subprocess.Popen([sys.executable, "-m", "vivit.cli.main", *args], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(2.0, 12.0))
        process.send_signal(signal.SIGKILL)
    else:
        command = [sys.executable, "-m", "tests.reliability.killer", kill[0], str(kill[1]), *args]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode in (0, -signal.SIGKILL), stderr.decode()[-2000:]
    return process.returncode


def assert_published_checkpoints_load(run_dir: Path) -> None:
    """What a kill may leave: staging debris under hidden names, never a broken published checkpoint."""
    for name in ("last", "best"):
        link = run_dir / "checkpoints" / name
        if not link.exists():
            continue
        load_model(link)  # config.json + model.safetensors complete and matching
        if name == "last":
            state = torch.load(link / TRAINER_STATE, map_location="cpu", weights_only=False)
            assert state["epoch"] + 1 == load_model(link).checkpoint_info["epoch"]  # Lightning counts from 0


def test_a_run_killed_again_and_again_resumes_to_the_metrics_of_an_uninterrupted_run(tmp_path: Path) -> None:
    rng = random.Random(os.environ.get("VIVIT_FAULT_SEED", "11"))
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    survived = []
    for attempt, kill in enumerate(KILLS):
        args = [*ARGS, "--out", str(killed)] if attempt == 0 else ["train", "--resume", str(killed)]
        code = killed_run(args, kill, rng)
        survived.append(f"{kill[0]}#{kill[1]}" if kill else "random")
        assert_published_checkpoints_load(killed)
        if code == 0:  # finished before this kill point: nothing left to interrupt
            survived[-1] += " (run had finished)"
            break
    if not (killed / "metrics.json").exists():
        assert vivit_cli("train", "--resume", str(killed), env=ONE_THREAD).returncode == 0
    assert vivit_cli(*ARGS, "--out", str(whole), env=ONE_THREAD).returncode == 0
    assert history(killed) == history(whole)
    assert json.loads((killed / "metrics.json").read_text()) == json.loads((whole / "metrics.json").read_text())
    record("faults", "kill -9 then resume", {"kills": survived, "epochs": 3, "metrics_equal": True})


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs: a real filesystem that runs out of space."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or 'mount failed'}; CI runs as root and can)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    """Write zeros until the disk is full; the filler file is returned for removal."""
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(bytes(1 << 20))
                handle.flush()
        except OSError:
            pass
    return filler


class FillDiskAfter(pl.Callback):
    """Fills the disk at the end of epoch `epoch` (1-based), before that epoch's checkpoint."""

    def __init__(self, disk: Path, epoch: int) -> None:
        self.disk, self.epoch = disk, epoch

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch + 1 == self.epoch:
            fill(self.disk)


def test_a_full_disk_mid_checkpoint_is_reported_and_the_previous_checkpoint_still_loads(small_disk: Path) -> None:
    from vivit.training.recipe import load_recipe
    from vivit.training.run import resume, train

    recipe = load_recipe("keras-seed", ["data.dataset=synthetic-shapes", "data.options={num_samples: 48}", "data.batch_size=16", "train.epochs=3"])
    run_dir = small_disk / "run"
    with pytest.raises(CheckpointError) as caught:
        train(recipe, run_dir, extra_callbacks=[FillDiskAfter(small_disk, epoch=2)])
    message = str(caught.value)
    assert "No space left on device" in message and "untouched" in message and "\n" not in message
    survivor = load_model(run_dir)
    assert survivor.checkpoint_info["epoch"] == 1
    published = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert published == ["last", "last-0001"], published  # no partial file or staging folder left
    (small_disk / "filler").unlink()
    resume(run_dir)
    assert [row["epoch"] for row in history(run_dir)] == ["1", "2", "3"]
    record("faults", "full disk at the epoch-2 checkpoint", {"error": message, "resumed_to_epoch": 3})


def test_a_checkpoint_that_does_not_fit_leaves_no_partial_files(small_disk: Path) -> None:
    from vivit.checkpoints import publish, save_model
    from vivit.models import create_model

    model = create_model("keras-seed", num_classes=3)
    checkpoints = small_disk / "checkpoints"
    publish(checkpoints, "last", "0001", lambda d: save_model(d, model))
    filler = fill(small_disk)
    with pytest.raises(CheckpointError, match=r"No space left on device.*previous 'last' checkpoint is untouched"):
        publish(checkpoints, "last", "0002", lambda d: save_model(d, model))
    assert sorted(p.name for p in checkpoints.iterdir()) == ["last", "last-0001"]
    filler.unlink()
    torch.testing.assert_close(load_model(checkpoints / "last").state_dict(), model.state_dict())


INTERRUPTED_WHILE_LOADING = """
import os, signal, sys, threading
import vivit.training.run as run

real_load_bundle = run.load_bundle

def load_bundle_then_ctrl_c(recipe):
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()  # Ctrl-C half a second in
    return real_load_bundle(recipe)

run.load_bundle = load_bundle_then_ctrl_c
from vivit.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_while_the_dataset_loads_ends_in_one_line_and_leaves_no_run(tmp_path: Path) -> None:
    """Generating 600 synthetic volumes takes seconds; SIGINT arrives while they are made."""
    out = tmp_path / "run"
    args = ["train", "--dataset", "synthetic-shapes", "data.options={num_samples: 600}", "--epochs", "1", "--out", str(out)]
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_WHILE_LOADING, *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **ONE_THREAD})
    assert done.returncode == 130 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == "vivit: interrupted"
    assert not out.exists()
