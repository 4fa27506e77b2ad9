"""Initialise a ViViT from an image ViT (timm or Hugging Face state dict), Section 3.4 of the paper.

- Tubelet kernel from the 2D patch kernel, by **filter inflation** (the 2D kernel tiled
  over the t frames of a tubelet and divided by t, so a video of one repeated image gives
  the image's patch embedding) or **central-frame** initialisation (the 2D kernel at the
  central frame, zeros elsewhere). The `frames` tokenizer takes the 2D kernel as it is.
- Positions: the image's (gh, gw) grid resized to our (nh, nw), the same for every
  temporal index; the image's [CLS] position is folded into our class token.
- Transformer blocks copied: Models 1 and 4 into `blocks`, Model 2 into the spatial
  encoder (the temporal encoder keeps its random initialisation), Model 3 into each
  block's spatial attention and MLP with the temporal attention zero-initialised, as the
  paper does, so that each block starts as the image model's block.
- The classifier is left as built (randomly initialised): the classes differ.
An RGB kernel applied to one-channel volumes is summed over its channels (as timm's
`adapt_input_conv`), which is exact for a grey image copied into R, G and B.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F

from vivit.errors import CheckpointError, ConfigError
from vivit.models import ViViT
from vivit.transfer.hf_vivit import LEGACY_NAMES
from vivit.transfer.state import load_tensors

KERNEL_INITS = ("inflate", "central")
# Hugging Face ViT names (after LEGACY_NAMES) -> timm names, our canonical form.
HF_TO_TIMM = (
    (r"^embeddings\.cls_token$", "cls_token"),
    (r"^embeddings\.position_embeddings$", "pos_embed"),
    (r"^embeddings\.patch_embeddings\.projection\.", "patch_embed.proj."),
    (r"^layers\.(\d+)\.layernorm_before\.", r"blocks.\1.norm1."),
    (r"^layers\.(\d+)\.layernorm_after\.", r"blocks.\1.norm2."),
    (r"^layers\.(\d+)\.attention\.o_proj\.", r"blocks.\1.attn.proj."),
    (r"^layers\.(\d+)\.attention\.([qkv])_proj\.", r"blocks.\1.attn.\2."),
    (r"^layers\.(\d+)\.mlp\.", r"blocks.\1.mlp."),
    (r"^layernorm\.", "norm."),
)


def inflate_kernel(kernel: torch.Tensor, frames: int, method: str = "inflate") -> torch.Tensor:
    """(D, C, h, w) 2D patch kernel -> (D, C, frames, h, w) tubelet kernel."""
    if method == "inflate":
        return kernel.unsqueeze(2).repeat(1, 1, frames, 1, 1) / frames
    if method == "central":
        tubelet = kernel.new_zeros(kernel.shape[0], kernel.shape[1], frames, *kernel.shape[2:])
        tubelet[:, :, frames // 2] = kernel
        return tubelet
    raise CheckpointError(f"Unknown kernel initialisation '{method}'; choose one of: {', '.join(KERNEL_INITS)}")


def timm_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A timm-named ViT state dict from a timm or Hugging Face (any generation) one."""
    if "patch_embed.proj.weight" in state:
        return state
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        key = "." + re.sub(r"^vit\.", "", key)
        for pattern, replacement in LEGACY_NAMES:
            key = re.sub(pattern, replacement, key)
        key = key[1:]
        for pattern, replacement in HF_TO_TIMM:
            key = re.sub(pattern, replacement, key)
        renamed[key] = tensor
    for i in sorted({int(m.group(1)) for k in renamed if (m := re.match(r"blocks\.(\d+)\.attn\.q\.", k))}):
        # HF keeps q, k and v apart; timm (and we) fuse them as [q; k; v].
        for kind in ("weight", "bias"):
            parts = [renamed.pop(f"blocks.{i}.attn.{n}.{kind}", None) for n in "qkv"]
            if all(p is not None for p in parts):
                renamed[f"blocks.{i}.attn.qkv.{kind}"] = torch.cat(parts)  # type: ignore[arg-type]
    return renamed


def init_from_image_vit(model: ViViT, path: str | Path, kernel_init: str = "inflate") -> ViViT:
    """Load the image ViT at `path` (file or HF directory) into `model` in place; returns it."""
    stem_channels = model.config.stem_channels
    if stem_channels:  # refused before the image ViT's file is read
        raise ConfigError(
            f"Image ViT {path}: its patch embedding reads pixels, but this model's tokenizer reads a convolutional "
            f"stem's {stem_channels[-1]} channels; set model.stem_channels=[] to start from an image ViT"
        )
    vit = timm_names(load_tensors(path))
    if "patch_embed.proj.weight" not in vit or "pos_embed" not in vit:
        raise CheckpointError(f"{path} is not an image ViT state dict (no patch embedding or positions found)")
    state = {**_embedding_state(model, vit, kernel_init, path), **_encoder_state(model, vit, path)}
    own = model.state_dict()
    for key, tensor in state.items():
        if tensor.shape != own[key].shape:
            raise CheckpointError(
                f"Image ViT {path}: {key} has shape {tuple(tensor.shape)} there but {tuple(own[key].shape)} in the "
                f"model; match embed_dim, mlp_dim and heads x head_dim to the image ViT"
            )
    model.load_state_dict(state, strict=False)
    return model


