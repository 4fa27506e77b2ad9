"""Do two training runs of the same recipe and seed learn the same thing? Epoch by epoch.

    python benchmarks/compare_runs.py RUN_A RUN_B

Prints, for the epochs both history.csv files hold, the largest absolute difference of
each metric, the last common epoch's values side by side, and, where both runs finished,
their test metrics (metrics.json). Used to show that a faster training path (fused Adam,
the tubelet embedding as one GEMM) does not change what a run learns.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vivit.errors import ConfigError
from vivit.training.run_dir import RunDir

METRICS = ("train/loss", "train/accuracy", "val/loss", "val/accuracy", "val/top5", "val/auc")


def history(run: Path) -> dict[int, dict[str, float]]:
    run_dir = RunDir(run)
    if not run_dir.history_path.is_file():
        raise ConfigError(f"{run_dir.history_path} does not exist; give a run directory that has trained at least one epoch")
    return {int(row["epoch"]): {k: row[k] for k in METRICS if k in row} for row in run_dir.read_history_rows()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    args = parser.parse_args()
    a, b = history(args.run_a), history(args.run_b)
    common = sorted(set(a) & set(b))
    if not common:
        raise SystemExit("the two runs share no epoch")
    print(f"{len(common)} common epochs (1..{common[-1]})")
    print("| metric | max abs difference over the common epochs | A at last common epoch | B at last common epoch |")
    print("|---|---:|---:|---:|")
    for metric in METRICS:
        diff = max(abs(a[e][metric] - b[e][metric]) for e in common)
        print(f"| {metric} | {diff:.2e} | {a[common[-1]][metric]:.4f} | {b[common[-1]][metric]:.4f} |")
    finals = [RunDir(run).read_metrics() for run in (args.run_a, args.run_b)]
    if all(finals):
        tests = [final.get("test", {}) for final in finals]
        for key in ("accuracy", "top5", "auc"):
            if key in tests[0] and key in tests[1]:
                print(f"test {key}: A {tests[0][key]:.4f}  B {tests[1][key]:.4f}")


if __name__ == "__main__":
    main()
