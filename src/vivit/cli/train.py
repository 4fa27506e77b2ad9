"""`vivit train`: train a recipe (default keras-seed on OrganMNIST3D), or resume a run."""

from __future__ import annotations

import argparse
from pathlib import Path

# Flags that are shorthands for recipe keys; `key=value` arguments reach every other key.
FLAG_KEYS = {
    "dataset": "data.dataset",
    "size": "data.size",
    "data_dir": "data.data_dir",
    "batch_size": "data.batch_size",
    "model": "model.preset",
    "variant": "model.variant",
    "epochs": "train.epochs",
    "seed": "train.seed",
    "devices": "train.devices",
    "num_nodes": "train.num_nodes",
    "init": "train.init",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model from a recipe",
        description="Train a recipe. Any recipe key can be overridden as section.key=value (e.g. optim.lr=3e-4).",
    )
    parser.add_argument("--recipe", default="keras-seed", help="shipped recipe name or YAML path (default keras-seed)")
    parser.add_argument("--dataset", help="MedMNIST 3D name, synthetic-shapes/-motion, a video folder or an .npz")
    parser.add_argument("--size", type=int, help="side of a sample: MedMNIST cube (28 or 64), video frame (default 112)")
    parser.add_argument("--model", help="model preset (see `vivit models`)")
    parser.add_argument("--variant", help="spatio_temporal, factorised_encoder, factorised_self_attention, factorised_dot_product")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--devices", type=int, help="processes (DDP) on this node")
    parser.add_argument("--num-nodes", type=int)
    parser.add_argument("--data-dir", help="folder of dataset files (default $VIVIT_DATA_DIR, else a user cache)")
    parser.add_argument("--out", type=Path, help="run directory (default runs/<recipe>-<dataset>-seed<S>-<time>)")
    parser.add_argument("--init", help="start from pretrained weights: an HF ViViT directory or an image ViT (timm/HF) file")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a stopped run")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.set_defaults(func=run)


def overrides_from(args: argparse.Namespace) -> list[str]:
    flags = [f"{key}={getattr(args, name)}" for name, key in FLAG_KEYS.items() if getattr(args, name) is not None]
    return flags + list(args.overrides)


def run(args: argparse.Namespace) -> int:
    from vivit.training.recipe import load_recipe
    from vivit.training.run import resume, train

    if args.resume is not None:
        run_dir = resume(args.resume, data_dir=args.data_dir)
    else:
        run_dir = train(load_recipe(args.recipe, overrides_from(args)), args.out)
    print(f"run directory: {run_dir}")
    from vivit.cli.evaluate import print_metrics_file

    print_metrics_file(run_dir / "metrics.json")
    return 0
