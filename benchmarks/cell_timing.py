"""Training time of each accuracy cell under one load: seconds per epoch, one run at a time.

    VIVIT_DATA_DIR=../shared/data python benchmarks/cell_timing.py [--group ablation] [--epochs 3] [--threads 1]

The "minutes per seed" of docs/results.md are each run's own, measured under whatever shared
the CPU with it (two or three runs side by side, a CI run), so they do not compare cells. This
trains every cell of a group for a few epochs, one after another on an otherwise idle machine,
and takes the median epoch after the first (which pays for warm-up); times the cell's own number
of epochs, that is its training time here. It writes benchmarks/results/cell_timing.json, which
`python benchmarks/accuracy.py --docs-only` renders into docs/results.md. Each cell records the
share of the CPU that was busy just before it started, so a measurement taken beside other work
shows it.
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
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy_cells import GROUPS, Cell, cells, matching
from accuracy_results import TIMING_RESULTS, machine
from seeded_runs import train_arguments, train_or_resume

from vivit.training.run_dir import RunDir
from vivit.training.recipe import load_recipe

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results" / TIMING_RESULTS
SEED = 42
BUSY = 0.1  # a share of the CPU above this, busy just before a cell, means something else was running


def cpu_busy(seconds: float = 2.0) -> float:
    """The share of all cores' time spent busy over the next `seconds` (from /proc/stat); the load
    average would not do, as it still counts the cell timed just before for a minute."""
    def busy_and_total() -> tuple[int, int]:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    busy_0, total_0 = busy_and_total()
    time.sleep(seconds)
    busy_1, total_1 = busy_and_total()
    return (busy_1 - busy_0) / max(total_1 - total_0, 1)


def seconds_per_epoch(run_dir: Path) -> float:
    """The median of the epochs after the first; the first pays for start-up and warm-up."""
    seconds = [float(s) for s in RunDir(run_dir).read_history()["epoch_seconds"]]
    return statistics.median(seconds[1:] if len(seconds) > 1 else seconds)


def full_epochs(cell: Cell) -> int:
    """How many epochs the cell trains for in the accuracy table."""
    return load_recipe(cell.recipe, list(cell.overrides)).train.epochs


def time_cell(cell: Cell, epochs: int, threads: int | None, data_dir: str | None, scratch: Path) -> dict[str, Any]:
    busy_before = cpu_busy()
    if busy_before > BUSY:
        print(f"# warning: {busy_before:.0%} of the CPU was busy before {cell.name}; the machine is not idle", flush=True)
    run_dir = scratch / cell.name
    arguments = train_arguments(cell.recipe, cell.dataset, SEED, [*cell.overrides, f"train.epochs={epochs}"], data_dir)
    train_or_resume(run_dir, arguments, threads, data_dir, log=scratch / "logs" / f"{cell.name.replace('/', '_')}.log")
    per_epoch, epochs_in_table = seconds_per_epoch(run_dir), full_epochs(cell)
    return {
        "seconds_per_epoch": round(per_epoch, 2),
        "epochs": epochs_in_table,
        "minutes_per_seed": round(per_epoch * epochs_in_table / 60, 1),
        "cpu_busy_before": round(busy_before, 3),
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
    selection = matching(cells(args.group), args.only)
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
                  f"{timed['epochs']} epochs (CPU busy before: {timed['cpu_busy_before']:.0%})", flush=True)
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(document, indent=2) + "\n")  # after each cell: a stop loses none
    return 0


if __name__ == "__main__":
    sys.exit(main())
