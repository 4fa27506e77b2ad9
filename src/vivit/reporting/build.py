"""`build_report(run_dir)`: everything a run has to show, in RUN_DIR/report/index.html.

One batched pass over the split gives every probability the page needs; only the
samples shown become GIFs, and only a few of those are run again, with attention
recorded, for the attention maps.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vivit.checkpoints import load_model
from vivit.data.types import DatasetBundle
from vivit.errors import ConfigError, OutputError
from vivit.evaluation.metrics import auc
from vivit.models import ViViT
from vivit.output_locations import check_output_folder
from vivit.reporting import gifs, plots
from vivit.reporting.attention_maps import token_attention, tokens_to_voxels
from vivit.reporting.html import ClassRow, Page, Picture, SampleCard, render, render_pretraining
from vivit.reporting.metrics import confusion_matrix, one_vs_rest_roc, per_class_scores
from vivit.reporting.predictions import SplitPredictions, pick_samples, predict_split
from vivit.training.recipe import Recipe
from vivit.training.run_dir import RunDir, SelectedCheckpoint, load_bundle

REPORT_DIR = "report"
ATTENTION_SAMPLES = 4
PAPER_NAMES = {
    "spatio_temporal": "Model 1: spatio-temporal attention",
    "factorised_encoder": "Model 2: factorised encoder",
    "factorised_self_attention": "Model 3: factorised self-attention",
    "factorised_dot_product": "Model 4: factorised dot-product attention",
}


@dataclass(frozen=True)
class ReportSettings:
    split: str = "test"
    samples: int = 25
    pick: str = "random"
    seed: int = 0
    data_dir: str | None = None


def build_report(run_dir: Path, settings: ReportSettings = ReportSettings()) -> Path:
    """Write RUN_DIR/report/index.html and the images beside it; return the page's path."""
    run = RunDir(run_dir)
    recipe = run.recipe(data_dir=settings.data_dir)
    check_output_folder(run_dir / REPORT_DIR, "the report folder")  # before the model runs
    selected = run.selected_checkpoint(recipe.train.select)
    if recipe.pretrains:
        return build_pretraining_report(run, recipe, selected, settings)
    choice = selected.name
    model = load_model(selected.path)
    bundle = load_bundle(recipe)
    if settings.split not in bundle.splits:
        raise ConfigError(f"Dataset {bundle.name} has no '{settings.split}' split; choose one of: {', '.join(bundle.splits)}")
    split = bundle.splits[settings.split]
    predictions = predict_split(model, split, recipe.data.eval_batch_size)
    chosen = pick_samples(predictions, settings.samples, settings.pick, settings.seed)

    report_dir = run_dir / REPORT_DIR
    with staged_report(report_dir) as out:
        class_names = list(bundle.class_names)
        class_rows, confusion, roc = class_results(out, predictions, class_names)
        page = Page(
            title=f"{recipe.name} on {bundle.name}",
            subtitle=f"run {run_dir.resolve().name}, {settings.split} split, checkpoint '{choice}'",
            facts=facts(recipe, bundle, model, choice),
            metrics=headline_metrics(run, settings.split, predictions),
            recipe_text=run.config_text(),
            samples=[sample_card(out, split.images[i], predictions, int(i), class_names) for i in chosen],
            samples_note=samples_note(settings, len(chosen), len(split)),
            class_rows=class_rows,
            curves=training_curves(run, out),
            confusion=confusion,
            roc=roc,
            attention=[
                attention_card(out, model, split.images[i], predictions, int(i), class_names)
                for i in chosen[:ATTENTION_SAMPLES]
            ],
            attention_note=attention_note(model, tuple(split.images.shape[2:])),
        )
        (out / "index.html").write_text(render(page), encoding="utf-8")
    return report_dir / "index.html"


