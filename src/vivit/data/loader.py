"""Batches straight from in-memory uint8 splits: one gather and one conversion per batch.

Whole splits already sit in memory as uint8 (see vivit.data.types), so a batch is
one gather along the sample axis followed by a single `.float().div_(255)`, done
after the move to the device so that only uint8 crosses the bus. No worker
processes and no per-sample Python: at MedMNIST sizes this outpaces the model by far (`python benchmarks/pipeline.py loader`).

Sharding follows torch's DistributedSampler: every rank sees the same number of
samples, ceil(N / world_size), the epoch's order being padded by wrapping around to
its start; so up to world_size - 1 samples appear twice per epoch across ranks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from vivit.data.seeds import derive_seed
from vivit.data.types import Split
from vivit.errors import ConfigError, DataError


class ShardedOrder:
    """The sample indices one rank visits in one epoch.

    It plays the part of a sampler: Lightning calls `loader.sampler.set_epoch(epoch)`
    on any loader that has one, so reshuffling each epoch needs no callback.
    """

    def __init__(
        self, num_samples: int, *, shuffle: bool, seed: int, rank: int, world_size: int
    ) -> None:
        if num_samples <= 0:
            raise DataError("Cannot batch an empty split")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ConfigError(
                f"rank must lie in [0, world_size), got rank={rank}, world_size={world_size}"
            )
        self.num_samples = num_samples
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def indices(self) -> torch.Tensor:
        """(len(self),) int64 indices into the split, for this rank and epoch."""
        if self.shuffle:
            generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch))
            order = torch.randperm(self.num_samples, generator=generator)
        else:
            order = torch.arange(self.num_samples)
        padded = order[torch.arange(len(self) * self.world_size) % self.num_samples]  # wrap to fill
        return padded[self.rank :: self.world_size]  # strided, as DistributedSampler

    def __len__(self) -> int:
        return math.ceil(self.num_samples / self.world_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())


class BatchLoader:
    """Iterates (x, y): x float32 (B, C, T, H, W) in [0, 1], y int64 (B,).

    Iterating twice gives the same order; `set_epoch` picks another, deterministically
    from (seed, epoch). `len()` is the number of batches this rank yields.
    """

    # Lightning probes loaders that have a `sampler` for this DataLoader attribute too.
    batch_sampler = None

    def __init__(
        self,
        split: Split,
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
        device: torch.device | str | None = None,
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.split = split
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.device = torch.device(device) if device is not None else None
        self.sampler = ShardedOrder(
            len(split), shuffle=shuffle, seed=seed, rank=rank, world_size=world_size
        )

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        indices = self.sampler.indices()
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            batch = indices[start : start + self.batch_size]
            # index_select, not images[batch]: the same gather, ~10x faster on CPU (torch 2.x).
            images = self.split.images.index_select(0, batch)  # (B, C, T, H, W) uint8
            labels = self.split.labels.index_select(0, batch)  # (B,)
            if self.device is not None:
                images, labels = images.to(self.device), labels.to(self.device)
            yield images.float().div_(255), labels

