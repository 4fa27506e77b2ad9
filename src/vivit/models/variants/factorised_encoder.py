"""Model 2: factorised encoder. A spatial transformer turns each frame's tokens into one
vector (its class token or mean); a temporal transformer then attends across frames."""

from __future__ import annotations

import torch

from vivit.models.base import ViViT, class_token, pool, prepend
from vivit.models.config import ViViTConfig


class FactorisedEncoderViViT(ViViT):
    def build_encoder(self, config: ViViTConfig) -> None:
        use_cls = config.pooling == "cls"
        drop_paths = self.drop_paths(config, config.depth + config.temporal_depth)
        self.spatial_cls = class_token(config.embed_dim) if use_cls else None
        self.spatial_blocks = self.make_blocks(config, drop_paths[: config.depth])
        self.spatial_norm = self.make_norm(config)
        # With no temporal layers the frame vectors are averaged: one frame then gives a plain ViT.
        has_temporal = config.temporal_depth > 0
        self.temporal_cls = class_token(config.embed_dim) if use_cls and has_temporal else None
        self.temporal_blocks = self.make_blocks(config, drop_paths[config.depth :])
        self.temporal_norm = self.make_norm(config) if has_temporal else None

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        b, nt = tokens.shape[:2]
        x = tokens.flatten(0, 1)  # (B*nt, ns, D): each frame on its own
        if self.spatial_cls is not None:
            x = prepend(self.spatial_cls, x)
        for block in self.spatial_blocks:
            x = block(x)
        frames = pool(self.spatial_norm(x), self.config.pooling).unflatten(0, (b, nt))  # (B, nt, D)
        if self.temporal_norm is None:
            return frames.mean(dim=1)
        if self.temporal_cls is not None:
            frames = prepend(self.temporal_cls, frames)
        for block in self.temporal_blocks:
            frames = block(frames)
        return pool(self.temporal_norm(frames), self.config.pooling)
