"""ONNX and TorchScript export of any of the four variants.

Both trace the model on one example input of the size the model was built for, so the
Python-side checks (input shape, token grid) run once at export time and the exported
graph has fixed T, H and W. ONNX uses the TorchScript-based exporter (`dynamo=False`),
which lowers `F.scaled_dot_product_attention` to MatMul/Softmax from opset 14 on.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from vivit.errors import ConfigError
from vivit.models import ViViT

FORMATS = ("onnx", "torchscript")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}
OPSET = 17  # LayerNormalization is a single op from 17 on


def example_input(model: ViViT, batch_size: int = 1) -> torch.Tensor:
    return torch.rand(batch_size, model.config.in_channels, *model.config.input_size)


def export_onnx(model: ViViT, path: Path, dynamic_batch: bool = False) -> Path:
    """Write `model` as ONNX: input `video` (B, C, T, H, W) float, output `logits` (B, classes)."""
    try:
        import onnx  # noqa: F401 - torch.onnx writes the file with it
    except ImportError:
        raise ConfigError("ONNX export needs the onnx package: pip install 'vivit[export]'") from None
    model = model.eval()
    # Tracing at batch 2 keeps the exporter from specialising anything on a batch of one.
    video = example_input(model, 2 if dynamic_batch else 1)
    axes = {"video": {0: "batch"}, "logits": {0: "batch"}} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks
        torch.onnx.export(
            model, (video,), str(path), input_names=["video"], output_names=["logits"],
            dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )
    return path


def export_torchscript(model: ViViT, path: Path) -> Path:
    """Write `model` traced with torch.jit.trace (any batch size; T, H, W as built)."""
    model = model.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (example_input(model, 2),))
    traced.save(str(path))
    return path


def export_model(model: ViViT, fmt: str, path: Path, dynamic_batch: bool = False) -> Path:
    """Write `model` as `fmt` (`onnx` or `torchscript`) to `path`; return the path.

    ONNX: input `video` (B, C, T, H, W), output `logits`; a fixed batch of 1 unless
    `dynamic_batch`. TorchScript: a traced module that takes any batch size.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "onnx":
        return export_onnx(model, path, dynamic_batch)
    if fmt == "torchscript":
        return export_torchscript(model, path)
    raise ConfigError(f"Unknown export format '{fmt}'; choose one of: {', '.join(FORMATS)}")
