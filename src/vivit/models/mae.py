"""Masked-autoencoder pretraining of any ViViT variant (VideoMAE, Tong et al. 2022, arXiv 2203.12602).

A ViViT encoder sees only the visible tokens of a masked token grid; a light transformer
decoder gets the encoder's outputs back at their places, a learned mask token everywhere
else, and predicts the pixels of every token; the loss is the mean squared error of the
masked tokens only, against each tubelet's own normalised pixels.

How masking meets each factorisation (`layers/masking.py`): tube masking hides the same
spatial positions at every time step, so the visible tokens are a smaller (nt, ns_visible)
grid. Model 1 attends over all of them; Model 2's spatial encoder sees each frame's visible
tokens and its temporal encoder the frames; Model 3's spatial and temporal attentions and
Model 4's split heads run on the smaller grid as they do on the full one. Random masking
breaks the grid and is only defined for Model 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from vivit.errors import ConfigError
from vivit.models.base import ViViT, init_weights
from vivit.models.config import ViViTConfig, check_choice, check_known_settings
from vivit.models.layers.blocks import TransformerBlock
from vivit.models.layers.masking import MASKINGS, TokenMask, draw_mask
from vivit.models.layers.attention import SelfAttention
from vivit.models.layers.mlp import Mlp
from vivit.models.layers.pos_embedding import SinusoidalPositionalEmbedding
from vivit.models.layers.tokenizers import same_padding
from vivit.validation import check_fields

# Per-tubelet normalisation of the targets (MAE's norm_pix_loss): the variance's floor.
TARGET_EPS = 1e-6


@dataclass(frozen=True)
class MAEConfig:
    """The pretraining settings: how much and how to mask, and the decoder's size."""

    mask_ratio: float = 0.9
    masking: str = "tube"
    decoder_dim: int = 64
    decoder_depth: int = 2
    decoder_heads: int = 4
    # Predict each tubelet's pixels normalised by its own mean and std (VideoMAE's default).
    normalise_targets: bool = True

    def __post_init__(self) -> None:
        # Named as recipe keys (mae.*), where these settings are usually written.
        check_fields(self, "mae.")
        check_choice("mae.masking", self.masking, MASKINGS)
        if not 0.0 <= self.mask_ratio < 1.0:
            raise ConfigError(f"mae.mask_ratio must be in [0, 1), got {self.mask_ratio}: a ratio of 1 leaves the encoder nothing to see")
        for name in ("decoder_dim", "decoder_depth", "decoder_heads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"mae.{name} must be at least 1, got {getattr(self, name)}")
        if self.decoder_dim % self.decoder_heads or self.decoder_dim < 6:
            raise ConfigError(
                f"mae.decoder_dim {self.decoder_dim} must be a multiple of mae.decoder_heads ({self.decoder_heads}) "
                f"and at least 6 (its sin/cos positions take a third per axis)"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MAEConfig:
        check_known_settings(cls, data, "mae")
        return cls(**data)


def check_masking_fits(masking: str, variant: str) -> None:
    if masking == "random" and variant != "spatio_temporal":
        raise ConfigError(
            f"masking 'random' leaves a different number of tokens in each frame, which breaks the "
            f"(time x space) grid that variant '{variant}' attends over; use mae.masking=tube"
        )


class MAEOutput(NamedTuple):
    loss: torch.Tensor  # () mean squared error over the masked tokens
    prediction: torch.Tensor  # (B, nt, ns, P) every token's predicted pixels
    target: torch.Tensor  # (B, nt, ns, P)
    hidden: torch.Tensor  # (B, nt, ns) bool, True where masked


def tubelet_pixels(video: torch.Tensor, config: ViViTConfig) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, nt, ns, P): the voxels each token of `config`'s tokenizer reads,
    P = C*t*h*w ordered (t, h, w, C). A stem has stride 1, so they are the input's voxels."""
    t, h, w = config.tubelet_size
    if config.tokenizer == "frames":
        video = video[:, :, :: config.frame_stride]
    if config.padding == "same":
        pads = [same_padding(n, p) for n, p in zip(video.shape[2:], (t, h, w))]
        video = F.pad(video, [v for pair in reversed(pads) for v in pair])  # F.pad lists W first
    b, c = video.shape[:2]
    nt, nh, nw = (n // k for n, k in zip(video.shape[2:], (t, h, w)))
    video = video[:, :, : nt * t, : nh * h, : nw * w]
    tubes = video.reshape(b, c, nt, t, nh, h, nw, w).permute(0, 2, 4, 6, 3, 5, 7, 1)  # (B, nt, nh, nw, t, h, w, C)
    return tubes.reshape(b, nt, nh * nw, t * h * w * c)


def normalised(pixels: torch.Tensor, channels: int) -> torch.Tensor:
    """Each tubelet's pixels minus their mean over its voxels, over their std, per channel: MAE's
    form, (x - mean) / sqrt(var + 1e-6) with the biased variance. VideoMAE divides by the unbiased
    std + 1e-6 instead; over the 343 voxels of a 7³ tubelet the two differ by 0.15%."""
    per_channel = pixels.unflatten(-1, (-1, channels))  # (..., t*h*w, C)
    mean = per_channel.mean(dim=-2, keepdim=True)
    var = per_channel.var(dim=-2, unbiased=False, keepdim=True)
    return ((per_channel - mean) / (var + TARGET_EPS).sqrt()).flatten(-2)


def masked_reconstruction_loss(prediction: torch.Tensor, target: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the hidden tokens only: visible ones are not asked to be reconstructed."""
    per_token = (prediction - target).square().mean(dim=-1)  # (B, nt, ns)
    weights = hidden.to(per_token.dtype)
    return (per_token * weights).sum() / weights.sum().clamp(min=1)


class MAEDecoder(nn.Module):
    """Encoder outputs back at their places, a learned mask token at the hidden ones, fixed
    sin/cos positions over the whole grid (VideoMAE's decoder), transformer blocks, pixels out."""

    def __init__(self, encoder_dim: int, pixels: int, config: MAEConfig, norm_eps: float) -> None:
        super().__init__()
        dim = config.decoder_dim
        self.embed = nn.Linear(encoder_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(dim))
        self.pos_embedding = SinusoidalPositionalEmbedding(dim)
        head_dim = dim // config.decoder_heads
        self.blocks = nn.ModuleList(
            TransformerBlock(dim, SelfAttention(dim, config.decoder_heads, head_dim), Mlp(dim, 4 * dim), norm_eps, 0.0)
            for _ in range(config.decoder_depth)
        )
        self.norm = nn.LayerNorm(dim, eps=norm_eps)
        self.predict = nn.Linear(dim, pixels)
        self.apply(init_weights)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, visible: torch.Tensor, mask: TokenMask, grid: tuple[int, int, int]) -> torch.Tensor:
        """Visible encoder outputs (B, nt, k, D) or (B, 1, k, D) -> (B, nt, ns, P) predicted pixels."""
        x = mask.scatter(self.embed(visible), self.mask_token)  # (B, nt*ns, D_dec)
        x = self.pos_embedding(x.unflatten(1, grid)).flatten(1, 3)  # positions of the (nt, nh, nw) grid
        for block in self.blocks:
            x = block(x)
        return self.predict(self.norm(x)).unflatten(1, (grid[0], grid[1] * grid[2]))


class MaskedAutoencoder(nn.Module):
    """`encoder` (any ViViT) + `MAEDecoder`. Input (B, C, T, H, W) in [0, 1]; `forward` masks,
    encodes the visible tokens, reconstructs every token and returns the masked-token loss.

    The encoder's classifier takes no part (it becomes an identity); `vivit train --init`
    gives the fine-tuned model a fresh one. Weights: `encoder.*` and `decoder.*`.
    """

    def __init__(self, encoder: ViViT, config: MAEConfig) -> None:
        super().__init__()
        check_masking_fits(config.masking, encoder.config.variant)
        self.mae_config = config
        self.encoder = encoder
        self.encoder.head = nn.Identity()
        vivit = encoder.config
        pixels = vivit.in_channels * vivit.tubelet_size[0] * vivit.tubelet_size[1] * vivit.tubelet_size[2]
        self.decoder = MAEDecoder(vivit.embed_dim, pixels, config, vivit.norm_eps)

    @property
    def config(self) -> ViViTConfig:
        """The encoder's config: what a checkpoint of this model records as its `model`."""
        return self.encoder.config

    @property
    def num_tokens(self) -> int:
        return self.encoder.num_tokens

    def draw_mask(self, video: torch.Tensor, generator: torch.Generator | None = None) -> TokenMask:
        nt, nh, nw = self.encoder.tokenizer.grid(tuple(video.shape[2:]))
        config = self.mae_config
        return draw_mask(config.masking, config.mask_ratio, video.shape[0], (nt, nh * nw), generator).to(video.device)

    def encode_visible(self, video: torch.Tensor, mask: TokenMask) -> torch.Tensor:
        """(B, C, T, H, W) -> the encoder's outputs for the visible tokens, (B, nt, k, D) (tube) or (B, 1, k, D)."""
        return self.encoder.encode_tokens(mask.gather(self.encoder.tokens(video)))

    def targets(self, video: torch.Tensor) -> torch.Tensor:
        pixels = tubelet_pixels(video, self.config)
        return normalised(pixels, self.config.in_channels) if self.mae_config.normalise_targets else pixels

    def forward(self, video: torch.Tensor, mask: TokenMask | None = None, generator: torch.Generator | None = None) -> MAEOutput:
        mask = mask if mask is not None else self.draw_mask(video, generator)
        grid = self.encoder.tokenizer.grid(tuple(video.shape[2:]))
        prediction = self.decoder(self.encode_visible(video, mask), mask, grid)
        target = self.targets(video)
        hidden = mask.hidden
        return MAEOutput(masked_reconstruction_loss(prediction, target, hidden), prediction, target, hidden)

    def reconstruct(self, video: torch.Tensor, prediction: torch.Tensor) -> torch.Tensor:
        """Predicted (B, nt, ns, P) -> voxels (B, C, T', H', W') of the token grid, each tubelet's
        normalisation undone with the true tubelet's mean and std (as VideoMAE shows its samples)."""
        pixels = tubelet_pixels(video, self.config)
        channels = self.config.in_channels
        if self.mae_config.normalise_targets:
            true = pixels.unflatten(-1, (-1, channels))
            mean, std = true.mean(-2, keepdim=True), (true.var(-2, unbiased=False, keepdim=True) + TARGET_EPS).sqrt()
            prediction = (prediction.unflatten(-1, (-1, channels)) * std + mean).flatten(-2)
        return pixels_to_voxels(prediction, self.config, self.encoder.tokenizer.grid(tuple(video.shape[2:])))


def pixels_to_voxels(pixels: torch.Tensor, config: ViViTConfig, grid: tuple[int, int, int]) -> torch.Tensor:
    """(B, nt, ns, P) -> (B, C, nt*t, nh*h, nw*w): the inverse of `tubelet_pixels`' rearrangement."""
    t, h, w = config.tubelet_size
    nt, nh, nw = grid
    b, c = pixels.shape[0], config.in_channels
    tubes = pixels.reshape(b, nt, nh, nw, t, h, w, c).permute(0, 7, 1, 4, 2, 5, 3, 6)  # (B, C, nt, t, nh, h, nw, w)
    return tubes.reshape(b, c, nt * t, nh * h, nw * w)
