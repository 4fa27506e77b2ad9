"""`vivit predict RUN INPUT...`: top-k classes of volumes, stacks, scans, videos or folders of them."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vivit.cli.views import VIEWS_HELP, parse_views

if TYPE_CHECKING:
    import torch

    from vivit.inference.predict import Prediction


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict", help="classify .npy/.npz volumes, NIfTI files, DICOM folders, videos, or folders of them, with a trained run"
    )
    parser.add_argument("run_dir", type=Path, help="a run directory or a checkpoint directory")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="INPUT",
                        help="files, DICOM series folders, or folders to search for inputs")
    parser.add_argument("--checkpoint", choices=("best", "last"), help="default: the one the run's recipe selects")
    parser.add_argument("--top-k", type=positive_int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="write one row per input to FILE (.csv or .json), as they are classified, instead of printing")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="clips per forward pass (default 32)")
    parser.add_argument("--views", metavar="TxC", help=f"{VIEWS_HELP} (default: the run's data.eval_clips x data.eval_crops)")
    parser.add_argument("--gif", type=Path, metavar="OUT_DIR", help="also write each input as a GIF captioned with its prediction")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from vivit.checkpoints import load_model
    from vivit.inference.inputs import Unreadable, VideoReading, samples_of
    from vivit.inference.outputs import PredictionFile
    from vivit.inference.predict import predict_stream

    from vivit.output_locations import check_output_file, check_output_folder

    if args.out is not None:  # before the model loads: a bad location costs no time
        check_output_file(args.out, "--out")
    if args.gif is not None:
        check_output_folder(args.gif, "--gif")
    source = args.run_dir / "checkpoints" / args.checkpoint if args.checkpoint else args.run_dir
    views = parse_views(args.views) if args.views else None  # a mistake costs no model loading
    model = load_model(source)
    video = VideoReading.of_model(model, *(views or model.checkpoint_info.get("views") or (1, 1)))
    if views is not None and views != (1, 1) and model.config.in_channels != 3:
        from vivit.errors import ConfigError

        raise ConfigError(f"{args.run_dir} is a model of {model.config.in_channels}-channel volumes; --views "
                          f"averages clips and crops of videos, so leave it out")
    class_names = model.class_names or [str(i) for i in range(model.config.num_classes)]
    skipped: list[Unreadable] = []
    resized: set[tuple[int, ...]] = set()
    printed: list[Prediction] = []
    classified = 0
    gifs = GifFolder(args.gif) if args.gif is not None else None
    writer = PredictionFile(args.out, min(args.top_k, len(class_names))) if args.out else nullcontext()
    with writer as out:

        def readable():
            for item in samples_of(args.inputs, model.config, video):
                if isinstance(item, Unreadable):
                    skipped.append(item)
                    print(f"vivit: skipped {item.reason}", file=sys.stderr)
                    if out is not None:
                        out.skip(item.name, item.reason)
                    continue
                if item.native_size != tuple(model.config.input_size) and item.native_size not in resized:
                    resized.add(item.native_size)
                    print(f"vivit: note: inputs of {_size(item.native_size)} are resized to the model's "
                          f"{_size(model.config.input_size)}", file=sys.stderr)
                yield item

        for sample, prediction in predict_stream(model, readable(), class_names, args.top_k, args.batch_size):
            if gifs is not None:  # of several views, the centre one
                pixels = sample.pixels
                gifs.write(pixels[len(pixels) // 2] if pixels.ndim == 5 else pixels, prediction)
            classified += 1
            if out is not None:
                out.write(prediction)
            else:
                printed.append(prediction)
    if args.out is None:
        print(_as_json(printed) if args.json else format_table(printed))
    if skipped:
        print(f"vivit: classified {classified} input(s); skipped {len(skipped)} unreadable file(s), named above", file=sys.stderr)
    if args.out is not None:
        print(f"{classified} prediction(s) written to {args.out}")
    return 0


def _size(size: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in size)


def _as_json(predictions: list[Prediction]) -> str:
    return json.dumps([{"input": p.name, "top": [{"class": c, "probability": q} for c, q in p.top]} for p in predictions], indent=2)


def format_table(predictions: list[Prediction]) -> str:
    """An aligned table: the input, then class and probability for each rank."""
    k = max((len(p.top) for p in predictions), default=0)
    header = ["input", *(cell for r in range(1, k + 1) for cell in (f"top-{r}", "p"))]
    rows = [[p.name, *(cell for c, q in p.top for cell in (c, f"{q:.3f}"))] for p in predictions]
    widths = [max(len(row[i]) for row in [header, *rows] if i < len(row)) for i in range(len(header))]
    def line(row: list[str]) -> str:  # probabilities right-aligned, names left-aligned
        return "  ".join(cell.rjust(w) if i and i % 2 == 0 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))

    return "\n".join(line(row).rstrip() for row in [header, *rows])


class GifFolder:
    """OUT_DIR/<input>.gif per prediction, named by the input's file name made file-safe
    ('scans/a.npz:x[3]' -> 'a.npz_x_3'); inputs whose names clash get '-2', '-3', ...
    """

    def __init__(self, out_dir: Path) -> None:
        from vivit.errors import ConfigError

        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"Cannot create --gif folder {out_dir} ({error.strerror}); choose another") from None
        self.out_dir = out_dir
        self.used: set[str] = set()

    def write(self, sample: torch.Tensor, prediction: Prediction) -> None:
        from vivit.reporting.gifs import caption, write_captioned_gif

        stem = re.sub(r"[^A-Za-z0-9._-]", "_", prediction.name.rsplit("/", 1)[-1]).strip("_") or "input"
        name, copy = stem, 1
        while name in self.used:  # two inputs whose names clean up to the same
            copy += 1
            name = f"{stem}-{copy}"
        self.used.add(name)
        top_class, probability = prediction.top[0]
        write_captioned_gif(self.out_dir / f"{name}.gif", sample, caption(top_class, probability=probability))
