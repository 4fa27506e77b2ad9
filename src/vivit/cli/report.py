"""`vivit report RUN_DIR`: one offline HTML page of a run, in RUN_DIR/report/index.html."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write an HTML report of a run (predictions, curves, confusion matrix, ROC, attention)",
        description="Write RUN_DIR/report/index.html: a self-contained page that opens offline in any browser.",
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--split", choices=("train", "val", "test"), default="test")
    parser.add_argument("--samples", type=int, default=25, help="samples in the prediction grid (default 25)")
    parser.add_argument(
        "--pick", choices=("random", "errors"), default="random",
        help="random samples (seeded), or the most confident errors",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random pick (default 0)")
    parser.add_argument("--data-dir", help="folder of dataset files (default $VIVIT_DATA_DIR, else a user cache)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vivit.reporting.build import ReportSettings, build_report

    start = time.perf_counter()
    settings = ReportSettings(args.split, args.samples, args.pick, args.seed, args.data_dir)
    index = build_report(args.run_dir, settings)
    print(f"report: {index} ({time.perf_counter() - start:.1f} s)")
    return 0
