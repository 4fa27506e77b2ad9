"""Train a recipe into a run directory (`training/run_dir.py` owns its layout), resume one,
and evaluate the checkpoint it keeps."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import signal
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import EarlyStopping, EMAWeightAveraging, TQDMProgressBar
from lightning.pytorch.loggers import Logger

from vivit.checkpoints import read_checkpoint_info, verified_trainer_state
from vivit.data.datasets import list_datasets
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError, Stopped
from vivit.output_locations import check_output_folder
from vivit.training.banner import start_banner
from vivit.training.callbacks import TRAINER_STATE, RunRecorder
from vivit.training.datamodule import ViViTDataModule
from vivit.training.interrupts import Interrupted, interruptible
from vivit.training.module import ViViTClassifier
from vivit.training.pretrain_module import MaskedAutoencoderPretraining
from vivit.training.preflight import check_batch_fits
from vivit.training.recipe import Recipe, check_runs_here
from vivit.training.run_dir import RunDir, dataset_summary, load_bundle
from vivit.training.run_evaluation import check_views, recipe_views, write_final_metrics, write_pretraining_metrics

PROGRESS = ("lines", "bar")  # one line per epoch (logs, CI, pipes), or a live bar with ETA (a terminal)


# `--devices N` starts ranks 1..N-1 as copies of rank 0's command, seconds later: they take the
# run directory rank 0 named (they inherit its environment), not one stamped with their own clock.
DEFAULT_RUN_DIR_VARIABLE = "VIVIT_DEFAULT_RUN_DIR"


def default_run_dir(recipe: Recipe, root: Path = Path("runs")) -> Path:
    if not is_first_rank() and DEFAULT_RUN_DIR_VARIABLE in os.environ:
        return Path(os.environ[DEFAULT_RUN_DIR_VARIABLE])
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = root / f"{recipe.name}-{Path(str(recipe.data.dataset)).name}-seed{recipe.train.seed}-{stamp}"
    os.environ[DEFAULT_RUN_DIR_VARIABLE] = str(run_dir)
    return run_dir


def is_first_rank() -> bool:
    """Whether this process writes the run directory: the only one, or rank 0 of the first node under DDP."""
    return os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("NODE_RANK", "0") == "0"


def prepare_run_dir(run: RunDir) -> None:
    """Refuse to train over a run that already holds checkpoints: saved work is never lost."""
    if run.holds_checkpoints():
        raise ConfigError(f"{run.path} already holds a run; resume it with --resume {run.path} or choose another --out")
    run.path.mkdir(parents=True, exist_ok=True)


def train(
    recipe: Recipe, run_dir: Path | None = None, extra_callbacks: list[pl.Callback] | None = None, progress: str = "lines"
) -> Path:
    """Train `recipe` into `run_dir` (default `runs/<recipe>-<dataset>-seed<S>-<time>`); return it.

    `extra_callbacks` join the trainer's own (a sweep's pruning callback, for one); `progress`
    is one of PROGRESS.
    """
    check_runs_here(recipe)
    recipe = with_absolute_paths(recipe)
    run = RunDir(run_dir or default_run_dir(recipe))
    check_output_folder(run.path, "--out")  # before the data loads: a bad location costs no time
    bundle = load_bundle(recipe)  # before creating anything: a data error leaves no empty run
    _check_selection_is_defined(recipe, bundle)
    check_views(recipe_views(recipe), bundle, run.name)
    model_config = recipe.model_config(bundle.num_classes, bundle.input_shape)
    check_batch_fits(recipe, model_config)  # an impossible batch fails here, not mid-epoch
    with _writing(run):
        if is_first_rank():
            prepare_run_dir(run)
            run.write_config({**recipe.to_dict(), "resolved_model": model_config.to_dict(), "dataset": dataset_summary(bundle)})
        return _fit(recipe, bundle, run, None, extra_callbacks, progress)


def with_absolute_paths(recipe: Recipe) -> Recipe:
    """The recipe with its relative paths (data.data_dir, a dataset file or folder, train.init)
    made absolute: config.yaml must work from any working directory, not only the one it was made in."""

    def absolute(path: str | None) -> str | None:
        return None if path is None else os.path.abspath(os.path.expanduser(path))

    dataset = recipe.data.dataset
    if dataset not in list_datasets() and Path(dataset).expanduser().exists():
        dataset = absolute(dataset)
    data = dataclasses.replace(recipe.data, data_dir=absolute(recipe.data.data_dir), dataset=dataset)
    init = recipe.train.init
    train = dataclasses.replace(recipe.train, init=absolute(init) if init and Path(init).expanduser().exists() else init)
    return dataclasses.replace(recipe, data=data, train=train)


def _check_selection_is_defined(recipe: Recipe, bundle: DatasetBundle) -> None:
    """AUC ranks one class against the others: a validation split of one class has none to select by.
    Pretraining has a loss and no classes: it keeps the last epoch, or the lowest val reconstruction loss."""
    val = bundle.splits.get("val")
    if recipe.pretrains and (recipe.train.select not in ("last", "val/loss") or (recipe.train.select == "val/loss" and val is None)):
        raise ConfigError(
            f"train.select={recipe.train.select} cannot choose a pretraining checkpoint of {bundle.name}: it has no "
            f"classes{'' if val is not None else ' and no val split'}; use train.select=last"
            + (" or val/loss (the lowest val reconstruction loss)" if val is not None else "")
        )
    if recipe.train.select == "val/auc" and val is not None and val.labels.unique().numel() < 2:
        raise ConfigError(
            f"train.select=val/auc, but the val split of {bundle.name} holds a single class, where AUC is "
            f"undefined; select by val/loss or val/accuracy, or use a val split with at least two classes"
        )


def resume(run_dir: Path, data_dir: str | None = None, epochs: int | None = None, progress: str = "lines") -> Path:
    """Continue a stopped run from its last checkpoint, or extend a run to `epochs`.

    A finished run resumed without more epochs is only re-evaluated.
    """
    run = RunDir(run_dir)
    recipe = run.recipe(data_dir)
    check_runs_here(recipe)
    check_output_folder(run.path, "--resume")
    state = verified_trainer_state(run.checkpoint_dir("last"), TRAINER_STATE)  # the only pickle we load
    bundle = load_bundle(recipe)
    check_batch_fits(recipe, recipe.model_config(bundle.num_classes, bundle.input_shape))
    with _writing(run):
        if epochs is not None and epochs != recipe.train.epochs:
            recipe = _extended(run, recipe, epochs)
        return _fit(recipe, bundle, run, state, None, progress)


def _extended(run: RunDir, recipe: Recipe, epochs: int) -> Recipe:
    """The run's recipe trained to `epochs`, written back to its config.yaml."""
    done = read_checkpoint_info(run.checkpoint_dir("last")).get("epoch", 0) if run.checkpoint_dir("last").exists() else 0
    if epochs < done:
        raise ConfigError(f"{run.path} has already trained {done} epochs; --epochs must be {done} or more to resume it")
    config = run.read_config()
    config["train"] = {**config["train"], "epochs": epochs}
    if is_first_rank():
        run.write_config(config)
    if recipe.optim.schedule != "constant" and is_first_rank():
        print(f"note: the {recipe.optim.schedule} learning-rate schedule now spans {epochs} epochs, "
              f"not {recipe.train.epochs}; from epoch {done + 1} on the rate follows the longer schedule")
    return dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, epochs=epochs))


