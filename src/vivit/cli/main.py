"""The `vivit` command: parses arguments and hands each subcommand to its module.

Expected mistakes (:class:`vivit.errors.VivitError`) end with one line on stderr and
exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import vivit
from vivit.errors import Stopped, VivitError


def build_parser() -> argparse.ArgumentParser:
    # Subcommand modules are imported here, not at module level, so `vivit --help`
    # stays fast and one broken subcommand cannot hide the others' errors.
    from vivit.cli import datasets, evaluate, export, models, predict, pretrain, report, sweep, train

    parser = argparse.ArgumentParser(prog="vivit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"vivit {vivit.__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (train, pretrain, evaluate, predict, report, sweep, export, datasets, models):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # key=value overrides may stand anywhere among the options, so collect the leftovers.
    args, leftovers = parser.parse_known_args(argv)
    if leftovers and (not hasattr(args, "overrides") or any("=" not in a or a.startswith("-") for a in leftovers)):
        parser.error(f"unrecognized arguments: {' '.join(leftovers)}")
    if leftovers:
        args.overrides = [*args.overrides, *leftovers]
    try:
        return int(args.func(args) or 0)
    except VivitError as error:
        print(f"vivit: error: {error}", file=sys.stderr)
        return 2
    except Stopped as stop:  # a signal during training: the run says where it stands
        print(f"vivit: {stop}", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:  # Ctrl-C outside training (loading data, say): nothing was written
        print("vivit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
