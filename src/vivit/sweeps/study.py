"""A sweep: many worker processes running trials of one Optuna study, until N are done.

The study lives in a storage URL (SQLite by default, any SQLAlchemy URL otherwise), so
any number of `vivit sweep` processes, here or on other machines, share it by name. N
counts trials that finished or were pruned; each worker checks it before and after
claiming a trial, so parallel workers do not overshoot (see `_claim_check`).

A worker killed mid-trial leaves that trial RUNNING. A worker started on the same host
fails it at once when its owner process is gone (`trial_owners.py`); elsewhere its
heartbeat stops, and the next worker to look marks it FAIL after the grace period. Either
way its parameters are enqueued again (Optuna's RetryFailedTrialCallback), so the sweep
still reaches N trials.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vivit.errors import ConfigError, VivitError
from vivit.sweeps.space import Parameter, check_space, override
from vivit.sweeps.trial_owners import fail_trials_of_dead_workers, owner

DEFAULT_STORAGE = "sqlite:///runs/sweeps.db"


@dataclass(frozen=True)
class SweepSettings:
    """Everything a worker process needs; plain data so it crosses a process spawn."""

    recipe: str
    overrides: tuple[str, ...]
    space: tuple[Parameter, ...]
    trials: int
    storage: str
    study: str
    out: Path
    metric: str = "val/auc"
    seed: int = 42
    timeout: float | None = None
    heartbeat: int = 20  # seconds; a trial silent for twice as long is declared dead
    workers: int = 1

    @property
    def direction(self) -> str:
        return "minimize" if self.metric == "val/loss" else "maximize"


class SurplusTrial(Exception):
    """Raised inside a trial that another worker's trial made unnecessary."""


def base_recipe_data(settings: SweepSettings) -> dict[str, Any]:
    from vivit.training.recipe import apply_overrides, read_recipe_file

    return apply_overrides(read_recipe_file(settings.recipe), list(settings.overrides))


def check_settings(settings: SweepSettings) -> None:
    """Fail before any worker starts: bad recipe, space key, metric or device count."""
    from vivit.training.recipe import SELECTABLE_METRICS, build_recipe

    data = base_recipe_data(settings)
    recipe = build_recipe(data)
    check_space(list(settings.space), data)
    if settings.metric not in SELECTABLE_METRICS:
        raise ConfigError(f"Unknown sweep metric '{settings.metric}'; choose one of: {', '.join(SELECTABLE_METRICS)}")
    if recipe.pretrains and settings.metric != "val/loss":
        raise ConfigError(f"{settings.recipe} pretrains, so its runs have no classes to score {settings.metric} on; "
                          f"sweep it with --metric val/loss (the reconstruction loss)")
    if recipe.train.devices * recipe.train.num_nodes > 1:
        raise ConfigError("A sweep trains each trial in one process; use --workers for parallel trials, not --devices")
    if settings.trials < 1 or settings.workers < 1:
        raise ConfigError("--trials and --workers must be at least 1")


def quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and stale-trial handling are marked experimental; we rely on them knowingly.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def open_study(settings: SweepSettings, sampler_seed: int | None = None) -> Any:
    import optuna

    quiet_optuna()
    sampler = optuna.samplers.TPESampler(seed=settings.seed if sampler_seed is None else sampler_seed)
    # No verdict before 3 trials have reported, nor on a trial's first epoch.
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    return optuna.create_study(
        storage=make_storage(settings.storage, settings.heartbeat),
        study_name=settings.study,
        sampler=sampler,
        pruner=pruner,
        direction=settings.direction,
        load_if_exists=True,
    )


def load_study(storage: str, name: str) -> Any:
    """An existing study, for reports; a missing one is a one-line error naming the known ones."""
    import optuna

    quiet_optuna()
    check_storage_exists(storage)
    backend = make_storage(storage, heartbeat=None)
    known = [s.study_name for s in optuna.get_all_study_summaries(backend)]
    if name not in known:
        raise ConfigError(f"No study '{name}' in {storage}; studies there: {', '.join(known) or 'none'}")
    return optuna.load_study(study_name=name, storage=backend)


