"""Reproduce a recipe over several seeds and write the mean +- std to docs/results/.

    python benchmarks/reproduce.py keras-seed --seeds 42 1 2
    python benchmarks/reproduce.py medmnist-protocol --dataset adrenalmnist3d --seeds 42

Each seed is a normal run directory under runs/reproduce/<recipe>-<dataset>/seed<S>;
finished seeds are reused and stopped ones resumed, so the command can be rerun safely.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seeded_runs import read_metrics, train_arguments, train_or_resume, training_minutes

REPO = Path(__file__).resolve().parents[1]


def summarise(run_dirs: list[Path]) -> dict[str, tuple[float, float]]:
    table: dict[str, list[float]] = {}
    for run_dir in run_dirs:
        metrics = read_metrics(run_dir)
        for split in ("val", "test"):
            for key, value in metrics[split].items():
                table.setdefault(f"{split}/{key}", []).append(value)
        table.setdefault("train_minutes", []).append(training_minutes(run_dir))
    return {k: (statistics.mean(v), statistics.stdev(v) if len(v) > 1 else 0.0) for k, v in table.items()}


def write_doc(recipe: str, dataset: str, seeds: list[int], run_dirs: list[Path], command: str) -> Path:
    summary = summarise(run_dirs)
    per_seed = []
    for seed, run_dir in zip(seeds, run_dirs):
        test = read_metrics(run_dir)["test"]
        cells = [f"{test[k]:.4f}" if k in test else "–" for k in ("accuracy", "top5", "auc")]  # no top-5 for binary tasks
        per_seed.append(f"| {seed} | " + " | ".join(cells) + " |")
    rows = "\n".join(
        f"| {key} | {mean:.4f} | {std:.4f} |" for key, (mean, std) in summary.items()
    )
    doc = REPO / "docs" / "results" / f"{recipe}-{dataset}.md"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(
        f"# {recipe} on {dataset}\n\n"
        f"Command: `{command}`\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, no GPU. "
        f"Date: {datetime.date.today()}.\n\n"
        f"## Mean and standard deviation over seeds {', '.join(map(str, seeds))}\n\n"
        f"| metric | mean | std |\n|---|---|---|\n{rows}\n\n"
        f"## Test metrics per seed\n\n| seed | accuracy | top5 | auc |\n|---|---|---|---|\n" + "\n".join(per_seed) + "\n"
    )
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--dataset", default="organmnist3d")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    parser.add_argument("--root", type=Path, default=REPO / "runs" / "reproduce")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    run_dirs = [args.root / f"{args.recipe}-{args.dataset}" / f"seed{seed}" for seed in args.seeds]
    for seed, run_dir in zip(args.seeds, run_dirs):
        train_or_resume(run_dir, train_arguments(args.recipe, args.dataset, seed, args.overrides))
    command = " ".join(["python benchmarks/reproduce.py", args.recipe, "--dataset", args.dataset, "--seeds", *map(str, args.seeds), *args.overrides])
    print(write_doc(args.recipe, args.dataset, args.seeds, run_dirs, command).read_text())


if __name__ == "__main__":
    main()
