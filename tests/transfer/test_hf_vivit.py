"""Importing a Hugging Face ViViT checkpoint gives our Model 1 with the same function."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import VivitConfig, VivitForVideoClassification

from vivit.errors import CheckpointError
from vivit.transfer.hf_vivit import config_from_hf, load_hf_vivit

SMALL = dict(
    image_size=32, num_frames=8, tubelet_size=[2, 8, 8], num_channels=3, hidden_size=64, num_hidden_layers=2,
    num_attention_heads=4, intermediate_size=128, num_labels=3, hidden_act="gelu_fast", layer_norm_eps=1e-6,
)


def hf_checkpoint(directory: Path, **overrides) -> tuple[VivitForVideoClassification, Path]:
    torch.manual_seed(0)
    hf = VivitForVideoClassification(VivitConfig(**{**SMALL, **overrides})).eval()
    with torch.no_grad():  # HF zero-initialises these; random values test that they are carried over
        hf.vivit.embeddings.cls_token.normal_()
        hf.vivit.embeddings.position_embeddings.normal_()
    hf.save_pretrained(directory)
    return hf, directory


@pytest.mark.parametrize("hidden_act", ["gelu_fast", "gelu"])
def test_imported_hf_vivit_gives_the_same_logits(tmp_path: Path, hidden_act: str) -> None:
    hf, directory = hf_checkpoint(tmp_path / "hf", hidden_act=hidden_act)
    ours = load_hf_vivit(directory)
    video = torch.rand(2, 3, 8, 32, 32)  # ours: (B, C, T, H, W)
    with torch.no_grad():
        expected = hf(pixel_values=video.transpose(1, 2)).logits  # HF: (B, T, C, H, W)
        assert torch.allclose(ours(video), expected, atol=1e-5)


def test_config_maps_every_architectural_setting() -> None:
    config = config_from_hf({**SMALL, "id2label": {"0": "a", "1": "b", "2": "c"}})
    assert (config.variant, config.pooling, config.padding) == ("spatio_temporal", "cls", "valid")
    assert config.input_size == (8, 32, 32) and config.tubelet_size == (2, 8, 8)
    assert (config.embed_dim, config.depth, config.num_heads, config.mlp_dim) == (64, 2, 4, 128)
    assert config.mlp_activation == "gelu_tanh" and config.num_classes == 3


def test_legacy_transformers_names_import_the_same(tmp_path: Path) -> None:
    """Checkpoints on the Hub (transformers < 5) name layers encoder.layer.N.attention.attention.query ..."""
    hf, directory = hf_checkpoint(tmp_path / "hf")
    legacy = {
        k.replace(".layers.", ".encoder.layer.").replace("attention.q_proj", "attention.attention.query")
        .replace("attention.k_proj", "attention.attention.key").replace("attention.v_proj", "attention.attention.value")
        .replace("attention.o_proj", "attention.output.dense").replace("mlp.fc1", "intermediate.dense")
        .replace("mlp.fc2", "output.dense"): v
        for k, v in hf.state_dict().items()
    }
    (directory / "model.safetensors").unlink()
    torch.save(legacy, directory / "pytorch_model.bin")
    video = torch.rand(1, 3, 8, 32, 32)
    with torch.no_grad():
        assert torch.allclose(load_hf_vivit(directory)(video), hf(pixel_values=video.transpose(1, 2)).logits, atol=1e-5)


def test_missing_weight_is_named(tmp_path: Path) -> None:
    _, directory = hf_checkpoint(tmp_path / "hf")
    state = load_file(directory / "model.safetensors")
    # save_pretrained may write either generation of names; drop layer 1's key weights.
    (key,) = [k for k in state if ".1." in k and k.endswith(("k_proj.weight", "attention.key.weight"))]
    del state[key]
    save_file(state, directory / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"vivit\.layers\.1\.attention\.k_proj\.weight"):
        load_hf_vivit(directory)


def test_config_that_does_not_match_the_weights_names_the_tensor(tmp_path: Path) -> None:
    _, directory = hf_checkpoint(tmp_path / "hf")
    document = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**document, "tubelet_size": [2, 4, 4]}))
    with pytest.raises(CheckpointError, match="do not match"):
        load_hf_vivit(directory)


def test_not_an_hf_vivit_directory_says_so(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="config.json is missing"):
        load_hf_vivit(tmp_path)
