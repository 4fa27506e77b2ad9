"""The whole seed job, as a user runs it: Keras/TF (the seed), HF ViViT in a plain torch loop,
and `vivit train` in fp32 and at `precision: auto`, one after another on the same data.

    VIVIT_DATA_DIR=../shared/data python benchmarks/end_to_end.py [--epochs 60] [--threads 2] [--busy 1]

Each leg is a fresh process: OrganMNIST3D at batch 32, validation every epoch, then test. Wall
time counts everything (imports, data, final evaluation); the steady epoch is the median from
the second on. MFU: an epoch's FLOPs (PyTorch's counter) per steady second over the 1024^3 fp32
GEMM peak measured first. `--busy N` runs N CPU-bound processes beside every leg. Keras needs
TensorFlow (`--python-tf`: an interpreter that has it, maybe without torch: torch is imported late). Writes benchmarks/results/end_to_end[-busyN].json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))


def organ(split: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(Path(os.environ["VIVIT_DATA_DIR"]) / "organmnist3d.npz")
    return data[f"{split}_images"], data[f"{split}_labels"].reshape(-1).astype(np.int64)


def hf_leg(epochs: int) -> dict[str, Any]:
    """What an HF user writes: float tensors in memory, a DataLoader, Adam, eval each epoch."""
    import torch
    from throughput import hf_keras_seed
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(42)
    as_video = lambda x: torch.from_numpy(x).float().div(255).unsqueeze(1)  # noqa: E731  (B, 1, T, H, W)
    splits = {s: TensorDataset(as_video(organ(s)[0]), torch.from_numpy(organ(s)[1])) for s in ("train", "val", "test")}
    model = hf_keras_seed()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    seconds = []

    def accuracy(split: str) -> float:
        model.eval()
        with torch.inference_mode():
            hits = sum((model(x).argmax(1) == y).sum().item() for x, y in DataLoader(splits[split], batch_size=32))
        return hits / len(splits[split])

    for _ in range(epochs):
        started = time.perf_counter()
        model.train()
        for x, y in DataLoader(splits["train"], batch_size=32, shuffle=True):
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        accuracy("val")
        seconds.append(time.perf_counter() - started)
    return {"epoch_seconds": seconds, "test_accuracy": accuracy("test")}


def keras_leg(epochs: int) -> dict[str, Any]:
    """The Keras example's model and fit loop (keras.io, "Video Classification with a Vision Transformer")."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(42)
    (x, y), (vx, vy), (tx, ty) = (organ(s) for s in ("train", "val", "test"))
    prepare = lambda a: (a[..., None] / 255.0).astype("float32")  # noqa: E731
    inputs = layers.Input((28, 28, 28, 1))
    patches = layers.Conv3D(128, 8, strides=8, padding="VALID")(inputs)
    tokens = layers.Reshape((-1, 128))(patches)
    tokens = tokens + layers.Embedding(27, 128)(keras.ops.arange(27))
    for _ in range(8):
        h = layers.LayerNormalization(epsilon=1e-6)(tokens)
        tokens = tokens + layers.MultiHeadAttention(8, 128 // 8, dropout=0.1)(h, h)
        h = layers.LayerNormalization(epsilon=1e-6)(tokens)
        h = layers.Dense(512, activation=keras.ops.gelu)(h)
        tokens = tokens + layers.Dense(128, activation=keras.ops.gelu)(h)
    pooled = layers.GlobalAvgPool1D()(layers.LayerNormalization(epsilon=1e-6)(tokens))
    model = keras.Model(inputs, layers.Dense(11, activation="softmax")(pooled))
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    starts, ends = [], []  # epoch clock readings
    clock = keras.callbacks.LambdaCallback(on_epoch_begin=lambda *_: starts.append(time.perf_counter()),
                                           on_epoch_end=lambda *_: ends.append(time.perf_counter()))
    model.fit(prepare(x), y, batch_size=32, epochs=epochs, validation_data=(prepare(vx), vy), callbacks=[clock], verbose=0)
    seconds = [end - start for start, end in zip(starts, ends)]
    return {"epoch_seconds": seconds, "test_accuracy": float(model.evaluate(prepare(tx), ty, verbose=0)[1])}


# vivit legs: (train.precision, environment); "passive": OpenMP threads sleep between kernels.
VIVIT_LEGS = {"vivit-fp32": ("32-true", {}), "vivit-auto": (None, {}), "vivit-auto-passive": (None, {"OMP_WAIT_POLICY": "PASSIVE"})}


def run_leg(name: str, command: list[str], threads: int, env: dict[str, str] | None = None) -> tuple[float, str]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1",
           **(env or {})}
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - started, result.stdout


