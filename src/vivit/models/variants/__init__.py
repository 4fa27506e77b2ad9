"""The four ViViT models of the paper (Section 3.3), one small class each."""

from __future__ import annotations

from vivit.models.base import ViViT
from vivit.models.config import ViViTConfig
from vivit.models.variants.factorised_dot_product import FactorisedDotProductViViT
from vivit.models.variants.factorised_encoder import FactorisedEncoderViViT
from vivit.models.variants.factorised_self_attention import FactorisedSelfAttentionViViT
from vivit.models.variants.spatio_temporal import SpatioTemporalViViT

VARIANT_CLASSES: dict[str, type[ViViT]] = {
    "spatio_temporal": SpatioTemporalViViT,
    "factorised_encoder": FactorisedEncoderViViT,
    "factorised_self_attention": FactorisedSelfAttentionViViT,
    "factorised_dot_product": FactorisedDotProductViViT,
}


def build_model(config: ViViTConfig) -> ViViT:
    """The ViViT of `config.variant` (Model 1 to 4 of the paper), randomly initialised."""
    return VARIANT_CLASSES[config.variant](config)


__all__ = [
    "VARIANT_CLASSES",
    "FactorisedDotProductViViT",
    "FactorisedEncoderViViT",
    "FactorisedSelfAttentionViViT",
    "SpatioTemporalViViT",
    "build_model",
]
