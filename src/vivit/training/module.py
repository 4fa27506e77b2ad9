"""The LightningModule: loss, optimiser, schedule and metrics around a ViViT model."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F

from vivit.data.augment import AugmentConfig, BatchAugmenter
from vivit.data.seeds import derive_seed
from vivit.data.types import DatasetBundle
from vivit.errors import TrainingError
from vivit.evaluation.metrics import ClassificationMetrics, scalars
from vivit.models import ViViT, build_model
from vivit.models.config import ViViTConfig
from vivit.training.recipe import Recipe
from vivit.training.schedules import lr_multiplier
from vivit.transfer.finetune import freeze_spatial_encoder, init_from_pretrained


# Stream keys of a training epoch's seeds, after (seed, epoch): derive_seed(seed, epoch, stream).
DROPOUT_STREAM = 0  # dropout and drop path, through torch's global generator
AUGMENT_STREAM = 1  # the batch augmenter's generator


class ViViTClassifier(pl.LightningModule):
    def __init__(self, recipe: Recipe, model_config: ViViTConfig, bundle: DatasetBundle, steps_per_epoch: int) -> None:
        super().__init__()
        self.recipe = recipe
        self.steps_per_epoch = steps_per_epoch
        torch.manual_seed(recipe.train.seed)  # the initial weights depend on the seed alone
        self.model: ViViT = build_model(model_config)
        if recipe.train.init:
            init_from_pretrained(self.model, recipe.train.init, recipe.train.kernel_init)
        if recipe.train.freeze_spatial:
            freeze_spatial_encoder(self.model)
        self.augmenter = BatchAugmenter(
            AugmentConfig.from_dict(recipe.augment),
            model_config.num_classes,
            bundle.left_right_pairs,
            bundle.left_right_axis,
        )
        self.train_metrics = ClassificationMetrics(model_config.num_classes)
        self.val_metrics = ClassificationMetrics(model_config.num_classes)
        self.augment_generator = torch.Generator()
        self.last_val: dict[str, Any] = {}

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.model(video)

    def on_train_epoch_start(self) -> None:
        seed, epoch = self.recipe.train.seed, self.current_epoch
        # Seeded from (seed, epoch) alone: a run resumed at this epoch draws what the uninterrupted run drew.
        torch.manual_seed(derive_seed(seed, epoch, DROPOUT_STREAM))
        self.augment_generator.manual_seed(derive_seed(seed, epoch, AUGMENT_STREAM))

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        video, labels = batch
        video, targets = self.augmenter(video, labels, self.augment_generator)
        smoothing = self.recipe.train.label_smoothing
        if smoothing:
            targets = targets * (1 - smoothing) + smoothing / targets.shape[1]
        logits = self.model(video)
        loss = F.cross_entropy(logits, targets)
        if not torch.isfinite(loss):
            raise TrainingError(
                f"The training loss became {loss.item()} in epoch {self.current_epoch + 1}, step {batch_idx + 1}; "
                f"the run stopped and keeps its checkpoints from the epochs before. Lower optim.lr (now "
                f"{self.recipe.optim.lr:g}) or set optim.grad_clip, and train again"
            )
        self.train_metrics.update(logits, labels)
        self.log("train/loss", loss, on_step=False, on_epoch=True, sync_dist=True, batch_size=labels.numel())
        return loss

    def on_train_epoch_end(self) -> None:
        summary = scalars(self.train_metrics.compute())
        self.train_metrics.reset()
        # An undefined figure (AUC of a one-class batch set) is left out, not logged as a number.
        self.log_dict({f"train/{k}": v for k, v in summary.items() if k != "loss" and v is not None}, sync_dist=True)
        self.log("lr", self.optimizers().param_groups[0]["lr"])

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        video, labels = batch
        self.val_metrics.update(self.model(video), labels)

    def on_validation_epoch_end(self) -> None:
        self.last_val = self.val_metrics.compute()
        self.val_metrics.reset()
        self.log_dict({f"val/{k}": v for k, v in scalars(self.last_val).items() if v is not None}, prog_bar=True)

    def configure_optimizers(self) -> dict[str, Any]:
        return optimizer_and_schedule(self.recipe, self.model, self.steps_per_epoch)


def optimizer_and_schedule(recipe: Recipe, model: torch.nn.Module, steps_per_epoch: int) -> dict[str, Any]:
    """The recipe's optimiser over `model`'s trainable parameters, its schedule stepped per batch."""
    optim = recipe.optim
    cls = torch.optim.AdamW if optim.optimizer == "adamw" else torch.optim.Adam
    # fused: one kernel for all parameters instead of a dozen small ops per tensor;
    # the same update rule, deterministic on CPU (benchmarks/throughput.py measures it).
    optimizer = cls(parameters_for_decay(model, optim.weight_decay), lr=optim.lr, betas=tuple(optim.betas), fused=True)
    schedule = lr_multiplier(optim, steps_per_epoch, recipe.train.epochs)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def parameters_for_decay(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on matrices and kernels only, not on biases, norms, tokens or positions."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:  # frozen for fine-tuning (train.freeze_spatial)
            continue
        is_matrix = parameter.ndim >= 2 and "pos_embedding" not in name and "cls" not in name and "mask_token" not in name
        (decay if is_matrix else no_decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
