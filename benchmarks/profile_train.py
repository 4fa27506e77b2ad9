"""Where `vivit train`'s time goes outside the model: Lightning's SimpleProfiler over a
few epochs of a recipe (hooks, optimizer step, data loading, validation, checkpoints).

    VIVIT_DATA_DIR=../shared/data python benchmarks/profile_train.py [--epochs 2] [--threads N] [KEY=VALUE ...]

Trains `keras-seed` (or `--recipe`) into a temporary run directory with Lightning's
SimpleProfiler attached and prints its report's top actions.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.profilers import SimpleProfiler

from vivit.training.recipe import load_recipe
from vivit.training.run import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="keras-seed")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--top", type=int, default=14)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        profiler = SimpleProfiler(dirpath=tmp, filename="profile")
        build_trainer = pl.Trainer.__init__

        def with_profiler(self: pl.Trainer, *a, **kw) -> None:
            build_trainer(self, *a, **{**kw, "profiler": profiler})

        pl.Trainer.__init__ = with_profiler  # make_trainer builds the Trainer; attach ours to it
        recipe = load_recipe(args.recipe, [f"train.epochs={args.epochs}", *args.overrides])
        train(recipe, Path(tmp) / "run")
        report = (Path(tmp) / "fit-profile.txt").read_text().splitlines()
    rows = [line for line in report if line.startswith("|")]
    print("\n".join(rows[: args.top + 3]))


if __name__ == "__main__":
    main()
