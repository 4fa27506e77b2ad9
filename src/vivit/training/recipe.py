"""Recipes: one YAML file that describes a training run completely.

A recipe has five sections (data, model, optim, train, augment), and a pretraining recipe
(`vivit pretrain`) a sixth, `mae` (masking and decoder, `vivit.models.MAEConfig`). Shipped recipes live
in `vivit/training/recipes/`; any path to a YAML file works too. Every key can be
overridden as `section.key=value` (or `key=value` when the name is unambiguous), and a
run directory keeps the fully resolved recipe as `config.yaml`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vivit.errors import ConfigError, warn
from vivit.models import MAEConfig, ViViTConfig, preset_config
from vivit.models.layers.masking import MASKINGS
from vivit.models.mae import check_masking_fits
from vivit.validation import check_fields
from vivit.yaml_text import load_yaml

OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "cosine", "multistep")


@dataclass(frozen=True)
class DataSettings:
    """The `data:` section: which dataset, at which size, in which batches.

    `dataset` is anything `vivit.data.datasets.load_dataset` takes (a MedMNIST 3D name,
    `synthetic-shapes`/`synthetic-motion`, a video folder, a MedMNIST-format .npz);
    `options` go to its loader (e.g. `{num_frames: 16, sampling: dense}` for a video folder).
    """

    dataset: str = "organmnist3d"
    # The side of a sample: MedMNIST cube (28 or 64), video frame; None: the dataset's own.
    size: int | None = None
    data_dir: str | None = None
    batch_size: int = 32
    eval_batch_size: int = 128
    # Multi-view evaluation of a video folder (evaluation/views.py): temporal clips spread over
    # each video x spatial crops along its long side (1 or 3), probabilities averaged. 1 x 1 is
    # the single clip; volumes have only that.
    eval_clips: int = 1
    eval_crops: int = 1
    # Passed to the dataset loader (video folder sampling, synthetic set sizes, ...).
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OptimSettings:
    """The `optim:` section: optimiser (`adam`, `adamw`), learning rate and its schedule.

    Schedules: `constant`; `cosine` (linear warm-up over `warmup_epochs`, then down to
    `min_lr`); `multistep` (lr x `gamma` at each fraction of training in `milestones`).
    `grad_clip` clips the gradient norm.
    """

    optimizer: str = "adam"
    lr: float = 1e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    min_lr: float = 0.0
    # multistep: lr x gamma at these fractions of training.
    milestones: tuple[float, ...] = (0.5, 0.75)
    gamma: float = 0.1
    grad_clip: float | None = None


@dataclass(frozen=True)
class TrainSettings:
    """The `train:` section: epochs, seed, regularisation, precision, devices, checkpoint choice.

    `select` is the checkpoint that is tested and that `load_model(run_dir)` returns:
    `last`, or the best epoch by one of `val/accuracy`, `val/auc`, `val/loss`, `val/top5`; a tie
    goes to the lower validation loss (training/selection.py).
    """

    epochs: int = 60
    seed: int = 42
    label_smoothing: float = 0.0
    ema_decay: float | None = None
    compile: bool = False
    # Lightning precision ("32-true", "bf16-mixed", ...); "auto" is bf16 autocast on a GPU
    # that supports it and on a CPU with bf16 matrix instructions, full fp32 elsewhere.
    precision: str = "auto"
    # Which weights are tested: "last", or the best epoch by a validation metric ("val/auc").
    select: str = "last"
    early_stopping_patience: int | None = None
    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    # Pretrained weights to start from: an HF ViViT directory or an image ViT file/directory.
    init: str | None = None
    # Image ViT -> tubelet kernel: "inflate" (tiled over t, divided by t) or "central" (middle frame).
    kernel_init: str = "inflate"
    # Model 2 only: train the temporal encoder and head, keep the spatial encoder as initialised.
    freeze_spatial: bool = False
    # Train on the first N batches of each epoch only: smoke tests and the tutorial's CI run.
    limit_train_batches: int | None = None
    # An experiment tracker beside history.csv: "tensorboard" or "mlflow" (pip install "vivit[tracking]").
    logger: str | None = None
    # CPU threads for the model's kernels; None: torch's default, one per core.
    threads: int | None = None


SECTIONS = {"data": DataSettings, "optim": OptimSettings, "train": TrainSettings}
SELECTABLE_METRICS = ("val/accuracy", "val/auc", "val/loss", "val/top5")


@dataclass(frozen=True)
class Range:
    """The numbers a setting may take: from `low` to `high` (None: unbounded), an end
    included unless it is `*_open`. Prints as the rule it states ("in [0, 1)", "at least 1")."""

    low: float
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def __str__(self) -> str:
        if self.high is None:
            return f"{'greater than' if self.low_open else 'at least'} {_number(self.low)}"
        low, high = _number(self.low), _number(self.high)
        return f"in {'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


AT_LEAST_ONE = Range(1)
POSITIVE = Range(0, low_open=True)
NON_NEGATIVE = Range(0)
UNIT = Range(0, 1, high_open=True)  # a fraction that must leave something: decay, smoothing, momentum

# What each number means decides its range; a value outside is refused before any work starts.
RANGES: dict[str, Range] = {
    "data.size": AT_LEAST_ONE,
    "data.batch_size": AT_LEAST_ONE,
    "data.eval_batch_size": AT_LEAST_ONE,
    "data.eval_clips": AT_LEAST_ONE,
    "optim.lr": POSITIVE,
    "optim.weight_decay": NON_NEGATIVE,
    "optim.betas": UNIT,
    "optim.warmup_epochs": NON_NEGATIVE,
    "optim.min_lr": NON_NEGATIVE,
    "optim.milestones": Range(0, 1),  # fractions of the whole training
    "optim.gamma": POSITIVE,
    "optim.grad_clip": NON_NEGATIVE,
    "train.epochs": AT_LEAST_ONE,
    "train.seed": Range(0, 2**32 - 1),  # numpy's seed range; Lightning silently uses 0 outside it
    "train.label_smoothing": UNIT,
    "train.ema_decay": UNIT,
    "train.early_stopping_patience": AT_LEAST_ONE,
    "train.devices": AT_LEAST_ONE,
    "train.num_nodes": AT_LEAST_ONE,
    "train.limit_train_batches": AT_LEAST_ONE,
    "train.threads": AT_LEAST_ONE,
    # Pretraining (`mae:` section): a ratio of 1 would leave the encoder nothing to see.
    "mae.mask_ratio": UNIT,
    "mae.decoder_dim": AT_LEAST_ONE,
    "mae.decoder_depth": AT_LEAST_ONE,
    "mae.decoder_heads": AT_LEAST_ONE,
}
# Loader options that count things (synthetic sets, video clips).
OPTION_RANGES: dict[str, Range] = {
    "num_frames": AT_LEAST_ONE, "num_samples": AT_LEAST_ONE, "stride": AT_LEAST_ONE, "short_side": AT_LEAST_ONE,
}
SPATIAL_CROPS = (1, 3)  # the centre, or left/centre/right along the long side
PRECISIONS = ("auto", "32-true", "bf16-mixed", "16-mixed", "bf16-true", "16-true", "64-true")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
LOGGERS = ("tensorboard", "mlflow")
CHOICES: dict[str, tuple[str | int, ...]] = {
    "data.eval_crops": SPATIAL_CROPS,
    "optim.optimizer": OPTIMIZERS,
    "optim.schedule": SCHEDULES,
    "train.precision": PRECISIONS,
    "train.accelerator": ACCELERATORS,
    "train.select": ("last", *SELECTABLE_METRICS),
    "train.kernel_init": ("inflate", "central"),
    "train.logger": LOGGERS,  # or null for none
    "mae.masking": MASKINGS,
}


@dataclass(frozen=True)
class Recipe:
    """A training run, completely: data, model, optimiser, training and augmentation.

    Built by `load_recipe` or `build_recipe`, which validate every key. `model` is a preset
    name plus any `ViViTConfig` field; `augment` holds `AugmentConfig` fields (empty: none).
    """

    name: str
    data: DataSettings
    optim: OptimSettings
    train: TrainSettings
    # `preset` plus any ViViTConfig field, applied over the preset.
    model: dict[str, Any]
    # AugmentConfig fields; empty means no augmentation.
    augment: dict[str, Any]
    description: str = ""
    # Masked-autoencoder pretraining (`vivit pretrain`); None for a supervised recipe.
    mae: MAEConfig | None = None

    @property
    def pretrains(self) -> bool:
        return self.mae is not None

    def to_dict(self) -> dict[str, Any]:
        data = _plain(dataclasses.asdict(self))
        if self.mae is None:  # a supervised run's config.yaml has no pretraining section
            del data["mae"]
        return data

    def resolved_precision(self) -> str:
        """`train.precision`, with "auto" made concrete for the accelerator this run will use."""
        if self.train.precision != "auto":
            return self.train.precision
        import torch

        from vivit.hardware import cpu_has_fast_bf16

        gpu = self.train.accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
        if gpu:
            return "bf16-mixed" if torch.cuda.is_bf16_supported() else "32-true"
        return "bf16-mixed" if cpu_has_fast_bf16() else "32-true"

    def model_config(self, num_classes: int, input_shape: tuple[int, int, int, int]) -> ViViTConfig:
        """The model for data of `input_shape` (C, T, H, W) with `num_classes` classes."""
        overrides = {k: v for k, v in self.model.items() if k != "preset"}
        channels, *size = input_shape
        data_fit = {"num_classes": num_classes, "in_channels": channels, "input_size": tuple(size)}
        return preset_config(self.model.get("preset", "keras-seed"), **{**overrides, **data_fit})


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, so the YAML stays plain."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def shipped_recipes() -> list[str]:
    """Names of the recipes that ship with vivit (`keras-seed`, `medmnist-protocol`, ...)."""
    folder = resources.files("vivit.training") / "recipes"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def read_recipe_file(name_or_path: str) -> dict[str, Any]:
    """The raw dict of a shipped recipe (by name) or of a YAML file (by path)."""
    path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or path.exists():
        if not path.is_file():
            raise ConfigError(f"Recipe file {path} does not exist")
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ConfigError(f"Recipe file {path} is not text (UTF-8 YAML)") from None
    elif name_or_path in shipped_recipes():
        text = (resources.files("vivit.training") / "recipes" / f"{name_or_path}.yaml").read_text()
    else:
        raise ConfigError(f"Unknown recipe '{name_or_path}'; choose one of: {', '.join(shipped_recipes())}, or give a YAML path")
    try:
        data = load_yaml(text) or {}
    except (yaml.YAMLError, ValueError) as error:
        raise ConfigError(f"Recipe {name_or_path} is not valid YAML: {_first_line(error)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"Recipe {name_or_path} must be a mapping of sections, got {type(data).__name__}")
    return data


def _section(cls: type, values: Any, section: str) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"Recipe section '{section}' must be a mapping, got {values!r}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(map(str, set(values) - known))
    if unknown:
        raise ConfigError(f"Unknown key '{section}.{unknown[0]}'; valid keys of '{section}': {', '.join(sorted(known))}")
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    settings = cls(**converted)
    check_fields(settings, f"Recipe key {section}.")
    return settings


def build_recipe(data: dict[str, Any]) -> Recipe:
    """Validate a recipe dict and return the Recipe; unknown keys and names raise ConfigError."""
    known_top = {"name", "description", "model", "augment", "mae", *SECTIONS}
    unknown = sorted(map(str, set(data) - known_top))
    if unknown:
        raise ConfigError(f"Unknown recipe section '{unknown[0]}'; valid: {', '.join(sorted(known_top))}")
    recipe = Recipe(
        name=str(data.get("name", "custom")),
        description=str(data.get("description", "")),
        data=_section(DataSettings, data.get("data", {}), "data"),
        optim=_section(OptimSettings, data.get("optim", {}), "optim"),
        train=_section(TrainSettings, data.get("train", {}), "train"),
        model=_mapping(data.get("model") or {"preset": "keras-seed"}, "model"),
        augment=_mapping(data.get("augment") or {}, "augment"),
        mae=_section(MAEConfig, data["mae"] or {}, "mae") if "mae" in data else None,
    )
    _check(recipe)
    return recipe


def _mapping(values: Any, section: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ConfigError(f"Recipe section '{section}' must be a mapping, got {values!r}")
    return dict(values)


def _check(recipe: Recipe) -> None:
    from vivit.data.augment import AugmentConfig  # validates augment keys

    settings = {"data": recipe.data, "optim": recipe.optim, "train": recipe.train, "mae": recipe.mae}
    for key, choices in CHOICES.items():
        section, _, name = key.partition(".")
        if settings[section] is None:  # no mae section: a supervised recipe
            continue
        value = getattr(settings[section], name)
        if value is not None and (value not in choices or isinstance(value, bool)):
            raise ConfigError(f"Unknown {key} '{value}'; choose one of: {', '.join(map(str, choices))}")
    for key, allowed in RANGES.items():
        section, _, name = key.partition(".")
        if settings[section] is None:
            continue
        _check_range(key, getattr(settings[section], name), allowed)
    for name, allowed in OPTION_RANGES.items():
        if name in recipe.data.options:
            _check_range(f"data.options.{name}", recipe.data.options[name], allowed)
    if recipe.optim.min_lr > recipe.optim.lr:
        raise ConfigError(
            f"optim.min_lr ({recipe.optim.min_lr:g}) is above optim.lr ({recipe.optim.lr:g}); "
            f"the schedule decays from lr down to min_lr, so min_lr must be at most lr"
        )
    # Builds the model config once (with placeholder data sizes) so a bad model key fails now.
    config = recipe.model_config(num_classes=2, input_shape=(1, *preset_config(recipe.model.get("preset", "keras-seed")).input_size))
    if recipe.mae is not None:
        check_masking_fits(recipe.mae.masking, config.variant)
    AugmentConfig.from_dict(recipe.augment)


def _check_range(key: str, value: Any, allowed: Range) -> None:
    """ConfigError naming `key`, its value and `allowed` when a number (or any of a list) is outside."""
    if value is None:  # optional settings: null means "not used"
        return
    numbers = value if isinstance(value, (list, tuple)) else (value,)
    if not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in numbers):
        raise ConfigError(f"{key} must be a number {allowed}, got {value!r}")
    if not all(n in allowed for n in numbers):
        each = "each " if isinstance(value, (list, tuple)) else ""
        shown = list(value) if isinstance(value, (list, tuple)) else value
        raise ConfigError(f"{key} must {each}be {allowed}, got {shown!r}")


def check_runs_here(recipe: Recipe) -> None:
    """Refuse, before any data is loaded, an accelerator this machine does not have."""
    if recipe.train.accelerator in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(
                f"train.accelerator={recipe.train.accelerator} but this machine has no CUDA GPU that torch can use; "
                f"set train.accelerator=auto (or cpu)"
            )
    if recipe.train.accelerator == "mps":
        import torch

        if not torch.backends.mps.is_available():
            raise ConfigError("train.accelerator=mps but this machine has no Apple GPU; set train.accelerator=auto (or cpu)")


def _bare_keys() -> dict[str, str]:
    """Map of unambiguous bare key -> dotted key."""
    owners: dict[str, list[str]] = {}
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            owners.setdefault(f.name, []).append(f"{section}.{f.name}")
    for f in fields(ViViTConfig):
        owners.setdefault(f.name, []).append(f"model.{f.name}")
    for f in fields(MAEConfig):
        owners.setdefault(f.name, []).append(f"mae.{f.name}")
    owners.setdefault("preset", []).append("model.preset")
    return {name: dotted[0] for name, dotted in owners.items() if len(dotted) == 1}


def _first_line(error: Exception) -> str:
    """A YAML error's problem and where, in one line ('... ; line 3, column 5')."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem or error.context} (line {mark.line + 1}, column {mark.column + 1})"
    return str(error).splitlines()[0]


