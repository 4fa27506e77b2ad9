"""reporting/run_files.py: history.csv read as columns and as rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vivit.errors import DataError
from vivit.reporting.run_files import read_history, read_history_rows


def write_history(run_dir: Path, text: str) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "history.csv").write_text(text)
    return run_dir


def test_rows_leave_out_the_metrics_an_epoch_did_not_measure(tmp_path: Path) -> None:
    run_dir = write_history(tmp_path, "epoch,train/loss,val/loss\n1,2.0,\n2,1.5,1.25\n")
    assert read_history_rows(run_dir) == [{"epoch": 1.0, "train/loss": 2.0}, {"epoch": 2.0, "train/loss": 1.5, "val/loss": 1.25}]


def test_columns_hold_nan_where_rows_leave_a_value_out(tmp_path: Path) -> None:
    history = read_history(write_history(tmp_path, "epoch,val/loss\n1,\n2,0.5\n"))
    assert history is not None
    np.testing.assert_array_equal(history["epoch"], [1.0, 2.0])
    assert np.isnan(history["val/loss"][0]) and history["val/loss"][1] == 0.5


def test_a_run_without_history_has_no_rows(tmp_path: Path) -> None:
    assert read_history(tmp_path) is None
    assert read_history_rows(tmp_path) == []


def test_a_value_that_is_not_a_number_names_the_file(tmp_path: Path) -> None:
    run_dir = write_history(tmp_path, "epoch,val/loss\n1,abc\n")
    with pytest.raises(DataError, match="history.csv holds a value that is not a number"):
        read_history_rows(run_dir)
