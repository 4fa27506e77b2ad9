"""`vivit datasets ...` prints what it found and exits 0, or one error line and exits 2."""

from __future__ import annotations

import logging
from pathlib import Path

import pooch
import pytest

from vivit.cli.main import main
from vivit.data.registry import MEDMNIST_3D


def _run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(["datasets", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_dataset(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(capsys, "list")
    assert code == 0
    for name in [*MEDMNIST_3D, "synthetic-shapes", "synthetic-motion"]:
        assert name in out
    assert "971 / 161 / 610" in out


def test_info_shows_classes_splits_files_and_left_right_axis(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = _run(capsys, "info", "organmnist3d")
    assert code == 0
    assert "10  pancreas" in out and "train 971, val 161, test 610" in out
    assert "https://zenodo.org/records/10519652/files/organmnist3d_64.npz?download=1" in out
    assert "axis T" in out


def test_info_on_an_unknown_name_is_one_error_line(capsys: pytest.CaptureFixture) -> None:
    code, out, err = _run(capsys, "info", "organmnist2d")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Unknown dataset 'organmnist2d'" in err


def test_verify_by_name_reports_structure_and_a_differing_checksum(
    real_data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    code, out, _ = _run(capsys, "verify", "organmnist3d", "--data-dir", str(real_data_dir))
    assert code == 0
    assert "structure OK (organmnist3d, 28^3, train 971, val 161, test 610)" in out
    assert "checksum: differs from the official md5" in out


def test_verify_says_a_differing_checksum_once(
    real_data_dir: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        code, out, err = _run(capsys, "verify", "organmnist3d", "--data-dir", str(real_data_dir))
    assert code == 0 and (out + err).count("differs") == 1
    assert not [record for record in caplog.records if "differs" in record.getMessage()], "the report line says it already"


def test_verify_by_path_reports_a_matching_checksum(
    real_data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    code, out, err = _run(capsys, "verify", str(real_data_dir / "adrenalmnist3d.npz"))
    assert code == 0
    assert "checksum: matches the official md5 bbd3c5a5576322bc4cdfea780653b1ce" in out
    assert err == ""


def test_verify_of_a_corrupt_file_names_it_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "vesselmnist3d.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    code, out, err = _run(capsys, "verify", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err


@pytest.mark.parametrize("make_folder", [True, False], ids=["a folder named like the file", "a missing path"])
def test_verify_of_a_path_that_is_no_npz_file_names_it_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, make_folder: bool
) -> None:
    path = tmp_path / "organmnist3d.npz"
    if make_folder:
        path.mkdir()
    code, out, err = _run(capsys, "verify", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err
    assert ("is a directory" if make_folder else "does not exist") in err


def test_verify_of_a_file_not_yet_fetched_says_where_to_put_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = _run(capsys, "verify", "nodulemnist3d", "--size", "64", "--data-dir", str(tmp_path))
    assert code == 2
    assert str(tmp_path / "nodulemnist3d_64.npz") in err and "vivit datasets download" in err


def test_download_of_a_file_already_present_only_verifies_it(
    real_data_dir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pooch, "retrieve", _no_download)
    code, out, _ = _run(capsys, "download", "adrenalmnist3d", "--data-dir", str(real_data_dir))
    assert code == 0 and "checksum: matches" in out


def _no_download(*args: object, **kwargs: object) -> str:
    raise AssertionError("no download expected")
