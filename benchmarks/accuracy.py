"""Run the accuracy table of issue 7 (ViViT recipes on 28^3 MedMNIST 3D) and write docs/results.md.

    python benchmarks/accuracy.py --group recipe-variant                  # 4 variants x {keras-seed, vivit-medmnist}
    python benchmarks/accuracy.py --group ablation --threads 2            # vivit-medmnist minus one ingredient
    python benchmarks/accuracy.py --group datasets --only adrenalmnist3d  # the recommended recipe on AdrenalMNIST3D
    python benchmarks/accuracy.py --group longer --only 200-epochs        # the same recipe, trained longer
    python benchmarks/accuracy.py --group additions --only conv-stem      # the recipe with one ingredient added
    python benchmarks/accuracy.py --group candidates --only conv-stem     # an addition at 200 epochs, every dataset
    python benchmarks/accuracy.py --dry-run                               # print what would run
    python benchmarks/accuracy.py --docs-only                             # rebuild the page from the JSON
    python benchmarks/accuracy.py --group all --jobs 8 --threads 2        # 8 runs at a time (a GPU machine)

Every (cell, seed) is an ordinary run directory <root>/<cell>/seed<S>: missing ones are trained,
stopped ones resumed, finished ones kept, so the script can be stopped and rerun at any time.
After each run its entry joins benchmarks/results/accuracy.json (merged with the entries of
other sessions and machines) and docs/results.md is rewritten from that file alone. The whole
table is days of CPU: run it in pieces with --group and --only. With --jobs N, N runs train at
once, each writing its output to <root>/logs/; runs (and several copies of this script) record
their entries under a lock, so none is lost.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy_cells import DEFAULT_DATASETS, GROUPS, Cell, cells, matching
from accuracy_doc import render
from accuracy_results import TIMING_RESULTS, entry, load_entries, merge, save_entries, write_run_record
from seeded_runs import is_finished, train_arguments, train_or_resume

from vivit.data.registry import MEDMNIST_3D

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO / "runs" / "accuracy"
DEFAULT_RESULTS = REPO / "benchmarks" / "results" / "accuracy.json"
DEFAULT_DOC = REPO / "docs" / "results.md"
EVALUATE = [sys.executable, "-m", "vivit.cli.main", "evaluate"]
# The issue asks for three seeds; the page counts every cell against them.
TABLE_SEEDS = [42, 1, 2]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=[*GROUPS, "all"], default="all")
    parser.add_argument("--only", metavar="SUBSTRING", help="run only the cells whose name contains this")
    parser.add_argument("--datasets", nargs="+", choices=sorted(MEDMNIST_3D), default=list(DEFAULT_DATASETS),
                        help="datasets of the `datasets` group besides OrganMNIST3D (default: adrenalmnist3d)")
    parser.add_argument("--seeds", type=int, nargs="+", default=TABLE_SEEDS)
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS of each run (default: torch's choice)")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once (default 1: one after another)")
    parser.add_argument("--data-dir", help="folder of the MedMNIST files (default $VIVIT_DATA_DIR)")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="where the run directories go")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="the JSON of finished runs")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC, help="the generated page")
    parser.add_argument("--skip-recorded", action="store_true",
                        help="leave out every (cell, seed) the JSON already holds, wherever it ran (a fresh machine)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing, write nothing")
    parser.add_argument("--docs-only", action="store_true", help="rebuild the page from the JSON, run nothing")
    parser.add_argument("--epochs", type=int, help="smoke tests only: train.epochs of every run")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="smoke tests only: added to every run")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    args.extra = list(args.overrides) + ([f"train.epochs={args.epochs}"] if args.epochs else [])
    committed = {args.root.resolve(): DEFAULT_ROOT, args.results.resolve(): DEFAULT_RESULTS, args.doc.resolve(): DEFAULT_DOC}
    if args.extra and any(path == default for path, default in committed.items()):
        # Shortened runs must never be counted as seeds of the table.
        parser.error("--epochs and key=value change every run; give --root, --results and --doc elsewhere")
    return args


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def cell_arguments(cell: Cell, seed: int, args: argparse.Namespace) -> list[str]:
    return train_arguments(cell.recipe, cell.dataset, seed, [*cell.overrides, *args.extra], args.data_dir)


def command_line(cell: Cell, seed: int, args: argparse.Namespace) -> str:
    """The `vivit train` command of one seed of one cell, exactly as it is run."""
    env = [f"OMP_NUM_THREADS={args.threads}"] if args.threads else []
    return shlex.join([*env, "vivit", "train", *cell_arguments(cell, seed, args), "--out", _shown(cell.run_dir(args.root, seed))])


@contextmanager
def results_lock(results: Path) -> Iterator[None]:
    """Held while the JSON is read, merged and written: two runs finishing together, in one
    process (--jobs) or in two, would otherwise each write back the file without the other's entry."""
    lock_path = results.parent / f".{results.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def record(cell: Cell, seed: int, args: argparse.Namespace) -> None:
    """Merge the finished run's entry into the JSON and rewrite the page from it."""
    new = entry(cell, seed, cell.run_dir(args.root, seed), command_line(cell, seed, args))
    with results_lock(args.results):
        save_entries(args.results, merge(load_entries(args.results), [new]))
        write_doc(args)


