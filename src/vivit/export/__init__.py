"""Export a trained model for serving without vivit: ONNX (onnxruntime) or TorchScript."""

from vivit.export.exporters import (
    FORMATS,
    export_model,
    export_onnx,
    export_torchscript,
)

__all__ = ["FORMATS", "export_model", "export_onnx", "export_torchscript"]
