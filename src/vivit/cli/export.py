"""`vivit export RUN_DIR --format onnx|torchscript`: a model file that runs without vivit."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export a trained model to ONNX or TorchScript")
    parser.add_argument("run_dir", type=Path, help="a run directory or a checkpoint directory")
    parser.add_argument("--format", choices=("onnx", "torchscript"), default="onnx")
    parser.add_argument("--out", type=Path, help="output file (default RUN_DIR/export/model.onnx or model.pt)")
    batch = parser.add_mutually_exclusive_group()
    batch.add_argument(
        "--static-batch", type=int, metavar="N", help="ONNX: fix the batch size at N (default: any batch size)"
    )
    # Any batch size is the default; the flag stays accepted so older scripts keep working.
    batch.add_argument("--dynamic-batch", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vivit.checkpoints import load_model
    from vivit.export.exporters import SUFFIXES, export_model

    from vivit.output_locations import check_output_file

    out = args.out or args.run_dir / "export" / f"model{SUFFIXES[args.format]}"
    check_output_file(out, "--out")  # before the model loads: a bad location costs no time
    model = load_model(args.run_dir)
    export_model(model, args.format, out, args.static_batch)
    batch = "B" if args.static_batch is None else str(args.static_batch)
    size = model.config.input_size
    print(
        f"wrote {out} (input 'video' ({batch}, {model.config.in_channels}, {size[0]}, {size[1]}, {size[2]}) "
        f"float in [0, 1]; class names and input spec in its metadata)"
    )
    return 0
