"""ViViT models (Arnab et al., 2021). Depends on torch alone: nothing of data or training."""

from vivit.models.base import ViViT
from vivit.models.mae import MAEConfig, MaskedAutoencoder
from vivit.models.config import POOLINGS, POS_EMBEDDINGS, TOKENIZERS, VARIANTS, ViViTConfig
from vivit.models.presets import PRESETS, create_model, list_models, preset_config
from vivit.models.variants import build_model

__all__ = [
    "MAEConfig",
    "MaskedAutoencoder",
    "POOLINGS",
    "POS_EMBEDDINGS",
    "PRESETS",
    "TOKENIZERS",
    "VARIANTS",
    "ViViT",
    "ViViTConfig",
    "build_model",
    "create_model",
    "list_models",
    "preset_config",
]
