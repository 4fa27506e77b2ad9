"""Starting a ViViT from an image ViT (Section 3.4): inflation, central frame, copied blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from transformers import ViTConfig, ViTForImageClassification

from vivit.errors import CheckpointError, ConfigError
from vivit.models import VARIANTS, ViViTConfig, build_model
from vivit.transfer.image_vit import inflate_kernel, init_from_image_vit

IMAGE = 16
PATCH = 4


def image_vit(directory: Path) -> tuple[ViTForImageClassification, Path]:
    torch.manual_seed(0)
    config = ViTConfig(
        image_size=IMAGE, patch_size=PATCH, num_channels=3, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, layer_norm_eps=1e-6, hidden_act="gelu", num_labels=7,
    )
    vit = ViTForImageClassification(config).eval()
    with torch.no_grad():
        vit.vit.embeddings.cls_token.normal_()
        vit.vit.embeddings.position_embeddings.normal_()
    vit.save_pretrained(directory)
    return vit, directory


def video_config(**overrides) -> ViViTConfig:
    settings = dict(
        num_classes=2, in_channels=3, input_size=(4, IMAGE, IMAGE), tubelet_size=(2, PATCH, PATCH), padding="valid",
        embed_dim=32, depth=2, temporal_depth=1, num_heads=4, mlp_dim=64, norm_eps=1e-6, mlp_activation="gelu",
    )
    return ViViTConfig(**{**settings, **overrides})


def test_inflated_kernel_gives_a_repeated_image_the_image_tokens(tmp_path: Path) -> None:
    vit, directory = image_vit(tmp_path / "vit")
    model = init_from_image_vit(build_model(video_config()), directory, "inflate")
    image = torch.rand(2, 3, IMAGE, IMAGE)
    video = image.unsqueeze(2).expand(-1, -1, 4, -1, -1)  # the same image in every frame
    with torch.no_grad():
        tokens = model.tokenizer(video)  # (B, nt, nh, nw, D), before positions
        expected = vit.vit.embeddings.patch_embeddings.projection(image).permute(0, 2, 3, 1)  # (B, nh, nw, D)
    for t in range(tokens.shape[1]):
        assert torch.allclose(tokens[:, t], expected, atol=1e-5)


def test_central_frame_kernel_is_zero_off_centre() -> None:
    kernel = torch.randn(8, 3, PATCH, PATCH)
    tubelet = inflate_kernel(kernel, 3, "central")
    assert torch.equal(tubelet[:, :, 1], kernel)
    assert not tubelet[:, :, 0].any() and not tubelet[:, :, 2].any()


def test_factorised_encoder_on_one_frame_is_the_image_vit(tmp_path: Path) -> None:
    """Model 2's spatial encoder receives the image ViT whole: one frame in, the image's [CLS] out."""
    vit, directory = image_vit(tmp_path / "vit")
    config = video_config(
        variant="factorised_encoder", tokenizer="frames", tubelet_size=(1, PATCH, PATCH), input_size=(1, IMAGE, IMAGE),
        temporal_depth=0, pooling="cls",
    )
    model = init_from_image_vit(build_model(config), directory).eval()
    image = torch.rand(2, 3, IMAGE, IMAGE)
    with torch.no_grad():
        expected = vit.vit(pixel_values=image).last_hidden_state[:, 0]
        assert torch.allclose(model.forward_features(image.unsqueeze(2)), expected, atol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_starts_from_the_image_blocks(tmp_path: Path, variant: str) -> None:
    vit, directory = image_vit(tmp_path / "vit")
    model = init_from_image_vit(build_model(video_config(variant=variant, pooling="mean")), directory)
    image_fc1 = vit.vit.state_dict()
    (fc1_key,) = [k for k in image_fc1 if ".0." in k and k.endswith(("mlp.fc1.weight", "intermediate.dense.weight"))]
    prefix = "spatial_blocks" if variant == "factorised_encoder" else "blocks"
    assert torch.equal(model.state_dict()[f"{prefix}.0.mlp.fc1.weight"], image_fc1[fc1_key])
    if variant == "factorised_self_attention":  # the paper's zero-initialised temporal attention
        assert not model.blocks[0].temporal_attn.qkv.weight.any()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 4, IMAGE, IMAGE)).isfinite().all()


def test_one_channel_model_sums_the_rgb_kernel(tmp_path: Path) -> None:
    vit, directory = image_vit(tmp_path / "vit")
    model = init_from_image_vit(build_model(video_config(in_channels=1)), directory)
    grey = torch.rand(1, 1, IMAGE, IMAGE)
    with torch.no_grad():
        tokens = model.tokenizer(grey.unsqueeze(2).expand(-1, -1, 4, -1, -1))
        expected = vit.vit.embeddings.patch_embeddings.projection(grey.expand(-1, 3, -1, -1)).permute(0, 2, 3, 1)
    assert torch.allclose(tokens[:, 0], expected, atol=1e-5)


def test_wrong_patch_size_names_both_sizes(tmp_path: Path) -> None:
    _, directory = image_vit(tmp_path / "vit")
    with pytest.raises(CheckpointError, match=r"4x4 patches .* tubelet_size is \(2, 2, 2\)"):
        init_from_image_vit(build_model(video_config(tubelet_size=(2, 2, 2))), directory)


def test_wrong_depth_and_width_are_named(tmp_path: Path) -> None:
    _, directory = image_vit(tmp_path / "vit")
    with pytest.raises(CheckpointError, match="2 blocks but the model's depth is 3"):
        init_from_image_vit(build_model(video_config(depth=3)), directory)
    with pytest.raises(CheckpointError, match="embed_dim"):
        init_from_image_vit(build_model(video_config(embed_dim=64, num_heads=4)), directory)


def test_timm_state_dict_file_is_read_too(tmp_path: Path) -> None:
    """A timm checkpoint names the same weights patch_embed.proj, blocks.N.attn.qkv, ..."""
    torch.manual_seed(1)
    source = build_model(video_config(variant="spatio_temporal", tokenizer="frames", tubelet_size=(1, PATCH, PATCH)))
    timm_state = {"patch_embed.proj.weight": source.tokenizer.projection.weight, "patch_embed.proj.bias": source.tokenizer.projection.bias,
                  "pos_embed": torch.randn(1, 1 + 16, 32), "cls_token": torch.randn(1, 1, 32),
                  **{k: v for k, v in source.state_dict().items() if k.startswith(("blocks.", "norm."))}}
    save_file({k: v.contiguous() for k, v in timm_state.items()}, tmp_path / "vit.safetensors")
    model = init_from_image_vit(build_model(video_config()), tmp_path / "vit.safetensors")
    assert torch.equal(model.blocks[1].attn.qkv.weight, source.blocks[1].attn.qkv.weight)
    assert torch.allclose(model.pos_embedding.table[0, 1], timm_state["pos_embed"][0, 1:].reshape(4, 4, 32), atol=1e-5)


def test_a_model_with_a_convolutional_stem_cannot_start_from_an_image_vit(tmp_path: Path) -> None:
    _, path = image_vit(tmp_path / "vit")
    model = build_model(video_config(stem_channels=(8,)))
    with pytest.raises(ConfigError, match="set model.stem_channels=\\[\\] to start from an image ViT"):
        init_from_image_vit(model, path)
