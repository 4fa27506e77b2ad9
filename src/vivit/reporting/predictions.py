"""Class probabilities for a whole split, and which samples a report shows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vivit.data.loader import BatchLoader
from vivit.data.types import Split
from vivit.errors import ConfigError

PICKS = ("random", "errors")


@dataclass(frozen=True)
class SplitPredictions:
    probabilities: np.ndarray  # (N, K) softmax of the logits
    labels: np.ndarray  # (N,) true classes

    @property
    def predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        """Probability of the predicted class."""
        return self.probabilities.max(axis=1)


@torch.no_grad()
def predict_split(model: torch.nn.Module, split: Split, batch_size: int = 128) -> SplitPredictions:
    model.eval()
    probabilities = [model(video).softmax(dim=-1) for video, _ in BatchLoader(split, batch_size)]
    return SplitPredictions(torch.cat(probabilities).numpy(), split.labels.numpy())


def pick_samples(predictions: SplitPredictions, count: int, pick: str, seed: int = 0) -> np.ndarray:
    """Indices of the samples to show.

    random: `count` distinct samples drawn with `seed`, in split order.
    errors: the mistakes, most confident first (the ones most worth a look); fewer than
    `count` when the model makes fewer mistakes.
    """
    if count < 1:
        raise ConfigError(f"--samples must be at least 1, got {count}")
    if pick == "random":
        rng = np.random.default_rng(seed)
        num = len(predictions.labels)
        return np.sort(rng.choice(num, size=min(count, num), replace=False))
    if pick == "errors":
        wrong = np.flatnonzero(predictions.predicted != predictions.labels)
        most_confident_first = wrong[np.argsort(-predictions.confidence[wrong], kind="stable")]
        return most_confident_first[:count]
    raise ConfigError(f"Unknown pick '{pick}'; choose one of: {', '.join(PICKS)}")
