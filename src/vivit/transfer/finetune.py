"""Start training from pretrained weights, and freeze what fine-tuning leaves alone."""

from __future__ import annotations

from pathlib import Path

import torch.nn.functional as F

from vivit.checkpoints import WEIGHTS, is_pretraining_checkpoint, load_weights, read_checkpoint_info, resolve_checkpoint
from vivit.errors import CheckpointError, ConfigError
from vivit.models import ViViT, ViViTConfig
from vivit.transfer.hf_vivit import is_hf_vivit_dir, load_hf_vivit
from vivit.transfer.image_vit import init_from_image_vit


def init_from_pretrained(model: ViViT, path: str | Path, kernel_init: str = "inflate") -> str:
    """Load a `vivit pretrain` run (its directory, checkpoint or weights file), an HF ViViT
    directory or an image ViT (file or HF directory) into `model`.

    Returns which kind it was. The classifier keeps its fresh initialisation: the
    pretrained classes (or a pretraining's none) are not the ones being trained.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(
            f"Initial weights {path} do not exist; give a vivit pretrain run, an HF ViViT directory or an image ViT file"
        )
    pretraining = pretraining_checkpoint(path)
    if pretraining is not None:
        init_from_mae(model, pretraining)
        return "vivit-pretrain"
    if is_hf_vivit_dir(path):
        _load_matching(model, load_hf_vivit(path), path)
        return "hf-vivit"
    init_from_image_vit(model, path, kernel_init)
    return "image-vit"


def _load_matching(model: ViViT, source: ViViT, path: Path) -> None:
    """Every weight but the classifier, positions resized per axis when the grids differ."""
    if model.config.variant != "spatio_temporal" or model.config.pooling != "cls":
        raise ConfigError(
            f"{path} is an HF ViViT (Model 1 with a class token); train it with model.variant=spatio_temporal model.pooling=cls"
        )
    _check_settings_without_weights(model, source, path)
    own = model.state_dict()
    state = {k: v for k, v in source.state_dict().items() if not k.startswith("head.")}
    table = state["pos_embedding.table"]  # (1, nt, nh, nw, D)
    if model.config.pos_embedding != "learned":
        raise ConfigError(f"{path} has learned positions; train it with model.pos_embedding=learned")
    if table.shape != own["pos_embedding.table"].shape:
        resized = F.interpolate(table.movedim(-1, 1), size=model.grid, mode="trilinear", align_corners=False)
        state["pos_embedding.table"] = resized.movedim(1, -1)
    for key, tensor in state.items():
        if key not in own or own[key].shape != tensor.shape:
            shape = tuple(own[key].shape) if key in own else "nothing"
            raise CheckpointError(
                f"HF ViViT {path}: {key} has shape {tuple(tensor.shape)} but the model has {shape}; "
                f"use the checkpoint's architecture (embed_dim, depth, heads, mlp_dim, tubelet_size, in_channels)"
            )
    model.load_state_dict(state, strict=False)


def pretraining_checkpoint(path: Path) -> Path | None:
    """The checkpoint directory of a `vivit pretrain` run that `path` names (the run, the checkpoint,
    or its model.safetensors), or None when `path` is something else."""
    candidate = path.parent if path.is_file() and path.name == WEIGHTS else path
    try:
        directory = resolve_checkpoint(candidate)
        return directory if is_pretraining_checkpoint(read_checkpoint_info(directory)) else None
    except CheckpointError:  # not a vivit checkpoint at all: an HF or image ViT, tried next
        return None


# What may differ between the pretrained encoder and the fine-tuned model: the classes, the
# input size (when it gives the same token grid) and the regularisation of fine-tuning.
FREE_SETTINGS = ("num_classes", "input_size", "dropout", "attn_dropout", "drop_path_rate")
ENCODER_PREFIX = "encoder."


def init_from_mae(model: ViViT, directory: Path) -> None:
    """Every tensor of the pretrained encoder into `model`; the decoder and the mask token are
    left behind, and `model`'s classifier keeps its fresh initialisation."""
    pretrained = ViViTConfig.from_dict(read_checkpoint_info(directory)["model"])
    for name in sorted(set(pretrained.to_dict()) - set(FREE_SETTINGS)):
        theirs, ours = getattr(pretrained, name), getattr(model.config, name)
        if theirs != ours:
            shown = list(theirs) if isinstance(theirs, tuple) else theirs
            raise ConfigError(
                f"{directory} was pretrained with model.{name}={shown} but the model to fine-tune has {name}="
                f"{list(ours) if isinstance(ours, tuple) else ours}; fine-tune with model.{name}={shown}"
            )
    state = {k.removeprefix(ENCODER_PREFIX): v for k, v in load_weights(directory).items() if k.startswith(ENCODER_PREFIX)}
    own = {k: tuple(v.shape) for k, v in model.state_dict().items() if not k.startswith("head.")}
    given = {k: tuple(v.shape) for k, v in state.items()}
    if set(own) != set(given):
        key = sorted(set(own) ^ set(given))[0]
        where = "the pretrained encoder but not the model" if key in given else "the model but not the pretrained encoder"
        raise CheckpointError(f"Pretrained encoder {directory} does not fit the model: {key} is in {where}; "
                              f"the checkpoint is damaged or from another version of vivit: pretrain again")
    if own != given:
        key = sorted(k for k in own if own[k] != given[k])[0]
        raise CheckpointError(
            f"Pretrained encoder {directory} does not fit the model: {key} has shape {given[key]} "
            f"there and {own[key]} here; fine-tune at the input size it was pretrained on"
        )
    missing, _ = model.load_state_dict(state, strict=False)
    assert all(key.startswith("head.") for key in missing), missing


# Settings that change what the weights compute but not their shapes: a mismatch would load
# without complaint and quietly fine-tune a different function.
SETTINGS_WITHOUT_WEIGHTS = ("mlp_activation", "mlp_output_activation", "norm_eps")


def _check_settings_without_weights(model: ViViT, source: ViViT, path: Path) -> None:
    for name in SETTINGS_WITHOUT_WEIGHTS:
        ours, theirs = getattr(model.config, name), getattr(source.config, name)
        if ours != theirs:
            raise ConfigError(f"HF ViViT {path} was trained with {name}={theirs} but the model has {ours}; train it with model.{name}={theirs}")


def freeze_spatial_encoder(model: ViViT) -> list[str]:
    """Model 2: freeze stem, tokenizer, positions and the spatial transformer; train the temporal
    transformer and the head only. Returns the frozen parameter names."""
    if model.config.variant != "factorised_encoder":
        raise ConfigError(
            f"train.freeze_spatial needs variant 'factorised_encoder' (Model 2), which has a spatial encoder; "
            f"got '{model.config.variant}'"
        )
    spatial = ("stem.", "tokenizer.", "pos_embedding.", "spatial_cls", "spatial_blocks.", "spatial_norm.")
    frozen = []
    for name, parameter in model.named_parameters():
        if name.startswith(spatial):
            parameter.requires_grad_(False)
            frozen.append(name)
    return frozen


__all__ = ["freeze_spatial_encoder", "init_from_mae", "init_from_pretrained"]
