"""vivit: Video Vision Transformers (Arnab et al., 2021) for video and volumetric classification."""

from __future__ import annotations

from typing import Any

from vivit.models import ViViTConfig, create_model, list_models

__version__ = "0.1.0"
__all__ = ["ViViTConfig", "create_model", "list_models", "load_model"]


def __getattr__(name: str) -> Any:
    # load_model needs safetensors; importing it lazily keeps `import vivit.models` torch-only.
    if name == "load_model":
        from vivit.checkpoints import load_model

        return load_model
    raise AttributeError(f"module 'vivit' has no attribute '{name}'")
