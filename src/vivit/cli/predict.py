"""`vivit predict RUN_DIR INPUT...`: top-k classes of volumes, stacks or videos."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from vivit.inference.predict import Prediction


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="classify .npy/.npz volumes, NIfTI files, DICOM folders or videos with a trained run")
    parser.add_argument("run_dir", type=Path, help="a run directory or a checkpoint directory")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="INPUT")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--gif", type=Path, metavar="OUT_DIR", help="also write each input as a GIF captioned with its prediction")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vivit.checkpoints import load_model
    from vivit.inference.inputs import read_inputs
    from vivit.inference.predict import predict

    model = load_model(args.run_dir)
    class_names = model.class_names or [str(i) for i in range(model.config.num_classes)]
    samples = [sample for path in args.inputs for sample in read_inputs(path, model.config)]
    predictions = predict(model, samples, class_names, args.top_k)
    if args.gif is not None:
        write_gifs(args.gif, samples, predictions)
    if args.json:
        print(json.dumps([{"input": p.name, "top": [{"class": c, "probability": q} for c, q in p.top]} for p in predictions], indent=2))
        return 0
    for p in predictions:
        print(p.name + "  " + "  ".join(f"{c} {q:.3f}" for c, q in p.top))
    return 0


def write_gifs(out_dir: Path, samples: list[tuple[str, torch.Tensor]], predictions: list[Prediction]) -> None:
    """OUT_DIR/<input name>.gif per sample; names made file-safe ('a.npz:x[3]' -> 'a.npz_x_3_')."""
    from vivit.reporting.gifs import caption, write_captioned_gif

    out_dir.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    for (_, sample), prediction in zip(samples, predictions):
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", prediction.name)
        name, copy = stem, 1
        while name in used:  # two inputs of the same name from different folders
            copy += 1
            name = f"{stem}-{copy}"
        used.add(name)
        top_class, probability = prediction.top[0]
        write_captioned_gif(out_dir / f"{name}.gif", sample, caption(top_class, probability=probability))
