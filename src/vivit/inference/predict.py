"""Top-k class probabilities for a stream of inputs, a batch at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import torch

from vivit.evaluation.view_average import average_views
from vivit.models import ViViT

S = TypeVar("S", bound=tuple)  # (name, (C, T, H, W) or (V, C, T, H, W) tensor, ...): a Sample or a plain pair


@dataclass(frozen=True)
class Prediction:
    name: str
    top: list[tuple[str, float]]  # (class name, probability), most likely first


def predict(
    model: ViViT, samples: Iterable[tuple[str, torch.Tensor]], class_names: list[str], top_k: int = 5, batch_size: int = 32
) -> list[Prediction]:
    """The `top_k` classes of each (name, (C, T, H, W) float tensor) sample, most likely first.

    Samples come from `vivit.inference.inputs.read_inputs`; `class_names` from
    ``load_model(run).class_names``.
    """
    return [prediction for _, prediction in predict_stream(model, samples, class_names, top_k, batch_size)]


@torch.inference_mode()
def predict_stream(
    model: ViViT, samples: Iterable[S], class_names: list[str], top_k: int = 5, batch_size: int = 32
) -> Iterator[tuple[S, Prediction]]:
    """Each sample with its prediction, in order; at most `batch_size` clips are held at once.

    A sample of V views (V, C, T, H, W) is scored by its views' mean probability
    (`vivit.evaluation.view_average`); a batch then holds batch_size // V samples (at least one).
    """
    model.eval()
    k = min(top_k, len(class_names))
    batch: list[S] = []
    for sample in samples:
        if batch and sample[1].shape != batch[0][1].shape:
            yield from _run(model, batch, class_names, k)
            batch = []
        batch.append(sample)
        views = sample[1].shape[0] if sample[1].ndim == 5 else 1
        if len(batch) >= max(1, batch_size // views):
            yield from _run(model, batch, class_names, k)
            batch = []
    if batch:
        yield from _run(model, batch, class_names, k)


def _run(model: ViViT, batch: list[S], class_names: list[str], k: int) -> Iterator[tuple[S, Prediction]]:
    inputs = torch.stack([sample[1] for sample in batch])  # (B, C, T, H, W), or (B, V, C, T, H, W) with views
    probabilities = (average_views(model, inputs) if inputs.ndim == 6 else model(inputs)).softmax(dim=-1)
    values, indices = probabilities.topk(k, dim=-1)
    for sample, v, i in zip(batch, values.tolist(), indices.tolist()):
        yield sample, Prediction(sample[0], [(class_names[c], p) for c, p in zip(i, v)])
