"""One seed of a recipe as a resumable run directory, and what a finished one holds.

Shared by reproduce.py and accuracy.py. A run directory is trained by the ordinary
`vivit train` command in a subprocess: finished runs are left alone, stopped ones resumed,
so a benchmark can be killed at any moment and started again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from vivit.training.run_dir import RunDir

TRAIN = [sys.executable, "-m", "vivit.cli.main", "train"]


def is_finished(run_dir: Path) -> bool:
    """metrics.json is written last, after the selected checkpoint was tested."""
    return RunDir(run_dir).is_finished()


def train_arguments(recipe: str, dataset: str, seed: int, overrides: list[str], data_dir: str | None = None) -> list[str]:
    """The arguments of `vivit train` that start this run (without --out)."""
    arguments = ["--recipe", recipe, "--dataset", dataset, "--seed", str(seed)]
    if data_dir is not None:
        arguments += ["--data-dir", data_dir]
    return arguments + list(overrides)


def train_or_resume(
    run_dir: Path, arguments: list[str], threads: int | None = None, data_dir: str | None = None, log: Path | None = None
) -> None:
    """Train `run_dir` with `vivit train <arguments>`, or resume it if it was stopped; raises on failure.

    A folder without a last checkpoint was stopped before its first epoch ended, so it starts afresh.
    With `log`, the run's output is appended there instead of this process's (runs side by side).
    """
    if is_finished(run_dir):
        return
    if RunDir(run_dir).checkpoint_dir("last").exists():
        command = [*TRAIN, "--resume", str(run_dir)] + (["--data-dir", data_dir] if data_dir else [])
    else:
        command = [*TRAIN, *arguments, "--out", str(run_dir)]
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)  # torch takes its intra-op thread count from it
    print("$", " ".join(command) + (f"  > {log}" if log else ""), flush=True)
    if log is None:
        subprocess.run(command, check=True, env=env)
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as output:
        subprocess.run(command, check=True, env=env, stdout=output, stderr=subprocess.STDOUT)


def read_metrics(run_dir: Path) -> dict[str, Any]:
    """{"checkpoint", "epoch", "val": {...}, "test": {...}} of the checkpoint train.select picked."""
    run = RunDir(run_dir)
    metrics = run.read_metrics()
    if metrics is None:
        raise FileNotFoundError(f"{run.metrics_path} does not exist: the run has not finished")
    return metrics


def training_minutes(run_dir: Path) -> float:
    """Minutes spent in epochs (each with its validation pass), summed from history.csv."""
    return float(RunDir(run_dir).read_history()["epoch_seconds"].sum()) / 60
