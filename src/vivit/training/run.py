"""Train a recipe into a run directory (`training/run_dir.py` owns its layout), resume one,
and evaluate the checkpoint it keeps."""

from __future__ import annotations

import datetime
import logging
import warnings
from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch.callbacks import EarlyStopping, EMAWeightAveraging
from lightning.pytorch.loggers import Logger

from vivit.checkpoints import verified_trainer_state
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError
from vivit.training.callbacks import TRAINER_STATE, RunRecorder
from vivit.training.datamodule import ViViTDataModule
from vivit.training.module import ViViTClassifier
from vivit.training.preflight import check_batch_fits
from vivit.training.recipe import Recipe
from vivit.training.run_dir import RunDir, dataset_summary, load_bundle
from vivit.training.run_evaluation import write_final_metrics


def default_run_dir(recipe: Recipe, root: Path = Path("runs")) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / f"{recipe.name}-{Path(str(recipe.data.dataset)).name}-seed{recipe.train.seed}-{stamp}"


def prepare_run_dir(run: RunDir) -> None:
    """Refuse to train over a run that already holds checkpoints: saved work is never lost."""
    if run.holds_checkpoints():
        raise ConfigError(f"{run.path} already holds a run; resume it with --resume {run.path} or choose another --out")
    run.path.mkdir(parents=True, exist_ok=True)


def train(recipe: Recipe, run_dir: Path | None = None, extra_callbacks: list[pl.Callback] | None = None) -> Path:
    """Train `recipe` into `run_dir` (default `runs/<recipe>-<dataset>-seed<S>-<time>`); return it.

    `extra_callbacks` join the trainer's own (a sweep's pruning callback, for one).
    """
    run_dir = run_dir or default_run_dir(recipe)
    bundle = load_bundle(recipe)  # before creating anything: a data error leaves no empty run
    model_config = recipe.model_config(bundle.num_classes, bundle.input_shape)
    check_batch_fits(recipe, model_config)  # an impossible batch fails here, not mid-epoch
    run = RunDir(run_dir)
    prepare_run_dir(run)
    run.write_config({**recipe.to_dict(), "resolved_model": model_config.to_dict(), "dataset": dataset_summary(bundle)})
    return _fit(recipe, bundle, run, resume_from=None, extra_callbacks=extra_callbacks)


def resume(run_dir: Path, data_dir: str | None = None) -> Path:
    """Continue a killed run from its last checkpoint; a finished run is only re-evaluated."""
    run = RunDir(run_dir)
    recipe = run.recipe(data_dir)
    state = verified_trainer_state(run.checkpoint_dir("last"), TRAINER_STATE)  # the only pickle we load
    bundle = load_bundle(recipe)
    check_batch_fits(recipe, recipe.model_config(bundle.num_classes, bundle.input_shape))
    return _fit(recipe, bundle, run, resume_from=state)


def _fit(
    recipe: Recipe, bundle: DatasetBundle, run: RunDir, resume_from: Path | None, extra_callbacks: list[pl.Callback] | None = None
) -> Path:
    pl.seed_everything(recipe.train.seed, workers=True, verbose=False)
    model_config = recipe.model_config(bundle.num_classes, bundle.input_shape)
    datamodule = ViViTDataModule(bundle, recipe.data, recipe.train.seed)
    steps_per_epoch = -(-len(bundle.splits["train"]) // (recipe.data.batch_size * recipe.train.devices * recipe.train.num_nodes))
    module = ViViTClassifier(recipe, model_config, bundle, steps_per_epoch)
    if recipe.train.compile:
        module.model.compile()
    # One line per epoch is ours to print; Lightning's banners and tips only add noise.
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    trainer = make_trainer(recipe, run, bundle, extra_callbacks)
    with warnings.catch_warnings():
        # Our loaders are plain iterables with no workers by design.
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*is an invalid version and will not be supported.*")
        warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*is deprecated.*")
        # Validation metrics are torchmetrics states gathered from every rank before they are logged.
        warnings.filterwarnings("ignore", ".*when logging on epoch level in distributed setting.*")
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(resume_from) if resume_from else None)
    if trainer.is_global_zero:
        write_final_metrics(run, recipe, bundle)
    return run.path


def make_logger(run: RunDir) -> Logger | bool:
    """Lightning's logger: none, since `RunRecorder` writes the epoch's figures to history.csv
    (an optional logger, TensorBoard for one, would be built here)."""
    return False


def make_trainer(
    recipe: Recipe, run: RunDir, bundle: DatasetBundle, extra_callbacks: list[pl.Callback] | None = None
) -> pl.Trainer:
    train = recipe.train
    info = {"class_names": list(bundle.class_names), "dataset": bundle.name, "recipe": recipe.name}
    callbacks: list[pl.Callback] = [RunRecorder(run, train.select, info, epochs=train.epochs)]
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
        accelerator=train.accelerator,
        devices=train.devices,
        num_nodes=train.num_nodes,
        strategy="ddp" if distributed else "auto",
        precision=recipe.resolved_precision(),
        gradient_clip_val=recipe.optim.grad_clip,
        callbacks=callbacks,
        logger=make_logger(run),
        num_sanity_val_steps=0,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=run.path,
    )
