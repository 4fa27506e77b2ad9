"""benchmarks/cell_timing.py: every cell's training time under one load, and its table on the page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cell_timing
import pytest
from accuracy_cells import ABLATIONS, Cell, ablation_cell, cells, variant_cell
from accuracy_doc import render, timing_table
from cell_timing import full_epochs, main, seconds_per_epoch

SMALL_SYNTHETIC = Cell("synthetic/keras-seed", "keras-seed on synthetic shapes", "synthetic-shapes", "keras-seed",
                       ("data.options={num_samples: 48}", "data.batch_size=16"))


def test_an_epoch_is_the_median_of_those_after_the_first(tmp_path: Path) -> None:
    (tmp_path / "history.csv").write_text("epoch,epoch_seconds\n1,30.0\n2,2.0\n3,4.0\n4,3.0\n")
    assert seconds_per_epoch(tmp_path) == 3.0


def test_each_cell_is_timed_for_the_epochs_it_trains_in_the_table() -> None:
    assert full_epochs(variant_cell("vivit-medmnist", "spatio_temporal")) == 100
    assert full_epochs(variant_cell("keras-seed", "factorised_encoder")) == 60
    assert full_epochs(ablation_cell("60-epochs")) == 60


def test_a_timed_cell_is_written_with_its_load_and_a_later_call_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = Cell("synthetic/keras-seed-drop-path", "with drop path", "synthetic-shapes", "keras-seed",
                 (*SMALL_SYNTHETIC.overrides, "model.drop_path_rate=0.1"))
    monkeypatch.setattr(cell_timing, "cells", lambda group: [SMALL_SYNTHETIC, other])
    results = tmp_path / "timing.json"
    assert main(["--only", "synthetic/keras-seed", "--epochs", "2", "--results", str(results)]) == 0  # both names match
    first = json.loads(results.read_text())["cells"]
    assert set(first) == {SMALL_SYNTHETIC.name, other.name}
    timed = first[SMALL_SYNTHETIC.name]
    assert timed["seconds_per_epoch"] > 0 and timed["epochs"] == 60 and timed["epochs_timed"] == 2
    assert timed["minutes_per_seed"] == pytest.approx(timed["seconds_per_epoch"], abs=0.06)  # 60 epochs: s/epoch = min
    assert {"machine", "date", "command"} <= set(timed) and 0 <= timed["cpu_busy_before"] <= 1
    assert main(["--only", "drop-path", "--epochs", "2", "--results", str(results)]) == 0
    assert json.loads(results.read_text())["cells"][SMALL_SYNTHETIC.name] == timed


def test_one_epoch_cannot_be_timed_and_an_unknown_cell_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--epochs", "1", "--results", str(tmp_path / "t.json")])
    assert "--epochs must be at least 2" in capsys.readouterr().err
    assert main(["--only", "no-such-cell", "--results", str(tmp_path / "t.json")]) == 2
    assert capsys.readouterr().err.strip() == "No cell of group all contains 'no-such-cell'"
    assert not (tmp_path / "t.json").exists()


def timed(minutes: float, seconds: float) -> dict[str, Any]:
    machine = {"cpu": "AMD EPYC", "cores": 2, "threads": 1, "torch": "2", "device": "cpu"}
    return {"seconds_per_epoch": seconds, "epochs": 100, "minutes_per_seed": minutes, "cpu_busy_before": 0.01,
            "epochs_timed": 3, "machine": machine, "date": "2026-11-29", "command": "python benchmarks/cell_timing.py"}


def test_the_page_compares_each_timed_cell_with_the_full_recipe() -> None:
    full, small = variant_cell("vivit-medmnist", "spatio_temporal"), ablation_cell("valid-8cube")
    table = timing_table(cells("all"), {full.name: timed(30.0, 18.0), small.name: timed(15.0, 9.0)})
    assert "| vivit-medmnist, spatio_temporal | 18.0 | 100 | 30 | 1.00× | 1% | AMD EPYC (1 thread, cpu) | 2026-11-29 |" in table
    assert f"| {ABLATIONS['valid-8cube'][0]} | 9.0 | 100 | 15 | 0.50× |" in table
    assert "differ by" not in table  # the 60-epoch cell, the same work as the full recipe, was not timed
    noisy = timing_table(cells("all"), {full.name: timed(30.0, 20.0), ablation_cell("60-epochs").name: timed(20.0, 22.0)})
    assert "their seconds per epoch differ by 10%" in noisy
    assert "## Training time under one load" in render([], [42, 1, 2], timing={small.name: timed(15.0, 9.0)})
    assert "## Training time under one load" not in render([], [42, 1, 2])
