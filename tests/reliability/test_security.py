"""Security: no pickle from strangers, downloads verified before use, no archive extraction."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import pickle
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from vivit.checkpoints import CONFIG, file_sha256, verified_trainer_state
from vivit.errors import CheckpointError, DataError

SRC = Path(__file__).resolve().parents[2] / "src" / "vivit"


class RunsCode:
    """Unpickling this writes a marker file: proof that a pickle ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pickle ran code"))


def last_checkpoint(tmp_path: Path, state: bytes, recorded: str | None) -> Path:
    last = tmp_path / "last"
    last.mkdir()
    (last / "trainer_state.ckpt").write_bytes(state)
    document = {"format": "vivit-checkpoint/1", "model": {}} | ({"trainer_state_sha256": recorded} if recorded else {})
    (last / CONFIG).write_text(json.dumps(document))
    return last


def test_resume_loads_the_trainer_state_the_run_wrote(tmp_path: Path) -> None:
    import torch

    buffer = io.BytesIO()
    torch.save({"epoch": 3, "optimizer_states": [{"step": torch.tensor(7.0)}], "callbacks": {"rows": [{"epoch": 1}]}}, buffer)
    state = buffer.getvalue()
    last = last_checkpoint(tmp_path, state, hashlib.sha256(state).hexdigest())
    assert verified_trainer_state(last, "trainer_state.ckpt") == last / "trainer_state.ckpt"


@pytest.mark.parametrize("recorded", ["another digest", None])
def test_a_trainer_state_the_run_did_not_write_is_never_unpickled(tmp_path: Path, recorded: str | None) -> None:
    marker = tmp_path / "marker"
    last = last_checkpoint(tmp_path, pickle.dumps(RunsCode(marker)), recorded and hashlib.sha256(recorded.encode()).hexdigest())
    with pytest.raises(CheckpointError, match=r"trainer_state\.ckpt was not written by this run.*is not loaded") as caught:
        verified_trainer_state(last, "trainer_state.ckpt")
    assert "\n" not in str(caught.value)
    assert not marker.exists()


def test_a_training_run_records_the_digest_of_its_trainer_state(tmp_path: Path) -> None:
    from vivit.cli.main import main

    run = tmp_path / "run"
    assert main(["train", "--dataset", "synthetic-shapes", "data.options={num_samples: 16}", "data.batch_size=8",
                 "--epochs", "1", "--out", str(run)]) == 0
    last = run / "checkpoints" / "last"
    assert json.loads((last / CONFIG).read_text())["trainer_state_sha256"] == file_sha256(last / "trainer_state.ckpt")


def test_no_code_path_unpickles_anything_but_the_verified_trainer_state() -> None:
    """A static check of src/: every pickle-capable load is named here, with why it is safe."""
    allowed = {
        # torch.load with weights_only=True: tensors and plain containers only (HF .bin, timm .pth).
        "transfer/state.py": r"torch\.load\(path, map_location=\"cpu\", weights_only=True\)",
        # The trainer state, under the weights-only unpickler, before Lightning reads it the same way.
        "checkpoints.py": r"torch\.load\(state, map_location=\"cpu\", weights_only=True\)",
        # Lightning reads ckpt_path with torch.load: only the state verified_trainer_state returned, weights only.
        "training/run.py": r"ckpt_path=str\(resume_from\).*weights_only=True",
    }
    risky = re.compile(r"torch\.load\(|pickle\.loads?\(|allow_pickle=True|ckpt_path=|torch\.jit\.load\(|dill|joblib\.load")
    found = {}
    for path in SRC.rglob("*.py"):
        for line in path.read_text().splitlines():
            if risky.search(line):
                found.setdefault(str(path.relative_to(SRC)), []).append(line.strip())
    assert set(found) == set(allowed), found
    for name, pattern in allowed.items():
        assert all(re.search(pattern, line) for line in found[name]), found[name]


def test_nothing_in_src_extracts_archives() -> None:
    """.npz archives are read member by member into memory; nothing is ever written from an archive."""
    extracting = re.compile(r"extractall|\.extract\(|tarfile|unpack_archive|pooch\.(Unzip|Untar|Decompress)|processor=")
    offenders = [str(p) for p in SRC.rglob("*.py") if extracting.search(p.read_text())]
    assert offenders == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server for the files of `served/`: a download as pooch really does it."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[assignment]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()


@pytest.mark.parametrize("tampered", [False, True])
def test_a_download_is_verified_by_checksum_before_it_is_used(
    tmp_path: Path, served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tampered: bool
) -> None:
    from tests.data.conftest import TINY
    from vivit.data import registry
    from vivit.data.medmnist import load_medmnist

    url, folder = served
    rng = np.random.default_rng(0)
    arrays = {}
    for split, count in TINY.split_sizes.items():
        arrays[f"{split}_images"] = rng.integers(0, 256, (count, 28, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(count, dtype=np.uint8) % 2).reshape(count, 1)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    official = buffer.getvalue()
    md5 = hashlib.md5(official).hexdigest()
    middle = len(official) // 2  # inside the image data: the archive still opens and validates
    (folder / "tinymnist3d.npz").write_bytes(official[:middle] + bytes([official[middle] ^ 0xFF]) + official[middle + 1 :] if tampered else official)
    info = type(TINY)(**{**TINY.__dict__, "md5": {28: md5, 64: md5}})
    monkeypatch.setitem(registry.MEDMNIST_3D, TINY.name, info)
    monkeypatch.setattr(type(TINY), "url", lambda self, size: f"{url}/{self.filename(size)}")
    data_dir = tmp_path / "data"
    if tampered:
        with pytest.raises(DataError, match=f"does not match the official md5 {md5}"):
            load_medmnist("tinymnist3d", data_dir=data_dir)
        assert not (data_dir / "tinymnist3d.npz").exists(), "a file that failed its checksum must not be kept"
    else:
        bundle = load_medmnist("tinymnist3d", data_dir=data_dir)
        assert len(bundle.splits["train"]) == 3 and (data_dir / "tinymnist3d.npz").read_bytes() == official


def test_a_forged_run_whose_digest_matches_its_pickle_runs_no_code_even_if_torch_is_told_to_trust_pickles(tmp_path: Path) -> None:
    """A stranger's run directory can record any digest; the weights-only unpickler still refuses code."""
    import os
    import shutil
    import subprocess
    import sys

    run = tmp_path / "run"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "run-0.1.0", run, symlinks=True)
    marker = tmp_path / "marker"
    last = (run / "checkpoints" / "last").resolve()
    (last / "trainer_state.ckpt").write_bytes(pickle.dumps(RunsCode(marker)))
    info = json.loads((last / CONFIG).read_text())
    info["trainer_state_sha256"] = file_sha256(last / "trainer_state.ckpt")  # forged to match
    (last / CONFIG).write_text(json.dumps(info))
    env = {**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}
    result = subprocess.run([sys.executable, "-m", "vivit.cli.main", "train", "--resume", str(run)],
                            capture_output=True, text=True, env=env)
    assert not marker.exists(), "the pickle ran code"
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "holds more than plain data" in result.stderr and result.stderr.count("\n") == 1