def write_doc(args: argparse.Namespace) -> None:
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    timing_path = args.results.parent / TIMING_RESULTS
    timing = json.loads(timing_path.read_text())["cells"] if timing_path.is_file() else {}
    args.doc.write_text(render(load_entries(args.results), TABLE_SEEDS, tuple(args.datasets), timing))


def run_cell(cell: Cell, seed: int, args: argparse.Namespace) -> bool:
    """Train or resume one seed unless it is finished, then record it; False if the run failed."""
    run_dir = cell.run_dir(args.root, seed)
    command = command_line(cell, seed, args)
    if args.dry_run:
        print(("# finished: " if is_finished(run_dir) else "") + command)
        return True
    if not is_finished(run_dir):
        write_run_record(run_dir, command, args.extra, args.threads)
        log = args.root / "logs" / f"{cell.name.replace('/', '-')}-seed{seed}.log" if args.jobs > 1 else None
        try:
            train_or_resume(run_dir, cell_arguments(cell, seed, args), args.threads, args.data_dir, log)
        except subprocess.CalledProcessError as error:
            print(f"FAILED ({error.returncode}): {command}" + (f"; its output is in {log}" if log else ""), file=sys.stderr)
            return False
    try:
        add_tta(run_dir, args)
    except subprocess.CalledProcessError as error:
        print(f"FAILED ({error.returncode}): {shlex.join(error.cmd)}", file=sys.stderr)
        return False
    record(cell, seed, args)
    return True


def add_tta(run_dir: Path, args: argparse.Namespace) -> None:
    """Test-time augmentation figures of a finished run whose recipe trains with flips, once,
    kept apart from its single-view figures (`vivit evaluate --tta`, on val and test)."""
    from vivit.data.augment import AugmentConfig
    from vivit.training.run_dir import RunDir

    run = RunDir(run_dir)
    flips = AugmentConfig.from_dict(run.recipe().augment).flips
    if not any(flips.values()):
        return
    env = {**os.environ, **({"OMP_NUM_THREADS": str(args.threads)} if args.threads else {})}
    for split in ("val", "test"):
        if run.read_evaluation(f"{split}-tta") is None:
            command = [*EVALUATE, str(run_dir), "--split", split, "--tta"] + (["--data-dir", args.data_dir] if args.data_dir else [])
            subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selection = matching(cells(args.group, tuple(args.datasets)), args.only)
    if not selection:
        names = ", ".join(cell.name for cell in cells(args.group, tuple(args.datasets)))
        print(f"No cell of group {args.group} contains '{args.only}'; cells: {names}", file=sys.stderr)
        return 2
    if args.docs_only:
        save_entries(args.results, load_entries(args.results))  # creates an empty one on the first call
        write_doc(args)
        return 0
    runs = [(cell, seed) for cell in selection for seed in args.seeds]
    if args.skip_recorded:
        recorded = {(e["cell"], e["seed"]) for e in load_entries(args.results)}
        runs = [(cell, seed) for cell, seed in runs if (cell.name, seed) not in recorded]
    with ThreadPoolExecutor(max_workers=1 if args.dry_run else args.jobs) as pool:  # threads wait on subprocesses
        succeeded = list(pool.map(lambda run: run_cell(*run, args), runs))
    failed = [f"{cell.name} seed {seed}" for (cell, seed), ok in zip(runs, succeeded) if not ok]
    if not args.dry_run:
        write_doc(args)
        print(f"{_shown(args.doc)} and {_shown(args.results)} updated")
    if failed:
        print("Failed: " + "; ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
