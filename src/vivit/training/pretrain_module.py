"""The LightningModule of `vivit pretrain`: masked-autoencoder training of a ViViT encoder.

The same run machinery as supervised training (RunRecorder, resume, banner, interrupts):
only the loss differs. Masks are seeded from (seed, epoch) like every other random stream,
so a resumed run draws the masks the uninterrupted run drew; validation draws the same masks
every epoch, so its reconstruction loss is comparable from epoch to epoch.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch

from vivit.data.augment import AugmentConfig, BatchAugmenter
from vivit.data.seeds import derive_seed
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError, TrainingError
from vivit.models import MaskedAutoencoder, build_model
from vivit.models.config import ViViTConfig
from vivit.training.module import AUGMENT_STREAM, DROPOUT_STREAM, optimizer_and_schedule
from vivit.training.recipe import Recipe

MASK_STREAM = 2  # derive_seed(seed, epoch, MASK_STREAM): the training masks of an epoch
# derive_seed(seed, VALIDATION_EPOCH, MASK_STREAM): the same validation masks every epoch. An epoch
# no run reaches, as a seed sequence ignores trailing zeros: (seed, 3) would be (seed, 3, 0), the
# dropout stream of epoch 3.
VALIDATION_EPOCH = 2**31


class MaskedAutoencoderPretraining(pl.LightningModule):
    def __init__(self, recipe: Recipe, model_config: ViViTConfig, bundle: DatasetBundle, steps_per_epoch: int) -> None:
        super().__init__()
        assert recipe.mae is not None, "a pretraining recipe has a mae section"
        if recipe.train.init or recipe.train.freeze_spatial:
            raise ConfigError("train.init and train.freeze_spatial are for fine-tuning; pretraining starts from scratch: "
                              "leave them unset, and fine-tune the pretrained run with vivit train --init RUN_DIR")
        self.recipe = recipe
        self.steps_per_epoch = steps_per_epoch
        torch.manual_seed(recipe.train.seed)
        self.model = MaskedAutoencoder(build_model(model_config), recipe.mae)
        # Flips and affine as in supervised training; with one (dummy) class, nothing to swap.
        self.augmenter = BatchAugmenter(AugmentConfig.from_dict(recipe.augment), 1, (), bundle.left_right_axis)
        self.augment_generator = torch.Generator()
        self.mask_generator = torch.Generator()

    def on_train_epoch_start(self) -> None:
        seed, epoch = self.recipe.train.seed, self.current_epoch
        torch.manual_seed(derive_seed(seed, epoch, DROPOUT_STREAM))
        self.augment_generator.manual_seed(derive_seed(seed, epoch, AUGMENT_STREAM))
        self.mask_generator.manual_seed(derive_seed(seed, epoch, MASK_STREAM))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        video, labels = batch
        video, _ = self.augmenter(video, labels, self.augment_generator)
        loss = self.model(video, generator=self.mask_generator).loss
        if not torch.isfinite(loss):
            raise TrainingError(
                f"The reconstruction loss became {loss.item()} in epoch {self.current_epoch + 1}, step {batch_idx + 1}; "
                f"the run stopped and keeps its checkpoints from the epochs before. Lower optim.lr (now "
                f"{self.recipe.optim.lr:g}) or set optim.grad_clip, and pretrain again"
            )
        self.log("train/loss", loss, on_step=False, on_epoch=True, sync_dist=True, batch_size=labels.numel())
        return loss

    def on_train_epoch_end(self) -> None:
        self.log("lr", self.optimizers().param_groups[0]["lr"])

    def on_validation_epoch_start(self) -> None:
        self.mask_generator.manual_seed(derive_seed(self.recipe.train.seed, VALIDATION_EPOCH, MASK_STREAM))

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        video, labels = batch
        loss = self.model(video, generator=self.mask_generator).loss
        self.log("val/loss", loss, on_step=False, on_epoch=True, sync_dist=True, batch_size=labels.numel(), prog_bar=True)

    def configure_optimizers(self) -> dict[str, Any]:
        return optimizer_and_schedule(self.recipe, self.model, self.steps_per_epoch)