def check_storage_exists(url: str) -> None:
    """A SQLite storage that is not there is refused: opening it would create an empty database."""
    if not url.startswith("sqlite:///") or url.removeprefix("sqlite:///") in ("", ":memory:"):
        return
    path = Path(url.removeprefix("sqlite:///"))
    if not path.is_file():
        raise ConfigError(
            f"No sweep storage at {path.resolve()} ({url}); run this from the folder the sweep ran in, "
            f"or point at its database with --storage sqlite:////absolute/path/to/sweeps.db"
        )


def make_storage(url: str, heartbeat: int | None) -> Any:
    import optuna

    engine: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # Workers take turns writing one file; wait for the lock instead of failing at once.
        engine = {"connect_args": {"timeout": 60}}
    for attempt in range(SCHEMA_RACE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=engine, **_heartbeat_settings(heartbeat))
        except (ImportError, ModuleNotFoundError) as error:
            raise ConfigError(f"Storage {url} needs a database driver that is not installed ({error.name}); e.g. pip install psycopg2-binary") from None
        except Exception as error:  # SQLAlchemy's errors: a bad URL or an unreachable server
            if not (isinstance(error, optuna.exceptions.OptunaError) or type(error).__module__.startswith("sqlalchemy")):
                raise
            # Workers started together on an empty database all create Optuna's tables;
            # PostgreSQL lets one win and fails the others with a unique violation. The
            # tables then exist, so a retry simply opens them.
            if not _lost_schema_race(error) or attempt == SCHEMA_RACE_ATTEMPTS - 1:
                raise ConfigError(f"Cannot open sweep storage {url}: {str(error).splitlines()[0]}") from None
            time.sleep(0.5 + random.random())
    raise AssertionError("unreachable")


SCHEMA_RACE_ATTEMPTS = 5


def _lost_schema_race(error: Exception) -> bool:
    """A unique violation or a "table already exists" from a concurrent CREATE TABLE."""
    name = type(error).__name__
    return name == "IntegrityError" or (name == "ProgrammingError" and "already exists" in str(error))


def _heartbeat_settings(heartbeat: int | None) -> dict[str, Any]:
    """RDBStorage keywords that make a trial whose worker died (no heartbeat) FAIL and retry it."""
    if not heartbeat:
        return {}
    from optuna import storages

    settings: dict[str, Any] = {"heartbeat_interval": heartbeat, "grace_period": 2 * heartbeat}
    # Optuna 4.9 renamed the callback and its keyword; older releases know only the first names.
    if hasattr(storages, "RetryHeartbeatStaleTrialCallback"):
        settings["heartbeat_stale_trial_callback"] = storages.RetryHeartbeatStaleTrialCallback(max_retry=2)
    else:
        settings["failed_trial_callback"] = storages.RetryFailedTrialCallback(max_retry=2)
    return settings


