"""`vivit sweep`: search recipe hyper-parameters with Optuna; `vivit sweep-report`: its page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from vivit.cli.train import add_training_arguments, overrides_from

if TYPE_CHECKING:
    from vivit.sweeps.study import SweepSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="search hyper-parameters of a recipe with Optuna",
        description="Run trials of a recipe with keys drawn from a search space; every trial is a run directory. "
        "Processes given the same --storage and --study share one study; rerunning a stopped sweep continues it.",
    )
    add_training_arguments(parser)  # every `vivit train` flag, passed through to each trial
    parser.add_argument("--space", type=Path, help="search space YAML (default: the shipped vivit/sweeps/spaces/default.yaml)")
    parser.add_argument("--trials", type=int, required=True, help="trials the study should hold, finished or pruned, in all")
    parser.add_argument("--storage", help="SQLAlchemy URL of the study (default sqlite:///runs/sweeps.db)")
    parser.add_argument("--study", help="study name (default <recipe>-<dataset>)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    parser.add_argument("--metric", default="val/auc", help="validation metric to optimise and prune on (default val/auc)")
    parser.add_argument("--timeout", type=float, help="seconds after which a worker starts no new trial")
    parser.add_argument("--heartbeat", type=int, default=20, help="seconds between trial heartbeats; a trial silent for twice as long is failed and retried")
    parser.add_argument("--out", type=Path, help="folder of the trials, best recipe and report (default runs/sweeps/<study>)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="recipe overrides applied to every trial")
    parser.set_defaults(func=run)

    report = subparsers.add_parser("sweep-report", help="write the HTML report of sweep studies")
    report.add_argument("studies", nargs="+", metavar="STUDY", help="study names")
    report.add_argument("--storage", help="SQLAlchemy URL of the studies (default sqlite:///runs/sweeps.db)")
    report.add_argument("--out", type=Path, help="report folder (default runs/sweeps/<study>/report)")
    report.set_defaults(func=run_report)


def settings_from(args: argparse.Namespace) -> SweepSettings:
    from vivit.sweeps.space import load_space
    from vivit.sweeps.study import DEFAULT_STORAGE, SweepSettings
    from vivit.training.recipe import load_recipe

    overrides = overrides_from(args)
    recipe = load_recipe(args.recipe, overrides)
    study = args.study or f"{recipe.name}-{Path(str(recipe.data.dataset)).name}"
    return SweepSettings(
        recipe=args.recipe,
        overrides=tuple(overrides),
        space=tuple(load_space(args.space)),
        trials=args.trials,
        storage=args.storage or DEFAULT_STORAGE,
        study=study,
        out=args.out or Path("runs") / "sweeps" / study,
        metric=args.metric,
        seed=recipe.train.seed,
        timeout=args.timeout,
        heartbeat=args.heartbeat,
        workers=args.workers,
    )


def require_optuna() -> None:
    from vivit.errors import ConfigError

    try:
        import optuna  # noqa: F401
    except ImportError:
        raise ConfigError("vivit sweep needs Optuna, which is not installed; pip install 'vivit[sweep]'") from None


def run(args: argparse.Namespace) -> int:
    require_optuna()
    from vivit.sweeps.report import write_report
    from vivit.sweeps.study import run_sweep, write_best_recipe

    settings = settings_from(args)
    study = run_sweep(settings)
    page = write_report([study], settings.out / "report")
    best = write_best_recipe(study, settings.out / "best-recipe.yaml")
    print(f"study {settings.study}: best {settings.metric} {study.best_value:.4f} (trial {study.best_trial.number})")
    print(f"best recipe: {best}  (vivit train --recipe {best})")
    print(f"report: {page}")
    _say_outstanding([study])
    return 0


def _say_outstanding(studies: list) -> None:
    """A warning line per study with trials still RUNNING, so nobody takes a partial sweep's best
    for the final one. Not an error: parallel workers end while others finish their trials."""
    from vivit.errors import warn
    from vivit.sweeps.trial_owners import outstanding_note

    for note in filter(None, map(outstanding_note, studies)):
        warn(note)


def run_report(args: argparse.Namespace) -> int:
    require_optuna()
    from vivit.sweeps.report import write_report
    from vivit.sweeps.study import DEFAULT_STORAGE, load_study

    studies = [load_study(args.storage or DEFAULT_STORAGE, name) for name in args.studies]
    out = args.out or Path("runs") / "sweeps" / args.studies[0] / "report"
    print(f"report: {write_report(studies, out)}")
    _say_outstanding(studies)
    return 0
