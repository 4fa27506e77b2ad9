"""Model 4: factorised dot-product attention. Within each attention layer half the heads
attend over space and half over time; the block is otherwise a plain transformer block."""

from __future__ import annotations

from vivit.models.base import TokenGridViViT
from vivit.models.config import ViViTConfig
from vivit.models.layers.attention import FactorisedDotProductAttention


class FactorisedDotProductViViT(TokenGridViViT):
    def build_encoder(self, config: ViViTConfig) -> None:
        self.blocks = self.make_blocks(config, self.drop_paths(config, config.depth), FactorisedDotProductAttention)
        self.norm = self.make_norm(config)
