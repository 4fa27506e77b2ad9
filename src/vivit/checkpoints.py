"""Model checkpoints on disk: `model.safetensors` + `config.json`, published atomically.

No pickle: loading a checkpoint reads tensors and JSON only, so a checkpoint from a
stranger cannot run code. The weights file records the model settings it was saved with
(its `model` metadata): a `config.json` edited afterwards to another `num_heads`, `variant`
or `norm_eps`, which change no tensor shape, is refused instead of loading the weights
into another model. Checkpoints written before that record (vivit 0.1) load as before.

A checkpoint directory is written under a temporary name and published by swapping a
symlink (`checkpoints/last -> last-0007`), which POSIX renames atomically: a kill or a
full disk mid-write leaves the previous checkpoint in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from vivit.errors import CheckpointError, ConfigError, first_line
from vivit.models import MAEConfig, MaskedAutoencoder, ViViT, ViViTConfig, build_model

FORMAT = "vivit-checkpoint/1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


def save_model(directory: Path, model: ViViT, state: dict[str, torch.Tensor] | None = None, **info: Any) -> None:
    """Write weights (`state`, default the model's own) and config into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in (state or model.state_dict()).items()}
    settings = model.config.to_dict()
    save_file(tensors, str(directory / WEIGHTS), metadata={"format": FORMAT, "model": json.dumps(settings, sort_keys=True)})
    document = {"format": FORMAT, "model": settings, **info}
    (directory / CONFIG).write_text(json.dumps(document, indent=2))


def publish(checkpoints: Path, name: str, tag: str, write: Callable[[Path], None]) -> Path:
    """Write a checkpoint with `write(tmp_dir)`, then atomically point `checkpoints/name` at it."""
    checkpoints.mkdir(parents=True, exist_ok=True)
    target = checkpoints / f"{name}-{tag}"
    staging = checkpoints / f".{name}-{tag}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        write(staging)
        _fsync_tree(staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        link = checkpoints / f".{name}.link"
        link.unlink(missing_ok=True)
        link.symlink_to(target.name)
        os.replace(link, checkpoints / name)  # the atomic step
    except (OSError, RuntimeError, SafetensorError) as error:
        # A full disk surfaces as OSError from us, SafetensorError or RuntimeError from writers.
        shutil.rmtree(staging, ignore_errors=True)
        reason = getattr(error, "strerror", None) or str(error).splitlines()[0]
        raise CheckpointError(
            f"Could not write checkpoint '{name}' in {checkpoints} ({reason}); "
            f"the previous '{name}' checkpoint is untouched"
        ) from None
    _remove_unreferenced(checkpoints, name)
    return target


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def _remove_unreferenced(checkpoints: Path, name: str) -> None:
    live = {os.readlink(link) for link in checkpoints.iterdir() if link.is_symlink()}
    for path in checkpoints.glob(f"{name}-*"):
        if path.is_dir() and not path.is_symlink() and path.name not in live:
            shutil.rmtree(path, ignore_errors=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verified_trainer_state(directory: Path, name: str) -> Path | None:
    """`directory/name` (Lightning's resume state, a pickle) if it holds plain data, else an error.

    A pickle can run code when loaded. Two checks stand before Lightning loads it:
    - its SHA-256 must equal the one recorded beside it in config.json when the run wrote
      both. That catches a damaged or swapped file, but not a forged run directory, whose
      author can record any digest;
    - it must unpickle under torch's `weights_only=True` allow-list (tensors, numbers,
      strings, containers), which no environment variable switches off when asked for
      explicitly. That is what stops a stranger's code. Lightning then loads it the same way.
    None when absent.
    """
    state = directory / name
    if not state.exists():
        return None
    recorded = read_checkpoint_info(directory).get("trainer_state_sha256")
    if recorded is None or file_sha256(state) != recorded:
        raise CheckpointError(
            f"{state} was not written by this run (its SHA-256 is not the one recorded in {directory / CONFIG}); "
            f"it is a pickle and is not loaded. Delete it to restart from epoch 0, or train a new run"
        )
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of foreign files
            warnings.simplefilter("ignore")
            torch.load(state, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - the unpickler raises many kinds on foreign data
        raise CheckpointError(
            f"{state} holds more than plain data ({first_line(error)}); it is not loaded, since it could run code. "
            f"Delete it to restart from epoch 0, or train a new run"
        ) from None
    return state


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A checkpoint directory from itself, or from a run directory (its best, else its last)."""
    path = Path(path)
    if (path / WEIGHTS).exists() or (path / CONFIG).exists():
        return path
    for name in ("best", "last"):
        candidate = path / "checkpoints" / name
        if (candidate / WEIGHTS).exists():
            return candidate
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; give a run directory or a checkpoint directory")
    raise CheckpointError(
        f"{path} holds no checkpoint ({WEIGHTS} + {CONFIG}, or checkpoints/best|last/); train a model first"
    )


def read_checkpoint_info(directory: Path) -> dict[str, Any]:
    config_path = directory / CONFIG
    try:
        document = json.loads(config_path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{config_path} is missing; the checkpoint is incomplete") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{config_path} is not valid JSON ({error}); the checkpoint is corrupt") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or "model" not in document:
        raise CheckpointError(f"{config_path} is not a vivit checkpoint config (expected format '{FORMAT}')")
    return document


def checkpoint_config(directory: Path, info: dict[str, Any]) -> ViViTConfig:
    """The model config of a checkpoint; a bad setting names the file that holds it."""
    if not isinstance(info["model"], dict):
        raise CheckpointError(f"{directory / CONFIG}: 'model' must be a mapping of model settings")
    try:
        return ViViTConfig.from_dict(info["model"])
    except ConfigError as error:
        raise CheckpointError(f"{directory / CONFIG} describes no valid model: {error}") from None


def load_weights(directory: Path) -> dict[str, torch.Tensor]:
    weights_path = directory / WEIGHTS
    if not weights_path.exists():
        raise CheckpointError(f"{weights_path} is missing; the checkpoint is incomplete")
    try:
        return load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{weights_path} is corrupt or truncated ({first_line(error)})") from None


def weight_shapes(directory: Path) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every tensor in the weights file, read from its header alone."""
    weights_path = directory / WEIGHTS
    if not weights_path.exists():
        raise CheckpointError(f"{weights_path} is missing; the checkpoint is incomplete")
    try:
        with safe_open(str(weights_path), framework="pt") as weights:
            return {key: tuple(weights.get_slice(key).get_shape()) for key in weights.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{weights_path} is corrupt or truncated ({first_line(error)})") from None


def check_same_settings(settings: dict[str, Any], directory: Path) -> None:
    """`settings` (config.json's model) are those the weights were saved with, where the weights say."""
    weights_path = directory / WEIGHTS
    try:
        with safe_open(str(weights_path), framework="pt") as weights:
            recorded = (weights.metadata() or {}).get("model")
        saved = None if recorded is None else json.loads(recorded)
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{weights_path} is corrupt or truncated ({first_line(error)})") from None
    if saved is None:  # written before the settings were recorded
        return
    if not isinstance(saved, dict):
        raise CheckpointError(f"{weights_path} is corrupt: its recorded model settings are not a mapping")
    changed = sorted(str(key) for key in saved.keys() | settings.keys() if saved.get(key, None) != settings.get(key, None))
    if changed:
        first = changed[0]
        raise CheckpointError(
            f"Checkpoint {directory}: {CONFIG} does not describe the model its weights were saved from "
            f"({', '.join(changed)} changed, e.g. {first} is {settings.get(first)!r} but was {saved.get(first)!r}); "
            f"restore the original {CONFIG}"
        )


def check_layout(
    config: ViViTConfig, shapes: dict[str, tuple[int, ...]], source: Path, build: Callable[[ViViTConfig], torch.nn.Module] = build_model
) -> None:
    """The model `build(config)` makes has exactly the tensors of `shapes`; nothing is allocated."""
    layers = config.depth + config.temporal_depth + len(config.stem_channels)
    if layers > len(shapes):  # every layer has tensors: no need to build it to know
        raise CheckpointError(
            f"Checkpoint {source} belongs to another model: {CONFIG} describes {layers} layers "
            f"but {WEIGHTS} holds {len(shapes)} tensors"
        )
    with torch.device("meta"):  # shapes without storage
        skeleton = build(config)
    expected = {key: tuple(tensor.shape) for key, tensor in skeleton.state_dict().items()}
    _check_same_tensors(expected, shapes, source)


def load_state_into(model: torch.nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    """Strict load whose error names the first mismatching key and both shapes."""
    expected = {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}
    _check_same_tensors(expected, {key: tuple(tensor.shape) for key, tensor in state.items()}, source)
    model.load_state_dict(state)


def _check_same_tensors(expected: dict[str, tuple[int, ...]], given: dict[str, tuple[int, ...]], source: Path) -> None:
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    if missing or unexpected:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}"
        raise CheckpointError(f"Checkpoint {source} belongs to another model: {detail}")
    for key, shape in expected.items():
        if shape != given[key]:
            raise CheckpointError(
                f"Checkpoint {source} belongs to another model: {key} has shape {given[key]} "
                f"in the checkpoint but {shape} in the model"
            )


def checkpoint_class_names(directory: Path, info: dict[str, Any]) -> list[str] | None:
    names = info.get("class_names")
    if not names:
        return None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise CheckpointError(f"{directory / CONFIG}: 'class_names' must be a list of strings")
    return names


def load_model(path: str | os.PathLike) -> ViViT:
    """The model saved at `path` (a checkpoint or run directory), in eval mode.

    Its `class_names` attribute lists the classes its outputs score, in order (None when
    config.json names none); `checkpoint_info` holds the rest of config.json.
    """
    directory = resolve_checkpoint(path)
    info = read_checkpoint_info(directory)
    if is_pretraining_checkpoint(info):
        raise CheckpointError(
            f"{directory} is a masked-autoencoder pretraining checkpoint: an encoder with no classifier. "
            f"Fine-tune it first (vivit train --init {path}), or read it with vivit.checkpoints.load_mae"
        )
    config = checkpoint_config(directory, info)
    # The config is checked against the weights' header before any memory is allocated:
    # a config.json claiming a huge model cannot make us build it.
    check_layout(config, weight_shapes(directory), directory)
    check_same_settings(info["model"], directory)  # those that change no tensor shape, too
    model = build_model(config)
    load_state_into(model, load_weights(directory), directory)
    model.checkpoint_info = info  # type: ignore[attr-defined]
    model.class_names = checkpoint_class_names(directory, info)  # type: ignore[attr-defined]
    return model.eval()


def is_pretraining_checkpoint(info: dict[str, Any]) -> bool:
    """Whether a checkpoint's config.json is a `vivit pretrain` run's (it records its `mae` settings)."""
    return isinstance(info.get("mae"), dict)


def mae_config(directory: Path, info: dict[str, Any]) -> MAEConfig:
    try:
        return MAEConfig.from_dict(info["mae"])
    except ConfigError as error:
        raise CheckpointError(f"{directory / CONFIG} describes no valid pretraining: {error}") from None


def load_mae(path: str | os.PathLike) -> MaskedAutoencoder:
    """The masked autoencoder a `vivit pretrain` run saved at `path` (run or checkpoint directory), in eval mode.

    Checked as `load_model` checks a classifier: the layout of config.json against the weights'
    header on the meta device, then a strict load.
    """
    directory = resolve_checkpoint(path)
    info = read_checkpoint_info(directory)
    if not is_pretraining_checkpoint(info):
        raise CheckpointError(f"{directory} is not a pretraining checkpoint (its {CONFIG} has no 'mae' settings); load it with load_model")
    config, settings = checkpoint_config(directory, info), mae_config(directory, info)

    def build(vivit: ViViTConfig) -> MaskedAutoencoder:
        return MaskedAutoencoder(build_model(vivit), settings)

    check_layout(config, weight_shapes(directory), directory, build)
    check_same_settings(info["model"], directory)
    model = build(config)
    load_state_into(model, load_weights(directory), directory)
    model.checkpoint_info = info  # type: ignore[attr-defined]
    return model.eval()