@contextmanager
def _writing(run: RunDir) -> Iterator[None]:
    """The run directory's writer lock, held by the process that writes it (rank 0 under DDP)."""
    with run.writer_lock() if is_first_rank() else nullcontext():
        yield


def _fit(
    recipe: Recipe,
    bundle: DatasetBundle,
    run: RunDir,
    resume_from: Path | None,
    extra_callbacks: list[pl.Callback] | None = None,
    progress: str = "lines",
) -> Path:
    if progress not in PROGRESS:
        raise ConfigError(f"Unknown progress display '{progress}'; choose one of: {', '.join(PROGRESS)}")
    pl.seed_everything(recipe.train.seed, workers=True, verbose=False)
    if recipe.train.threads is not None:
        torch.set_num_threads(recipe.train.threads)
    model_config = recipe.model_config(bundle.num_classes, bundle.input_shape)
    datamodule = ViViTDataModule(bundle, recipe.data, recipe.train.seed)
    steps_per_epoch = -(-len(bundle.splits["train"]) // (recipe.data.batch_size * recipe.train.devices * recipe.train.num_nodes))
    module_class = MaskedAutoencoderPretraining if recipe.pretrains else ViViTClassifier
    module = module_class(recipe, model_config, bundle, steps_per_epoch)
    if recipe.train.compile:
        module.model.compile()
    # One line per epoch is ours to print; Lightning's banners and tips only add noise.
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    trainer = make_trainer(recipe, run, bundle, extra_callbacks, progress)
    if trainer.is_global_zero:
        print("\n".join(start_banner(run, recipe, module.model, bundle, trainer, resume_from is not None)), flush=True)
    try:
        with interruptible():
            _run_fit(trainer, module, datamodule, resume_from)
            if trainer.is_global_zero:
                (write_pretraining_metrics(run, recipe) if recipe.pretrains else write_final_metrics(run, recipe, bundle))
    except Interrupted as stop:
        raise Stopped(stop.signum, _stopped_message(run, stop.signum, "pretrain" if recipe.pretrains else "train")) from None
    return run.path


def _stopped_message(run: RunDir, signum: int, command: str) -> str:
    last = run.checkpoint_dir("last")
    name = signal.Signals(signum).name
    if not last.exists():
        where = f"stopped by {name} before the first epoch ended, so {run.path} holds no checkpoint yet"
    else:
        where = f"stopped by {name}; the last checkpoint (epoch {read_checkpoint_info(last).get('epoch')}) is in {last}"
    return f"{where}\nresume with: vivit {command} --resume {run.path}"


def _run_fit(trainer: pl.Trainer, module: pl.LightningModule, datamodule: ViViTDataModule, resume_from: Path | None) -> None:
    with warnings.catch_warnings():
        # Our loaders are plain iterables with no workers by design.
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*is an invalid version and will not be supported.*")
        warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*is deprecated.*")
        # Validation metrics are torchmetrics states gathered from every rank before they are logged.
        warnings.filterwarnings("ignore", ".*when logging on epoch level in distributed setting.*")
        # weights_only: the trainer state is unpickled with torch's allow-list of plain types and
        # tensors, whatever TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD says; its digest (config.json) only
        # proves this run wrote it, since both live in the same directory.
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(resume_from) if resume_from else None, weights_only=True)


