"""Every command checks where it will write before it works, and a write that fails leaves
what was saved before as it was, with no `*.tmp` beside it."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.reliability.locations import full_folder, read_only_folder, snapshot
from vivit.cli.main import main
from vivit.errors import OutputError
from vivit.inference.outputs import PredictionFile
from vivit.inference.predict import Prediction
from vivit.output_locations import check_output_file, check_output_folder, write_text_atomic

TINY_RUN = [
    "--dataset", "synthetic-motion", "--model", "vivit-tiny-video", "--epochs", "1", "data.size=16",
    "data.options={num_samples: 8, num_frames: 4}", "model.tubelet_size=[2,8,8]", "model.depth=1",
    "model.embed_dim=16", "model.num_heads=2", "model.mlp_dim=32", "data.batch_size=8",
]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("locations") / "run"
    assert main(["train", *TINY_RUN, "--out", str(run)]) == 0
    assert main(["evaluate", str(run), "--split", "val"]) == 0  # an evaluation that must survive
    return run


def one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("vivit: error: ") and "Traceback" not in err, err
    return err


def no_staging_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".vivit-write-probe")]


# --out of `vivit train`
def test_train_into_a_file_is_refused_before_data_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    err = one_line_error(capsys, main(["train", *TINY_RUN, "--out", str(taken)]))
    assert f"--out {taken} is a file, not a folder" in err and taken.read_text() == "mine"


def test_train_below_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    err = one_line_error(capsys, main(["train", *TINY_RUN, "--out", str(tmp_path / "notes.txt" / "run")]))
    assert f"{tmp_path / 'notes.txt'} is a file, not a folder" in err


def test_train_under_proc_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(capsys, main(["train", *TINY_RUN, "--out", "/proc/vivit-run"]))
    assert "inside /proc, a kernel filesystem" in err and "choose a folder on disk" in err


def test_train_into_a_read_only_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with read_only_folder(tmp_path / "ro") as folder:
        err = one_line_error(capsys, main(["train", *TINY_RUN, "--out", str(folder / "run")]))
        assert f"Cannot write --out {folder / 'run'}" in err and "choose a location you can write" in err
        assert list(folder.iterdir()) == []


def test_train_onto_a_full_disk_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with full_folder(tmp_path / "full") as folder:
        err = one_line_error(capsys, main(["train", *TINY_RUN, "--out", str(folder / "run")]))
        assert "No space left on device" in err and "free some space" in err
        assert snapshot(folder) == {}


# evaluate, report, export, predict on a run kept where nothing can be written
@pytest.mark.parametrize("place", [read_only_folder, full_folder], ids=["read-only", "full"])
@pytest.mark.parametrize(("command", "names"), [
    (["evaluate", "{run}", "--split", "val"], "the run's evaluation folder"),
    (["report", "{run}", "--split", "val", "--samples", "2"], "the report folder"),
    (["export", "{run}", "--format", "torchscript"], "--out"),
], ids=["evaluate", "report", "export"])
def test_a_run_where_nothing_can_be_written_keeps_what_it_holds(
    place, command: list[str], names: str, trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with place(tmp_path / "mount", contents=trained_run) as folder:
        before = snapshot(folder)
        err = one_line_error(capsys, main([part.format(run=folder) for part in command]))
        assert f"Cannot write {names}" in err
        assert snapshot(folder) == before and no_staging_files(folder)


@pytest.mark.parametrize("place", [read_only_folder, full_folder], ids=["read-only", "full"])
@pytest.mark.parametrize(("flag", "name"), [
    ("--json", "val.json"), ("--out", "predictions.csv"), ("--gif", "gifs"),
], ids=["evaluate --json", "predict --out", "predict --gif"])
def test_an_output_flag_where_nothing_can_be_written_is_one_line(
    place, flag: str, name: str, trained_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    clip = tmp_path / "clip.npy"
    np.save(clip, np.zeros((3, 4, 16, 16), dtype=np.uint8))
    with place(tmp_path / "mount") as folder:
        target = str(folder / name)
        args = ["evaluate", str(run), "--split", "val", flag, target] if flag == "--json" else ["predict", str(run), str(clip), flag, target]
        err = one_line_error(capsys, main(args))
        assert f"Cannot write {flag} {target}" in err
        assert snapshot(folder) == {} and no_staging_files(folder)
    assert no_staging_files(run)


def test_a_folder_given_for_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=rf"--json {tmp_path} is a folder, not a file"):
        check_output_file(tmp_path, "--json")


def test_missing_folders_below_a_writable_one_are_fine(tmp_path: Path) -> None:
    check_output_folder(tmp_path / "a" / "b", "--out")
    check_output_file(tmp_path / "a" / "b.json", "--json")
    assert list(tmp_path.iterdir()) == []  # checking creates nothing


# a disk that fills up while the file is being written
def test_a_write_that_runs_out_of_space_keeps_the_old_file_and_leaves_no_tmp(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "val.json"
    target.write_text('{"accuracy": 0.9}')

    def no_space(self: Path, *args, **kwargs) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", no_space)
    with pytest.raises(OutputError, match=rf"^Cannot write {target} \(No space left on device\); free some space"):
        write_text_atomic(target, '{"accuracy": 0.1}')
    monkeypatch.undo()
    assert target.read_text() == '{"accuracy": 0.9}' and sorted(p.name for p in tmp_path.iterdir()) == ["val.json"]


def test_predictions_that_run_out_of_space_leave_the_old_file_and_no_tmp(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "predictions.json"
    target.write_text("[]")
    with pytest.raises(OutputError, match=rf"Cannot write predictions to {target} \(No space left on device\)"):
        with PredictionFile(target, top_k=1) as out:
            out.write(Prediction("a.npy", [("liver", 1.0)]))
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "[]" and sorted(p.name for p in tmp_path.iterdir()) == ["predictions.json"]