def parse_value(text: str) -> Any:
    value = load_yaml(text)
    if isinstance(value, str):  # YAML 1.1 reads "1e-4" as a string
        try:
            return float(value)
        except ValueError:
            return value
    return value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `key=value` strings to a raw recipe dict (a copy is returned)."""
    result = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    bare = _bare_keys()
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"Override '{item}' must look like key=value, e.g. optim.lr=3e-4")
        dotted = key if "." in key else bare.get(key)
        if dotted is None:
            raise ConfigError(f"Unknown or ambiguous key '{key}'; write it as section.key, e.g. optim.lr or model.depth")
        section, _, name = dotted.partition(".")
        if section not in (*SECTIONS, "model", "augment", "mae"):
            raise ConfigError(f"Unknown recipe section '{section}' in '{item}'; valid: data, model, optim, train, augment, mae")
        try:
            value = parse_value(text)
        except (yaml.YAMLError, ValueError) as error:
            raise ConfigError(f"Override '{item}' has a value that is not valid YAML: {_first_line(error)}") from None
        result.setdefault(section, {})
        result[section] = {**result[section], name: value}
    return result


def load_recipe(name_or_path: str = "keras-seed", overrides: list[str] | None = None) -> Recipe:
    """A validated recipe: a shipped one by name, or a YAML file by path, with `key=value` overrides.

    Example: ``load_recipe("keras-seed", ["optim.lr=3e-4", "model.variant=factorised_encoder"])``.
    A bare key (``epochs=10``) works when only one section has it. Unknown keys and names
    raise a `ConfigError` that lists the valid ones; a mistake in a recipe file names the file.
    """
    data = read_recipe_file(name_or_path)
    try:
        recipe = build_recipe(apply_overrides(data, overrides or []))
    except ConfigError as error:
        if name_or_path in shipped_recipes():
            raise
        raise ConfigError(f"Recipe {name_or_path}: {error}") from None
    for message in recipe_warnings(recipe):
        warn(message)
    return recipe


def recipe_warnings(recipe: Recipe) -> list[str]:
    """Settings that are valid but defeat themselves, each as one line saying what to change."""
    warmup, epochs = recipe.optim.warmup_epochs, recipe.train.epochs
    if warmup > 0 and warmup >= epochs:
        return [
            f"optim.warmup_epochs ({warmup:g}) >= train.epochs ({epochs}): the whole run stays in warm-up "
            f"and the learning rate never reaches optim.lr ({recipe.optim.lr:g}); "
            f"lower optim.warmup_epochs or train more epochs"
        ]
    return []
