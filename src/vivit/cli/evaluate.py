"""`vivit evaluate RUN_DIR`: metrics of a run's checkpoint on a split, as a table and JSON
(`training/run_evaluation.py` evaluates and writes RUN_DIR/evaluation/SPLIT.json, and with
several views of each video SPLIT-views.json)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vivit.cli.views import VIEWS_HELP, parse_views


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
    parser.add_argument("--views", metavar="TxC",
                        help=f"{VIEWS_HELP} (written to SPLIT-views.json, printed after the single-view figures; "
                             "default: the recipe's data.eval_clips x data.eval_crops)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vivit.errors import ConfigError
    from vivit.output_locations import check_output_file, check_output_folder
    from vivit.training.run_dir import RunDir, load_bundle, write_json
    from vivit.training.run_evaluation import SINGLE_VIEW, check_views, evaluate_run, evaluate_run_views, recipe_views

    run_dir = RunDir(args.run_dir)
    recipe = run_dir.recipe(data_dir=args.data_dir)
    views = parse_views(args.views) if args.views else recipe_views(recipe)
    if args.tta and views != SINGLE_VIEW:
        raise ConfigError(f"--tta and {views[0]}x{views[1]} views average different views; evaluate one at a time "
                          f"(--views 1x1 with --tta)")
    check_output_folder(run_dir.evaluation_dir, "the run's evaluation folder")
    if args.json:
        check_output_file(args.json, "--json")
    bundle = load_bundle(recipe)
    check_views(views, bundle, run_dir.name)
    document = evaluate_run(run_dir, recipe, bundle, [args.split], checkpoint=args.checkpoint, tta=args.tta)[args.split]
    title = f"{args.split} metrics (TTA: the mean of {len(document['tta'])} flipped views)" if args.tta else f"{args.split} metrics"
    print(format_table(title, document, list(bundle.class_names)))
    if views != SINGLE_VIEW:
        multi = evaluate_run_views(run_dir, recipe, bundle, [args.split], views, checkpoint=args.checkpoint)[args.split]
        clips, crops = views
        print()
        print(format_table(f"{args.split} metrics, {clips}x{crops} views ({clips} clips x {crops} crops, "
                           f"probabilities averaged)", multi, list(bundle.class_names)))
        document = {"single_view": document, "multi_view": multi}
    if args.json:
        write_json(args.json, document, "--json")
    return 0


def format_table(title: str, metrics: dict[str, Any], class_names: list[str]) -> str:
    from vivit.evaluation.metrics import format_metric

    lines = [title, f"{'metric':<16}{'value':>8}"]
    lines += [f"{key:<16}{format_metric(metrics[key], 8)}" for key in ("accuracy", "top5", "auc", "loss") if key in metrics]
    lines.append(f"{'class':<24}{'accuracy':>9}")
    lines += [f"{name:<24}{acc:>9.4f}" for name, acc in zip(class_names, metrics["per_class_accuracy"])]
    return "\n".join(lines)


def print_metrics(metrics: dict[str, Any] | None) -> None:
    """metrics.json as a table: val and test figures of the checkpoint the run kept."""
    from vivit.evaluation.metrics import format_metric

    if metrics is None:
        return
    print(f"checkpoint: {metrics.get('checkpoint')} (epoch {metrics.get('epoch')})")
    print(f"{'split':<6}" + "".join(f"{k:>10}" for k in ("accuracy", "top5", "auc", "loss")))
    for split in ("val", "test"):
        if split in metrics:
            values = metrics[split]
            print(f"{split:<6}" + "".join(format_metric(values[k], 10) if k in values else f"{'-':>10}" for k in ("accuracy", "top5", "auc", "loss")))
