"""Apply the tie-break of training/selection.py to runs that finished before it existed.

    python benchmarks/reselect_ties.py runs/accuracy [--data-dir DIR] [--dry-run]

Until 2026-11-29, `train.select: val/accuracy` kept the first epoch of a tie, and ties on the
161-volume OrganMNIST3D val split last tens of epochs (training/selection.py says why that was
wrong). For every finished run under the given folders whose recipe selects by a validation
metric, the rule is replayed over its history.csv (validation figures only):

- it picks the epoch already kept: nothing changes;
- it picks the run's last epoch, whose validated weights checkpoints/last holds: `best` is
  re-pointed there and the final evaluation is run again (val and test, once). What the first
  rule gave is kept beside it: metrics.json as metrics-first-of-ties.json, evaluation/ as
  evaluation-first-of-ties/ (TTA figures are then recomputed by benchmarks/accuracy.py);
- it picks an epoch whose weights were not kept: the run is listed and left alone; only
  retraining applies the rule to it.

This touches the test split a second time for the re-pointed runs; docs/results.md lists them
with both figures, so nobody has to take the change on trust.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from vivit.checkpoints import publish, resolve_checkpoint
from vivit.training.run_dir import METRICS_FILE, RunDir, load_bundle
from vivit.training.run_evaluation import write_final_metrics
from vivit.training.selection import best_epoch

FIRST_METRICS = "metrics-first-of-ties.json"
FIRST_EVALUATION = "evaluation-first-of-ties"


def finished_runs(roots: list[Path]) -> list[Path]:
    return sorted({metrics.parent for root in roots for metrics in root.rglob(METRICS_FILE)})


def verdict(run_dir: Path) -> tuple[str, int | None, int | None]:
    """("kept" | "last" | "lost" | "not selected by a metric", epoch kept, epoch the rule picks)."""
    run = RunDir(run_dir)
    select = run.recipe().train.select
    kept = run.read_metrics().get("epoch")
    if select == "last":
        return "not selected by a metric", kept, kept
    rows = run.read_history_rows()
    picked = best_epoch(select, rows)
    if picked == kept:
        return "kept", kept, picked
    if picked == int(rows[-1]["epoch"]):
        return "last", kept, picked
    return "lost", kept, picked


def repoint_best_to_last(run_dir: Path, data_dir: str | None) -> None:
    """`best` becomes the last epoch's validated weights; the first rule's results are set aside."""
    run = RunDir(run_dir)
    recipe = run.recipe(data_dir)
    last = resolve_checkpoint(run.checkpoint_dir("last"))
    config = json.loads((last / "config.json").read_text())
    config.pop("trainer_state_sha256", None)
    config["select"] = recipe.train.select

    def write(directory: Path) -> None:
        directory.mkdir(parents=True)
        shutil.copy2(last / "model.safetensors", directory / "model.safetensors")
        (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n")

    bundle = load_bundle(recipe)  # before moving anything: a data error leaves the run as it was
    shutil.copy2(run.metrics_path, run_dir / FIRST_METRICS)
    shutil.rmtree(run_dir / FIRST_EVALUATION, ignore_errors=True)
    shutil.copytree(run.evaluation_dir, run_dir / FIRST_EVALUATION)
    for tta in run.evaluation_dir.glob("*-tta.json"):
        tta.unlink()
    publish(run.checkpoints, "best", f"{config['epoch']:04d}", write)
    write_final_metrics(run, recipe, bundle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path, help="folders holding run directories")
    parser.add_argument("--data-dir", help="folder of the MedMNIST files (default $VIVIT_DATA_DIR)")
    parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    args = parser.parse_args(argv)
    runs = finished_runs(args.roots)
    if not runs:
        print(f"No finished run (metrics.json) under {', '.join(map(str, args.roots))}", file=sys.stderr)
        return 2
    for run_dir in runs:
        if (run_dir / FIRST_METRICS).is_file():
            print(f"{run_dir}: already re-selected")
            continue
        outcome, kept, picked = verdict(run_dir)
        if outcome == "last" and not args.dry_run:
            repoint_best_to_last(run_dir, args.data_dir)
        message = {
            "kept": f"epoch {kept} stays",
            "last": f"epoch {kept} -> {picked} (the last)" + (" would be re-pointed" if args.dry_run else ", re-evaluated"),
            "lost": f"the rule picks epoch {picked}, whose weights were not kept (epoch {kept} stays; retrain to apply it)",
        }.get(outcome, outcome)
        print(f"{run_dir}: {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
