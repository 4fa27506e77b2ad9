"""Markdown tables for docs/benchmarks.md from the JSON files the benchmarks write.

    python benchmarks/tables.py [benchmarks/results/throughput-quick.json ...]

Knows throughput*.json, peak*.json, scaling*.json and profile-*.json; prints one block
per file (machine, threads, load average, then the table).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness import RESULTS


def header(data: dict[str, Any]) -> str:
    m = data["machine"]
    load = ", ".join(f"{x:.1f}" for x in m["loadavg_start"])
    end = ", ".join(f"{x:.1f}" for x in data.get("loadavg_end", []))
    return (f"`{data['command']}` — {m['date'][:16]} UTC, {m['cpu']} ({m['cpu_count']} CPUs), {m['threads']} torch thread(s), "
            f"torch {m['torch']}; load average (1, 5, 15 min) {load} at the start, {end} at the end")


def spread(s: dict[str, float], digits: int = 1) -> str:
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def throughput(data: dict[str, Any]) -> list[str]:
    lines = []
    for title, group in data["groups"].items():
        peak = group.get("peak_gemm_fp32_flops")
        lines.append(f"\n**{title}** (training batch {group['train_batch']}; peak fp32 GEMM in the same repeats: "
                     f"{spread({k: v / 1e9 for k, v in peak.items() if k != 'n'})} GFLOP/s)\n" if peak else f"\n**{title}**\n")
        lines.append("| contender | train samples/s | infer samples/s (b32) | latency ms (b1) | peak memory MiB | GFLOPs/sample fwd | train MFU |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for name, r in group["contenders"].items():
            memory = r.get("train_peak_memory_mib", r.get("train_peak_rss_mib"))
            lines.append(
                f"| {name} | {spread(r['train_samples_per_s'])} | {spread(r['infer_samples_per_s_b32'])} | "
                f"{spread(r['latency_ms_b1'], 2)} | {memory:.0f} | {r['flops_per_sample']['forward'] / 1e9:.3f} | "
                f"{r.get('train_mfu', float('nan')):.0%} |"
            )
        if "vs_hf" in group:
            lines.append("\n| ours ÷ HF (paired per repeat: HF time / our time) | training | inference b32 | latency b1 |")
            lines.append("|---|---:|---:|---:|")
            for name, ratio in group["vs_hf"].items():
                lines.append(f"| {name} | {spread(ratio['train'], 2)} | {spread(ratio['infer_b32'], 2)} | {spread(ratio['latency_b1'], 2)} |")
    return lines


def peak(data: dict[str, Any]) -> list[str]:
    n = data["square_n"]
    lines = ["\n| GEMM | fp32 GFLOP/s | bf16 GFLOP/s |", "|---|---:|---:|",
             f"| square {n}×{n}×{n} | {data['peak_flops']['fp32'] / 1e9:.1f} | {data['peak_flops']['bf16'] / 1e9:.1f} |"]
    for preset, entry in data["presets"].items():
        lines.append(f"| {preset}: its {len(entry['shapes'])} training-step GEMM shapes, alone (GEMM bound) | "
                     f"{entry['gemm_bound_fp32'] / 1e9:.1f} | {entry['gemm_bound_bf16'] / 1e9:.1f} |")
        for shape in entry["shapes"][:4]:
            b, m, k, nn = shape["bmkn"]
            lines.append(f"| &nbsp; {preset} {'%d× ' % b if b > 1 else ''}({m}×{k})·({k}×{nn}), {shape['count']} per step | "
                         f"{shape['gflops_fp32']:.1f} | {shape['gflops_bf16']:.1f} |")
    return lines


def scaling(data: dict[str, Any]) -> list[str]:
    variants = list(data["points"][0]["variants"])
    lines = ["\n| tokens | input, tubelet | " + " | ".join(f"{v}: GFLOPs / ms" for v in variants) + " |",
             "|---:|---|" + "---:|" * len(variants)]
    for p in data["points"]:
        cells = [f"{p['variants'][v]['gflops']:.2f} / {p['variants'][v]['ms_per_sample']['median']:.0f}" for v in variants]
        lines.append(f"| {p['tokens']} | {p['name']} | " + " | ".join(cells) + " |")
    return lines


def profile(data: dict[str, Any]) -> list[str]:
    lines = [f"\n{data['ms_per_step']:.0f} ms per step (profiler on)\n", "| op | ms per step | share | calls per step |", "|---|---:|---:|---:|"]
    lines += [f"| {r['op']} | {r['self_ms_per_step']:.1f} | {r['share']:.1%} | {r['calls_per_step']:.0f} |" for r in data["top_ops"]]
    return lines


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted(RESULTS.glob("*.json"))
    for path in paths:
        data = json.loads(path.read_text())
        kind = path.name.split("-")[0].removesuffix(".json")
        render = {"throughput": throughput, "peak": peak, "scaling": scaling, "profile": profile}.get(kind)
        if render is None:
            continue
        print(f"### {path.name}\n\n{header(data)}")
        print("\n".join(render(data)) + "\n")


if __name__ == "__main__":
    main()
