"""`vivit pretrain`: masked-autoencoder pretraining (VideoMAE) of a ViViT encoder on unlabelled data.

The run directory is a normal run's (resume, history, report); `vivit train --init RUN`
fine-tunes its encoder. See docs/pretraining.md.
"""

from __future__ import annotations

import argparse

DEFAULT_RECIPE = "vivit-mae-pretrain"


def register(subparsers: argparse._SubParsersAction) -> None:
    from vivit.cli.train import TRAINING_FLAGS, add_run_arguments, add_training_arguments, run

    parser = subparsers.add_parser(
        "pretrain",
        help="pretrain an encoder as a masked autoencoder on unlabelled data",
        description="Masked-autoencoder pretraining (VideoMAE) on the train splits of one or several datasets "
        "(names joined by '+', e.g. organmnist3d+adrenalmnist3d), of a labelled video folder, or on every video "
        "under an unlabelled folder; labels are never used, test splits never decoded. Fine-tune the result "
        "with `vivit train --init RUN_DIR`. Any recipe key can be overridden "
        "as section.key=value (e.g. mae.mask_ratio=0.9).",
    )
    flags = tuple(flag for flag in TRAINING_FLAGS if flag.name != "init")  # pretraining starts from scratch
    add_training_arguments(parser, DEFAULT_RECIPE, flags)
    add_run_arguments(parser, resume_help="continue a stopped pretraining run; with --epochs N, extend it to N epochs")
    parser.set_defaults(func=lambda args: run(args, pretraining=True))
