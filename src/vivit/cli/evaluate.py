"""`vivit evaluate RUN_DIR`: metrics of a run's checkpoint on a split, as a table and JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("evaluate", help="evaluate a trained run on its val or test split")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--split", choices=("val", "test"), default="test")
    parser.add_argument("--checkpoint", choices=("best", "last"), help="default: the one the recipe selects")
    parser.add_argument("--data-dir", help="folder of dataset files (default $VIVIT_DATA_DIR, else a user cache)")
    parser.add_argument("--json", type=Path, help="write here too (always written to RUN_DIR/evaluation/SPLIT.json)")
    parser.add_argument("--tta", action="store_true",
                        help="test-time augmentation: average over the flips the recipe trained with, left/right "
                             "labels swapped back (written to SPLIT-tta.json, apart from single-view figures)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vivit.checkpoints import load_model, resolve_checkpoint
    from vivit.data.augment import AugmentConfig
    from vivit.errors import ConfigError
    from vivit.evaluation.evaluate import evaluate_model
    from vivit.evaluation.tta import flip_views
    from vivit.training.run_dir import load_bundle, load_run_recipe, write_json

    recipe = load_run_recipe(args.run_dir, data_dir=args.data_dir)
    choice = args.checkpoint or ("last" if recipe.train.select == "last" else "best")
    checkpoint = resolve_checkpoint(args.run_dir / "checkpoints" / choice)
    model = load_model(checkpoint)
    bundle = load_bundle(recipe)
    if args.split not in bundle.splits:
        raise ConfigError(f"Dataset {bundle.name} has no '{args.split}' split")
    if args.tta:
        model = flip_views(model, AugmentConfig.from_dict(recipe.augment), bundle, args.run_dir.name)
    metrics = evaluate_model(model, bundle.splits[args.split], bundle.num_classes, recipe.data.eval_batch_size)
    document = {"checkpoint": choice, "split": args.split, "class_names": list(bundle.class_names), **metrics}
    name, title = args.split, args.split
    if args.tta:
        document["tta"] = [list(view) for view in model.views]
        name, title = f"{args.split}-tta", f"{args.split}, TTA over {len(model.views)} views"
    (args.run_dir / "evaluation").mkdir(exist_ok=True)
    write_json(args.run_dir / "evaluation" / f"{name}.json", document)
    if args.json:
        write_json(args.json, document)
    print(format_table(title, metrics, list(bundle.class_names)))
    return 0


def format_table(split: str, metrics: dict[str, Any], class_names: list[str]) -> str:
    lines = [f"{split} metrics", f"{'metric':<16}{'value':>8}"]
    lines += [f"{key:<16}{metrics[key]:>8.4f}" for key in ("accuracy", "top5", "auc", "loss") if key in metrics]
    lines.append(f"{'class':<24}{'accuracy':>9}")
    lines += [f"{name:<24}{acc:>9.4f}" for name, acc in zip(class_names, metrics["per_class_accuracy"])]
    return "\n".join(lines)


def print_metrics_file(path: Path) -> None:
    if not path.exists():
        return
    metrics = json.loads(path.read_text())
    print(f"checkpoint: {metrics.get('checkpoint')} (epoch {metrics.get('epoch')})")
    print(f"{'split':<6}" + "".join(f"{k:>10}" for k in ("accuracy", "top5", "auc", "loss")))
    for split in ("val", "test"):
        if split in metrics:
            values = metrics[split]
            print(f"{split:<6}" + "".join(f"{values[k]:>10.4f}" if k in values else f"{'-':>10}" for k in ("accuracy", "top5", "auc", "loss")))
