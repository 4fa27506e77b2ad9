"""Type checks for settings read from YAML or JSON, where any value may stand anywhere.

Settings are frozen dataclasses whose annotations are written as strings (``int``,
``float | None``, ``tuple[float, float]``, ``tuple[int, ...]``, ``dict[str, Any]``);
:func:`check_fields` raises a one-line ConfigError naming the first setting whose
value does not fit, before any comparison could fail with a TypeError. Standard
library only, so every layer may use it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import fields
from typing import Any

from vivit.errors import ConfigError

_NAMES = {"bool": "true or false", "int": "an integer", "float": "a finite number", "str": "a name", "None": "null"}


def check_fields(settings: Any, where: str) -> None:
    """Raise ConfigError for the first field of dataclass `settings` of the wrong type."""
    for f in fields(settings):
        value = getattr(settings, f.name)
        if not fits(value, str(f.type)):
            raise ConfigError(f"{where}{f.name} must be {describe(str(f.type))}, got {value!r}")


def fits(value: Any, annotation: str) -> bool:
    options = annotation.split(" | ")
    if value is None:
        return "None" in options
    return _fits_kind(value, options[0])


def _fits_kind(value: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "str":
        return isinstance(value, str)
    if kind.startswith("dict"):
        return isinstance(value, dict)
    if kind.startswith("tuple["):
        inner = kind[len("tuple[") : -1].split(", ")
        if not isinstance(value, (tuple, list)):
            return False
        if inner[-1] == "...":
            return all(_fits_kind(v, inner[0]) for v in value)
        return len(value) == len(inner) and all(_fits_kind(v, k) for v, k in zip(value, inner))
    raise AssertionError(f"no type check for a {kind} setting")


def describe(annotation: str) -> str:
    described = []
    for option in annotation.split(" | "):
        if option.startswith("tuple["):
            inner = option[len("tuple[") : -1].split(", ")
            count = "" if inner[-1] == "..." else f"{len(inner)} "
            described.append(f"a list of {count}{'integers' if inner[0] == 'int' else 'numbers' if inner[0] == 'float' else inner[0]}")
        elif option.startswith("dict"):
            described.append("a mapping")
        else:
            described.append(_NAMES[option])
    return " or ".join(described)
