"""Evaluating a run's checkpoint on a split, and the evaluation/<split>.json it leaves.

The one writer of those documents: the end of `vivit train` and `vivit evaluate` both
call it, so the same checkpoint on the same split gives the same bytes. Single-view,
TTA and multi-view figures go to documents of their own (`RunDir.evaluation_name`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vivit.checkpoints import load_model, read_checkpoint_info
from vivit.data.augment import AugmentConfig
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError
from vivit.evaluation.evaluate import evaluate_model
from vivit.evaluation.metrics import scalars
from vivit.evaluation.tta import flip_views
from vivit.evaluation.views import evaluate_views
from vivit.training.recipe import SPATIAL_CROPS, Recipe
from vivit.training.run_dir import RunDir, selected_checkpoint_name

Views = tuple[int, int]  # (temporal clips, spatial crops)
SINGLE_VIEW: Views = (1, 1)


def evaluate_run(
    run: RunDir,
    recipe: Recipe,
    bundle: DatasetBundle,
    splits: Sequence[str],
    checkpoint: str | None = None,
    tta: bool = False,
) -> dict[str, dict[str, Any]]:
    """Evaluate the checkpoint `train.select` picks (or `checkpoint`) on each split, with
    test-time augmentation if `tta`; write evaluation/<split>[-tta].json; return split -> document.

    A document: checkpoint, epoch, split, class_names, accuracy, auc, loss, top5 (> 5 classes),
    per_class_accuracy, confusion_matrix, and with TTA the flipped axes of each view.
    """
    if recipe.pretrains:
        raise ConfigError(
            f"{run.path} is a pretraining run: its encoder has no classifier to evaluate (its reconstruction losses are "
            f"in metrics.json and its report); fine-tune it with vivit train --init {run.path}"
        )
    _check_splits(bundle, splits)
    model, header = _selected_model(run, recipe, checkpoint)
    if tta:
        model = flip_views(model, AugmentConfig.from_dict(recipe.augment), bundle, run.name)
    documents = {}
    for split in splits:
        metrics = evaluate_model(model, bundle.splits[split], bundle.num_classes, recipe.data.eval_batch_size)
        document = {**header, "split": split, "class_names": list(bundle.class_names), **metrics}
        if tta:
            document["tta"] = [list(view) for view in model.views]
        run.write_evaluation(run.evaluation_name(split, tta=tta), document)
        documents[split] = document
    return documents


def recipe_views(recipe: Recipe) -> Views:
    return recipe.data.eval_clips, recipe.data.eval_crops


def check_views(views: Views, bundle: DatasetBundle, run_name: str) -> None:
    """Several views need a video folder's files; refuse them for volumes in one line."""
    clips, crops = views
    if clips < 1 or crops not in SPATIAL_CROPS:
        raise ConfigError(f"Views {clips}x{crops}: give T x C with T >= 1 temporal clips and C = 1 or 3 crops, e.g. 4x3")
    if views != SINGLE_VIEW and bundle.videos is None:
        raise ConfigError(
            f"Run {run_name} was trained on {bundle.name}, which is not a video folder: multi-view evaluation "
            f"({clips}x{crops}) decodes more clips of each video file; evaluate it with one view (1x1)"
        )


def evaluate_run_views(
    run: RunDir,
    recipe: Recipe,
    bundle: DatasetBundle,
    splits: Sequence[str],
    views: Views,
    checkpoint: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The checkpoint's metrics with each video's `views` (clips, crops) averaged; writes
    evaluation/<split>-views.json; returns split -> document (the single-view keys plus `views`)."""
    _check_splits(bundle, splits)
    check_views(views, bundle, run.name)
    assert bundle.videos is not None
    model, header = _selected_model(run, recipe, checkpoint)
    clips, crops = views
    documents = {}
    for split in splits:
        videos = bundle.videos.views(split, clips, crops)
        labels = bundle.splits[split].labels
        metrics = evaluate_views(model, videos, labels, bundle.num_classes, bundle.videos.preprocessing,
                                 recipe.data.eval_batch_size)
        document = {**header, "split": split, "class_names": list(bundle.class_names),
                    "views": {"clips": clips, "crops": crops, "average": "probabilities"}, **metrics}
        run.write_evaluation(run.evaluation_name(split, views=True), document)
        documents[split] = document
    return documents


def write_final_metrics(run: RunDir, recipe: Recipe, bundle: DatasetBundle) -> dict[str, Any]:
    """Evaluate the selected checkpoint on val and test (and with the recipe's views when it sets
    several); write evaluation/*.json and metrics.json."""
    splits = [split for split in ("val", "test") if split in bundle.splits]
    documents = evaluate_run(run, recipe, bundle, splits)
    # A dataset with neither split still records which checkpoint the run kept.
    first = next(iter(documents.values()), {"checkpoint": selected_checkpoint_name(recipe.train.select), "epoch": None})
    result: dict[str, Any] = {"checkpoint": first["checkpoint"], "epoch": first["epoch"]}
    result.update({split: scalars(document) for split, document in documents.items()})
    views = recipe_views(recipe)
    if views != SINGLE_VIEW:
        multi = evaluate_run_views(run, recipe, bundle, splits, views)
        result["views"] = {"clips": views[0], "crops": views[1], **{split: scalars(d) for split, d in multi.items()}}
    run.write_metrics(result)
    return result


def _check_splits(bundle: DatasetBundle, splits: Sequence[str]) -> None:
    missing = [split for split in splits if split not in bundle.splits]
    if missing:
        raise ConfigError(f"Dataset {bundle.name} has no '{missing[0]}' split; choose one of: {', '.join(bundle.splits)}")


def _selected_model(run: RunDir, recipe: Recipe, checkpoint: str | None) -> tuple[Any, dict[str, Any]]:
    selected = run.selected_checkpoint(recipe.train.select, checkpoint)
    model = load_model(selected.path)
    return model, {"checkpoint": selected.name, "epoch": model.checkpoint_info.get("epoch")}


def write_pretraining_metrics(run: RunDir, recipe: Recipe) -> dict[str, Any]:
    """metrics.json of a pretraining run: the reconstruction losses of the epoch its checkpoint keeps.

    No test split is read: pretraining uses train splits (and val ones, to follow the loss) only.
    """
    selected = run.selected_checkpoint(recipe.train.select)
    kept = read_checkpoint_info(selected.path).get("epoch")
    row = next((r for r in run.read_history_rows() if r.get("epoch") == kept), {})
    result: dict[str, Any] = {"checkpoint": selected.name, "epoch": kept}
    result.update({split: {"loss": row[f"{split}/loss"]} for split in ("train", "val") if f"{split}/loss" in row})
    run.write_metrics(result)
    return result
