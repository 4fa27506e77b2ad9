"""NIfTI files and DICOM folders are read as MedMNIST-like volumes: central cube, resized, in [0, 1]."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel
import numpy as np
import pytest
import torch
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from vivit.checkpoints import save_model
from vivit.cli.main import main
from vivit.errors import DataError
from vivit.inference.inputs import read_inputs
from vivit.inference.medical import read_dicom_series
from vivit.models import ViViTConfig, build_model

CONFIG = ViViTConfig(num_classes=3, input_size=(16, 16, 16), tubelet_size=(4, 4, 4), embed_dim=24, depth=1, num_heads=2, mlp_dim=32)


def write_nifti(path: Path, volume: np.ndarray) -> Path:
    nibabel.save(nibabel.Nifti1Image(volume.astype(np.float32), affine=np.eye(4)), str(path))
    return path


def write_dicom_slice(path: Path, hu: np.ndarray, z: float, modality: str = "CT") -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.Rows, ds.Columns = hu.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024  # stored = HU + 1024, as scanners write it
    ds.ImagePositionPatient = [0.0, 0.0, z]
    ds.PixelData = (hu + 1024).astype(np.int16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)


def test_a_unit_range_cube_reads_as_its_npy_twin(tmp_path: Path) -> None:
    volume = np.random.default_rng(0).random((16, 16, 16)).astype(np.float32)
    volume.flat[0], volume.flat[1] = 0.0, 1.0  # min-max scaling is then the identity
    np.save(tmp_path / "v.npy", volume)
    [(name, from_nifti)] = read_inputs(write_nifti(tmp_path / "v.nii.gz", volume), CONFIG)
    [(_, from_npy)] = read_inputs(tmp_path / "v.npy", CONFIG)
    assert name == "v.nii.gz"
    assert torch.allclose(from_nifti, from_npy, atol=1e-6)


def test_a_scan_is_cropped_to_its_central_cube_and_resized(tmp_path: Path) -> None:
    volume = np.zeros((40, 20, 20), np.float32)
    volume[10:30] = 1.0  # the central 20-cube is all ones; the ends, cropped away, are zero
    [(_, sample)] = read_inputs(write_nifti(tmp_path / "scan.nii", volume), CONFIG)
    assert sample.shape == (1, 16, 16, 16)
    assert torch.allclose(sample, torch.ones_like(sample))


def test_ct_hounsfield_units_are_windowed(tmp_path: Path) -> None:
    volume = np.full((16, 16, 16), -1000.0, np.float32)  # air
    volume[8:] = 1000.0  # bone, above the window
    [(_, sample)] = read_inputs(write_nifti(tmp_path / "ct.nii.gz", volume), CONFIG)
    assert sample[0, 0].max() == 0.0 and sample[0, -1].min() == 1.0


def test_dicom_slices_are_stacked_by_position_not_file_name(tmp_path: Path) -> None:
    series = tmp_path / "series"
    series.mkdir()
    for z, name in zip(range(4), ["c.dcm", "a.dcm", "d.dcm", "b.dcm"]):
        write_dicom_slice(series / name, np.full((6, 6), -150 + 100 * z), z=float(z))
    volume, is_ct = read_dicom_series(series)
    assert is_ct and volume.shape == (6, 6, 4)  # (columns, rows, slices)
    assert volume[0, 0].tolist() == [-150, -50, 50, 150]
    [(name, sample)] = read_inputs(series, CONFIG)
    assert name == "series" and sample.shape == (1, 16, 16, 16)
    assert 0.0 <= sample.min() and sample.max() <= 1.0


def test_predict_classifies_a_nifti_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    save_model(tmp_path / "checkpoint", build_model(CONFIG), class_names=["a", "b", "c"])
    scan = write_nifti(tmp_path / "scan.nii.gz", np.random.default_rng(1).random((20, 18, 18)))
    assert main(["predict", str(tmp_path / "checkpoint"), str(scan), "--json", "--top-k", "3"]) == 0
    [prediction] = json.loads(capsys.readouterr().out)
    assert prediction["input"] == str(scan) and {c["class"] for c in prediction["top"]} == {"a", "b", "c"}


@pytest.mark.parametrize("make", ["nifti", "dicom"])
def test_a_corrupt_file_is_named_in_one_line(tmp_path: Path, make: str) -> None:
    if make == "nifti":
        bad = target = tmp_path / "broken.nii.gz"
        bad.write_bytes(b"\x1f\x8b not really gzip")
    else:
        target = tmp_path / "series"
        target.mkdir()
        write_dicom_slice(target / "ok.dcm", np.zeros((4, 4)), z=0.0)
        bad = target / "broken.dcm"
        bad.write_bytes(b"nonsense")
    with pytest.raises(DataError) as caught:
        read_inputs(target, CONFIG)
    assert str(bad) in str(caught.value) and "\n" not in str(caught.value)