def build_pretraining_report(run: RunDir, recipe: Recipe, selected: SelectedCheckpoint, settings: ReportSettings) -> Path:
    """A pretraining run's page: reconstructions and curves. Its data has no test split; the
    reconstructions come from `settings.split` if it has one, else val, else train."""
    from vivit.reporting.reconstructions import pretraining_page

    bundle = load_bundle(recipe)
    name = next(n for n in (settings.split, "val", "train") if n in bundle.splits)
    report_dir = run.path / REPORT_DIR
    with staged_report(report_dir) as out:
        page = pretraining_page(out, run, recipe, selected, name, bundle.splits[name], settings.samples, training_curves(run, out))
        (out / "index.html").write_text(render_pretraining(page), encoding="utf-8")
    return report_dir / "index.html"


@contextmanager
def staged_report(report_dir: Path) -> Iterator[Path]:
    """A staging folder beside `report_dir` whose files replace the previous report's (and
    nothing else in it) once all are written; on any error the previous report stays whole."""
    staging = None
    try:
        report_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{report_dir.name}-", dir=report_dir.parent))
        yield staging
        report_dir.mkdir(exist_ok=True)
        written = {path.name for path in staging.iterdir()}
        for name in sorted(written, key=lambda n: n == "index.html"):  # the page last: it names the rest
            os.replace(staging / name, report_dir / name)
        for old in [*report_dir.glob("*.gif"), *report_dir.glob("*.png")]:  # a previous report's, not this one's
            if old.name not in written:
                old.unlink(missing_ok=True)
    except OutputError:
        raise
    except OSError as error:
        raise OutputError(
            f"Cannot write the report in {report_dir} ({error.strerror or error}); free some space or choose a location you can write"
        ) from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def facts(recipe: Recipe, bundle: DatasetBundle, model: ViViT, checkpoint: str) -> list[tuple[str, str]]:
    config = model.config
    optim, train = recipe.optim, recipe.train
    sizes = ", ".join(f"{name} {len(split)}" for name, split in bundle.splits.items())
    epoch = model.checkpoint_info.get("epoch")
    return [
        ("dataset", f"{bundle.name} ({bundle.task}, {bundle.num_classes} classes; {sizes})"),
        ("model", f"preset {recipe.model.get('preset', 'keras-seed')}, {PAPER_NAMES[config.variant]}"),
        ("parameters", f"{sum(p.numel() for p in model.parameters()):,}"),
        ("tokens", f"{config.tokenizer} {'x'.join(map(str, config.tubelet_size))}, padding {config.padding}, "
                   f"grid {'x'.join(map(str, model.grid))} for input {'x'.join(map(str, config.input_size))}"),
        ("recipe", f"{recipe.name}: {optim.optimizer} lr {optim.lr:g}, weight decay {optim.weight_decay:g}, "
                   f"{optim.schedule} schedule, batch {recipe.data.batch_size}, {train.epochs} epochs, seed {train.seed}, "
                   f"{'augmentation ' + ', '.join(recipe.augment) if recipe.augment else 'no augmentation'}"),
        ("checkpoint", f"{checkpoint}" + (f" (epoch {epoch})" if epoch is not None else "")),
    ]


def headline_metrics(run: RunDir, split: str, predictions: SplitPredictions) -> dict[str, dict[str, float]]:
    """metrics.json's val and test rows; the shown split computed here if the file lacks it."""
    saved = run.read_metrics() or {}
    rows = {name: saved[name] for name in ("val", "test") if isinstance(saved.get(name), dict)}
    if split not in rows:
        accuracy = float((predictions.predicted == predictions.labels).mean())
        probabilities, labels = torch.from_numpy(predictions.probabilities), torch.from_numpy(predictions.labels)
        has_auc = len(np.unique(predictions.labels)) > 1  # one class alone ranks nothing against nothing
        rows[split] = {"accuracy": accuracy, **({"auc": auc(probabilities, labels)} if has_auc else {})}
    return rows


def samples_note(settings: ReportSettings, shown: int, total: int) -> str:
    if settings.pick == "errors" and shown == 0:
        return f"The model makes no mistakes on the {total} {settings.split} samples."
    if settings.pick == "errors":
        extra = f" (the model makes only {shown} mistakes)" if shown < settings.samples else ""
        return f"The {shown} most confident mistakes of {total} {settings.split} samples{extra}; red marks a mistake."
    return f"{shown} of {total} {settings.split} samples drawn at random (seed {settings.seed}); red marks a mistake."


