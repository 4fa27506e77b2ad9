"""Pre-flight: refuse, before the first step, a batch that cannot fit in memory.

Out-of-memory mid-epoch loses the run's time and often its process; the same mistake
found before training starts is one line that says which setting to lower.
"""

from __future__ import annotations

import torch

from vivit.errors import ConfigError
from vivit.system_memory import available_memory, format_bytes
from vivit.models import ViViTConfig
from vivit.models.memory_estimate import estimate_bytes, tokens_per_block
from vivit.training.recipe import Recipe


def free_memory(recipe: Recipe) -> tuple[int, str]:
    """(bytes free, where) on the device the run will train on."""
    on_gpu = recipe.train.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    if on_gpu:
        free, _ = torch.cuda.mem_get_info()
        return int(free), f"GPU {torch.cuda.get_device_name()}"
    return available_memory(), "this machine's RAM"


def check_batch_fits(recipe: Recipe, config: ViViTConfig, free: int | None = None, where: str = "") -> None:
    """ConfigError naming the batch size to use when training or evaluation cannot fit in `free` bytes."""
    if free is None:
        free, where = free_memory(recipe)
    for key, batch, training in (
        ("data.batch_size", recipe.data.batch_size, True),
        ("data.eval_batch_size", recipe.data.eval_batch_size, False),
    ):
        needed = estimate_bytes(config, batch, training=training)
        if needed <= free:
            continue
        fits = _largest_batch(config, training, free)
        advice = f"lower {key} to {fits}" if fits else "choose a smaller model (embed_dim, depth) or input size"
        raise ConfigError(
            f"{key}={batch} with {max(tokens_per_block(config))} tokens per sample needs at least "
            f"{format_bytes(needed)} to {'train' if training else 'evaluate'}, but {where} has "
            f"{format_bytes(free)} free; {advice}"
        )


def _largest_batch(config: ViViTConfig, training: bool, free: int) -> int:
    low, high = 0, 1
    while estimate_bytes(config, high, training=training) <= free:
        low, high = high, high * 2
    while high - low > 1:  # estimate_bytes grows with the batch: bisect
        middle = (low + high) // 2
        low, high = (middle, high) if estimate_bytes(config, middle, training=training) <= free else (low, middle)
    return low
