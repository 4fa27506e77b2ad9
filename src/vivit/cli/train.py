"""`vivit train`: train a recipe (default keras-seed on OrganMNIST3D), or resume a run."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class TrainingFlag:
    """A flag that is a shorthand for one recipe key; `key=value` arguments reach every other key."""

    name: str  # the argparse dest: --batch-size is batch_size
    key: str
    value_type: Callable[[str], Any] = str
    help: str | None = None


TRAINING_FLAGS = (
    TrainingFlag("dataset", "data.dataset", help="MedMNIST 3D name, synthetic-shapes/-motion, a video folder or an .npz"),
    TrainingFlag("size", "data.size", int, "side of a sample: MedMNIST cube (28 or 64), video frame (default 112)"),
    TrainingFlag("model", "model.preset", help="model preset (see `vivit models`)"),
    TrainingFlag("variant", "model.variant",
                 help="spatio_temporal, factorised_encoder, factorised_self_attention, factorised_dot_product"),
    TrainingFlag("epochs", "train.epochs", int),
    TrainingFlag("batch_size", "data.batch_size", int),
    TrainingFlag("seed", "train.seed", int),
    TrainingFlag("devices", "train.devices", int, "processes (DDP) on this node"),
    TrainingFlag("num_nodes", "train.num_nodes", int),
    TrainingFlag("data_dir", "data.data_dir", help="folder of dataset files (default $VIVIT_DATA_DIR, else a user cache)"),
    TrainingFlag("init", "train.init",
                 help="start from pretrained weights: a `vivit pretrain` run (or its checkpoint), an HF ViViT "
                      "directory or an image ViT (timm/HF) file"),
)
FLAG_KEYS = {flag.name: flag.key for flag in TRAINING_FLAGS}


def add_training_arguments(
    parser: argparse.ArgumentParser, default_recipe: str = "keras-seed", flags: tuple[TrainingFlag, ...] = TRAINING_FLAGS
) -> None:
    """--recipe and every shorthand flag for a recipe key: `vivit train`'s, shared by `vivit sweep` and `vivit pretrain`."""
    parser.add_argument("--recipe", default=default_recipe, help=f"shipped recipe name or YAML path (default {default_recipe})")
    for flag in flags:
        described = f"{flag.help}; sets {flag.key}" if flag.help else f"sets {flag.key}"
        parser.add_argument("--" + flag.name.replace("_", "-"), type=flag.value_type, help=described)


def _check_resume_arguments(args: argparse.Namespace, default_recipe: str = "keras-seed") -> None:
    from vivit.errors import ConfigError

    changed = [item for item in overrides_from(args) if item.partition("=")[0] not in RESUME_KEYS]
    if args.recipe != default_recipe:
        changed.insert(0, f"--recipe {args.recipe}")
    if args.out is not None:
        changed.insert(0, f"--out {args.out}")
    if changed:
        raise ConfigError(
            f"--resume continues {args.resume} with its own recipe; it takes only --epochs and --data-dir, "
            f"not {', '.join(changed)}. To train with other settings, start a new run"
        )


def overrides_from(args: argparse.Namespace) -> list[str]:
    """The recipe overrides of parsed arguments: the shorthand flags given, then `key=value` ones."""
    flags = [f"{flag.key}={getattr(args, flag.name)}" for flag in TRAINING_FLAGS if getattr(args, flag.name, None) is not None]
    return flags + list(args.overrides)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model from a recipe",
        description="Train a recipe. Any recipe key can be overridden as section.key=value (e.g. optim.lr=3e-4).",
    )
    add_training_arguments(parser)
    add_run_arguments(parser, resume_help="continue a stopped run with its own recipe; with --epochs N, extend it to N epochs")
    parser.set_defaults(func=run)


def add_run_arguments(parser: argparse.ArgumentParser, resume_help: str) -> None:
    """--out, --resume, --progress and the key=value overrides, the same for `vivit train` and `vivit pretrain`."""
    parser.add_argument("--out", type=Path, help="run directory (default runs/<recipe>-<dataset>-seed<S>-<time>)")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help=resume_help)
    parser.add_argument("--progress", choices=("auto", "bar", "lines"), default="auto",
                        help="a live bar with ETA, or one line per epoch (auto: the bar on a terminal, lines otherwise)")
    parser.add_argument("overrides", nargs="*", metavar="key=value")


def _check_kind(pretrains: bool, pretraining: bool, what: str, argument: str) -> None:
    """`vivit train` trains classifiers, `vivit pretrain` masked autoencoders: each names the other for the other's runs."""
    from vivit.errors import ConfigError

    if pretrains and not pretraining:
        raise ConfigError(f"{what} masked-autoencoder pretraining (it has a mae section); run it with vivit pretrain {argument}")
    if pretraining and not pretrains:
        raise ConfigError(f"{what} supervised training (it has no mae section); run it with vivit train {argument}, "
                          f"or pretrain with the vivit-mae-pretrain recipe")


# What `--resume` may change: where the data is and how long to train; anything else would make
# the resumed run another experiment than the one its checkpoints belong to.
RESUME_KEYS = ("data.data_dir", "train.epochs")


def run(args: argparse.Namespace, pretraining: bool = False) -> int:
    """`vivit train` (or, with `pretraining`, `vivit pretrain`): a new run, or a resumed one of its kind."""
    from vivit.cli.evaluate import print_metrics
    from vivit.training.recipe import load_recipe
    from vivit.training.run import is_first_rank, resume, train
    from vivit.training.run_dir import RunDir

    progress = args.progress if args.progress != "auto" else ("bar" if sys.stdout.isatty() else "lines")
    if args.resume is not None:
        _check_resume_arguments(args, "vivit-mae-pretrain" if pretraining else "keras-seed")
        _check_kind(RunDir(args.resume).recipe(args.data_dir).pretrains, pretraining, f"{args.resume} is", f"--resume {args.resume}")
        run_dir = resume(args.resume, data_dir=args.data_dir, epochs=args.epochs, progress=progress)
    else:
        recipe = load_recipe(args.recipe, overrides_from(args))
        _check_kind(recipe.pretrains, pretraining, f"recipe {args.recipe} is", f"--recipe {args.recipe}")
        run_dir = train(recipe, args.out, progress=progress)
    if not is_first_rank():  # the other ranks of a DDP run: rank 0 reports it
        return 0
    print(f"run directory: {run_dir}")
    print_metrics(RunDir(run_dir).read_metrics())
    return 0