def attention_note(model: ViViT, size: tuple[int, int, int]) -> str:
    note = (
        f"Last-layer attention of the pooled representation ({PAPER_NAMES[model.config.variant]}), "
        "traced back to the input tokens and drawn over each slice/frame: left the input, right the overlay, "
        "coloured from each sample's least (dark) to its most attended token (bright)."
    )
    if np.isnan(tokens_to_voxels(np.ones(model.tokenizer.grid(size)), model, size)).any():
        note += " Uncoloured edges (or slices) are voxels no token sees: 'valid' tokenisation drops the remainder."
    return note


def sample_caption(predictions: SplitPredictions, i: int, class_names: list[str]) -> str:
    predicted = int(predictions.predicted[i])
    return gifs.caption(class_names[predicted], true=class_names[int(predictions.labels[i])])


def sample_card(
    out: Path, sample: torch.Tensor, predictions: SplitPredictions, i: int, class_names: list[str]
) -> SampleCard:
    frames = gifs.sample_frames(sample)[gifs.play_order(sample)]
    text = sample_caption(predictions, i, class_names)
    path = gifs.write_gif(out / f"sample-{i:05d}.gif", frames)
    correct = bool(predictions.predicted[i] == predictions.labels[i])
    return SampleCard(Picture(path.name, frames.shape[2], frames.shape[1], text), text, int(i), correct)


def attention_card(
    out: Path, model: ViViT, sample: torch.Tensor, predictions: SplitPredictions, i: int, class_names: list[str]
) -> SampleCard:
    """Sample i beside its attention overlay. One sample per forward pass: a last layer over
    3136 tokens (ViViT-B) records ~0.5 GB of weights per sample."""
    token_map = token_attention(model, sample[None].float().div(255))[0].numpy()  # (nt, nh, nw)
    # Scaled from the least to the most attended token: maps of a barely trained model
    # are nearly flat, and their max alone would paint everything the same colour.
    spread = np.ptp(token_map)
    scaled = (token_map - token_map.min()) / spread if spread > 0 else np.ones_like(token_map)
    heat = tokens_to_voxels(scaled, model, tuple(sample.shape[1:]))
    frames = gifs.sample_frames(sample)
    both = gifs.side_by_side(frames, gifs.overlay_heat(frames, heat))[gifs.play_order(sample)]
    text = sample_caption(predictions, i, class_names)
    path = gifs.write_gif(out / f"attention-{i:05d}.gif", both)
    correct = bool(predictions.predicted[i] == predictions.labels[i])
    return SampleCard(Picture(path.name, both.shape[2], both.shape[1], f"attention: {text}"), text, i, correct)


def class_results(
    out: Path, predictions: SplitPredictions, class_names: list[str]
) -> tuple[list[ClassRow], Picture, Picture]:
    """The per-class table, the confusion matrix and the ROC curves."""
    confusion = confusion_matrix(predictions.labels, predictions.predicted, len(class_names))
    scores = per_class_scores(confusion)
    curves = one_vs_rest_roc(predictions.probabilities, predictions.labels)
    rows = [
        ClassRow(name, int(scores.support[c]), scores.precision[c], scores.recall[c], scores.f1[c],
                 curves[c].auc if curves[c] else None)
        for c, name in enumerate(class_names)
    ]
    confusion_png = png(plots.plot_confusion_matrix(confusion, class_names, out / "confusion.png"), "confusion matrix")
    roc_png = png(plots.plot_roc_curves(curves, class_names, out / "roc.png"), "ROC curves")
    return rows, confusion_png, roc_png


def training_curves(run: RunDir, out: Path) -> Picture | None:
    history = run.read_history()
    if history is None:
        return None
    return png(plots.plot_training_curves(history, out / "curves.png"), "training curves")


def png(path: Path, alt: str) -> Picture:
    """A plot at its natural size in CSS pixels."""
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
    return Picture(path.name, width, height, alt)
