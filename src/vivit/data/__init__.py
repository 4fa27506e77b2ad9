"""Data layer: datasets, decoding, batching and augmentation. Knows nothing of models."""

from vivit.data.types import DatasetBundle, Split

__all__ = ["DatasetBundle", "Split"]