def _embedding_state(model: ViViT, vit: dict[str, torch.Tensor], kernel_init: str, path: str | Path) -> dict[str, torch.Tensor]:
    config = model.config
    kernel = _adapt_channels(vit["patch_embed.proj.weight"], config.in_channels, path)  # (D, C, h, w)
    if tuple(kernel.shape[2:]) != config.tubelet_size[1:]:
        raise CheckpointError(
            f"Image ViT {path} has {kernel.shape[2]}x{kernel.shape[3]} patches but the model's tubelet_size is "
            f"{config.tubelet_size}; set tubelet_size=(t, {kernel.shape[2]}, {kernel.shape[3]})"
        )
    if config.tokenizer == "tubelet":
        kernel = inflate_kernel(kernel, config.tubelet_size[0], kernel_init)
    state = {"tokenizer.projection.weight": kernel, "tokenizer.projection.bias": vit["patch_embed.proj.bias"]}
    positions, cls_position = _split_positions(vit["pos_embed"], path)  # (1, gh, gw, D), (1, 1, D) or None
    nt, nh, nw = model.grid
    spatial = F.interpolate(positions.permute(0, 3, 1, 2), size=(nh, nw), mode="bicubic", align_corners=False)
    spatial = spatial.permute(0, 2, 3, 1)  # (1, nh, nw, D)
    if config.pos_embedding == "learned":
        state["pos_embedding.table"] = spatial.unsqueeze(1).expand(1, nt, nh, nw, -1).clone()
    elif config.pos_embedding == "separable":
        state["pos_embedding.spatial"] = spatial
        state["pos_embedding.temporal"] = torch.zeros_like(model.pos_embedding.temporal)
    cls_name = {"spatio_temporal": "cls_token", "factorised_encoder": "spatial_cls"}.get(config.variant)
    if cls_name and config.pooling == "cls" and "cls_token" in vit:
        token = vit["cls_token"]
        state[cls_name] = token + cls_position if cls_position is not None else token
    return state


def _split_positions(pos_embed: torch.Tensor, path: str | Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(1, [1 +] g*g, D) -> the (1, g, g, D) grid and the class token's position (or None)."""
    count, dim = pos_embed.shape[1], pos_embed.shape[2]
    for prefix in (1, 0):
        side = round((count - prefix) ** 0.5)
        if side * side == count - prefix:
            cls_position = pos_embed[:, :1] if prefix else None
            return pos_embed[:, prefix:].reshape(1, side, side, dim), cls_position
    raise CheckpointError(f"Image ViT {path}: pos_embed holds {count} positions, not a square grid (with or without [CLS])")


def _adapt_channels(kernel: torch.Tensor, channels: int, path: str | Path) -> torch.Tensor:
    if kernel.shape[1] == channels:
        return kernel
    if channels == 1:
        return kernel.sum(dim=1, keepdim=True)
    raise CheckpointError(f"Image ViT {path} takes {kernel.shape[1]} channels but the model takes {channels}")


def _encoder_state(model: ViViT, vit: dict[str, torch.Tensor], path: str | Path) -> dict[str, torch.Tensor]:
    config = model.config
    depth = len({k.split(".")[1] for k in vit if k.startswith("blocks.")})
    if depth != config.depth:
        raise CheckpointError(f"Image ViT {path} has {depth} blocks but the model's depth is {config.depth}; set depth={depth}")
    prefix, norm = {"factorised_encoder": ("spatial_blocks", "spatial_norm")}.get(config.variant, ("blocks", "norm"))
    state = {f"{norm}.{kind}": vit[f"norm.{kind}"] for kind in ("weight", "bias") if f"norm.{kind}" in vit}
    own = model.state_dict()
    for key, tensor in vit.items():
        if not key.startswith("blocks."):
            continue
        target = prefix + key[len("blocks"):]
        if config.variant == "factorised_self_attention":
            target = target.replace(".norm1.", ".norm_spatial.").replace(".attn.", ".spatial_attn.").replace(".norm2.", ".norm_mlp.")
        if target not in own:
            raise CheckpointError(f"Image ViT {path}: {key} has no counterpart ({target}) in the model")
        state[target] = tensor
    if config.variant == "factorised_self_attention":
        # Zero temporal attention: each block's temporal branch adds nothing at the start.
        state.update({k: torch.zeros_like(v) for k, v in own.items() if ".temporal_attn." in k})
    return state
