"""Training and inference speed of each preset x variant, and of HF transformers' ViViT
configured like `keras-seed`, side by side in one process (method and results: docs/benchmarks.md).

    python benchmarks/throughput.py --quick          # keras-seed only, ours vs HF (a few minutes)
    python benchmarks/throughput.py                  # + the 28^3/4^3, 64^3 and video presets
    python benchmarks/throughput.py --quick --device cuda --modes eager bf16 compile compile-bf16

Per contender: training samples/s on `BatchLoader` batches, inference samples/s (batch 32) and
latency (batch 1), peak memory, FLOPs per sample and MFU against an fp32 GEMM timed in the same
repeats; contenders alternate, ratios against HF are paired per repeat. Writes
benchmarks/results/throughput[-quick].json.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from harness import RESULTS, command_line, interleaved, machine, peak_memory_mib, ratios, reset_peak_memory, summary, write_results
from tables import throughput as throughput_table
from vivit.data.loader import BatchLoader
from vivit.data.types import Split
from vivit.models import VARIANTS, create_model, preset_config

KERAS_SEED = "keras-seed"
OTHER_PRESETS = ("vivit-tiny-28", "vivit-tiny-64", "vivit-tiny-video")


def hf_keras_seed() -> nn.Module:
    """HF transformers' ViViT configured like keras-seed (HF adds a class token: 28 tokens, not 27)."""
    from transformers import VivitConfig, VivitForVideoClassification

    config = VivitConfig(
        image_size=28, num_frames=28, tubelet_size=[8, 8, 8], num_channels=1, hidden_size=128,
        num_hidden_layers=8, num_attention_heads=8, intermediate_size=512, hidden_act="gelu_pytorch_tanh",
        layer_norm_eps=1e-6, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.1, num_labels=11,
    )
    return HFVideoClassifier(VivitForVideoClassification(config))


class HFVideoClassifier(nn.Module):
    """Takes our (B, C, T, H, W) layout and returns logits, like our models."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=video.transpose(1, 2)).logits  # HF reads (B, T, C, H, W)


@dataclass
class Contender:
    """One model trained and run one way: eager or compiled, fp32 or bf16 autocast, which Adam."""

    name: str
    build: Callable[[], nn.Module]
    device: torch.device
    compile: bool = False
    autocast: torch.dtype | None = None
    fused_adam: bool = False
    model: nn.Module = field(init=False)
    optimizer: torch.optim.Optimizer = field(init=False)

    def setup(self) -> None:
        torch.manual_seed(0)
        self.model = self.build().to(self.device)
        # Adam as keras-seed trains: lr 1e-4, no weight decay. fused=False keeps PyTorch's
        # default CPU implementation (one parameter at a time), the same for HF and us.
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4, fused=self.fused_adam or None)
        self.forward = torch.compile(self.model) if self.compile else self.model

    def precision(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=self.autocast, enabled=self.autocast is not None)

    def train_steps(self, loader: BatchLoader) -> None:
        self.model.train()
        for video, labels in loader:
            with self.precision():
                loss = F.cross_entropy(self.forward(video), labels)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)

    def infer(self, video: torch.Tensor) -> None:
        self.model.eval()
        with torch.inference_mode(), self.precision():
            self.forward(video)


# Our ways of running a model: name, compile, autocast, fused Adam.
MODES = {
    "eager": ("eager fp32", False, None, False),
    "fused": ("eager fp32 fused-adam", False, None, True),
    "bf16": ("eager bf16 fused-adam", False, torch.bfloat16, True),
    "compile": ("compile fp32 fused-adam", True, None, True),
    "compile-bf16": ("compile bf16 fused-adam", True, torch.bfloat16, True),
}


def contenders_for(preset: str, variant: str, with_hf: bool, modes: list[str], device: torch.device) -> list[Contender]:
    """HF's keras-seed twin first where asked (the reference of the ratios), then ours in each of `modes`."""
    hf = [Contender("hf keras-seed eager fp32", hf_keras_seed, device)] if with_hf else []
    return hf + [Contender(f"{preset}/{variant} {name}", lambda: create_model(preset, variant=variant), device, *options)
                 for name, *options in (MODES[mode] for mode in modes)]


def flops_per_sample(model: nn.Module, in_channels: int, size: tuple[int, int, int]) -> dict[str, int]:
    """Forward and forward + backward FLOPs of one sample (attention through the math kernel,
    which the counter sees; the fused CPU kernel does the same arithmetic)."""
    video = torch.rand(1, in_channels, *size, device=next(model.parameters()).device)
    with sdpa_kernel(SDPBackend.MATH):
        model.eval()
        with torch.no_grad(), FlopCounterMode(display=False) as forward:
            model(video)
        model.train()
        with FlopCounterMode(display=False) as both:
            model(video).sum().backward()
    model.zero_grad(set_to_none=True)
    return {"forward": forward.get_total_flops(), "train": both.get_total_flops()}


