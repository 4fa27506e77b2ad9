"""Model 3: factorised self-attention. Each block attends within a frame, then across
time at each spatial position, then applies the MLP."""

from __future__ import annotations

from torch import nn

from vivit.models.base import TokenGridViViT
from vivit.models.config import ViViTConfig
from vivit.models.layers.blocks import FactorisedSelfAttentionBlock


class FactorisedSelfAttentionViViT(TokenGridViViT):
    def build_encoder(self, config: ViViTConfig) -> None:
        self.blocks = nn.ModuleList(
            FactorisedSelfAttentionBlock(
                config.embed_dim,
                spatial=self.make_attention(config),
                temporal=self.make_attention(config),
                mlp=self.make_mlp(config),
                norm_eps=config.norm_eps,
                drop_path=p,
            )
            for p in self.drop_paths(config, config.depth)
        )
        self.norm = self.make_norm(config)
