"""`vivit predict` as users run it: tables, files, folders, and what it says about its inputs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from vivit.checkpoints import publish, save_model
from vivit.cli.main import main
from vivit.inference.predict import predict_stream
from vivit.models import create_model

CLASSES = ["liver", "kidney", "spleen"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    model = create_model("keras-seed", num_classes=3, depth=1)
    for name in ("best", "last"):
        publish(run / "checkpoints", name, "0001", lambda d: save_model(d, model, class_names=CLASSES))
    return run


@pytest.fixture
def volumes(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.integers(0, 256, (28, 28, 28), dtype=np.uint8))
    (tmp_path / "scans").mkdir()
    np.savez(tmp_path / "scans" / "stack.npz", x=rng.integers(0, 256, (3, 28, 28, 28), dtype=np.uint8))
    (tmp_path / "scans" / "broken.npy").write_bytes(b"not an array")
    (tmp_path / "scans" / "notes.txt").write_text("not an input")
    return tmp_path


def test_the_table_has_a_header_and_aligned_columns(run_dir: Path, volumes: Path, capsys) -> None:
    assert main(["predict", str(run_dir), str(volumes / "a.npy"), "--top-k", "2"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["input", "top-1", "p", "top-2", "p"]
    assert row.split()[0] == str(volumes / "a.npy") and row.split()[1] in CLASSES
    assert row.index(row.split()[1]) == header.index("top-1")


@pytest.mark.parametrize("k", ["0", "-3"])
def test_a_top_k_below_one_is_refused(run_dir: Path, volumes: Path, k: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(run_dir), str(volumes / "a.npy"), "--top-k", k])
    assert exit_.value.code == 2 and "--top-k: must be at least 1" in capsys.readouterr().err


def test_json_names_each_input_as_it_was_given(run_dir: Path, volumes: Path, capsys) -> None:
    assert main(["predict", str(run_dir), str(volumes / "scans" / "stack.npz"), "--json", "--checkpoint", "last"]) == 0
    names = [p["input"] for p in json.loads(capsys.readouterr().out)]
    assert names == [f"{volumes / 'scans' / 'stack.npz'}:x[{i}]" for i in range(3)]


def test_inputs_of_another_size_are_resized_with_one_note(run_dir: Path, tmp_path: Path, capsys) -> None:
    for name in ("big1.npy", "big2.npy"):
        np.save(tmp_path / name, np.zeros((64, 64, 64), dtype=np.uint8))
    assert main(["predict", str(run_dir), str(tmp_path / "big1.npy"), str(tmp_path / "big2.npy")]) == 0
    err = capsys.readouterr().err
    assert err.count("inputs of 64×64×64 are resized to the model's 28×28×28") == 1


def test_a_folder_is_classified_into_one_csv_skipping_unreadable_files(run_dir: Path, volumes: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(run_dir), str(volumes), "--out", str(out), "--top-k", "1"]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_input = {row["input"]: row for row in rows}
    assert set(by_input) == {str(volumes / "a.npy"), str(volumes / "scans" / "broken.npy"),
                             *(f"{volumes / 'scans' / 'stack.npz'}:x[{i}]" for i in range(3))}
    assert by_input[str(volumes / "a.npy")]["class_1"] in CLASSES and not by_input[str(volumes / "a.npy")]["error"]
    assert "not a readable .npy" in by_input[str(volumes / "scans" / "broken.npy")]["error"]
    err = capsys.readouterr().err
    assert "skipped 1 unreadable file(s)" in err and "broken.npy" in err


def test_an_unreadable_file_named_on_the_command_line_stops_with_one_line(run_dir: Path, volumes: Path, capsys) -> None:
    assert main(["predict", str(run_dir), str(volumes / "scans" / "broken.npy")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_predictions_stream_holding_at_most_one_batch_of_samples(run_dir: Path) -> None:
    from vivit.checkpoints import load_model

    model = load_model(run_dir)
    made = consumed = 0
    most_held = 0

    def samples() -> Iterator[tuple[str, torch.Tensor]]:
        nonlocal made
        for i in range(200):
            made += 1
            yield f"s{i}", torch.rand(1, 28, 28, 28)

    for _ in predict_stream(model, samples(), CLASSES, top_k=1, batch_size=16):
        consumed += 1
        most_held = max(most_held, made - consumed)
    assert consumed == 200 and most_held < 16
