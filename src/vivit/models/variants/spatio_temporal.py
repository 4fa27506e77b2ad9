"""Model 1: spatio-temporal attention. All nt*ns tokens attend to all tokens."""

from __future__ import annotations

import torch

from vivit.models.base import ViViT, class_token, pool, prepend
from vivit.models.config import ViViTConfig


class SpatioTemporalViViT(ViViT):
    def build_encoder(self, config: ViViTConfig) -> None:
        self.cls_token = class_token(config.embed_dim) if config.pooling == "cls" else None
        self.blocks = self.make_blocks(config, self.drop_paths(config, config.depth))
        self.norm = self.make_norm(config)

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens.flatten(1, 2)  # (B, nt*ns, D)
        if self.cls_token is not None:
            x = prepend(self.cls_token, x)
        for block in self.blocks:
            x = block(x)
        return pool(self.norm(x), self.config.pooling)
