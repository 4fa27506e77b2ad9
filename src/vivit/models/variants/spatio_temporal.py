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
        return pool(self.attend_all(tokens), self.config.pooling)

    def encode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.attend_all(tokens)
        if self.cls_token is not None:
            x = x[:, 1:]
        return x.unflatten(1, tokens.shape[1:3])  # (B, nt, ns, D)

    def attend_all(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, nt, ns, D) -> (B, [1 +] nt*ns, D): the normed outputs, the class token first if there is one."""
        x = tokens.flatten(1, 2)  # (B, nt*ns, D)
        if self.cls_token is not None:
            x = prepend(self.cls_token, x)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)
