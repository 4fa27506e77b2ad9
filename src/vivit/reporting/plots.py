"""The report's figures as PNG: training curves, confusion matrix, ROC curves.

Figures are built with matplotlib's object API on the Agg canvas, never pyplot, so
drawing a report neither needs a display nor changes the backend of the caller.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vivit.errors import ConfigError
from vivit.reporting.metrics import RocCurve

DPI = 110

try:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
except ImportError:  # pragma: no cover - depends on the installation
    Figure = None  # type: ignore[assignment, misc]

# Panels of the training curves: title -> (history column, label) pairs.
CURVE_PANELS = {
    "loss": (("train/loss", "train"), ("val/loss", "val")),
    "accuracy": (("train/accuracy", "train"), ("val/accuracy", "val")),
    "AUC": (("val/auc", "val"),),
    "learning rate": (("lr", "lr"),),
}


def new_figure(width: float, height: float) -> Figure:
    if Figure is None:
        raise ConfigError("vivit report draws with matplotlib, which is not installed; pip install 'vivit[report]'")
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI)
    return path


def plot_training_curves(history: dict[str, np.ndarray], path: Path) -> Path:
    """Loss, accuracy, AUC and learning rate per epoch; train and val where both exist."""
    figure = new_figure(12, 3.0)
    axes = figure.subplots(1, len(CURVE_PANELS))
    epochs = history["epoch"]
    for ax, (title, series) in zip(axes, CURVE_PANELS.items()):
        for column, label in series:
            values = history.get(column)
            if values is not None and np.isfinite(values).any():
                ax.plot(epochs, values, marker="o" if len(epochs) < 20 else None, markersize=3, label=label)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if len(series) > 1 and ax.get_legend_handles_labels()[0]:  # a pretraining run has no accuracy curves
            ax.legend(fontsize="small")
    axes[-1].ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    return save(figure, path)


def plot_confusion_matrix(confusion: np.ndarray, class_names: list[str], path: Path) -> Path:
    """Counts in each cell; colour is the fraction of the true class (row), so rare
    classes read as clearly as common ones."""
    k = len(class_names)
    side = max(3.0, 1.6 + 0.42 * k)  # room per class, plus the labels
    figure = new_figure(side + 0.9, side)
    ax = figure.subplots()
    fractions = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, ax=ax, fraction=0.046, label="fraction of the true class")
    for (row, col), count in np.ndenumerate(confusion):
        colour = "white" if fractions[row, col] > 0.5 else "black"
        ax.text(col, row, str(count), ha="center", va="center", color=colour, fontsize=9 if k <= 12 else 7)
    ax.set_xticks(range(k), class_names, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return save(figure, path)


def plot_roc_curves(curves: dict[int, RocCurve | None], class_names: list[str], path: Path) -> Path:
    """One curve per class (one-vs-rest), or class 1's alone for a binary task: its AUC is
    the one MedMNIST reports, and class 0's curve is the same one seen from the other side."""
    if len(class_names) == 2:
        curves = {1: curves[1]}
    many = len(curves) > 1
    figure = new_figure(7.5 if many else 4.5, 4.5)
    ax = figure.subplots()
    colours = [f"C{i}" for i in range(10)] + ["black", "grey", "olive", "navy"]
    for i, (label, curve) in enumerate(curves.items()):
        name = class_names[label]
        if curve is None:
            ax.plot([], [], " ", label=f"{name}: absent from the split")
            continue
        ax.plot(
            curve.false_positive_rate, curve.true_positive_rate,
            color=colours[i % len(colours)], linestyle="-" if i < 10 else "--",
            label=f"{name} (AUC {curve.auc:.3f})" if many else f"AUC {curve.auc:.3f}",
        )
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.grid(alpha=0.3)
    if many:
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
        ax.set_title("one-vs-rest")
    else:
        ax.legend(loc="lower right")
        ax.set_title(f"{class_names[next(iter(curves))]} vs rest")
    return save(figure, path)
