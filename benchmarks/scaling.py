"""Cost of the four variants as the number of tokens per sample grows (27 to 4,096).

    python benchmarks/scaling.py [--quick] [--threads N] [--repeats R] [--device cuda] [--out NAME]

One model width at every point, so only the token grid changes. Per point and variant: forward
GFLOPs per sample (PyTorch's FLOP counter) and inference ms per sample at batch 1, the variants
alternated. Writes benchmarks/results/scaling.json and, without --out, docs/images/scaling.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from harness import calls_for, command_line, interleaved, machine, summary, write_results
from vivit.models import VARIANTS, create_model
from vivit.models.flops import forward_flops

IMAGE = Path(__file__).resolve().parents[1] / "docs" / "images" / "scaling.png"
WIDTH = dict(embed_dim=192, depth=4, num_heads=6, mlp_dim=768, drop_path_rate=0.0)
# (name, in_channels, (T, H, W), tubelet (t, h, w), padding)
POINTS: list[tuple[str, int, tuple[int, int, int], tuple[int, int, int], str]] = [
    ("28^3, 8^3 tubelets (keras-seed grid)", 1, (28, 28, 28), (8, 8, 8), "valid"),
    ("28^3, 4^3", 1, (28, 28, 28), (4, 4, 4), "same"),
    ("video 16x112^2, 2x16^2", 3, (16, 112, 112), (2, 16, 16), "same"),
    ("64^3, 8^3", 1, (64, 64, 64), (8, 8, 8), "same"),
    ("28^3, 2x4x4", 1, (28, 28, 28), (2, 4, 4), "same"),
    ("video 32x112^2, 2x16^2", 3, (32, 112, 112), (2, 16, 16), "same"),
    ("64^3, 4x8x8", 1, (64, 64, 64), (4, 8, 8), "same"),
    ("video 64x112^2, 2x16^2", 3, (64, 112, 112), (2, 16, 16), "same"),
    ("28^3, 2^3", 1, (28, 28, 28), (2, 2, 2), "same"),
    ("video 32x112^2, 2x8^2", 3, (32, 112, 112), (2, 8, 8), "same"),
    ("64^3, 4^3", 1, (64, 64, 64), (4, 4, 4), "same"),
]


def build(variant: str, channels: int, size: tuple[int, int, int], tubelet: tuple[int, int, int], padding: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(
        "vivit-tiny-28", variant=variant, in_channels=channels, input_size=size, tubelet_size=tubelet,
        padding=padding, num_classes=10, **WIDTH,
    ).eval()


def measure_point(point: tuple, repeats: int, seconds: float, device: torch.device) -> dict[str, Any]:
    name, channels, size, tubelet, padding = point
    models = {v: build(v, channels, size, tubelet, padding) for v in VARIANTS}
    gflops = {v: forward_flops(m) / 1e9 for v, m in models.items()}  # counted on the CPU
    models = {v: m.to(device) for v, m in models.items()}
    video = torch.rand(1, channels, *size, device=device)
    with torch.inference_mode():
        calls = {v: calls_for(lambda m=m: m(video), seconds) for v, m in models.items()}
        batches = {v: lambda m=m, n=calls[v]: [m(video) for _ in range(n)] for v, m in models.items()}
        times = interleaved(batches, calls=1, repeats=repeats, warmup=0)
    return {"name": name, "tokens": models[VARIANTS[0]].num_tokens, "input": [channels, *size], "tubelet": list(tubelet),
            "variants": {v: {"gflops": gflops[v], "ms_per_sample": summary([1e3 * t / calls[v] for t in times[v]])} for v in models}}


def plot(rows: list[dict[str, Any]], info: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    titles = {"gflops": "forward GFLOPs per sample (analytic)", "ms_per_sample": "inference ms per sample, batch 1 (measured)"}
    for ax, (key, title) in zip(axes, titles.items()):
        for number, variant in enumerate(VARIANTS, start=1):
            values = [r["variants"][variant][key] for r in rows]
            ax.plot([r["tokens"] for r in rows], [v["median"] if isinstance(v, dict) else v for v in values], marker="o",
                    label=f"Model {number}: {variant.replace('_', ' ')}")
        ax.set(xscale="log", yscale="log", xlabel="tokens per sample")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"ViViT variants at one width (D=192, depth 4); {info['cpu']}, {info['threads']} thread(s), "
                 f"torch {info['torch']}, {info['date'][:10]}", fontsize=9)
    fig.tight_layout()
    IMAGE.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(IMAGE, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="points up to ~1,600 tokens, 2 repeats")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out", default=None, help="results name (default scaling or scaling-quick); not the plot")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = args.repeats or (2 if args.quick else 3)
    info = machine()
    points = [p for p in POINTS if not args.quick or build("factorised_encoder", *p[1:]).num_tokens <= 1600]
    rows = []
    for point in points:
        rows.append(row := measure_point(point, repeats, seconds=0.2, device=torch.device(args.device)))
        print(f"{row['tokens']:5d} tokens  {row['name']:40s} " + "  ".join(
            f"{v[:12]} {r['gflops']:7.2f} GF {r['ms_per_sample']['median']:8.1f} ms" for v, r in row["variants"].items()
        ), flush=True)
    rows.sort(key=lambda r: r["tokens"])
    path = write_results(args.out or ("scaling-quick" if args.quick else "scaling"), {
        "machine": info, "command": command_line(), "width": WIDTH, "repeats": repeats, "points": rows,
    })
    if args.out:
        print(f"wrote {path}")
        return
    plot(rows, info)
    print(f"wrote {path} and {IMAGE}")


if __name__ == "__main__":
    main()
