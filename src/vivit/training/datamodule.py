"""Lightning data module over an in-memory DatasetBundle; batches straight to the device."""

from __future__ import annotations

import lightning.pytorch as pl

from vivit.data.loader import BatchLoader
from vivit.data.types import DatasetBundle
from vivit.training.recipe import DataSettings


class ViViTDataModule(pl.LightningDataModule):
    def __init__(self, bundle: DatasetBundle, data: DataSettings, seed: int) -> None:
        super().__init__()
        self.bundle = bundle
        self.data = data
        self.seed = seed

    def _loader(self, split: str, batch_size: int, shuffle: bool) -> BatchLoader:
        # Each rank takes its own shard; Lightning calls loader.sampler.set_epoch(epoch).
        return BatchLoader(
            self.bundle.splits[split],
            batch_size,
            shuffle=shuffle,
            seed=self.seed,
            rank=self.trainer.global_rank,
            world_size=self.trainer.world_size,
            device=self.trainer.strategy.root_device,
        )

    def train_dataloader(self) -> BatchLoader:
        return self._loader("train", self.data.batch_size, shuffle=True)

    def val_dataloader(self) -> BatchLoader:
        return self._loader("val", self.data.eval_batch_size, shuffle=False)