def _counts(study: Any) -> tuple[int, int]:
    """(finished or pruned, running) trials of the study."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING))
    finished = sum(t.state != TrialState.RUNNING for t in trials)
    return finished, len(trials) - finished


def _claim_check(study: Any, number: int, target: int) -> None:
    """Raise SurplusTrial if `target` trials numbered below this one are done or under way.

    Two workers may both see N-1 trials and both ask for one; numbers are unique, so the
    lower number wins and the other steps aside, marked FAIL with user attr `surplus`.
    """
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    ahead = [t for t in study.get_trials(deepcopy=False, states=states) if t.number < number]
    if len(ahead) >= target:
        raise SurplusTrial(f"trial {number} is surplus: {target} trials are already done or running")


def trial_dir(settings: SweepSettings, number: int) -> Path:
    return settings.out / f"trial-{number:04d}"


def objective(settings: SweepSettings, trial: Any) -> float:
    import optuna

    from vivit.sweeps.pruning import PruneOnValidation
    from vivit.training.recipe import apply_overrides, build_recipe
    from vivit.training.run import train
    from vivit.training.run_dir import RunDir

    for key, value in owner().items():  # so a restarted worker can tell this trial's process died
        trial.set_user_attr(key, value)
    try:
        _claim_check(trial.study, trial.number, settings.trials)
    except SurplusTrial:
        trial.set_user_attr("surplus", True)
        raise
    sampled = {p.key: p.suggest(trial) for p in settings.space}
    run_dir = trial_dir(settings, trial.number)
    trial.set_user_attr("run_dir", str(run_dir))
    try:
        recipe = build_recipe(apply_overrides(base_recipe_data(settings), [override(k, v) for k, v in sampled.items()]))
    except ConfigError as error:
        # An impossible combination (e.g. embed_dim not divisible by num_heads) is a bad
        # point of the space, not a crash: prune it so the sampler learns to avoid it.
        trial.set_user_attr("invalid", str(error))
        raise optuna.TrialPruned(str(error)) from None
    # The recipe itself, not a path: the study may be read on a machine without the trial's folder.
    trial.set_user_attr("recipe", recipe.to_dict())
    pruning = PruneOnValidation(trial, settings.metric)
    print(trial_header(trial.number, settings.trials, sampled, run_dir), flush=True)
    train(recipe, run_dir, extra_callbacks=[pruning])
    if pruning.pruned_at is not None:
        raise optuna.TrialPruned(f"pruned at epoch {pruning.pruned_at}")
    section, _, name = settings.metric.partition("/")
    return float(RunDir(run_dir).read_metrics()[section][name])


def trial_header(number: int, trials: int, sampled: dict[str, Any], run_dir: Path) -> str:
    """The line that opens a trial's epoch lines: which trial, what it tries, where it goes."""
    shown = ", ".join(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}" for key, value in sampled.items())
    return f"== trial {number} (of {trials}): {shown or 'the base recipe'} -> {run_dir}"


def worker_seed(settings: SweepSettings, index: int, trials_so_far: int) -> int:
    """Seeded, yet different per worker and per restart: no two workers draw alike."""
    digest = hashlib.sha256(f"{settings.seed}/{index}/{trials_so_far}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def run_worker(settings: SweepSettings, index: int = 0) -> None:
    """Run trials until the study holds `settings.trials` finished or pruned ones."""
    from optuna.storages import fail_stale_trials

    started = time.monotonic()
    trials_so_far = len(open_study(settings).trials)
    study = open_study(settings, worker_seed(settings, index, trials_so_far))
    while settings.timeout is None or time.monotonic() - started < settings.timeout:
        fail_trials_of_dead_workers(study)  # a killed worker's on this host: FAIL, parameters enqueued again
        fail_stale_trials(study)  # the same, for a worker elsewhere, once its heartbeat is overdue
        finished, running = _counts(study)
        if finished + running >= settings.trials:
            break
        study.optimize(lambda trial: objective(settings, trial), n_trials=1, catch=(SurplusTrial,), gc_after_trial=True)


def run_sweep(settings: SweepSettings) -> Any:
    """Run the sweep with `settings.workers` processes; return the study."""
    check_settings(settings)
    settings.out.mkdir(parents=True, exist_ok=True)
    study = open_study(settings)  # creates the study once, before workers race to
    study.set_user_attr("recipe", settings.recipe)
    study.set_user_attr("metric", settings.metric)
    if settings.workers == 1:
        run_worker(settings)
    else:
        _run_processes(settings)
    return study


def _run_processes(settings: SweepSettings) -> None:
    # spawn, not fork: a forked copy of a process that already ran torch can deadlock.
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=run_worker, args=(settings, i), name=f"sweep-worker-{i}") for i in range(settings.workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    failed = [p.name for p in processes if p.exitcode != 0]
    if failed:
        raise VivitError(f"Sweep workers {', '.join(failed)} stopped with an error; run the same command again to continue the sweep")


def best_recipe(study: Any) -> dict[str, Any]:
    """The best trial's recipe, as it was trained, renamed after the study."""
    from optuna.trial import TrialState

    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        raise VivitError(f"Study '{study.study_name}' has no completed trial yet")
    best = study.best_trial
    recipe = dict(best.user_attrs["recipe"])
    recipe["name"] = f"{study.study_name}-best"
    recipe["description"] = f"Best trial ({best.number}) of sweep '{study.study_name}': {study.user_attrs.get('metric', 'value')} = {best.value:.4f}"
    return recipe


def write_best_recipe(study: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(best_recipe(study), sort_keys=False))
    return path
