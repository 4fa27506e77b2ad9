"""Model 4: factorised dot-product attention. Within each attention layer half the heads
attend over space and half over time; the block is otherwise a plain transformer block."""

from __future__ import annotations

import torch

from vivit.models.base import ViViT
from vivit.models.config import ViViTConfig
from vivit.models.layers.attention import FactorisedDotProductAttention


class FactorisedDotProductViViT(ViViT):
    def build_encoder(self, config: ViViTConfig) -> None:
        self.blocks = self.make_blocks(config, self.drop_paths(config, config.depth), FactorisedDotProductAttention)
        self.norm = self.make_norm(config)

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens  # (B, nt, ns, D)
        for block in self.blocks:
            x = block(x)
        return self.norm(x).mean(dim=(1, 2))
