"""ONNX and TorchScript export of any of the four variants.

Both trace the model on one example input of the size the model was built for, so the
Python-side checks (input shape, token grid) run once at export time and the exported
graph has fixed T, H and W. ONNX uses the TorchScript-based exporter (`dynamo=False`),
which lowers `F.scaled_dot_product_attention` to MatMul/Softmax from opset 14 on.

Each exported file describes itself, so a server needs nothing but the file: the class
names, the input spec, the model config and, for a model trained on a video folder, the
preprocessing that turns a video file into its input (frames, sampling, short-side resize,
crop, normalisation: `vivit.data.video_preprocessing`) and the views its recipe evaluates,
as JSON strings under the keys of `export_metadata` (ONNX `metadata_props`, TorchScript
`_extra_files`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from vivit.errors import ConfigError
from vivit.models import ViViT
from vivit.output_locations import check_output_file, staged

FORMATS = ("onnx", "torchscript")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}
OPSET = 17  # LayerNormalization is a single op from 17 on
BATCH_AXIS = "batch"


def example_input(model: ViViT, batch_size: int = 1) -> torch.Tensor:
    return torch.rand(batch_size, model.config.in_channels, *model.config.input_size)


def export_metadata(model: ViViT, static_batch: int | None = None) -> dict[str, str]:
    """Key -> JSON string: `class_names`, `input` (name, shape, dtype, range, layout), `model_config`,
    `preprocessing` and `views`.

    The class names are the model's `class_names` and the preprocessing and views its
    checkpoint's record (set by `load_model`); each null when unknown (volumes have no preprocessing).
    """
    batch: int | str = static_batch if static_batch is not None else BATCH_AXIS
    class_names = getattr(model, "class_names", None)
    spec = {
        "name": "video",
        "shape": [batch, model.config.in_channels, *model.config.input_size],
        "dtype": "float32",
        "value_range": [0.0, 1.0],
        "layout": "(B, C, T, H, W)",
        "output": {"name": "logits", "shape": [batch, model.config.num_classes]},
    }
    info = getattr(model, "checkpoint_info", None) or {}
    document = {
        "class_names": list(class_names) if class_names else None,
        "input": spec,
        "model_config": model.config.to_dict(),
        "preprocessing": info.get("preprocessing"),
        "views": info.get("views"),
    }
    return {key: json.dumps(value) for key, value in document.items()}


def export_onnx(model: ViViT, path: Path, static_batch: int | None = None) -> Path:
    """Write `model` as ONNX: input `video` (B, C, T, H, W) float, output `logits` (B, classes).

    The batch axis is symbolic (`batch`) unless `static_batch` fixes it.
    """
    try:
        import onnx
    except ImportError:
        raise ConfigError("ONNX export needs the onnx package: pip install 'vivit[export]'") from None
    check_static_batch(static_batch)
    model = model.eval()
    # Tracing at batch 2 keeps the exporter from specialising anything on a batch of one.
    video = example_input(model, 2 if static_batch is None else static_batch)
    axes = {"video": {0: BATCH_AXIS}, "logits": {0: BATCH_AXIS}} if static_batch is None else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks
        torch.onnx.export(
            model, (video,), str(path), input_names=["video"], output_names=["logits"],
            dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )
    graph = onnx.load(str(path))
    for key, value in export_metadata(model, static_batch).items():
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, str(path))
    return path


def export_torchscript(model: ViViT, path: Path) -> Path:
    """Write `model` traced with torch.jit.trace (any batch size; T, H, W as built)."""
    model = model.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (example_input(model, 2),))
    traced.save(str(path), _extra_files=export_metadata(model))
    return path


def check_static_batch(static_batch: int | None) -> None:
    if static_batch is not None and static_batch < 1:
        raise ConfigError(f"--static-batch must be a positive batch size, not {static_batch}; leave it out for any batch size")


def export_model(model: ViViT, fmt: str, path: Path, static_batch: int | None = None) -> Path:
    """Write `model` as `fmt` (`onnx` or `torchscript`) to `path`; return the path.

    ONNX: input `video` (B, C, T, H, W), output `logits`; any batch size unless
    `static_batch` fixes one. TorchScript: a traced module that takes any batch size.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown export format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    if fmt == "torchscript" and static_batch is not None:
        raise ConfigError("--static-batch applies to ONNX only; a TorchScript model takes any batch size")
    check_output_file(path, "the export file")
    with staged(path, "the export file") as staging:  # an earlier export stays whole if this one fails
        staging.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "onnx":
            export_onnx(model, staging, static_batch)
        else:
            export_torchscript(model, staging)
    return path
