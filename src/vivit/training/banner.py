"""What `vivit train` says before its first step: where, what, on what, how fast."""

from __future__ import annotations

import lightning.pytorch as pl
import torch

from vivit.data.types import DatasetBundle
from vivit.hardware import cpu_has_fast_bf16, cpu_model
from vivit.models import MAEConfig, MaskedAutoencoder, ViViT
from vivit.models.layers.masking import num_hidden
from vivit.training.recipe import Recipe
from vivit.training.run_dir import RunDir

PAPER_MODELS = {
    "spatio_temporal": "Model 1",
    "factorised_encoder": "Model 2",
    "factorised_self_attention": "Model 3",
    "factorised_dot_product": "Model 4",
}


def start_banner(
    run: RunDir, recipe: Recipe, model: ViViT | MaskedAutoencoder, bundle: DatasetBundle, trainer: pl.Trainer, resumed: bool
) -> list[str]:
    config = model.config
    parameters = sum(p.numel() for p in model.parameters())
    tokenizer = "x".join(str(s) for s in config.tubelet_size) if config.tokenizer == "tubelet" else "frames"
    sizes = " / ".join(f"{name} {len(split)}" for name, split in bundle.splits.items())
    shape = "x".join(str(s) for s in bundle.input_shape)
    optim = recipe.optim
    classes = "unlabelled (labels are not read)" if recipe.pretrains else f"{bundle.num_classes} classes"
    lines = [
        f"{'resuming' if resumed else 'run directory:'} {run.path}",
        f"model: {recipe.model.get('preset', 'keras-seed')}, {config.variant} ({PAPER_MODELS[config.variant]}), "
        f"{parameters:,} parameters, {model.num_tokens} tokens ({config.tokenizer} {tokenizer}) of {config.embed_dim}",
        f"data: {bundle.name}, {classes}, input {shape}; {sizes}",
        f"training: {recipe.train.epochs} epochs, batch {recipe.data.batch_size}, {optim.optimizer} lr {optim.lr:g} "
        f"({optim.schedule}), on {_device(trainer)}, precision {_precision(recipe, trainer)}",
    ]
    if recipe.mae is not None:
        lines.insert(2, _pretraining(recipe.mae, model.encoder.grid))
    return lines


def _pretraining(mae: MAEConfig, grid: tuple[int, int, int]) -> str:
    nt, nh, nw = grid
    tube = mae.masking == "tube"
    candidates = nh * nw if tube else nt * nh * nw
    visible = (candidates - num_hidden(mae.mask_ratio, candidates)) * (nt if tube else 1)
    return (f"pretraining: {mae.masking} masking of {mae.mask_ratio:.0%}, the encoder sees {visible} of {nt * nh * nw} "
            f"tokens; decoder width {mae.decoder_dim}, depth {mae.decoder_depth}")


def _device(trainer: pl.Trainer) -> str:
    device = trainer.strategy.root_device
    if device.type == "cuda":
        where = torch.cuda.get_device_name(device)
    elif device.type == "cpu":
        threads = torch.get_num_threads()
        where = f"{cpu_model()}, {threads} thread{'s' if threads > 1 else ''}"
    else:
        where = device.type
    processes = trainer.world_size
    return f"{device.type} ({where})" + (f" x {processes} processes" if processes > 1 else "")


def _precision(recipe: Recipe, trainer: pl.Trainer) -> str:
    chosen = str(trainer.precision)
    if recipe.train.precision != "auto":
        return chosen
    if trainer.strategy.root_device.type == "cpu":
        reason = "this CPU has bf16 instructions" if cpu_has_fast_bf16() else "this CPU has no bf16 instructions"
        return f"{chosen} (auto: {reason})"
    return f"{chosen} (auto)"
