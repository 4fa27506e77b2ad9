"""Training time of each accuracy cell under one load: seconds per epoch, one run at a time.

    VIVIT_DATA_DIR=../shared/data python benchmarks/cell_timing.py [--group ablation] [--epochs 3] [--threads 1]

The "minutes per seed" of docs/results.md are each run's own, measured under whatever shared
the CPU with it (two or three runs side by side, a CI run), so they do not compare cells. This
trains every cell of a group for a few epochs, one after another on an otherwise idle machine,
and takes the median epoch after the first (which pays for warm-up); times the cell's own number
of epochs, that is its training time here. It writes benchmarks/results/cell_timing.json, which
`python benchmarks/accuracy.py --docs-only` renders into docs/results.md. Each cell records the
1-minute load average before it started, so a measurement taken beside other work shows it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy_cells import GROUPS, Cell, cells
from accuracy_results import TIMING_RESULTS, machine
from seeded_runs import train_arguments, train_or_resume

from vivit.reporting.run_files import read_history
from vivit.training.recipe import load_recipe

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results" / TIMING_RESULTS
SEED = 42
BUSY_LOAD = 0.5  # a 1-minute load average above this means something else was running


def seconds_per_epoch(run_dir: Path) -> float:
    """The median of the epochs after the first; the first pays for start-up and warm-up."""
    seconds = [float(s) for s in read_history(run_dir)["epoch_seconds"]]
    return statistics.median(seconds[1:] if len(seconds) > 1 else seconds)


def full_epochs(cell: Cell) -> int:
    """How many epochs the cell trains for in the accuracy table."""
    return load_recipe(cell.recipe, list(cell.overrides)).train.epochs


def time_cell(cell: Cell, epochs: int, threads: int | None, data_dir: str | None, scratch: Path) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    if load_before > BUSY_LOAD:
        print(f"# warning: load average {load_before:.2f} before {cell.name}; the machine is not idle", flush=True)
    run_dir = scratch / cell.name
    arguments = train_arguments(cell.recipe, cell.dataset, SEED, [*cell.overrides, f"train.epochs={epochs}"], data_dir)
    train_or_resume(run_dir, arguments, threads, data_dir, log=scratch / "logs" / f"{cell.name.replace('/', '_')}.log")
    per_epoch = seconds_per_epoch(run_dir)
    return {
        "seconds_per_epoch": round(per_epoch, 2),
        "epochs": full_epochs(cell),
        "minutes_per_seed": round(per_epoch * full_epochs(cell) / 60, 1),
        "load_before": round(load_before, 2),
        "epochs_timed": epochs,
        "machine": machine(threads),
        "date": datetime.date.today().isoformat(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", default="all", choices=[*GROUPS, "all"])
    parser.add_argument("--only", metavar="SUBSTRING", help="time only the cells whose name contains this")
    parser.add_argument("--epochs", type=int, default=3, help="epochs trained per cell (at least 2)")
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of each run (default 1, as the table's runs)")
    parser.add_argument("--data-dir", default=os.environ.get("VIVIT_DATA_DIR"))
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch pays for warm-up and is left out")
    selection = [cell for cell in cells(args.group) if args.only is None or args.only in cell.name]
    if not selection:
        print(f"No cell of group {args.group} contains '{args.only}'", file=sys.stderr)
        return 2
    document = json.loads(args.results.read_text()) if args.results.is_file() else {"cells": {}}
    command = shlex.join(["python", "benchmarks/cell_timing.py", *(argv if argv is not None else sys.argv[1:])])
    with tempfile.TemporaryDirectory(prefix="cell-timing-") as scratch:
        for cell in selection:
            timed = time_cell(cell, args.epochs, args.threads, args.data_dir, Path(scratch))
            document["cells"][cell.name] = {**timed, "command": command}
            print(f"{cell.name}: {timed['seconds_per_epoch']} s per epoch, {timed['minutes_per_seed']} min for "
                  f"{timed['epochs']} epochs (load before {timed['load_before']})", flush=True)
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(document, indent=2) + "\n")  # after each cell: a stop loses none
    return 0


if __name__ == "__main__":
    sys.exit(main())
