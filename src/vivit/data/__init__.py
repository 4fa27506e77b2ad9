"""Data layer: datasets, decoding, batching and augmentation. Knows nothing of models."""

from __future__ import annotations

from typing import Any

__all__ = ["DatasetBundle", "Split"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `vivit.data.registry` (names and sizes for `vivit --help`) needs no torch.
    if name in __all__:
        from vivit.data import types

        return getattr(types, name)
    raise AttributeError(f"module 'vivit.data' has no attribute '{name}'")
