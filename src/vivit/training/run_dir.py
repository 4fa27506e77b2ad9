"""A run directory: the one owner of its layout and of the plain files in it.

    config.yaml               the fully resolved recipe, the model config and the dataset
    history.csv               one row per epoch
    checkpoints/last/         model.safetensors, config.json, trainer_state.ckpt (to resume)
    checkpoints/best/         model.safetensors, config.json (when train.select is a metric)
    metrics.json              val and test metrics of the checkpoint that train.select picks
    evaluation/<split>.json   every metric of that checkpoint on a split (<split>-tta.json with TTA,
                              <split>-views.json averaged over several clips x crops of each video)

Nothing else opens these files by path. Lightning is not imported here, so that
evaluating, reporting or predicting from a run does not pay for the training stack.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from vivit.checkpoints import resolve_checkpoint
from vivit.data.datasets import load_dataset, sample_size
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError, DataError
from vivit.output_locations import staged, write_text_atomic
from vivit.training.recipe import Recipe, build_recipe
from vivit.yaml_text import load_yaml

CONFIG_FILE = "config.yaml"
WRITER_LOCK = ".writer.lock"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
EVALUATION_DIR = "evaluation"
CHECKPOINTS_DIR = "checkpoints"
HISTORY_COLUMNS = (
    "epoch", "train/loss", "train/accuracy", "val/loss", "val/accuracy", "val/top5", "val/auc", "lr", "epoch_seconds",
)
CHECKPOINT_NAMES = ("best", "last")


def selected_checkpoint_name(select: str, override: str | None = None) -> str:
    """The checkpoint `train.select = select` picks: `last`, or `best` by a validation metric."""
    if override is not None:
        if override not in CHECKPOINT_NAMES:
            raise ConfigError(f"Unknown checkpoint '{override}'; choose one of: {', '.join(CHECKPOINT_NAMES)}")
        return override
    return "last" if select == "last" else "best"


@dataclass(frozen=True)
class SelectedCheckpoint:
    """A run's checkpoint directory and the name a report or a document gives it."""

    name: str  # "last" or "best"
    path: Path


