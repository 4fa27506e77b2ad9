"""Reading and writing a run directory's plain files, without Lightning.

Kept apart from `run.py` so that evaluating or reporting a run does not pay for
importing the training stack.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from vivit.data.datasets import load_dataset, sample_size
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError
from vivit.training.recipe import Recipe, build_recipe

CONFIG_FILE = "config.yaml"


def load_bundle(recipe: Recipe) -> DatasetBundle:
    data = recipe.data
    size, options = sample_size(data.dataset, data.size, data.options)
    return load_dataset(data.dataset, size=size, data_dir=data.data_dir, **options)


def load_run_recipe(run_dir: Path, data_dir: str | None = None) -> Recipe:
    """The recipe a run was trained with, from its config.yaml."""
    config_path = run_dir / CONFIG_FILE
    if not config_path.exists():
        raise ConfigError(f"{run_dir} is not a run directory ({CONFIG_FILE} is missing)")
    saved = yaml.safe_load(config_path.read_text())
    saved = {k: v for k, v in saved.items() if k not in ("resolved_model", "dataset")}
    if data_dir is not None:
        saved["data"] = {**saved.get("data", {}), "data_dir": data_dir}
    return build_recipe(saved)


def write_json(path: Path, data: dict[str, Any]) -> None:
    staging = path.with_suffix(".json.tmp")
    staging.write_text(json.dumps(data, indent=2))
    os.replace(staging, path)


def dataset_summary(bundle: DatasetBundle) -> dict[str, Any]:
    return {
        "name": bundle.name,
        "task": bundle.task,
        "class_names": list(bundle.class_names),
        "input_shape": list(bundle.input_shape),
        "split_sizes": {k: len(v) for k, v in bundle.splits.items()},
    }
