"""benchmarks/reselect_ties.py: runs finished under the first-of-ties rule, brought under the new one."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from accuracy_cells import cells
from accuracy_doc import ties_table
from accuracy_results import _ties
from reselect_ties import FIRST_EVALUATION, FIRST_METRICS, main, verdict

from vivit.cli.main import main as vivit

SMALL_SYNTHETIC = ["--dataset", "synthetic-shapes", "data.options={num_samples: 48}", "data.batch_size=16"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "run"
    args = ["train", *SMALL_SYNTHETIC, "--epochs", "3", "train.select=val/accuracy", "optim.lr=3e-3", "--out", str(run_dir)]
    assert vivit(args) == 0
    return run_dir


def as_if_first_of_ties_kept(source: Path, destination: Path, val_losses: list[float]) -> Path:
    """A copy of the run whose history ties every epoch on val accuracy, with these val losses
    for epochs 1 and 2 (epoch 3 keeps its real one), and whose metrics.json says epoch 1 was kept."""
    import shutil

    shutil.copytree(source, destination, symlinks=True)
    with open(destination / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    for row, loss in zip(rows, val_losses):
        row["val/loss"] = str(loss)
    for row in rows:
        row["val/accuracy"] = "0.5"
    with open(destination / "history.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    metrics = json.loads((destination / "metrics.json").read_text())
    (destination / "metrics.json").write_text(json.dumps({**metrics, "epoch": 1}))
    return destination


def test_a_tie_won_by_the_last_epoch_repoints_best_there_and_keeps_the_first_figures(trained: Path, tmp_path: Path) -> None:
    run_dir = as_if_first_of_ties_kept(trained, tmp_path / "run", [9.0, 9.0])
    first_metrics = (run_dir / "metrics.json").read_text()
    assert verdict(run_dir) == ("last", 1, 3)
    assert main([str(tmp_path)]) == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["checkpoint"] == "best" and metrics["epoch"] == 3
    real_last_loss = float(list(csv.DictReader(open(trained / "history.csv")))[-1]["val/loss"])
    assert metrics["val"]["loss"] == pytest.approx(real_last_loss, rel=1e-4)  # the last epoch's weights were evaluated
    assert (run_dir / FIRST_METRICS).read_text() == first_metrics
    assert (run_dir / FIRST_EVALUATION / "test.json").is_file()
    assert json.loads((run_dir / "checkpoints" / "best" / "config.json").read_text())["epoch"] == 3
    assert main([str(tmp_path)]) == 0  # a second pass leaves it alone
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics


def test_a_tie_won_by_an_epoch_whose_weights_are_gone_changes_nothing(trained: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = as_if_first_of_ties_kept(trained, tmp_path / "run", [9.0, 0.001])
    before = (run_dir / "metrics.json").read_text()
    assert main([str(tmp_path)]) == 0
    assert "picks epoch 2, whose weights were not kept" in capsys.readouterr().out
    assert (run_dir / "metrics.json").read_text() == before and not (run_dir / FIRST_METRICS).exists()


@pytest.mark.parametrize(("val_losses", "pick_kept"), [([9.0, 9.0], True), ([9.0, 0.001], False)])
def test_a_run_not_yet_under_the_rule_is_recorded_with_whether_its_pick_was_kept(
        trained: Path, tmp_path: Path, val_losses: list[float], pick_kept: bool) -> None:
    run_dir = as_if_first_of_ties_kept(trained, tmp_path / "run", val_losses)
    assert _ties(run_dir) == {"tie_rule_unapplied": 3 if pick_kept else 2, "tie_pick_kept": pick_kept}
    assert _ties(trained) == {}


def test_a_folder_without_finished_runs_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"No finished run (metrics.json) under {tmp_path}"


def test_the_page_lists_both_figures_of_repointed_seeds_and_marks_the_others_by_whether_their_pick_was_kept() -> None:
    machine = {"cpu": "c", "cores": 2, "threads": 1, "torch": "2", "device": "cpu"}
    base = {"cell": "organmnist3d/vivit-medmnist/spatio_temporal", "dataset": "organmnist3d", "parameters": 1,
            "train_minutes": 1.0, "machine": machine, "date": "2026-11-29", "val": {"accuracy": 0.9, "auc": 0.99}}
    repointed = {**base, "seed": 42, "selected_epoch": 100, "test": {"accuracy": 0.9, "auc": 0.99},
                 "first_of_ties": {"epoch": 59, "test": {"accuracy": 0.844, "auc": 0.988}, "val": {}}}
    unreachable = {**base, "seed": 1, "selected_epoch": 32, "test": {"accuracy": 0.8, "auc": 0.9}, "tie_rule_unapplied": 72}
    follows = {**base, "seed": 2, "selected_epoch": 100, "test": {"accuracy": 0.85, "auc": 0.95}}
    reachable = {**base, "seed": 3, "selected_epoch": 40, "test": {"accuracy": 0.7, "auc": 0.8},
                 "tie_rule_unapplied": 100, "tie_pick_kept": True}
    table = ties_table(cells("all"), [repointed, unreachable, follows, reachable], [42, 1, 2, 3])
    assert "| vivit-medmnist, spatio_temporal | 42 | 59 → 100 | 0.844 → 0.900 | 0.988 → 0.990 |" in table
    assert "| vivit-medmnist, spatio_temporal | 1 | 32 → 72 | 0.800 (not kept) | 0.900 (not kept) |" in table
    assert "| vivit-medmnist, spatio_temporal | 3 | 40 → 100 | 0.700 (not re-selected yet) | 0.800 (not re-selected yet) |" in table
    assert "| 2 |" not in table
    assert ties_table(cells("all"), [follows], [42, 1, 2]) == ""
