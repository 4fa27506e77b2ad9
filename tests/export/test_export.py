"""An exported model computes what the PyTorch model computes, at any batch size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from tests.models.conftest import small_model
import vivit
from vivit.checkpoints import save_model
from vivit.cli.main import main
from vivit.data.synthetic import SHAPE_CLASSES
from vivit.errors import ConfigError
from vivit.export import export_model
from vivit.models import VARIANTS

FIXTURE_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "run-0.1.0"


@pytest.fixture(params=VARIANTS)
def checkpoint(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    model = small_model(request.param).eval()
    save_model(tmp_path / "checkpoint", model)
    return tmp_path / "checkpoint", model


def reference(model: torch.nn.Module, video: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return model(video).numpy()


def test_default_onnx_export_runs_any_batch_size_like_pytorch(
    checkpoint: tuple[Path, torch.nn.Module], tmp_path: Path
) -> None:
    directory, model = checkpoint
    out = tmp_path / "model.onnx"
    assert main(["export", str(directory), "--format", "onnx", "--out", str(out)]) == 0
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for batch in (1, 8):
        video = torch.rand(batch, model.config.in_channels, *model.config.input_size)
        (logits,) = session.run(None, {"video": video.numpy()})
        np.testing.assert_allclose(logits, reference(model, video), atol=1e-4)


def test_dynamic_batch_flag_is_still_accepted(tmp_path: Path) -> None:
    save_model(tmp_path / "checkpoint", small_model())
    out = tmp_path / "model.onnx"
    assert main(["export", str(tmp_path / "checkpoint"), "--out", str(out), "--dynamic-batch"]) == 0
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[0] == "batch"


def test_export_message_states_the_batch_it_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_model(tmp_path / "checkpoint", small_model())
    main(["export", str(tmp_path / "checkpoint"), "--out", str(tmp_path / "any.onnx")])
    main(["export", str(tmp_path / "checkpoint"), "--out", str(tmp_path / "four.onnx"), "--static-batch", "4"])
    first, second = capsys.readouterr().out.splitlines()
    assert "'video' (B, " in first and "'video' (4, " in second


def test_torchscript_trace_matches_pytorch(checkpoint: tuple[Path, torch.nn.Module], tmp_path: Path) -> None:
    directory, model = checkpoint
    out = tmp_path / "model.pt"
    assert main(["export", str(directory), "--format", "torchscript", "--out", str(out)]) == 0
    scripted = torch.jit.load(str(out))
    for batch in (1, 5):
        video = torch.rand(batch, model.config.in_channels, *model.config.input_size)
        with torch.no_grad():
            np.testing.assert_allclose(scripted(video).numpy(), reference(model, video), atol=1e-4)


def test_onnx_with_a_static_batch_fixes_that_batch_size(tmp_path: Path) -> None:
    model = small_model("spatio_temporal").eval()
    export_model(model, "onnx", tmp_path / "model.onnx", static_batch=3)
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [3, model.config.in_channels, *model.config.input_size]


def test_a_static_batch_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="positive batch size"):
        export_model(small_model(), "onnx", tmp_path / "model.onnx", static_batch=0)


def test_load_model_names_the_classes_of_the_run_dataset() -> None:
    assert vivit.load_model(FIXTURE_RUN).class_names == list(SHAPE_CLASSES)


def test_load_model_without_class_names_has_none(tmp_path: Path) -> None:
    save_model(tmp_path / "checkpoint", small_model())
    assert vivit.load_model(tmp_path / "checkpoint").class_names is None


def expected_input_spec(model: torch.nn.Module) -> dict:
    return {
        "name": "video",
        "shape": ["batch", model.config.in_channels, *model.config.input_size],
        "dtype": "float32",
        "value_range": [0.0, 1.0],
        "layout": "(B, C, T, H, W)",
        "output": {"name": "logits", "shape": ["batch", model.config.num_classes]},
    }


def test_onnx_metadata_holds_class_names_input_spec_and_model_config(tmp_path: Path) -> None:
    out = tmp_path / "model.onnx"
    assert main(["export", str(FIXTURE_RUN), "--out", str(out)]) == 0
    model = vivit.load_model(FIXTURE_RUN)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    metadata = {key: json.loads(value) for key, value in session.get_modelmeta().custom_metadata_map.items()}
    assert metadata["class_names"] == list(SHAPE_CLASSES)
    assert metadata["input"] == expected_input_spec(model)
    assert metadata["model_config"] == model.config.to_dict()


def test_torchscript_extra_files_hold_the_same_metadata_as_onnx(tmp_path: Path) -> None:
    main(["export", str(FIXTURE_RUN), "--out", str(tmp_path / "model.onnx")])
    main(["export", str(FIXTURE_RUN), "--format", "torchscript", "--out", str(tmp_path / "model.pt")])
    onnx_metadata = onnxruntime.InferenceSession(
        str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"]
    ).get_modelmeta().custom_metadata_map
    assert set(onnx_metadata) == {"class_names", "input", "model_config", "preprocessing", "views"}
    extra_files = dict.fromkeys(onnx_metadata, "")
    torch.jit.load(str(tmp_path / "model.pt"), _extra_files=extra_files)
    assert {key: json.loads(value) for key, value in extra_files.items()} == {
        key: json.loads(value) for key, value in onnx_metadata.items()
    }


def test_unknown_format_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="onnx, torchscript"):
        export_model(small_model(), "tflite", tmp_path / "model.tflite")


def test_onnx_of_a_model_with_a_convolutional_stem_matches_pytorch(tmp_path: Path) -> None:
    model = small_model("spatio_temporal", stem_channels=(3,)).eval()
    export_model(model, "onnx", tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    video = torch.rand(3, model.config.in_channels, *model.config.input_size)
    (logits,) = session.run(None, {"video": video.numpy()})
    np.testing.assert_allclose(logits, reference(model, video), atol=1e-4)
