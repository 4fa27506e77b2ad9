"""Import a Hugging Face `VivitForVideoClassification` checkpoint into our Model 1.

HF's ViViT (google/vivit-b-16x2-kinetics400) is the paper's spatio-temporal model with a
class token: tubelet Conv3d, learned positions for [CLS] + nt*nh*nw tokens (time-major),
pre-norm blocks with separate q/k/v, a final LayerNorm before pooling the class token.
Only the layout of the weights differs from ours:
- HF adds position_embeddings[0] to its class token; our class token has no position
  vector (see `models/base.py::class_token`), so the two are summed into one.
- q, k and v are three Linears in HF and one fused `qkv` here.
HF's input is (B, T, C, H, W); ours is (B, C, T, H, W): transpose, the Conv3d is the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch

from vivit.errors import CheckpointError
from vivit.models import ViViT, ViViTConfig, build_model
from vivit.transfer.state import load_tensors

# HF's `hidden_act` -> our `mlp_activation`. gelu_fast and gelu_new are tanh approximations.
ACTIVATIONS = {"gelu": "gelu", "gelu_fast": "gelu_tanh", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh"}

# transformers < 5 saved BERT-style names; rename them to the >= 5 names we read.
LEGACY_NAMES = (
    (r"\.encoder\.layer\.", ".layers."),
    (r"\.attention\.attention\.query\.", ".attention.q_proj."),
    (r"\.attention\.attention\.key\.", ".attention.k_proj."),
    (r"\.attention\.attention\.value\.", ".attention.v_proj."),
    (r"\.attention\.output\.dense\.", ".attention.o_proj."),
    (r"\.intermediate\.dense\.", ".mlp.fc1."),
    (r"\.output\.dense\.", ".mlp.fc2."),
)


def is_hf_vivit_dir(path: Path) -> bool:
    """True for a directory whose config.json says model_type 'vivit' (HF's, not ours)."""
    config_path = Path(path) / "config.json"
    if not config_path.is_file():
        return False
    try:
        return json.loads(config_path.read_text()).get("model_type") == "vivit"
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


def config_from_hf(hf: dict[str, Any]) -> ViViTConfig:
    """Our ViViTConfig for an HF VivitConfig (as the dict in its config.json)."""
    activation = hf.get("hidden_act", "gelu_fast")
    if activation not in ACTIVATIONS:
        raise CheckpointError(f"HF ViViT hidden_act '{activation}' has no equivalent here; supported: {', '.join(ACTIVATIONS)}")
    image_size = hf.get("image_size", 224)
    height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
    labels = hf.get("id2label") or {}
    heads = hf.get("num_attention_heads", 12)
    hidden = hf.get("hidden_size", 768)
    return ViViTConfig(
        num_classes=len(labels) or hf.get("num_labels", 2),
        in_channels=hf.get("num_channels", 3),
        input_size=(hf.get("num_frames", 32), height, width),
        variant="spatio_temporal",
        tokenizer="tubelet",
        tubelet_size=tuple(hf.get("tubelet_size", (2, 16, 16))),
        padding="valid",  # HF's Conv3d drops any remainder
        embed_dim=hidden,
        depth=hf.get("num_hidden_layers", 12),
        num_heads=heads,
        head_dim=hf.get("head_dim") or hidden // heads,
        mlp_dim=hf.get("intermediate_size", 3072),
        mlp_activation=ACTIVATIONS[activation],
        qkv_bias=hf.get("qkv_bias", True),
        norm_eps=hf.get("layer_norm_eps", 1e-6),
        pos_embedding="learned",
        pooling="cls",
    )


def class_names_from_hf(hf: dict[str, Any]) -> list[str] | None:
    labels = hf.get("id2label")
    return [labels[str(i)] if str(i) in labels else labels[i] for i in range(len(labels))] if labels else None


def load_hf_vivit(path: str | Path) -> ViViT:
    """Our Model 1 with the weights of the HF ViViT checkpoint directory `path`, in eval mode.

    Its `checkpoint_info` holds HF's class names, as a vivit checkpoint's does.
    """
    directory = Path(path)
    config_path = directory / "config.json"
    try:
        hf = json.loads(config_path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{config_path} is missing; give an HF ViViT directory (config.json + weights)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{config_path} is not valid JSON ({error})") from None
    if hf.get("model_type") != "vivit":
        raise CheckpointError(f"{config_path} has model_type '{hf.get('model_type')}', not 'vivit'")
    model = build_model(config_from_hf(hf))
    state = convert_hf_state(load_tensors(directory), model, directory)
    model.load_state_dict(state)
    model.checkpoint_info = {"class_names": class_names_from_hf(hf), "source": str(directory)}  # type: ignore[attr-defined]
    return model.eval()


def canonical_names(hf_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    renamed = {}
    for key, tensor in hf_state.items():
        for pattern, replacement in LEGACY_NAMES:
            key = re.sub(pattern, replacement, key)
        renamed[key] = tensor
    return renamed


def convert_hf_state(hf_state: dict[str, torch.Tensor], model: ViViT, source: Path) -> dict[str, torch.Tensor]:
    """Our state dict for `model` from HF's tensors; raises CheckpointError naming a mismatch."""
    hf = _Reader(canonical_names(hf_state), source)
    nt, nh, nw = model.grid
    positions = hf["vivit.embeddings.position_embeddings"]  # (1, 1 + nt*nh*nw, D)
    if positions.shape[1] != 1 + nt * nh * nw:
        raise CheckpointError(
            f"HF checkpoint {source}: position_embeddings hold {positions.shape[1] - 1} tokens but config.json "
            f"describes a {nt}x{nh}x{nw} grid; config.json and the weights do not match"
        )
    state = {
        "tokenizer.projection.weight": hf["vivit.embeddings.patch_embeddings.projection.weight"],
        "tokenizer.projection.bias": hf["vivit.embeddings.patch_embeddings.projection.bias"],
        "pos_embedding.table": positions[:, 1:].reshape(1, nt, nh, nw, -1),
        "cls_token": hf["vivit.embeddings.cls_token"] + positions[:, :1],
        "norm.weight": hf["vivit.layernorm.weight"],
        "norm.bias": hf["vivit.layernorm.bias"],
        "head.weight": hf["classifier.weight"],
        "head.bias": hf["classifier.bias"],
    }
    for i in range(model.config.depth):
        state.update(_block_state(hf, f"vivit.layers.{i}.", f"blocks.{i}.", model.config.qkv_bias))
    extra = sorted(k for k in hf.unused() if k.startswith(("vivit.layers.", "vivit.embeddings.")))
    if extra:
        raise CheckpointError(f"HF checkpoint {source} has weights config.json does not describe, e.g. {extra[0]}")
    return _checked(state, model, source)


def _block_state(hf: _Reader, src: str, dst: str, qkv_bias: bool) -> dict[str, torch.Tensor]:
    attention = src + "attention."
    state = {
        dst + "norm1.weight": hf[src + "layernorm_before.weight"],
        dst + "norm1.bias": hf[src + "layernorm_before.bias"],
        # Our fused qkv is [q; k; v] along the output axis (see SelfAttention.split_heads).
        dst + "attn.qkv.weight": torch.cat([hf[f"{attention}{n}_proj.weight"] for n in "qkv"]),
        dst + "attn.proj.weight": hf[attention + "o_proj.weight"],
        dst + "attn.proj.bias": hf[attention + "o_proj.bias"],
        dst + "norm2.weight": hf[src + "layernorm_after.weight"],
        dst + "norm2.bias": hf[src + "layernorm_after.bias"],
        dst + "mlp.fc1.weight": hf[src + "mlp.fc1.weight"],
        dst + "mlp.fc1.bias": hf[src + "mlp.fc1.bias"],
        dst + "mlp.fc2.weight": hf[src + "mlp.fc2.weight"],
        dst + "mlp.fc2.bias": hf[src + "mlp.fc2.bias"],
    }
    if qkv_bias:
        state[dst + "attn.qkv.bias"] = torch.cat([hf[f"{attention}{n}_proj.bias"] for n in "qkv"])
    return state


def _checked(state: dict[str, torch.Tensor], model: ViViT, source: Path) -> dict[str, torch.Tensor]:
    expected = model.state_dict()
    for key, tensor in expected.items():
        if key not in state:
            raise CheckpointError(f"HF checkpoint {source} gives no weights for our {key}")
        if state[key].shape != tensor.shape:
            raise CheckpointError(
                f"HF checkpoint {source}: {key} would get shape {tuple(state[key].shape)} but the model built "
                f"from its config.json needs {tuple(tensor.shape)}; config.json and the weights do not match"
            )
    return state


class _Reader:
    """HF tensors by name; a missing name is a CheckpointError naming it. Records what was read."""

    def __init__(self, tensors: dict[str, torch.Tensor], source: Path) -> None:
        self.tensors = tensors
        self.source = source
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self.tensors:
            raise CheckpointError(f"HF checkpoint {self.source} is missing '{name}'; is it a VivitForVideoClassification?")
        self.read.add(name)
        return self.tensors[name]

    def unused(self) -> set[str]:
        return set(self.tensors) - self.read
