"""Where a training step's time goes: the top operators of keras-seed's forward + backward
+ Adam step under torch.profiler, for our model or HF transformers' twin.

    python benchmarks/profile_step.py [--model ours|hf] [--conv-tokenizer] [--steps 5] [--threads N]
    python benchmarks/profile_step.py --model ours|hf --inference 32|1   # eval forward passes instead

`--conv-tokenizer` runs our tubelet embedding as the Conv3d it used to be (same weights),
to show what its backward costs on a CPU. Prints a table of the top operators by self
CPU time and writes benchmarks/results/profile-<model>[-conv].json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import machine, write_results  # noqa: E402
from throughput import hf_keras_seed  # noqa: E402

from vivit.models import create_model  # noqa: E402
from vivit.models.layers.tokenizers import TubeletEmbedding  # noqa: E402


def as_convolution(self: TubeletEmbedding, video: torch.Tensor) -> torch.Tensor:
    return self.projection(video).permute(0, 2, 3, 4, 1)  # (B, nt, nh, nw, D)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["ours", "hf"], default="ours")
    parser.add_argument("--conv-tokenizer", action="store_true")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--inference", type=int, default=None, metavar="BATCH",
                        help="profile eval forward passes (torch.inference_mode) at this batch size instead of training steps")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.conv_tokenizer:
        TubeletEmbedding.forward = as_convolution
    torch.manual_seed(0)
    model = (create_model("keras-seed") if args.model == "ours" else hf_keras_seed()).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, fused=True)
    video, labels = torch.rand(32, 1, 28, 28, 28), torch.randint(0, 11, (32,))

    def train_step() -> None:
        F.cross_entropy(model(video), labels).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def inference_step() -> None:
        with torch.inference_mode():
            model(video)

    step = train_step
    if args.inference:
        model.eval()
        video = torch.rand(args.inference, 1, 28, 28, 28)
        step = inference_step

    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(args.steps):
            step()
    events = sorted(profiler.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    rows = [
        {"op": e.key, "self_ms_per_step": e.self_cpu_time_total / 1e3 / args.steps, "share": e.self_cpu_time_total / total,
         "calls_per_step": e.count / args.steps}
        for e in events[: args.top]
    ]
    what = f"inference at batch {args.inference}" if args.inference else "training, batch 32"
    print(f"{args.model}{' (Conv3d tokenizer)' if args.conv_tokenizer else ''}: {total / 1e3 / args.steps:.1f} ms per step "
          f"({what}, {torch.get_num_threads()} thread(s), profiler on)")
    print("| op | ms per step | share | calls per step |\n|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['op']} | {r['self_ms_per_step']:.1f} | {r['share']:.1%} | {r['calls_per_step']:.0f} |")
    name = f"profile-{args.model}{'-conv' if args.conv_tokenizer else ''}{f'-infer-b{args.inference}' if args.inference else ''}"
    write_results(name, {"machine": machine(), "command": " ".join(["python", *sys.argv]),
                         "ms_per_step": total / 1e3 / args.steps, "top_ops": rows})


if __name__ == "__main__":
    main()
