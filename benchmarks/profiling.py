"""Where the time goes: torch.profiler over keras-seed's training step or inference pass (ours or
HF transformers' twin), or Lightning's SimpleProfiler over `vivit train`.

    python benchmarks/profiling.py step --model ours|hf [--conv-tokenizer] [--steps 5] [--top 15]
    python benchmarks/profiling.py step --model ours|hf --inference 32|1   # eval forward passes instead
    VIVIT_DATA_DIR=../shared/data python benchmarks/profiling.py train [--epochs 2]

`--conv-tokenizer` runs our tubelet embedding as the Conv3d it used to be (same weights). `step`
writes benchmarks/results/profile-<model>[-conv][-infer-b<B>].json.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.profilers import SimpleProfiler
from torch.profiler import ProfilerActivity, profile

import tables
from harness import command_line, machine, write_results
from throughput import Contender, hf_keras_seed
from vivit.models import create_model
from vivit.models.layers.tokenizers import TubeletEmbedding
from vivit.training.recipe import load_recipe
from vivit.training.run import train


def as_convolution(self: TubeletEmbedding, video: torch.Tensor) -> torch.Tensor:
    return self.projection(video).permute(0, 2, 3, 4, 1)  # (B, nt, nh, nw, D)


def profile_step(args: argparse.Namespace) -> None:
    if args.conv_tokenizer:
        TubeletEmbedding.forward = as_convolution
    build = (lambda: create_model("keras-seed")) if args.model == "ours" else hf_keras_seed
    contender = Contender(args.model, build, torch.device("cpu"), fused_adam=True)
    contender.setup()
    video = torch.rand(args.inference or 32, 1, 28, 28, 28)
    batch = [(video, torch.randint(0, 11, (32,)))]
    step = (lambda: contender.infer(video)) if args.inference else (lambda: contender.train_steps(batch))
    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(args.steps):
            step()
    events = sorted(profiler.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    rows = [{"op": e.key, "self_ms_per_step": e.self_cpu_time_total / 1e3 / args.steps, "share": e.self_cpu_time_total / total,
             "calls_per_step": e.count / args.steps} for e in events[: args.top]]
    what = f"inference at batch {args.inference}" if args.inference else "training, batch 32"
    print(f"{args.model}{' (Conv3d tokenizer)' if args.conv_tokenizer else ''}, {what}, {torch.get_num_threads()} thread(s):")
    result = {"machine": machine(), "command": command_line(), "ms_per_step": total / 1e3 / args.steps, "top_ops": rows}
    print("\n".join(tables.profile(result)))
    write_results(f"profile-{args.model}{'-conv' if args.conv_tokenizer else ''}{f'-infer-b{args.inference}' if args.inference else ''}",
                  result)


def profile_training(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        profiler = SimpleProfiler(dirpath=tmp, filename="profile")
        build_trainer = pl.Trainer.__init__

        def with_profiler(self: pl.Trainer, *a, **kw) -> None:
            build_trainer(self, *a, **{**kw, "profiler": profiler})

        pl.Trainer.__init__ = with_profiler  # vivit.training.run builds the Trainer; attach ours to it
        train(load_recipe("keras-seed", [f"train.epochs={args.epochs}"]), Path(tmp) / "run")
        report = (Path(tmp) / "fit-profile.txt").read_text().splitlines()
    print("\n".join([line for line in report if line.startswith("|")][:17]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    step = commands.add_parser("step", help="torch.profiler over keras-seed's steps")
    step.add_argument("--model", choices=["ours", "hf"], default="ours")
    step.add_argument("--conv-tokenizer", action="store_true")
    step.add_argument("--steps", type=int, default=5)
    step.add_argument("--top", type=int, default=15)
    step.add_argument("--inference", type=int, default=None, metavar="BATCH",
                      help="profile eval forward passes (torch.inference_mode) at this batch size instead of training steps")
    commands.add_parser("train", help="SimpleProfiler over `vivit train`").add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    (profile_step if args.command == "step" else profile_training)(args)


if __name__ == "__main__":
    main()