def summarise(wall: float, seconds: list[float], test_accuracy: float, epoch_flops: float, peak: float) -> dict[str, Any]:
    steady = statistics.median(seconds[1:] or seconds)
    return {"wall_seconds": wall, "steady_epoch_seconds": steady, "train_samples_per_second": 971 / steady, "epochs": len(seconds),
            "test_accuracy": test_accuracy, "achieved_flops": epoch_flops / steady, "mfu_fp32_peak": epoch_flops / steady / peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes running beside every leg")
    parser.add_argument("--legs", nargs="+", default=["keras", "hf", *VIVIT_LEGS], choices=["keras", "hf", *VIVIT_LEGS])
    parser.add_argument("--python-tf", default=sys.executable, help="an interpreter with TensorFlow, for the Keras leg")
    parser.add_argument("--leg", help=argparse.SUPPRESS)  # a child process running one non-vivit leg
    args = parser.parse_args()
    if args.leg:
        print(json.dumps((keras_leg if args.leg == "keras" else hf_leg)(args.epochs)))
        return
    import torch
    from harness import calls_for, machine, timed, write_results
    from peak import gemm_runner
    from throughput import flops_per_sample

    from vivit.models import create_model
    from vivit.training.run_dir import RunDir

    torch.set_num_threads(args.threads)
    flops = flops_per_sample(create_model("keras-seed", num_classes=11), 1, (28, 28, 28))
    train_flops = 971 * flops["train"] + 161 * flops["forward"]  # an epoch: training plus validation
    square = {dtype: gemm_runner((1, 1024, 1024, 1024), getattr(torch, dtype), torch.device("cpu")) for dtype in ("float32", "bfloat16")}
    peaks = {dtype: 2 * 1024**3 / timed(run, calls_for(run, 2.0)) for dtype, run in square.items()}
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    legs: dict[str, Any] = {}
    try:
        for name in args.legs:
            if name == "keras" and subprocess.run([args.python_tf, "-c", "import tensorflow"], capture_output=True).returncode:
                legs[name] = {"skipped": f"TensorFlow is not importable by {args.python_tf} (--python-tf names one that has it)"}
            elif name in ("keras", "hf"):
                python = args.python_tf if name == "keras" else sys.executable
                wall, stdout = run_leg(name, [python, str(HERE), "--leg", name, "--epochs", str(args.epochs)], args.threads)
                done = json.loads(stdout.strip().splitlines()[-1])
                legs[name] = summarise(wall, done["epoch_seconds"], done["test_accuracy"], train_flops, peaks["float32"])
            else:
                precision, env = VIVIT_LEGS[name]
                run = RunDir(Path(tempfile.mkdtemp()) / "run")
                extra = [f"train.precision={precision}"] if precision else []
                command = [sys.executable, "-m", "vivit.cli.main", "train", "--out", str(run.path), f"train.epochs={args.epochs}", *extra]
                wall, stdout = run_leg(name, command, args.threads, env)
                seconds = [float(s) for s in run.read_history()["epoch_seconds"]]
                legs[name] = summarise(wall, seconds, run.read_metrics()["test"]["accuracy"], train_flops, peaks["float32"])
                legs[name]["precision"] = next((line.split(", precision ", 1)[1] for line in stdout.splitlines() if ", precision " in line), "")
            print(name, json.dumps(legs[name]), flush=True)
    finally:
        for process in busy:
            process.kill()
    data = {"machine": machine(), "threads": args.threads, "busy": args.busy, "epochs": args.epochs,
            "gemm_peak_flops": peaks, "flops_per_sample": flops, "legs": legs}
    print("->", write_results("end_to_end" + (f"-busy{args.busy}" if args.busy else ""), data))


if __name__ == "__main__":
    main()