def bench_group(contenders: list[Contender], preset: str, train_batch: int, train_steps: int, repeats: int) -> dict[str, Any]:
    """All measures of one group of contenders of `preset`'s input, alternating them in every repeat."""
    for c in contenders:
        c.setup()
    config, device = preset_config(preset), contenders[-1].device
    in_channels, size = config.in_channels, tuple(config.input_size)
    images = torch.randint(0, 256, (train_batch * train_steps, in_channels, *size), dtype=torch.uint8)
    split = Split(images=images, labels=torch.randint(0, config.num_classes, (len(images),)))
    loader = BatchLoader(split, train_batch, shuffle=True, seed=0, device=device)
    infer_batch = torch.rand(32, in_channels, *size, device=device)
    latency_batch = torch.rand(1, in_channels, *size, device=device)

    results: dict[str, Any] = {c.name: {} for c in contenders}
    for c in contenders:  # memory first, each alone, before the timed loops grow the caches
        reset_peak_memory(device)
        c.train_steps(loader)
        results[c.name]["train_peak_memory_mib"] = peak_memory_mib(device)
        results[c.name]["flops_per_sample"] = flops_per_sample(c.model, in_channels, size)

    n = 4096 if device.type == "cuda" else 1024
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    train = {c.name: (lambda c=c: c.train_steps(loader)) for c in contenders}
    train["peak gemm fp32"] = lambda: [torch.mm(a, b) for _ in range(4)]  # the MFU's peak, in the same repeats
    train_times = interleaved(train, calls=1, repeats=repeats, warmup=2)
    infer_times = interleaved({c.name: (lambda c=c: c.infer(infer_batch)) for c in contenders}, calls=10, repeats=repeats)
    latency_times = interleaved({c.name: (lambda c=c: c.infer(latency_batch)) for c in contenders}, calls=50, repeats=repeats)

    peak = summary([4 * 2 * n**3 / t for t in train_times.pop("peak gemm fp32")])
    for c in contenders:
        r = results[c.name]
        r["train_samples_per_s"] = summary([len(split) / t for t in train_times[c.name]])
        r["infer_samples_per_s_b32"] = summary([32 / t for t in infer_times[c.name]])
        r["latency_ms_b1"] = summary([1e3 * t for t in latency_times[c.name]])
        r["train_mfu"] = r["flops_per_sample"]["train"] * r["train_samples_per_s"]["median"] / peak["median"]
        r["infer_mfu"] = r["flops_per_sample"]["forward"] * r["infer_samples_per_s_b32"]["median"] / peak["median"]
    group: dict[str, Any] = {"contenders": results, "train_batch": train_batch, "train_steps_per_call": train_steps,
                             "peak_gemm_fp32_flops": peak, "peak_gemm_n": n}
    reference = contenders[0].name
    if reference.startswith("hf"):
        group["vs_hf"] = {c.name: {"train": ratios(train_times, c.name, reference),
                                   "infer_b32": ratios(infer_times, c.name, reference),
                                   "latency_b1": ratios(latency_times, c.name, reference)} for c in contenders[1:]}
    return group


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="keras-seed (Model 1) against HF only")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--modes", nargs="+", default=["eager", "fused", "bf16", "compile"],
                        choices=MODES, help="our ways of running keras-seed against HF")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--no-hf", action="store_true", help="skip the keras-seed against HF group")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = args.repeats or (5 if args.quick else 3)
    result: dict[str, Any] = {"machine": machine(), "command": command_line(), "repeats": repeats, "groups": {}}
    device = torch.device(args.device)
    name = args.out or ("throughput-quick" if args.quick else "throughput")
    # (title, preset, variant, against HF, our modes, training batch, steps per timed call). Batch 4
    # beyond keras-seed keeps a repeat of the 2-4 GFLOP presets to seconds on a CPU.
    groups = [] if args.no_hf else [("keras-seed vs hf", KERAS_SEED, "spatio_temporal", True, args.modes, 32, 4)]
    if not args.quick:
        for preset in (KERAS_SEED, *OTHER_PRESETS):
            batch, steps = (32, 2) if preset == KERAS_SEED else (4, 1)
            groups += [(f"{preset}/{variant}", preset, variant, False, ["eager"], batch, steps) for variant in VARIANTS]
    for title, preset, variant, with_hf, modes, batch, steps in groups:
        print(f"{title} ({torch.get_num_threads()} threads, {repeats} repeats)", flush=True)
        contenders = contenders_for(preset, variant, with_hf, modes, device)
        result["groups"][title] = bench_group(contenders, preset, batch, steps, repeats)
        print("\n".join(throughput_table({"groups": {title: result["groups"][title]}})), flush=True)
        write_results(name, result)  # after every group, so a stopped run keeps what it measured
    print(f"wrote {RESULTS / name}.json")


if __name__ == "__main__":
    main()
