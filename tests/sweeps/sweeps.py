"""A sweep small enough for tests: tiny models on a tiny synthetic set, seconds a trial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TINY_TRIAL = [
    "--dataset", "synthetic-shapes", "data.options={num_samples: 32}", "data.batch_size=16", "--epochs", "2",
    "model.depth=1", "model.embed_dim=32", "model.num_heads=2", "model.head_dim=16", "model.mlp_dim=64",
]
TINY_SPACE = """\
optim.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
model.drop_path_rate: {type: float, low: 0.0, high: 0.2}
model.variant: {type: categorical, choices: [spatio_temporal, factorised_encoder]}
"""


def sweep_command(tmp_path: Path, storage: str, study: str, trials: int, *extra: str) -> list[str]:
    space = tmp_path / "space.yaml"
    space.write_text(TINY_SPACE)
    return [sys.executable, "-m", "vivit.cli.main", "sweep", "--space", str(space), "--trials", str(trials),
            "--storage", storage, "--study", study, "--out", str(tmp_path / study), *TINY_TRIAL, *extra]


def start_sweep(command: list[str]) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def kill_in_second_trial(command: list[str], study_dir: Path) -> None:
    """Start a worker and kill -9 it once its second trial has written a checkpoint."""
    worker = start_sweep(command)
    deadline = time.time() + 300
    while not (study_dir / "trial-0001" / "checkpoints").exists() and worker.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()


def finish(process: subprocess.Popen, timeout: float = 600) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return out


def trials_of(storage: str, study: str) -> list[Any]:
    import optuna

    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def assert_sweep_reached(storage: str, study: str, target: int) -> list[Any]:
    """N trials finished or pruned, unique numbers, and nothing else but surplus claims."""
    trials = trials_of(storage, study)
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers))
    done = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(done) == target
    others = [t for t in trials if t not in done]
    assert all(t.user_attrs.get("surplus") for t in others), [(t.number, t.state.name) for t in others]
    return done
