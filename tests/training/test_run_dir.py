"""training/run_dir.py: a run directory's files, read and written by their one owner."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vivit.errors import CheckpointError, ConfigError, DataError
from vivit.training.run_dir import (
    CONFIG_FILE,
    EVALUATION_DIR,
    HISTORY_FILE,
    METRICS_FILE,
    RunDir,
    selected_checkpoint_name,
)

REPOSITORY = Path(__file__).resolve().parents[2]


def write_history(run_dir: Path, text: str) -> RunDir:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "history.csv").write_text(text)
    return RunDir(run_dir)


def test_rows_leave_out_the_metrics_an_epoch_did_not_measure(tmp_path: Path) -> None:
    run = write_history(tmp_path, "epoch,train/loss,val/loss\n1,2.0,\n2,1.5,1.25\n")
    assert run.read_history_rows() == [{"epoch": 1.0, "train/loss": 2.0}, {"epoch": 2.0, "train/loss": 1.5, "val/loss": 1.25}]


def test_columns_hold_nan_where_rows_leave_a_value_out(tmp_path: Path) -> None:
    history = write_history(tmp_path, "epoch,val/loss\n1,\n2,0.5\n").read_history()
    assert history is not None
    np.testing.assert_array_equal(history["epoch"], [1.0, 2.0])
    assert np.isnan(history["val/loss"][0]) and history["val/loss"][1] == 0.5


def test_a_run_without_history_has_no_rows(tmp_path: Path) -> None:
    assert RunDir(tmp_path).read_history() is None
    assert RunDir(tmp_path).read_history_rows() == []


def test_a_value_that_is_not_a_number_names_the_file(tmp_path: Path) -> None:
    run = write_history(tmp_path, "epoch,val/loss\n1,abc\n")
    with pytest.raises(DataError, match="history.csv holds a value that is not a number"):
        run.read_history_rows()


def test_written_history_reads_back_in_its_columns_and_leaves_no_staging_file(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.write_history([{"epoch": 1, "train/loss": 2.0, "lr": 0.1, "unknown": 5}, {"epoch": 2, "train/loss": 1.5, "lr": 0.05}])
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == (
        "epoch,train/loss,train/accuracy,val/loss,val/accuracy,val/top5,val/auc,lr,epoch_seconds"
    )
    assert run.read_history_rows() == [{"epoch": 1.0, "train/loss": 2.0, "lr": 0.1}, {"epoch": 2.0, "train/loss": 1.5, "lr": 0.05}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv"]


def test_metrics_and_evaluations_round_trip_as_indented_json(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    assert run.read_metrics() is None and run.read_evaluation("test") is None and not run.is_finished()
    run.write_metrics({"checkpoint": "last", "epoch": 2, "test": {"accuracy": 0.5}})
    run.write_evaluation("test-tta", {"split": "test", "accuracy": 0.5})
    assert run.is_finished() and run.read_metrics() == {"checkpoint": "last", "epoch": 2, "test": {"accuracy": 0.5}}
    assert (tmp_path / "evaluation" / "test-tta.json").read_text() == json.dumps({"split": "test", "accuracy": 0.5}, indent=2)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evaluation", "metrics.json", "test-tta.json"]


def test_corrupt_metrics_name_the_file_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text("{")
    with pytest.raises(DataError, match=r"metrics.json is not valid JSON .*vivit train --resume"):
        RunDir(tmp_path).read_metrics()


def test_a_folder_without_config_is_not_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is not a run directory \(config.yaml is missing\)"):
        RunDir(tmp_path).recipe()


def test_train_select_picks_last_or_best_and_an_override_wins() -> None:
    assert selected_checkpoint_name("last") == "last"
    assert selected_checkpoint_name("val/auc") == "best"
    assert selected_checkpoint_name("val/loss", override="last") == "last"
    with pytest.raises(ConfigError, match="Unknown checkpoint 'first'; choose one of: best, last"):
        selected_checkpoint_name("last", override="first")


def test_a_selected_checkpoint_that_was_never_written_says_so(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        RunDir(tmp_path).selected_checkpoint("val/auc")


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


@pytest.mark.parametrize("root", ["src/vivit", "benchmarks", "experiments"])
def test_no_module_but_run_dir_names_a_run_directorys_files(root: str) -> None:
    owned = {CONFIG_FILE, HISTORY_FILE, METRICS_FILE, EVALUATION_DIR}
    owner = REPOSITORY / "src" / "vivit" / "training" / "run_dir.py"
    offenders = {
        str(path.relative_to(REPOSITORY)): sorted(names)
        for path in sorted((REPOSITORY / root).rglob("*.py"))
        if path != owner and (names := {s for s in _string_constants(path) if s in owned or s.split("/")[0] in owned})
    }
    assert offenders == {}


def test_reading_and_evaluating_a_run_imports_no_lightning() -> None:
    code = (
        "import sys, vivit.training.run_dir, vivit.training.run_evaluation, vivit.reporting.build, vivit.cli.evaluate; "
        "print('lightning.pytorch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("content", [
    b"!!python/object/apply:os.system ['echo hacked']\n",  # a Python tag: never constructed
    b"- a\n- list\n",
    b"",
    b"\x00\xff\xfe binary",
    b"a: &x [1]\nb: *x\n",  # an alias
])
@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_an_unreadable_config_yaml_is_one_line_naming_it(tmp_path: Path, content: bytes, command: str, capsys) -> None:
    from vivit.cli.main import main

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_bytes(content)
    assert main([command, str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{run / 'config.yaml'} is not a run's config" in err and "hacked" not in err
