"""Named model presets and the factory that builds them.

Every preset except `keras-seed` covers every voxel of its input (the tubelet size
divides the input, or padding is 'same'); `keras-seed` is the Keras example exactly,
VALID tubelets and all.
"""

from __future__ import annotations

from typing import Any

from vivit.errors import ConfigError
from vivit.models.base import ViViT
from vivit.models.config import ViViTConfig
from vivit.models.variants import build_model

PRESETS: dict[str, dict[str, Any]] = {
    # The Keras example "Video Classification with a Vision Transformer", exactly.
    "keras-seed": dict(
        num_classes=11,
        in_channels=1,
        input_size=(28, 28, 28),
        tubelet_size=(8, 8, 8),
        padding="valid",
        embed_dim=128,
        depth=8,
        num_heads=8,
        head_dim=16,
        mlp_dim=512,
        mlp_activation="gelu_tanh",  # keras.ops.gelu's default
        mlp_output_activation=True,
        norm_eps=1e-6,
        pos_embedding="learned",
        pooling="mean",
        attn_dropout=0.1,
    ),
    # 28^3 volumes, 4^3 tubelets: 343 tokens that see every voxel.
    "vivit-tiny-28": dict(
        num_classes=11, in_channels=1, input_size=(28, 28, 28), tubelet_size=(4, 4, 4),
        embed_dim=192, depth=6, num_heads=6, mlp_dim=768, drop_path_rate=0.1,
    ),
    "vivit-small-28": dict(
        num_classes=11, in_channels=1, input_size=(28, 28, 28), tubelet_size=(4, 4, 4),
        embed_dim=384, depth=8, num_heads=6, mlp_dim=1536, drop_path_rate=0.1,
    ),
    # 64^3 volumes: 8^3 tubelets give 512 tokens.
    "vivit-tiny-64": dict(
        num_classes=2, in_channels=1, input_size=(64, 64, 64), tubelet_size=(8, 8, 8),
        embed_dim=192, depth=6, num_heads=6, mlp_dim=768, drop_path_rate=0.1,
    ),
    "vivit-small-64": dict(
        num_classes=2, in_channels=1, input_size=(64, 64, 64), tubelet_size=(8, 8, 8),
        embed_dim=384, depth=8, num_heads=6, mlp_dim=1536, drop_path_rate=0.1,
    ),
    # RGB video: 16 frames of 112^2, 2x16x16 tubelets: 8 x 7 x 7 = 392 tokens.
    "vivit-tiny-video": dict(
        num_classes=400, in_channels=3, input_size=(16, 112, 112), tubelet_size=(2, 16, 16),
        embed_dim=192, depth=6, num_heads=6, mlp_dim=768, pos_embedding="separable", drop_path_rate=0.1,
    ),
    # The paper's ViViT-B/16x2 on 32 frames of 224^2 (16 x 14 x 14 = 3136 tokens).
    "vivit-base-video": dict(
        num_classes=400, in_channels=3, input_size=(32, 224, 224), tubelet_size=(2, 16, 16),
        embed_dim=768, depth=12, num_heads=12, mlp_dim=3072, pooling="cls", temporal_depth=4,
        dropout=0.0, drop_path_rate=0.1,
    ),
}


def list_models() -> list[str]:
    """Names accepted by `create_model`, e.g. `keras-seed`, `vivit-tiny-28`, `vivit-base-video`."""
    return list(PRESETS)


def preset_config(name: str, **overrides: Any) -> ViViTConfig:
    """The config of preset `name` with `overrides` (any ViViTConfig field) applied."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ConfigError(f"Unknown model preset '{name}'; choose one of: {', '.join(PRESETS)}")
    return ViViTConfig.from_dict({**PRESETS[name], **overrides})


def create_model(name: str = "keras-seed", **overrides: Any) -> ViViT:
    """Build preset `name` with `overrides`, randomly initialised.

    Any `ViViTConfig` field can be overridden, e.g.
    ``create_model("vivit-tiny-28", variant="factorised_encoder", num_classes=2)``. The model
    takes (B, C, T, H, W) floats in [0, 1] and returns (B, num_classes) logits. Presets:
    `list_models()`; trained weights: `load_model`.
    """
    return build_model(preset_config(name, **overrides))
