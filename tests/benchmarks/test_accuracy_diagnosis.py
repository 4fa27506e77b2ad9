"""benchmarks/accuracy_diagnosis.py and its section of docs/results.md: what the curves and errors show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accuracy_diagnosis import curves, diagnosis, errors_on_test_split
from accuracy_doc import render

ORGAN_CLASSES = ["liver", "kidney-right", "kidney-left", "femur-right", "femur-left", "bladder", "heart",
                 "lung-right", "lung-left", "spleen", "pancreas"]


def write_history(run_dir: Path, val_losses: list[float], train_accuracy_last: float = 0.7) -> None:
    lines = ["epoch,train/loss,train/accuracy,val/loss,val/accuracy,val/top5,val/auc,lr,epoch_seconds"]
    for epoch, loss in enumerate(val_losses, start=1):
        train_accuracy = train_accuracy_last if epoch == len(val_losses) else 0.5
        lines.append(f"{epoch},1.0,{train_accuracy},{loss},0.8,0.9,0.95,0.001,10.0")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "history.csv").write_text("\n".join(lines) + "\n")


def write_test_evaluation(run_dir: Path, off_diagonal: dict[tuple[int, int], int], correct_per_class: int = 50) -> None:
    matrix = [[correct_per_class if i == j else 0 for j in range(11)] for i in range(11)]
    for (true, predicted), count in off_diagonal.items():
        matrix[true][predicted] = count
    (run_dir / "evaluation").mkdir(parents=True, exist_ok=True)
    document = {"class_names": ORGAN_CLASSES, "accuracy": 0.9, "confusion_matrix": matrix}
    (run_dir / "evaluation" / "test.json").write_text(json.dumps(document))


def test_val_loss_lowest_epoch_is_the_first_of_a_tie_and_the_last_value_is_kept(tmp_path: Path) -> None:
    write_history(tmp_path, [2.0, 0.5, 0.5, 0.8], train_accuracy_last=0.75)
    assert curves(tmp_path) == {"train_accuracy_last": 0.75, "val_loss_lowest": 0.5, "val_loss_lowest_epoch": 2,
                                "val_loss_last": 0.8}


def test_left_right_swaps_count_both_directions_of_every_pair_and_nothing_else(tmp_path: Path) -> None:
    # kidney-right -> kidney-left 4, kidney-left -> kidney-right 3, lung-left -> lung-right 2: swaps.
    # spleen -> kidney-left 6 and liver -> spleen 1 are errors but not swaps.
    errors = {(1, 2): 4, (2, 1): 3, (8, 7): 2, (9, 2): 6, (0, 9): 1}
    write_test_evaluation(tmp_path, errors)
    found = errors_on_test_split(tmp_path, ((1, 2), (3, 4), (7, 8)))
    assert found == {"samples": 11 * 50 + 16, "errors": 16, "left_right_swaps": 9, "confusions": [
        ["spleen", "kidney-left", 6], ["kidney-right", "kidney-left", 4], ["kidney-left", "kidney-right", 3],
        ["lung-left", "lung-right", 2], ["liver", "spleen", 1]]}


def test_a_dataset_without_left_right_pairs_has_no_swap_count(tmp_path: Path) -> None:
    write_history(tmp_path, [1.0, 0.9])
    write_test_evaluation(tmp_path, {(1, 2): 4})
    assert diagnosis(tmp_path, "nodulemnist3d")["diagnosis"]["test_errors"]["left_right_swaps"] is None
    assert diagnosis(tmp_path, "organmnist3d")["diagnosis"]["test_errors"]["left_right_swaps"] == 4


def test_a_run_without_test_evaluation_has_no_diagnosis(tmp_path: Path) -> None:
    write_history(tmp_path, [1.0])
    assert diagnosis(tmp_path, "organmnist3d") == {}


def entry(seed: int, tmp_path: Path, val_losses: list[float], errors: dict[tuple[int, int], int]) -> dict[str, Any]:
    run_dir = tmp_path / f"seed{seed}"
    write_history(run_dir, val_losses)
    write_test_evaluation(run_dir, errors)
    machine = {"cpu": "test cpu", "cores": 2, "threads": 1, "torch": "2", "device": "cpu"}
    return {"cell": "organmnist3d/vivit-medmnist/spatio_temporal", "dataset": "organmnist3d", "seed": seed,
            "test": {"accuracy": 0.9, "auc": 0.99}, "val": {"accuracy": 0.95, "auc": 0.99}, "parameters": 1,
            "train_minutes": 1.0, "machine": machine, "date": "2026-11-29", "epochs_run": len(val_losses),
            "selected_epoch": 3, **diagnosis(run_dir, "organmnist3d")}


def test_page_section_gives_means_the_swap_share_and_the_commonest_confusion_over_seeds(tmp_path: Path) -> None:
    # Seed 42: val loss lowest at epoch 4 of 4 (still falling), 10 errors, 6 swaps.
    # Seed 1: lowest at epoch 2, last 1.2 x lowest (rose 20 %), 20 errors, 4 swaps.
    # Neither seed's commonest confusion (kidney-right -> kidney-left 6, liver -> spleen 9) is the
    # commonest of both: spleen -> kidney-left, 4 + 7.
    entries = [entry(42, tmp_path, [1.0, 0.8, 0.7, 0.6], {(1, 2): 6, (9, 2): 4}),
               entry(1, tmp_path, [1.0, 0.5, 0.55, 0.6], {(1, 2): 4, (9, 2): 7, (0, 9): 9})]
    page = render(entries, [42, 1, 2])
    section = page[page.index("## What the curves and the errors show"):]
    row = next(line for line in section.splitlines() if line.startswith("| vivit-medmnist, spatio_temporal |"))
    assert row == ("| vivit-medmnist, spatio_temporal | 4 | 0.700 ± 0.000 | 3 ± 1 | 10 ± 14 % | 3 ± 0 | 15 ± 7 of 560 – 570 "
                   "| 5 ± 1 (33%) | spleen → kidney-left (11) | 2 of 3 |")


def test_page_has_no_diagnosis_section_while_no_entry_has_one() -> None:
    machine = {"cpu": "c", "cores": 2, "threads": 1, "torch": "2", "device": "cpu"}
    bare = {"cell": "adrenalmnist3d/vivit-medmnist-200-epochs", "dataset": "adrenalmnist3d", "seed": 42, "test": {"accuracy": 0.8},
            "val": {"accuracy": 0.8}, "parameters": 1, "train_minutes": 1.0, "machine": machine, "date": "2026-11-29"}
    assert "What the curves and the errors show" not in render([bare], [42, 1, 2])