@dataclass(frozen=True)
class RunDir:
    """The run directory at `path`: where each of its files is, and how each is read and written."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def history_path(self) -> Path:
        return self.path / HISTORY_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def evaluation_dir(self) -> Path:
        return self.path / EVALUATION_DIR

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS_DIR

    def evaluation_path(self, name: str) -> Path:
        """evaluation/<name>.json, `name` from `evaluation_name`."""
        return self.evaluation_dir / f"{name}.json"

    @staticmethod
    def evaluation_name(split: str, tta: bool = False, views: bool = False) -> str:
        """The name of a split's evaluation document: `test`, `test-tta` (flipped views averaged)
        or `test-views` (temporal clips x spatial crops averaged), each kept apart from the others."""
        return split + ("-tta" if tta else "") + ("-views" if views else "")

    @property
    def tensorboard_dir(self) -> Path:
        return self.path / "tensorboard"

    @property
    def mlflow_db(self) -> Path:
        return self.path / "mlflow.db"

    def checkpoint_dir(self, name: str) -> Path:
        return self.checkpoints / name

    # the writer's lock
    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold RUN/.writer.lock while training: a second `vivit train` into the same run is refused.

        An advisory lock of the kernel's (flock), released when the process ends, however it ends:
        a killed run leaves no stale lock.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        lock_path = self.path / WRITER_LOCK
        handle = open(lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigError(
                f"{self.path} is being trained by {holder}; wait for it to end, or train into another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    # config.yaml
    def holds_checkpoints(self) -> bool:
        return self.checkpoints.exists()

    def write_config(self, resolved: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.config_path, yaml.safe_dump(resolved, sort_keys=False))

    def config_text(self) -> str:
        """config.yaml as written, for a reader to see the whole recipe."""
        self._require_config()
        try:
            return self.config_path.read_text()
        except UnicodeDecodeError:
            raise self._unreadable_config("it is not text") from None
        except OSError as error:
            raise self._unreadable_config(error.strerror or str(error)) from None

    def read_config(self) -> dict[str, Any]:
        """config.yaml as data: the recipe, `resolved_model` and `dataset`."""
        text = self.config_text()  # its own ConfigError (a ValueError) must not be wrapped again below
        try:
            data = load_yaml(text)
        except (yaml.YAMLError, ValueError) as error:
            raise self._unreadable_config(str(error).splitlines()[0]) from None
        if not isinstance(data, dict) or not isinstance(data.get("data", {}), dict):
            raise self._unreadable_config(f"it holds {type(data).__name__ if data is not None else 'nothing'}, not a recipe")
        return data

    def _unreadable_config(self, reason: str) -> ConfigError:
        return ConfigError(
            f"{self.config_path} is not a run's config ({reason}); it is damaged or was not written by vivit train"
        )

    def recipe(self, data_dir: str | None = None) -> Recipe:
        """The recipe the run was trained with; `data_dir` replaces where its dataset files are."""
        saved = {k: v for k, v in self.read_config().items() if k not in ("resolved_model", "dataset")}
        if data_dir is not None:
            saved["data"] = {**saved.get("data", {}), "data_dir": data_dir}
        return build_recipe(saved)

    def _require_config(self) -> None:
        if not self.config_path.exists():
            raise ConfigError(f"{self.path} is not a run directory ({CONFIG_FILE} is missing)")

    # history.csv
    def write_history(self, rows: list[dict[str, Any]]) -> None:
        """Rewrite history.csv whole, through a temporary file, so it is never half-written."""
        with staged(self.history_path) as staging, open(staging, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    def read_history(self) -> dict[str, np.ndarray] | None:
        """history.csv as column -> float array (NaN where a value is empty); None if absent."""
        path = self.history_path
        if not path.exists():
            return None
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            return None
        try:
            return {column: np.array([float(row[column] or "nan") for row in rows]) for column in rows[0]}
        except ValueError as error:
            raise DataError(f"{path} holds a value that is not a number ({error}); the run's history is corrupt") from None

    def read_history_rows(self) -> list[dict[str, float]]:
        """history.csv as one {column: value} per epoch, leaving out empty values (a metric not
        measured that epoch); [] if absent. The shape the selection rule replays."""
        history = self.read_history()
        if history is None:
            return []
        epochs = len(next(iter(history.values())))
        return [{column: float(values[i]) for column, values in history.items() if not np.isnan(values[i])}
                for i in range(epochs)]

    # metrics.json
    def is_finished(self) -> bool:
        """metrics.json is written last, after the selected checkpoint was tested."""
        return self.metrics_path.is_file()

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json(self.metrics_path, metrics)

    def read_metrics(self) -> dict[str, Any] | None:
        """metrics.json (val and test metrics of the selected checkpoint); None if absent."""
        path = self.metrics_path
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise DataError(f"{path} is not valid JSON ({error}); rewrite it with `vivit train --resume {self.path}`") from None

    # evaluation/<name>.json
    def write_evaluation(self, name: str, document: dict[str, Any]) -> Path:
        self.evaluation_dir.mkdir(exist_ok=True)
        path = self.evaluation_path(name)
        write_json(path, document)
        return path

    def read_evaluation(self, name: str) -> dict[str, Any] | None:
        """evaluation/<name>.json; None if absent."""
        path = self.evaluation_path(name)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise DataError(f"{path} is not valid JSON ({error}); rewrite it with `vivit evaluate {self.path}`") from None

    # checkpoints/
    def selected_checkpoint(self, select: str, override: str | None = None) -> SelectedCheckpoint:
        """The checkpoint `train.select` picks (or `override`: "best" or "last"), checked to exist."""
        name = selected_checkpoint_name(select, override)
        return SelectedCheckpoint(name, resolve_checkpoint(self.checkpoint_dir(name)))


def write_json(path: Path, data: dict[str, Any], what: str = "") -> None:
    """Write `data` as indented JSON through a staging file, so `path` is never half-written."""
    write_text_atomic(path, json.dumps(data, indent=2), what)




def load_bundle(recipe: Recipe) -> DatasetBundle:
    """The recipe's dataset; for a pretraining recipe its unlabelled union (training/pretrain_data.py)."""
    data = recipe.data
    if recipe.pretrains:
        from vivit.training.pretrain_data import load_pretraining_bundle

        return load_pretraining_bundle(data.dataset, data.size, data.data_dir, data.options)
    size, options = sample_size(data.dataset, data.size, data.options)
    return load_dataset(data.dataset, size=size, data_dir=data.data_dir, **options)


def dataset_summary(bundle: DatasetBundle) -> dict[str, Any]:
    summary = {
        "name": bundle.name,
        "task": bundle.task,
        "class_names": list(bundle.class_names),
        "input_shape": list(bundle.input_shape),
        "split_sizes": {k: len(v) for k, v in bundle.splits.items()},
    }
    if bundle.videos is not None:  # how each video file became a clip: resize, crop, frames, normalisation
        summary["preprocessing"] = bundle.videos.preprocessing.to_dict()
    return summary
