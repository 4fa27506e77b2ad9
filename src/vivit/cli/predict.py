"""`vivit predict RUN_DIR INPUT...`: top-k classes of volumes, stacks or videos."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="classify .npy/.npz volumes or video files with a trained run")
    parser.add_argument("run_dir", type=Path, help="a run directory or a checkpoint directory")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="INPUT")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vivit.checkpoints import load_model
    from vivit.inference.inputs import read_inputs
    from vivit.inference.predict import predict

    model = load_model(args.run_dir)
    class_names = model.checkpoint_info.get("class_names") or [str(i) for i in range(model.config.num_classes)]
    samples = [sample for path in args.inputs for sample in read_inputs(path, model.config)]
    predictions = predict(model, samples, class_names, args.top_k)
    if args.json:
        print(json.dumps([{"input": p.name, "top": [{"class": c, "probability": q} for c, q in p.top]} for p in predictions], indent=2))
        return 0
    for p in predictions:
        print(p.name + "  " + "  ".join(f"{c} {q:.3f}" for c, q in p.top))
    return 0