def make_logger(recipe: Recipe, run: RunDir) -> Logger | bool:
    """An experiment tracker beside history.csv, which `RunRecorder` always writes:
    `train.logger: tensorboard` (RUN/tensorboard) or `mlflow` (RUN/mlflow.db); none by default."""
    if recipe.train.logger is None:
        return False
    try:
        if recipe.train.logger == "tensorboard":
            from lightning.pytorch.loggers import TensorBoardLogger

            return TensorBoardLogger(save_dir=run.path, name=run.tensorboard_dir.name, version="", default_hp_metric=False)
        from lightning.pytorch.loggers import MLFlowLogger

        # Its database set-up and "creating experiment" notes are not news to the user.
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
        logging.getLogger("lightning.pytorch.loggers.mlflow").setLevel(logging.ERROR)
        return MLFlowLogger(experiment_name=recipe.name, run_name=run.path.name, tracking_uri=f"sqlite:///{run.mlflow_db.resolve()}")
    except ModuleNotFoundError as error:
        package = "tensorboard" if recipe.train.logger == "tensorboard" else "mlflow"
        raise ConfigError(
            f"train.logger={recipe.train.logger} needs the {package} package ({error}); "
            f"pip install \"vivit[tracking]\", or leave train.logger unset"
        ) from None


def make_trainer(
    recipe: Recipe,
    run: RunDir,
    bundle: DatasetBundle,
    extra_callbacks: list[pl.Callback] | None = None,
    progress: str = "lines",
) -> pl.Trainer:
    train = recipe.train
    if train.ema_decay and "val" not in bundle.splits:
        # The averaged weights are swapped in only to validate, and checkpoints keep the validated ones.
        raise ConfigError(f"train.ema_decay needs a val split to average the checkpoints' weights, and {bundle.name} has none; "
                          f"leave train.ema_decay unset, or pretrain on a labelled folder")
    info = {"class_names": list(bundle.class_names), "dataset": bundle.name, "recipe": recipe.name}
    if bundle.videos is not None:  # what `vivit predict` and an exported model need to read a file alike
        info["preprocessing"] = bundle.videos.preprocessing.to_dict()
        info["views"] = list(recipe_views(recipe))
    if recipe.mae is not None:  # a pretraining checkpoint: its decoder's settings, for `load_mae` and `--init`
        info["mae"] = recipe.mae.to_dict()
    bar = TQDMProgressBar(leave=True) if progress == "bar" else None
    callbacks: list[pl.Callback] = [RunRecorder(run, train.select, info, epochs=train.epochs, write=bar and _tqdm_write)]
    if bar is not None:
        callbacks.append(bar)
    if train.ema_decay:
        callbacks.append(EMAWeightAveraging(decay=train.ema_decay))
    if train.early_stopping_patience:
        metric = train.select if train.select != "last" else "val/loss"
        mode = "min" if metric == "val/loss" else "max"
        callbacks.append(EarlyStopping(metric, patience=train.early_stopping_patience, mode=mode))
    callbacks += extra_callbacks or []
    distributed = train.devices * train.num_nodes > 1
    return pl.Trainer(
        max_epochs=train.epochs,
        limit_train_batches=train.limit_train_batches,
        limit_val_batches=None if "val" in bundle.splits else 0,  # a video folder pretrains without one
        accelerator=train.accelerator,
        devices=train.devices,
        num_nodes=train.num_nodes,
        strategy="ddp" if distributed else "auto",
        precision=recipe.resolved_precision(),
        gradient_clip_val=recipe.optim.grad_clip,
        callbacks=callbacks,
        logger=make_logger(recipe, run),
        num_sanity_val_steps=0,
        enable_progress_bar=bar is not None,
        enable_model_summary=False,
        default_root_dir=run.path,
    )


def _tqdm_write(line: str) -> None:
    """A line above a live progress bar, which a plain print would break."""
    from tqdm.auto import tqdm

    tqdm.write(line)
