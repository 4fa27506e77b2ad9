"""Small configurations that run fast on a CPU yet exercise every code path."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from vivit.models import VARIANTS, ViViT, ViViTConfig, build_model

# Non-cubic on purpose (T != H != W), and W not a multiple of the patch so 'same' must pad.
INPUT_SIZE = (8, 12, 10)

TOKENIZER_SETTINGS: dict[str, dict[str, Any]] = {
    "tubelet": dict(tokenizer="tubelet", tubelet_size=(2, 4, 4)),
    "frames": dict(tokenizer="frames", tubelet_size=(1, 4, 4), frame_stride=2),
}


def small_config(variant: str = "spatio_temporal", tokenizer: str = "tubelet", **overrides: Any) -> ViViTConfig:
    settings: dict[str, Any] = dict(
        num_classes=5,
        in_channels=2,
        input_size=INPUT_SIZE,
        variant=variant,
        padding="same",
        embed_dim=24,
        depth=2,
        temporal_depth=1,
        num_heads=4,
        mlp_dim=48,
        **TOKENIZER_SETTINGS[tokenizer],
    )
    settings.update(overrides)
    return ViViTConfig(**settings)


def small_model(variant: str = "spatio_temporal", tokenizer: str = "tubelet", **overrides: Any) -> ViViT:
    torch.manual_seed(0)
    return build_model(small_config(variant, tokenizer, **overrides))


@pytest.fixture(params=VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=list(TOKENIZER_SETTINGS))
def tokenizer(request: pytest.FixtureRequest) -> str:
    return request.param
