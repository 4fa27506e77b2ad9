"""`python -m tests.reliability.peak_rss CHECKPOINT WARMUP INPUT`: the memory one prediction takes.

Loads the model and predicts once on WARMUP (a small input of the same kind, so
libraries and buffers are in place), then on INPUT, and prints JSON: the anonymous
memory before INPUT and its peak while reading and predicting it (MiB, see
anon_memory.py), and the seconds taken.
"""

from __future__ import annotations

import json
import sys
import time

import torch

from tests.reliability.anon_memory import AnonPeak


def main() -> None:
    from vivit.checkpoints import load_model
    from vivit.inference.inputs import read_inputs
    from vivit.inference.predict import predict

    torch.set_num_threads(1)
    checkpoint, warmup, target = sys.argv[1:4]
    model = load_model(checkpoint)
    names = model.checkpoint_info["class_names"]
    predict(model, read_inputs(warmup, model.config), names)
    started = time.perf_counter()
    with AnonPeak() as memory:
        predictions = predict(model, read_inputs(target, model.config), names)
    seconds = time.perf_counter() - started
    print(json.dumps({"before_mib": memory.before / 2**20, "peak_mib": memory.peak / 2**20, "seconds": seconds,
                      "top": predictions[0].top[0][0]}))


if __name__ == "__main__":
    main()
