"""experiments/: the grid of cells, the rows of results.csv, the tables of docs/results.md and the runner."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
EXPERIMENTS = REPOSITORY / "experiments"
sys.path.insert(0, str(EXPERIMENTS))  # the scripts are run as files, not installed
import run  # noqa: E402
import table  # noqa: E402

TINY = ["data.options={num_samples: 48}", "data.batch_size=16", "train.epochs=1", "model.depth=1",
        "model.embed_dim=32", "model.num_heads=2", "model.head_dim=16", "model.mlp_dim=64"]


def grid() -> dict:
    return yaml.safe_load((EXPERIMENTS / "grid.yaml").read_text())


def test_every_recorded_row_is_a_seed_of_a_cell_of_the_grid_at_a_commit() -> None:
    rows = pd.read_csv(EXPERIMENTS / "results.csv")
    names = {cell.name for cell in run.load_grid(EXPERIMENTS / "grid.yaml")}
    assert list(rows.columns) == list(run.COLUMNS)
    assert set(rows["cell"]) <= names
    assert rows["git_sha"].str.fullmatch("[0-9a-f]{40}").all()
    classifiers = rows["test_reads"] >= 1
    assert rows.loc[classifiers, "test_accuracy"].between(0, 1).all()
    assert rows.loc[~classifiers, "cell"].str.startswith("pretrain/").all()  # only a pretraining reads no test split
    assert rows.loc[~classifiers, "test_accuracy"].isna().all()


def test_every_table_lists_cells_of_the_grid_and_every_cell_has_a_table() -> None:
    names = [cell["name"] for cell in grid()["cells"]]
    listed = {name for each in grid()["tables"] for name in each["cells"]}
    assert len(names) == len(set(names))
    assert listed == set(names)


def test_the_results_page_shows_what_results_csv_holds() -> None:
    page = (REPOSITORY / "docs" / "results.md").read_text()
    generated = table.markdown(pd.read_csv(EXPERIMENTS / "results.csv"), grid()["tables"])
    assert table.replace_generated(page, generated) == page, "run `python experiments/table.py`"


def figures_of(markdown: str, cell: str) -> dict[str, str]:
    lines = markdown.splitlines()
    header = [h.strip() for h in next(line for line in lines if line.startswith("| cell ")).strip("|").split("|")]
    row = next(line for line in lines if line.startswith(f"| `{cell}` "))
    return dict(zip(header, (value.strip() for value in row.strip("|").split("|"))))


def test_a_cell_shows_the_mean_and_std_of_its_seeds_newest_row_first() -> None:
    rows = pd.DataFrame([
        {"cell": "c", "seed": 1, "cpu": "CPU", "threads": 1, "device": "cpu", "date": "d1", "test_accuracy": 0.5},
        {"cell": "c", "seed": 1, "cpu": "CPU", "threads": 1, "device": "cpu", "date": "d1", "test_accuracy": 0.8},
        {"cell": "c", "seed": 2, "cpu": "CPU", "threads": 2, "device": "cpu", "date": "d2", "test_accuracy": 0.9},
    ], columns=run.COLUMNS)
    figures = figures_of(table.markdown(rows, [{"title": "T", "cells": ["c", "not-run"]}]), "c")
    assert figures["test ACC"] == "0.850 ± 0.071"  # seed 1's newer row replaces its older one
    assert figures["seeds"] == "2"
    assert figures["val ACC"] == "–"
    assert figures["machine"] == "CPU (1 thread, cpu); CPU (2 threads, cpu)"
    assert figures["date"] == "d1 – d2"


def test_run_trains_a_cell_once_and_appends_its_row_at_the_current_commit(tmp_path: Path) -> None:
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(yaml.safe_dump({"seeds": [0], "cells": [
        {"name": "tiny", "recipe": "keras-seed", "dataset": "synthetic-shapes", "overrides": TINY}]}))
    results = tmp_path / "results.csv"
    arguments = ["--grid", str(grid_file), "--root", str(tmp_path / "runs"), "--results", str(results)]

    assert run.main(arguments) == 0
    assert run.main(arguments) == 0  # the finished run is kept, not trained or recorded again

    with open(results, newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    head = subprocess.run(["git", "-C", str(REPOSITORY), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert (row["cell"], row["seed"], row["git_sha"], row["epochs"]) == ("tiny", "0", head, "1")
    assert 0 <= float(row["test_accuracy"]) <= 1 and float(row["minutes"]) >= 0
    assert (tmp_path / "runs" / "tiny" / "seed0").is_dir()


def test_run_names_the_cells_when_asked_for_one_the_grid_lacks(capsys) -> None:
    assert run.main(["--only", "no-such-cell", "--dry-run"]) == 2
    assert "No cell no-such-cell" in capsys.readouterr().err


def test_every_fine_tune_cell_starts_from_a_kept_pretraining_that_fits_its_recipe() -> None:
    from vivit.models import build_model
    from vivit.training.recipe import load_recipe
    from vivit.transfer.finetune import init_from_pretrained

    fine_tunes = [cell for cell in run.load_grid(EXPERIMENTS / "grid.yaml")
                  if any(override.startswith("train.init=") for override in cell.overrides)]
    assert fine_tunes
    for cell in fine_tunes:
        (command,) = [argument for argument in run.train_command(cell, 42, Path("unused"), Path("no-runs-root"))
                      if argument.startswith("train.init=")]
        init = Path(command.removeprefix("train.init="))
        assert init.is_relative_to(EXPERIMENTS / "pretrained"), f"{cell.name}: {init} does not outlive a machine"
        recipe = load_recipe(cell.recipe, [override for override in cell.overrides if not override.startswith("train.init=")])
        model = build_model(recipe.model_config(num_classes=2, input_shape=(1, 28, 28, 28)))
        assert init_from_pretrained(model, init) == "vivit-pretrain"
