"""A search space: which recipe keys a sweep samples, and from what.

A YAML mapping from a dotted recipe key to its distribution:

    optim.lr: {type: float, low: 1.0e-5, high: 3.0e-3, log: true}
    model.depth: {type: int, low: 2, high: 8, step: 2}
    model.variant: {type: categorical, choices: [spatio_temporal, factorised_encoder]}
    model.tubelet_size: {type: categorical, choices: [[4, 4, 4], [2, 7, 7]]}

Optuna's categorical choices must be scalars, so list choices travel through Optuna
as their JSON text and are decoded when the recipe is built.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vivit.errors import ConfigError
from vivit.training.recipe import apply_overrides, build_recipe
from vivit.yaml_text import load_yaml

KINDS = ("float", "int", "categorical")


@dataclass(frozen=True)
class Parameter:
    key: str  # dotted recipe key, e.g. optim.lr
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """Draw this parameter for an Optuna trial; the value as the recipe wants it."""
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        return decode_choice(trial.suggest_categorical(self.key, [encode_choice(c) for c in self.choices]))

    def example(self) -> Any:
        """A value from the distribution, to check the key against a recipe."""
        return self.choices[0] if self.kind == "categorical" else (int(self.low) if self.kind == "int" else self.low)


def encode_choice(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, tuple, dict)) else value


def decode_choice(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def override(key: str, value: Any) -> str:
    """`key=value` as `vivit train` reads it (JSON is YAML, so lists and floats survive)."""
    return f"{key}={json.dumps(value)}"


def default_space_path() -> Path:
    return Path(str(resources.files("vivit.sweeps") / "spaces" / "default.yaml"))


def load_space(path: Path | None = None) -> list[Parameter]:
    """The parameters of a space file (the shipped default when `path` is None)."""
    path = path or default_space_path()
    if not path.is_file():
        raise ConfigError(f"Search space file {path} does not exist")
    try:
        data = load_yaml(path.read_text()) or {}
    except (yaml.YAMLError, ValueError) as error:
        raise ConfigError(f"Search space {path} is not valid YAML: {str(error).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Search space {path} is not text (UTF-8 YAML)") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"Search space {path} must map recipe keys to distributions, e.g. optim.lr: {{type: float, low: 1e-5, high: 1e-3, log: true}}")
    try:
        return [parse_parameter(str(key), spec) for key, spec in data.items()]
    except ConfigError as error:
        raise ConfigError(f"Search space {path}: {error}") from None


def parse_parameter(key: str, spec: Any) -> Parameter:
    if "." not in key:
        raise ConfigError(f"Search space key '{key}' must be written as section.key, e.g. optim.lr")
    if not isinstance(spec, dict) or spec.get("type") not in KINDS:
        raise ConfigError(f"Search space key '{key}' needs a type, one of: {', '.join(KINDS)}")
    kind = spec["type"]
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"Search space key '{key}' is categorical and needs a non-empty list of choices")
        return Parameter(key, kind, choices=tuple(choices))
    unknown = sorted(set(map(str, spec)) - {"type", "low", "high", "log", "step"})
    if unknown or "low" not in spec or "high" not in spec:
        raise ConfigError(f"Search space key '{key}' ({kind}) takes low, high and optionally log, step; got {', '.join(sorted(map(str, spec)))}")
    low, high = _number(key, "low", spec["low"]), _number(key, "high", spec["high"])
    if not low <= high or (spec.get("log") and low <= 0):
        raise ConfigError(f"Search space key '{key}' needs low <= high (and low > 0 on a log scale), got {low}..{high}")
    step = _number(key, "step", spec["step"]) if spec.get("step") is not None else None
    if step is not None and step <= 0:
        raise ConfigError(f"Search space key '{key}' needs a positive step, got {step}")
    if not isinstance(spec.get("log", False), bool):
        raise ConfigError(f"Search space key '{key}': log must be true or false, got {spec['log']!r}")
    return Parameter(key, kind, low=low, high=high, log=spec.get("log", False), step=step)


def _number(key: str, name: str, value: Any) -> float:
    """A finite number; YAML 1.1 reads 1e-5 as text, so numeric text counts too."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise ConfigError(f"Search space key '{key}': {name} must be a finite number, got {value!r}")
    return number


def check_space(space: list[Parameter], recipe_data: dict[str, Any]) -> None:
    """Every key must be a key of the recipe: build it with each parameter set once."""
    for parameter in space:
        try:
            build_recipe(apply_overrides(recipe_data, [override(parameter.key, parameter.example())]))
        except ConfigError as error:
            raise ConfigError(f"Search space key '{parameter.key}' does not fit the recipe: {error}") from None
