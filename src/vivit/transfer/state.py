"""Read a foreign state dict from disk without running its code."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from vivit.errors import CheckpointError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a .safetensors/.bin/.pth file, or of the weights file in directory `path`."""
    path = Path(path)
    if path.is_dir():
        found = [path / name for name in WEIGHT_FILES if (path / name).is_file()]
        if not found:
            raise CheckpointError(f"{path} holds no weights file; expected one of {', '.join(WEIGHT_FILES)}")
        path = found[0]
    if not path.is_file():
        raise CheckpointError(f"Weights file {path} does not exist")
    try:
        if path.suffix == ".safetensors":
            return load_file(str(path))
        # weights_only: a pickle from a stranger may hold tensors and plain containers, no code.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (SafetensorError, OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as error:
        raise CheckpointError(f"Weights file {path} is corrupt or not a state dict ({str(error).splitlines()[0]})") from None
    # timm and DeiT checkpoints wrap the state dict: {"model": {...}} or {"state_dict": {...}}.
    for key in ("model", "state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"Weights file {path} does not hold a state dict of tensors")
    return state
