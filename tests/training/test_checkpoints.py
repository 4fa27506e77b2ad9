"""Checkpoints: safetensors + JSON, published atomically, refused when they don't fit."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
import torch

import vivit
from vivit.checkpoints import CONFIG, WEIGHTS, load_model, publish, save_model
from vivit.errors import CheckpointError
from vivit.models import create_model


def saved(tmp_path: Path, name: str = "last", tag: str = "0001", **overrides) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(int(tag))
    model = create_model("keras-seed", num_classes=3, **overrides)
    publish(tmp_path / "checkpoints", name, tag, lambda d: save_model(d, model, class_names=["a", "b", "c"]))
    return tmp_path, model


def test_load_model_returns_the_saved_model_ready_for_inference(tmp_path: Path) -> None:
    run_dir, model = saved(tmp_path)
    loaded = vivit.load_model(run_dir)
    assert not loaded.training
    assert loaded.checkpoint_info["class_names"] == ["a", "b", "c"]
    video = torch.rand(2, 1, 28, 28, 28)
    torch.testing.assert_close(loaded(video), model.eval()(video))


def test_checkpoint_holds_no_pickle(tmp_path: Path) -> None:
    run_dir, _ = saved(tmp_path)
    files = sorted(p.name for p in (run_dir / "checkpoints" / "last").iterdir())
    assert files == [CONFIG, WEIGHTS]


def test_a_new_checkpoint_replaces_the_old_and_leaves_no_debris(tmp_path: Path) -> None:
    saved(tmp_path, tag="0001")
    _, newer = saved(tmp_path, tag="0002")
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["last", "last-0002"]
    torch.testing.assert_close(load_model(tmp_path).state_dict(), newer.state_dict())


def test_a_failed_write_leaves_the_previous_checkpoint_loadable(tmp_path: Path) -> None:
    _, first = saved(tmp_path, tag="0001")

    def disk_full(directory: Path) -> None:
        directory.mkdir(parents=True)
        (directory / WEIGHTS).write_bytes(b"half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(CheckpointError, match=r"No space left on device.*previous 'last' checkpoint is untouched"):
        publish(tmp_path / "checkpoints", "last", "0002", disk_full)
    torch.testing.assert_close(load_model(tmp_path).state_dict(), first.state_dict())
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["last", "last-0001"]


def test_truncated_weights_name_the_file(tmp_path: Path) -> None:
    run_dir, _ = saved(tmp_path)
    weights = run_dir / "checkpoints" / "last" / WEIGHTS
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=rf"{WEIGHTS} is corrupt or truncated"):
        load_model(run_dir)


def test_a_checkpoint_of_another_model_names_the_mismatch(tmp_path: Path) -> None:
    run_dir, _ = saved(tmp_path)
    config_path = run_dir / "checkpoints" / "last" / CONFIG
    document = json.loads(config_path.read_text())
    document["model"]["num_classes"] = 5
    config_path.write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match=r"head.weight has shape \(3, 128\) in the checkpoint but \(5, 128\)"):
        load_model(run_dir)


def test_a_folder_without_checkpoint_says_so(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        load_model(tmp_path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "missing")


def test_a_foreign_config_is_refused(tmp_path: Path) -> None:
    run_dir, _ = saved(tmp_path)
    (run_dir / "checkpoints" / "last" / CONFIG).write_text('{"architectures": ["VivitModel"]}')
    with pytest.raises(CheckpointError, match="is not a vivit checkpoint config"):
        load_model(run_dir)
