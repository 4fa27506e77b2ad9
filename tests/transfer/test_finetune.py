"""`vivit train --init PATH` starts from pretrained weights; train.freeze_spatial keeps Model 2's spatial encoder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tests.training.test_end_to_end import SMALL_SYNTHETIC
from tests.transfer.test_hf_vivit import hf_checkpoint
from vivit.checkpoints import load_model
from vivit.cli.main import main
from vivit.errors import ConfigError
from vivit.models import ViViTConfig, build_model
from vivit.transfer.finetune import freeze_spatial_encoder, init_from_pretrained

WIDTH = dict(embed_dim=32, depth=2, num_heads=4, head_dim=8, mlp_dim=64)
SMALL_MODEL = [f"model.{k}={v}" for k, v in WIDTH.items()] + ["model.temporal_depth=1", "model.variant=factorised_encoder"]


def timm_vit_file(path: Path, patch: int = 8) -> dict[str, torch.Tensor]:
    """An RGB image ViT with timm's names, 8x8 patches on a 3x3 grid plus [CLS]."""
    torch.manual_seed(3)
    donor = build_model(ViViTConfig(in_channels=3, tokenizer="frames", tubelet_size=(1, patch, patch), **WIDTH))
    state = {"patch_embed.proj.weight": donor.tokenizer.projection.weight, "patch_embed.proj.bias": donor.tokenizer.projection.bias,
             "pos_embed": torch.randn(1, 10, 32), "cls_token": torch.randn(1, 1, 32),
             **{k: v for k, v in donor.state_dict().items() if k.startswith(("blocks.", "norm."))}}
    state = {k: v.detach().contiguous() for k, v in state.items()}
    save_file(state, path)
    return state


@pytest.mark.slow
def test_training_from_an_image_vit_with_a_frozen_spatial_encoder(tmp_path: Path) -> None:
    vit = timm_vit_file(tmp_path / "vit.safetensors")
    run_dir = tmp_path / "run"
    code = main(["train", *SMALL_SYNTHETIC, "--epochs", "1", "--init", str(tmp_path / "vit.safetensors"),
                 "train.freeze_spatial=true", *SMALL_MODEL, "--out", str(run_dir)])
    assert code == 0
    trained = load_model(run_dir / "checkpoints" / "last").state_dict()
    # The spatial encoder is the image ViT's, untouched by training ...
    assert torch.equal(trained["spatial_blocks.1.attn.qkv.weight"], vit["blocks.1.attn.qkv.weight"])
    assert torch.equal(trained["spatial_norm.weight"], vit["norm.weight"])
    inflated = vit["patch_embed.proj.weight"].sum(1, keepdim=True).unsqueeze(2).repeat(1, 1, 8, 1, 1) / 8
    assert torch.allclose(trained["tokenizer.projection.weight"], inflated)
    # ... while the temporal encoder and the head learned.
    torch.manual_seed(42)  # the run's seed: its initial weights
    initial = build_model(load_model(run_dir / "checkpoints" / "last").config).state_dict()
    assert not torch.equal(trained["temporal_blocks.0.mlp.fc1.weight"], initial["temporal_blocks.0.mlp.fc1.weight"])
    assert not torch.equal(trained["head.weight"], initial["head.weight"])


def test_freezing_needs_a_spatial_encoder() -> None:
    model = build_model(ViViTConfig(variant="spatio_temporal", **WIDTH))
    with pytest.raises(ConfigError, match="factorised_encoder"):
        freeze_spatial_encoder(model)


def test_hf_vivit_initialises_a_model_with_other_classes_and_grid(tmp_path: Path) -> None:
    hf, directory = hf_checkpoint(tmp_path / "hf")
    config = ViViTConfig(num_classes=2, in_channels=3, input_size=(16, 32, 32), tubelet_size=(2, 8, 8), padding="valid",
                         embed_dim=64, depth=2, num_heads=4, mlp_dim=128, pooling="cls", mlp_activation="gelu_tanh")
    model = build_model(config)
    head = model.head.weight.clone()
    assert init_from_pretrained(model, directory) == "hf-vivit"
    assert torch.equal(model.head.weight, head)  # the classifier is the new task's
    assert model.pos_embedding.table.shape == (1, 8, 4, 4, 64)  # 4 time positions resized to 8
    assert torch.equal(model.blocks[0].mlp.fc1.weight, hf.vivit.state_dict()[
        next(k for k in hf.vivit.state_dict() if k.startswith(("layers.0.mlp.fc1.weight", "encoder.layer.0.intermediate.dense.weight")))])


def test_hf_vivit_with_another_activation_names_the_setting_to_change(tmp_path: Path) -> None:
    _, directory = hf_checkpoint(tmp_path / "hf")  # hidden_act gelu_fast: our gelu_tanh
    config = ViViTConfig(num_classes=2, in_channels=3, input_size=(16, 32, 32), tubelet_size=(2, 8, 8), padding="valid",
                         embed_dim=64, depth=2, num_heads=4, mlp_dim=128, pooling="cls", mlp_activation="gelu")
    with pytest.raises(ConfigError, match="model.mlp_activation=gelu_tanh"):
        init_from_pretrained(build_model(config), directory)


def test_init_from_a_missing_path_says_so(tmp_path: Path) -> None:
    from vivit.errors import CheckpointError

    with pytest.raises(CheckpointError, match="do not exist"):
        init_from_pretrained(build_model(ViViTConfig(**WIDTH)), tmp_path / "nothing.safetensors")
