"""Distributed data parallel on CPU (gloo): two processes train what one process trains.

With batch size B/2 on each of 2 ranks, rank r takes every other sample of the epoch's
shuffled order (the DistributedSampler layout), so global step i sees exactly the
samples that step i of one process with batch B sees, and DDP's averaged gradient is
the full batch's gradient. With every random draw off (no dropout, no augmentation;
each rank would draw its own masks), the only difference left is the order of float
sums in the all-reduce: the runs agree to float precision, not bit for bit, and Adam
can amplify those last bits a little over the steps, hence the tolerance below.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.training.test_end_to_end import vivit_cli

DETERMINISTIC_TINY = [
    "--dataset", "synthetic-shapes", "data.options={num_samples: 64}", "--epochs", "3", "train.accelerator=cpu",
    "model.depth=1", "model.embed_dim=32", "model.num_heads=2", "model.head_dim=16", "model.mlp_dim=64",
    "model.attn_dropout=0", "model.dropout=0", "model.drop_path_rate=0", "optim.lr=3e-3",
]
# Float sums in another order, over 9 Adam steps: observed differences are <= 3e-7 (float32).
TOLERANCE = 1e-5

pytestmark = pytest.mark.slow


def rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "history.csv") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ddp")
    single, double = root / "one-process", root / "two-processes"
    one = vivit_cli("train", *DETERMINISTIC_TINY, "data.batch_size=16", "--out", str(single), env={"OMP_NUM_THREADS": "1"})
    assert one.returncode == 0, one.stderr[-2000:]
    two = vivit_cli("train", *DETERMINISTIC_TINY, "data.batch_size=8", "--devices", "2", "--out", str(double), env={"OMP_NUM_THREADS": "1"})
    assert two.returncode == 0, two.stderr[-2000:]
    return single, double


def test_two_processes_at_the_same_global_batch_train_like_one(runs: tuple[Path, Path]) -> None:
    single, double = runs
    for one, two in zip(rows(single), rows(double), strict=True):
        for key in ("train/loss", "train/accuracy", "val/loss", "val/accuracy", "val/auc"):
            assert float(two[key]) == pytest.approx(float(one[key]), abs=TOLERANCE), (one["epoch"], key)
    final_one, final_two = (json.loads((r / "metrics.json").read_text()) for r in runs)
    for split in ("val", "test"):
        assert final_two[split]["loss"] == pytest.approx(final_one[split]["loss"], abs=TOLERANCE)
        assert final_two[split]["auc"] == pytest.approx(final_one[split]["auc"], abs=TOLERANCE)


def test_validation_metrics_are_gathered_from_both_ranks(runs: tuple[Path, Path]) -> None:
    # Each rank validates half the split; a metric of one rank alone would differ.
    _, double = runs
    evaluated = json.loads((double / "evaluation" / "val.json").read_text())  # the whole split, in one process
    assert float(rows(double)[-1]["val/loss"]) == pytest.approx(evaluated["loss"], abs=1e-5)


def test_only_rank_zero_writes_the_run_directory(runs: tuple[Path, Path]) -> None:
    _, double = runs
    assert [r["epoch"] for r in rows(double)] == ["1", "2", "3"]
    checkpoints = sorted(p.name for p in (double / "checkpoints").iterdir())
    assert checkpoints == ["last", "last-0003"]  # no stray staging file of rank 1, no duplicates
    assert not (double / "logs").exists()  # history.csv is the one record of the epochs
    assert sorted(p.name for p in (double / "evaluation").iterdir()) == ["test.json", "val.json"]


def test_the_ranks_of_a_run_without_out_share_its_default_run_directory(tmp_path: Path) -> None:
    # Rank 1 starts seconds after rank 0, as a copy of its command: a name stamped with its
    # own clock would be a second run directory.
    result = vivit_cli("train", *DETERMINISTIC_TINY, "--epochs", "1", "data.batch_size=8", "--devices", "2",
                       cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    [run] = (tmp_path / "runs").iterdir()
    assert (run / "metrics.json").exists()
    assert result.stdout.count("checkpoint:") == 1, "one summary of the run, printed by rank 0"
