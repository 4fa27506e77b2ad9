"""`vivit models`: the model presets with their size."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list model presets and variants")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vivit.models import PRESETS, VARIANTS, preset_config

    print(f"{'preset':<18}{'input (C,T,H,W)':<20}{'tubelet':<10}{'dim':>5}{'depth':>6}{'heads':>6}")
    for name in PRESETS:
        c = preset_config(name)
        shape = f"({c.in_channels},{','.join(map(str, c.input_size))})"
        print(f"{name:<18}{shape:<20}{'x'.join(map(str, c.tubelet_size)):<10}{c.embed_dim:>5}{c.depth:>6}{c.num_heads:>6}")
    print("variants: " + ", ".join(VARIANTS))
    return 0
