"""vivit: Video Vision Transformers (Arnab et al., 2021) for video and volumetric classification."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("vivit")
except PackageNotFoundError:  # a source tree on PYTHONPATH that was never installed
    __version__ = "unknown"

# Public name -> the module that defines it. Imported on first use, so `import vivit`
# (which every `vivit.x` import runs first) loads no torch: `vivit --help` stays fast,
# and load_model's safetensors stays out of `import vivit.models`.
_EXPORTS = {
    "ViViTConfig": "vivit.models",
    "create_model": "vivit.models",
    "list_models": "vivit.models",
    "load_model": "vivit.checkpoints",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'vivit' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
