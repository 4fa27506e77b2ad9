"""An exported model computes what the PyTorch model computes, at any batch size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from tests.models.conftest import small_model
from vivit.checkpoints import save_model
from vivit.cli.main import main
from vivit.errors import ConfigError
from vivit.export import export_model
from vivit.models import VARIANTS


@pytest.fixture(params=VARIANTS)
def checkpoint(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    model = small_model(request.param).eval()
    save_model(tmp_path / "checkpoint", model)
    return tmp_path / "checkpoint", model


def reference(model: torch.nn.Module, video: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return model(video).numpy()


def test_onnx_with_dynamic_batch_matches_pytorch(checkpoint: tuple[Path, torch.nn.Module], tmp_path: Path) -> None:
    directory, model = checkpoint
    out = tmp_path / "model.onnx"
    assert main(["export", str(directory), "--format", "onnx", "--out", str(out), "--dynamic-batch"]) == 0
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for batch in (1, 5):
        video = torch.rand(batch, model.config.in_channels, *model.config.input_size)
        (logits,) = session.run(None, {"video": video.numpy()})
        np.testing.assert_allclose(logits, reference(model, video), atol=1e-4)


def test_torchscript_trace_matches_pytorch(checkpoint: tuple[Path, torch.nn.Module], tmp_path: Path) -> None:
    directory, model = checkpoint
    out = tmp_path / "model.pt"
    assert main(["export", str(directory), "--format", "torchscript", "--out", str(out)]) == 0
    scripted = torch.jit.load(str(out))
    for batch in (1, 5):
        video = torch.rand(batch, model.config.in_channels, *model.config.input_size)
        with torch.no_grad():
            np.testing.assert_allclose(scripted(video).numpy(), reference(model, video), atol=1e-4)


def test_onnx_without_dynamic_batch_has_a_fixed_batch_of_one(tmp_path: Path) -> None:
    model = small_model("spatio_temporal").eval()
    export_model(model, "onnx", tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, model.config.in_channels, *model.config.input_size]


def test_unknown_format_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="onnx, torchscript"):
        export_model(small_model(), "tflite", tmp_path / "model.tflite")


def test_onnx_of_a_model_with_a_convolutional_stem_matches_pytorch(tmp_path: Path) -> None:
    model = small_model("spatio_temporal", stem_channels=(3,)).eval()
    export_model(model, "onnx", tmp_path / "model.onnx", dynamic_batch=True)
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    video = torch.rand(3, model.config.in_channels, *model.config.input_size)
    (logits,) = session.run(None, {"video": video.numpy()})
    np.testing.assert_allclose(logits, reference(model, video), atol=1e-4)
