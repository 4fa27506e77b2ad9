"""Train the cells of experiments/grid.yaml and append a row to experiments/results.csv per finished run.

    python experiments/run.py --only organmnist3d/vivit-medmnist-no-ema   # its three seeds
    python experiments/run.py --seeds 42 --jobs 4                         # every cell's seed 42, four at a time
    python experiments/run.py --dry-run                                   # print the commands, run nothing

Each (cell, seed) is an ordinary run directory runs/experiments/<cell>/seed<S>, trained by `vivit train` (or
`vivit pretrain`): a finished one is kept, a stopped one resumed, so the command can be stopped and rerun at any
time. Then `python experiments/table.py` rewrites the tables of docs/results.md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import fcntl
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from vivit.data.augment import AugmentConfig
from vivit.hardware import cpu_model
from vivit.models import ViViTConfig, build_model
from vivit.training.run_dir import RunDir

HERE = Path(__file__).resolve().parent
VIVIT = [sys.executable, "-m", "vivit.cli.main"]
SPLIT_METRICS = ("accuracy", "auc", "top5", "loss")  # top5 only for more than five classes
COLUMNS = (
    "cell", "seed", "git_sha", "cpu", "threads", "device", "torch", "date", "epochs", "selected_epoch", "minutes",
    "parameters", *(f"{split}_{metric}" for split in ("val", "test") for metric in SPLIT_METRICS),
    "val_loss_lowest", "val_loss_lowest_epoch", "tta_views",
    *(f"{split}_tta_{metric}" for split in ("val", "test") for metric in ("accuracy", "auc", "top5")),
    "test_reads",  # how often the test split was read for this row's figures: 1 under the protocol
)


@dataclass(frozen=True)
class Cell:
    """`vivit <command> --recipe <recipe> --dataset <dataset> <overrides> --seed S` for each of `seeds`; the command is
    train or pretrain. In an override `{root}` is the root of the runs (train.init={root}/<cell>/seed<S>) and `{repo}`
    the repository (train.init={repo}/experiments/pretrained/<name>, a pretraining kept across machines)."""

    name: str
    recipe: str
    dataset: str
    overrides: tuple[str, ...]
    seeds: tuple[int, ...]
    command: str = "train"


def load_grid(path: Path) -> list[Cell]:
    grid = yaml.safe_load(path.read_text())
    return [Cell(**{**cell, "overrides": tuple(cell.get("overrides", ())), "seeds": tuple(cell.get("seeds", grid["seeds"]))})
            for cell in grid["cells"]]


def train_command(cell: Cell, seed: int, run_dir: Path, root: Path) -> list[str]:
    """Resume a run that has a last checkpoint; start afresh one stopped before its first epoch ended.
    `vivit` finds the data through the VIVIT_DATA_DIR it inherits."""
    if RunDir(run_dir).checkpoint_dir("last").exists():
        return [*VIVIT, cell.command, "--resume", str(run_dir)]
    return [*VIVIT, cell.command, "--recipe", cell.recipe, "--dataset", cell.dataset, "--seed", str(seed),
            *(override.replace("{root}", str(root)).replace("{repo}", str(HERE.parent)) for override in cell.overrides),
            "--out", str(run_dir)]


def add_tta(run: RunDir, env: dict[str, str]) -> None:
    """TTA figures of a run whose recipe trains with flips, kept apart from its single-view figures."""
    recipe = run.recipe()
    if recipe.pretrains or not any(AugmentConfig.from_dict(recipe.augment).flips.values()):  # pretraining: no classes
        return
    for split in ("val", "test"):
        if run.read_evaluation(f"{split}-tta") is None:
            subprocess.run([*VIVIT, "evaluate", str(run.path), "--split", split, "--tta"], check=True, env=env, stdout=subprocess.DEVNULL)


def git_sha() -> str:
    return subprocess.run(["git", "-C", str(HERE), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def parameter_count(run: RunDir) -> int:
    with torch.device("meta"):  # the model of config.yaml, built without allocating its weights
        model = build_model(ViViTConfig(**run.read_config()["resolved_model"]))
    return sum(p.numel() for p in model.parameters())


def result_row(cell: Cell, seed: int, run: RunDir, threads: int, sha: str) -> dict[str, Any]:
    """The row of a finished run: where (at commit `sha`, the one its code was imported from) and
    when it ran, its validation and test figures, its curves."""
    metrics, history = run.read_metrics(), run.read_history()
    lowest = int(np.nanargmin(history["val/loss"]))
    finished = datetime.datetime.fromtimestamp(run.metrics_path.stat().st_mtime, datetime.timezone.utc)
    row: dict[str, Any] = {
        "cell": cell.name, "seed": seed, "git_sha": sha, "cpu": cpu_model(), "threads": threads,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu", "torch": torch.__version__,
        "date": finished.date().isoformat(), "epochs": len(history["epoch"]), "selected_epoch": metrics.get("epoch"),
        "minutes": round(float(history["epoch_seconds"].sum()) / 60, 2), "parameters": parameter_count(run),
        "val_loss_lowest": round(float(history["val/loss"][lowest]), 6),
        "val_loss_lowest_epoch": int(history["epoch"][lowest]), "test_reads": int("test" in metrics),  # 0: pretraining
    }
    for split in ("val", "test"):
        row.update({f"{split}_{k}": round(v, 6) for k, v in metrics.get(split, {}).items() if k in SPLIT_METRICS})
        tta = run.read_evaluation(f"{split}-tta")
        if tta is not None:
            row["tta_views"] = len(tta["tta"])
            row.update({f"{split}_tta_{k}": round(tta[k], 6) for k in ("accuracy", "auc", "top5") if k in tta})
    return row


def recorded(results: Path) -> set[tuple[str, int]]:
    rows = csv.DictReader(results.read_text().splitlines()) if results.is_file() else []
    return {(row["cell"], int(row["seed"])) for row in rows}


def append_row(results: Path, row: dict[str, Any]) -> None:
    with open(results, "a", newline="") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # runs finishing together, here (--jobs) or in another runner
        handle.seek(0, os.SEEK_END)
        writer = csv.DictWriter(handle, COLUMNS)
        if handle.tell() == 0:
            writer.writeheader()
        writer.writerow(row)


def train(command: list[str], env: dict[str, str], log: Path | None) -> None:
    """Run `command` here, or into `log`: runs side by side write a log each rather than interleaved here."""
    print("$", shlex.join(command) + (f" > {log}" if log else ""), flush=True)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") if log else contextlib.nullcontext() as output:
        subprocess.run(command, check=True, env=env, stdout=output, stderr=subprocess.STDOUT if log else None)


def run_cell(cell: Cell, seed: int, args: argparse.Namespace) -> bool:
    """Train or resume one seed unless it is finished, add its TTA figures, append its row; False if it failed."""
    run = RunDir(args.root / cell.name / f"seed{seed}")
    command = train_command(cell, seed, run.path, args.root)
    if args.dry_run:
        print(shlex.join(command))
        return True
    was_finished = run.is_finished()
    started_at = git_sha()  # commits made while it trains are not the code it runs
    # torch takes its intra-op thread count from OMP_NUM_THREADS: one for each of runs side by side.
    threads = 1 if args.jobs > 1 else int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads()))
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    log = args.root / "logs" / f"{cell.name.replace('/', '-')}-seed{seed}.log" if args.jobs > 1 else None
    try:
        if not was_finished:
            train(command, env, log)
        add_tta(run, env)
    except subprocess.CalledProcessError as error:
        print(f"FAILED ({error.returncode}): {shlex.join(error.cmd)}" + (f"; its output is in {log}" if log else ""), file=sys.stderr)
        return False
    if not was_finished or (cell.name, seed) not in recorded(args.results):
        append_row(args.results, result_row(cell, seed, run, threads, started_at))
    return True


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="CELL", help="these cells of the grid (default: every cell)")
    parser.add_argument("--seeds", type=int, nargs="+", help="these seeds of each cell (default: the grid's)")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once, each with OMP_NUM_THREADS=1")
    parser.add_argument("--grid", type=Path, default=HERE / "grid.yaml")
    parser.add_argument("--root", type=Path, default=HERE.parent / "runs" / "experiments", help="where the run directories go")
    parser.add_argument("--results", type=Path, default=HERE / "results.csv")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing, write nothing")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cells = load_grid(args.grid)
    unknown = set(args.only or ()) - {cell.name for cell in cells}
    if unknown:
        print(f"No cell {', '.join(sorted(unknown))} in {args.grid}; cells: {', '.join(c.name for c in cells)}", file=sys.stderr)
        return 2
    runs = [(cell, seed) for cell in cells if not args.only or cell.name in args.only for seed in args.seeds or cell.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # threads that wait on subprocesses
        succeeded = list(pool.map(lambda run: run_cell(*run, args), runs))
    failed = [f"{cell.name} seed {seed}" for (cell, seed), ok in zip(runs, succeeded) if not ok]
    if failed:
        print("Failed: " + "; ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
