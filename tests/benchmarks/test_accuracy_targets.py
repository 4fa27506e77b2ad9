"""benchmarks/accuracy_targets.py: the bars, the targets, and the report the issue asks for where one is missed."""

from __future__ import annotations

from typing import Any

from accuracy_cells import cells, recommended_cell, stemless_cell
from accuracy_targets import targets_report

SEEDS = [42, 1, 2]
ORGAN, ADRENAL = recommended_cell("organmnist3d").name, recommended_cell("adrenalmnist3d").name


def run(cell: str, seed: int, accuracy: float, auc: float = 0.99, lowest_epoch: int = 100, rise: float = 0.2,
        swaps: int | None = None) -> dict[str, Any]:
    """A finished, diagnosed 200-epoch run with the test figures and curves given."""
    curves = {"train_accuracy_last": 0.8, "val_loss_lowest": 0.1, "val_loss_lowest_epoch": lowest_epoch,
              "val_loss_last": 0.1 * (1 + rise)}
    errors = {"errors": 40, "samples": 610, "left_right_swaps": swaps, "confusions": []}
    return {"cell": cell, "dataset": cell.split("/")[0], "seed": seed, "epochs_run": 200,
            "test": {"accuracy": accuracy, "auc": auc}, "val": {"accuracy": 0.9, "auc": 0.95},
            "diagnosis": {"curves": curves, "test_errors": errors}}


def report(entries: list[dict[str, Any]]) -> str:
    return targets_report(cells("all"), entries, SEEDS)


def test_nothing_is_reported_while_a_target_is_open_or_met() -> None:
    assert report([run(ORGAN, s, 0.90) for s in (42, 1)]) == ""  # 2 of 3 seeds: still open
    assert report([run(ORGAN, s, 0.95, auc=0.999) for s in SEEDS] + [run(ADRENAL, s, 0.90, auc=0.9) for s in SEEDS]) == ""


def test_a_missed_target_gets_its_shortfall_and_the_highest_row_marked_as_picked_on_test() -> None:
    entries = [run(ORGAN, s, 0.91, auc=0.995, swaps=10) for s in SEEDS]
    entries += [run(stemless_cell("organmnist3d").name, s, 0.92) for s in SEEDS]
    text = report(entries)
    assert "**organmnist3d**: `vivit-medmnist` reads test ACC 0.910 ± 0.000 and AUC 0.995 ± 0.000" in text
    assert "short of the target by 0.020 in ACC and 0.002 in AUC" in text
    assert '0.920 ± 0.000 (AUC 0.990 ± 0.000), "vivit-medmnist without the stem on organmnist3d": picked here after' in text
    assert "25% of its test errors take a paired organ" in text
    assert "adrenalmnist3d" not in text  # no runs there: its target is open, not missed


def test_when_the_shipped_recipe_is_the_highest_row_it_says_so_instead() -> None:
    text = report([run(ADRENAL, s, 0.81, auc=0.9) for s in SEEDS])
    assert "short of the target by 0.040 in ACC." in text  # AUC 0.9 meets 0.88: only ACC is short
    assert "None of the other 0 rows run on it with every seed reads a higher mean test ACC" in text


def test_the_curves_read_as_under_training_over_fitting_or_level() -> None:
    def reading(lowest_epoch: int, rise: float) -> str:
        return report([run(ADRENAL, s, 0.8, lowest_epoch=lowest_epoch, rise=rise) for s in SEEDS])

    assert "still improving when it stopped (under-training)" in reading(195, 0.0)
    assert "ending 20 ± 0 % above it: it over-fits after that epoch" in reading(100, 0.2)
    assert "level after that epoch" in reading(100, 0.05)
