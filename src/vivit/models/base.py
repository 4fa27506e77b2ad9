"""What every ViViT variant shares: tokenise, add positions, encode, pool, classify.

A variant differs only in how its encoder lets tokens attend to each other, so each
variant is a small subclass that implements `build_encoder` and `encode`.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod

import torch
from torch import nn

from vivit.errors import ConfigError
from vivit.models.config import ViViTConfig
from vivit.models.layers.attention import SelfAttention
from vivit.models.layers.blocks import TransformerBlock
from vivit.models.layers.conv_stem import ConvStem, build_stem, stem_out_channels
from vivit.models.layers.drop_path import drop_path_schedule
from vivit.models.layers.mlp import Mlp
from vivit.models.layers.pos_embedding import build_pos_embedding
from vivit.models.layers.tokenizers import build_tokenizer


class ViViT(nn.Module, metaclass=ABCMeta):
    """Input (B, C, T, H, W) float video or volume; output (B, num_classes) logits.

    Abstract: `ViViT(config)` raises TypeError; build a variant with `create_model` or its class.
    """

    def __init__(self, config: ViViTConfig) -> None:
        super().__init__()
        self.config = config
        self.stem = build_stem(config.in_channels, config.stem_channels)  # nn.Identity without one
        token_channels = stem_out_channels(config.in_channels, config.stem_channels)
        self.tokenizer = build_tokenizer(
            config.tokenizer, token_channels, config.embed_dim, config.tubelet_size, config.frame_stride, config.padding
        )
        self.grid = self.tokenizer.grid(config.input_size)  # (nt, nh, nw) the model is built for
        self.pos_embedding = build_pos_embedding(config.pos_embedding, self.grid, config.embed_dim)
        self.pos_dropout = nn.Dropout(config.dropout)
        self.build_encoder(config)
        self.head = nn.Linear(config.embed_dim, config.num_classes)
        self.apply(init_weights)
        if isinstance(self.stem, ConvStem):
            self.stem.reset_parameters()  # init_weights is for the transformer; the stem has its own

    @property
    def num_tokens(self) -> int:
        nt, nh, nw = self.grid
        return nt * nh * nw

    @abstractmethod
    def build_encoder(self, config: ViViTConfig) -> None:
        """Create the variant's transformer layers and final norm."""

    @abstractmethod
    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, nt, ns, D) tokens with positions -> (B, D) pooled representation."""

    @abstractmethod
    def encode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, nt, ns, D) tokens with positions -> (B, nt, ns, D) one output per token, for a
        decoder (models/mae.py). Any ns works: a masked autoencoder passes the visible part of
        each frame. The same layers as `encode`, before pooling."""

    def check_input(self, video: torch.Tensor) -> None:
        if video.ndim != 5 or video.shape[1] != self.config.in_channels:
            raise ConfigError(
                f"expected input of shape (B, C={self.config.in_channels}, T, H, W), got {tuple(video.shape)}"
            )

    def tokens(self, video: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, nt, ns, D) tokens with positional embedding."""
        self.check_input(video)
        grid_tokens = self.pos_embedding(self.tokenizer(self.stem(video)))  # (B, nt, nh, nw, D)
        return self.pos_dropout(grid_tokens.flatten(2, 3))  # (B, nt, ns, D)

    def forward_features(self, video: torch.Tensor) -> torch.Tensor:
        return self.encode(self.tokens(video))

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(video))

    # Building blocks the variants assemble.
    def make_attention(self, config: ViViTConfig, attention_cls: type[SelfAttention] = SelfAttention) -> SelfAttention:
        return attention_cls(
            config.embed_dim, config.num_heads, config.attention_head_dim, config.qkv_bias, config.attn_dropout, config.dropout
        )

    def make_mlp(self, config: ViViTConfig) -> Mlp:
        return Mlp(config.embed_dim, config.mlp_dim, config.mlp_activation, config.mlp_output_activation, config.dropout)

    def make_blocks(
        self, config: ViViTConfig, drop_paths: list[float], attention_cls: type[SelfAttention] = SelfAttention
    ) -> nn.ModuleList:
        return nn.ModuleList(
            TransformerBlock(
                config.embed_dim, self.make_attention(config, attention_cls), self.make_mlp(config), config.norm_eps, p
            )
            for p in drop_paths
        )

    def make_norm(self, config: ViViTConfig) -> nn.LayerNorm:
        return nn.LayerNorm(config.embed_dim, eps=config.norm_eps)

    def drop_paths(self, config: ViViTConfig, num_blocks: int) -> list[float]:
        return drop_path_schedule(config.drop_path_rate, num_blocks)


class TokenGridViViT(ViViT):
    """Variants whose blocks keep tokens as a (B, nt, ns, D) grid (Models 3 and 4); they
    have no place for a class token, so they pool by the mean of all tokens."""

    blocks: nn.ModuleList
    norm: nn.LayerNorm

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.encode_tokens(tokens).mean(dim=(1, 2))

    def encode_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens  # (B, nt, ns, D)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


def class_token(dim: int) -> nn.Parameter:
    # A learned token needs no positional embedding of its own: any position vector
    # added to it would be absorbed into the learned token.
    token = nn.Parameter(torch.zeros(1, 1, dim))
    nn.init.trunc_normal_(token, std=0.02)
    return token


def prepend(token: nn.Parameter, x: torch.Tensor) -> torch.Tensor:
    """(B, N, D) -> (B, 1 + N, D) with the class token first."""
    return torch.cat([token.expand(x.shape[0], -1, -1), x], dim=1)


def pool(x: torch.Tensor, pooling: str) -> torch.Tensor:
    """(B, N, D) -> (B, D): the class token (first) or the mean of all tokens."""
    return x[:, 0] if pooling == "cls" else x.mean(dim=1)


def init_weights(module: nn.Module) -> None:
    # Truncated normal (std 0.02) as in timm and HF ViViT rather than Keras's Glorot
    # uniform: it is what PyTorch ViTs are trained with and tuned for.
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.Conv3d)):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
