"""Top-k class probabilities for a batch of inputs."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vivit.models import ViViT


@dataclass(frozen=True)
class Prediction:
    name: str
    top: list[tuple[str, float]]  # (class name, probability), most likely first


@torch.no_grad()
def predict(
    model: ViViT, samples: list[tuple[str, torch.Tensor]], class_names: list[str], top_k: int = 5, batch_size: int = 32
) -> list[Prediction]:
    """The `top_k` classes of each (name, (C, T, H, W) float tensor) sample, most likely first.

    Samples come from `vivit.inference.inputs.read_inputs`; `class_names` from
    ``load_model(run).class_names``.
    """
    model.eval()
    k = min(top_k, len(class_names))
    results: list[Prediction] = []
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        shapes = {tuple(t.shape) for _, t in chunk}
        # Samples of different sizes (several files) are run one by one.
        groups = [chunk] if len(shapes) == 1 else [[s] for s in chunk]
        for group in groups:
            probs = model(torch.stack([t for _, t in group])).softmax(dim=-1)
            values, indices = probs.topk(k, dim=-1)
            for (name, _), v, i in zip(group, values.tolist(), indices.tolist()):
                results.append(Prediction(name, [(class_names[c], p) for c, p in zip(i, v)]))
    return results
