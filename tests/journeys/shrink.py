"""How the journey suite keeps documented trainings short without editing their command text.

The `vivit` the journeys find on PATH is `python -m tests.journeys.shrink`: it appends to
the arguments of `vivit train`, `vivit pretrain` and `vivit sweep`

    train.epochs=1 train.limit_train_batches=2 model.embed_dim=16 model.depth=1
    model.temporal_depth=1 model.num_heads=2 model.mlp_dim=32

(and to `vivit pretrain` a decoder as small: mae.decoder_dim=16 mae.decoder_depth=1 mae.decoder_heads=2)
(overrides come last, so they win over a documented `--epochs 60` or `epochs=10`), and
`--trials 2` to a sweep; `vivit train --resume RUN --epochs N` gets `--epochs 2`, which
extends the one-epoch run by one epoch (a resume takes no other change; the same for
`vivit pretrain --resume`). Every other
subcommand, and everything else about a command, runs as documented.
"""

from __future__ import annotations

import sys

SHORT_TRAINING = ("train.epochs=1", "train.limit_train_batches=2")
TINY_MODEL = ("model.embed_dim=16", "model.depth=1", "model.temporal_depth=1", "model.num_heads=2", "model.mlp_dim=32")
TINY_DECODER = ("mae.decoder_dim=16", "mae.decoder_depth=1", "mae.decoder_heads=2")


def shrunk(argv: list[str]) -> list[str]:
    command = argv[0] if argv else ""
    if command in ("train", "pretrain") and "--resume" in argv:
        return [*argv, "--epochs", "2"] if "--epochs" in argv else argv
    if command == "train":
        return [*argv, *SHORT_TRAINING, *TINY_MODEL]
    if command == "pretrain":
        return [*argv, *SHORT_TRAINING, *TINY_MODEL, *TINY_DECODER]
    if command == "sweep":
        return [*argv, "--trials", "2", *SHORT_TRAINING, *TINY_MODEL]
    return argv


def main() -> int:
    from vivit.cli.main import main as vivit

    # Lightning's DDP launcher starts ranks 1..N-1 with this process's sys.argv.
    sys.argv[1:] = shrunk(sys.argv[1:])
    return vivit(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
