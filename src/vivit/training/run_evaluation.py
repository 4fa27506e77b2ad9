"""Evaluating a run's checkpoint on a split, and the evaluation/<split>.json it leaves.

The one writer of those documents: the end of `vivit train` and `vivit evaluate` both
call it, so the same checkpoint on the same split gives the same bytes.
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
from vivit.training.recipe import Recipe
from vivit.training.run_dir import RunDir, selected_checkpoint_name


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
    missing = [split for split in splits if split not in bundle.splits]
    if missing:
        raise ConfigError(f"Dataset {bundle.name} has no '{missing[0]}' split; choose one of: {', '.join(bundle.splits)}")
    selected = run.selected_checkpoint(recipe.train.select, checkpoint)
    model = load_model(selected.path)
    header = {"checkpoint": selected.name, "epoch": model.checkpoint_info.get("epoch")}
    if tta:
        model = flip_views(model, AugmentConfig.from_dict(recipe.augment), bundle, run.name)
    documents = {}
    for split in splits:
        metrics = evaluate_model(model, bundle.splits[split], bundle.num_classes, recipe.data.eval_batch_size)
        document = {**header, "split": split, "class_names": list(bundle.class_names), **metrics}
        if tta:
            document["tta"] = [list(view) for view in model.views]
        run.write_evaluation(f"{split}-tta" if tta else split, document)
        documents[split] = document
    return documents


def write_final_metrics(run: RunDir, recipe: Recipe, bundle: DatasetBundle) -> dict[str, Any]:
    """Evaluate the selected checkpoint on val and test; write evaluation/*.json and metrics.json."""
    documents = evaluate_run(run, recipe, bundle, [split for split in ("val", "test") if split in bundle.splits])
    # A dataset with neither split still records which checkpoint the run kept.
    first = next(iter(documents.values()), {"checkpoint": selected_checkpoint_name(recipe.train.select), "epoch": None})
    result: dict[str, Any] = {"checkpoint": first["checkpoint"], "epoch": first["epoch"]}
    result.update({split: scalars(document) for split, document in documents.items()})
    run.write_metrics(result)
    return result


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
