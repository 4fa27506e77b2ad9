"""Batches/s and samples/s of BatchLoader alone (no model), on real MedMNIST 3D splits.

    VIVIT_DATA_DIR=../shared/data python benchmarks/loader_throughput.py [--epochs 7] [--device cpu]

Each row is the median over timed epochs after one warm-up epoch, of the train split
with batch 32 and shuffling. Prints a markdown table with the machine it ran on;
MB/s counts the uint8 samples read.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time

import torch

from vivit.data.loader import BatchLoader
from vivit.data.medmnist import load_medmnist
from vivit.data.types import Split

CASES = (("organmnist3d", 28), ("adrenalmnist3d", 64))


def epoch_seconds(loader: BatchLoader, epoch: int) -> float:
    loader.set_epoch(epoch)
    start = time.perf_counter()
    for x, _ in loader:
        pass
    if x.is_cuda:
        torch.cuda.synchronize()  # the last batch's copy and conversion are asynchronous
    return time.perf_counter() - start


def measure(split: Split, batch_size: int, epochs: int, device: str) -> tuple[float, float]:
    """(batches/s, samples/s), medians over `epochs` timed epochs after one warm-up."""
    loader = BatchLoader(split, batch_size, shuffle=True, device=device)
    epoch_seconds(loader, 0)
    seconds = statistics.median(epoch_seconds(loader, epoch) for epoch in range(1, epochs + 1))
    return len(loader) / seconds, len(split) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    print(f"{datetime.date.today()}, {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"device {args.device}\n")
    print("| dataset | sample (C, T, H, W) | train samples | batch | batches/s | samples/s | MB/s |")
    print("|---|---|---|---|---|---|---|")
    for name, size in CASES:
        split = load_medmnist(name, size=size, data_dir=args.data_dir).splits["train"]
        batches, samples = measure(split, args.batch_size, args.epochs, args.device)
        megabytes = samples * split.images[0].numel() / 1e6
        shape = tuple(split.images.shape[1:])
        cells = (name, shape, len(split), args.batch_size, f"{batches:,.0f}", f"{samples:,.0f}",
                 f"{megabytes:,.0f}")
        print("| " + " | ".join(str(cell) for cell in cells) + " |")


if __name__ == "__main__":
    main()
