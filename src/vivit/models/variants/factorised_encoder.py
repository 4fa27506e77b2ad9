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
        frames = pool(self.spatial(tokens), self.config.pooling).unflatten(0, tokens.shape[:2])  # (B, nt, D)
        if self.temporal_norm is None:
            return frames.mean(dim=1)
        return pool(self.temporal(frames), self.config.pooling)

    def encode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Each token's spatial output plus the temporal encoder's output at its frame: the
        spatial encoder alone never sees another frame, the temporal one never a single token."""
        x = self.spatial(tokens)  # (B*nt, [1 +] ns, D)
        frames = pool(x, self.config.pooling).unflatten(0, tokens.shape[:2])  # (B, nt, D)
        if self.temporal_norm is not None:
            frames = self.temporal(frames)
            frames = frames[:, 1:] if self.temporal_cls is not None else frames
        per_token = (x[:, 1:] if self.spatial_cls is not None else x).unflatten(0, tokens.shape[:2])  # (B, nt, ns, D)
        return per_token + frames[:, :, None]

    def spatial(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, nt, ns, D) -> (B*nt, [1 +] ns, D): each frame through the spatial encoder on its own."""
        x = tokens.flatten(0, 1)  # (B*nt, ns, D)
        if self.spatial_cls is not None:
            x = prepend(self.spatial_cls, x)
        for block in self.spatial_blocks:
            x = block(x)
        return self.spatial_norm(x)

    def temporal(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, nt, D) frame vectors -> (B, [1 +] nt, D) through the temporal encoder."""
        if self.temporal_cls is not None:
            frames = prepend(self.temporal_cls, frames)
        for block in self.temporal_blocks:
            frames = block(frames)
        return self.temporal_norm(frames)
