"""The cells of the accuracy table (issue 7): which recipe, dataset and overrides each row trains.

A cell is one row of docs/results.md; each of its seeds is one run directory
<root>/<cell name>/seed<S>. Cell names are unique and none is a substring of another, so
`--only NAME` selects exactly that cell.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from vivit.data.registry import MEDMNIST_3D

RECOMMENDED = "vivit-medmnist"
RECIPES = ("keras-seed", RECOMMENDED)
ABLATION_DATASET = "organmnist3d"
DEFAULT_DATASETS = ("adrenalmnist3d",)
GROUPS = ("recipe-variant", "ablation", "datasets", "longer", "additions")

# The paper's four models at about the parameter count of Model 1 (1.66 M with keras-seed's
# width 128 and depth 8): Model 2 splits the 8 layers into 4 spatial + 4 temporal, Model 3's
# blocks hold two attentions each, so 6 of them; Model 4 splits heads, not weights.
VARIANT_OVERRIDES: dict[str, tuple[str, ...]] = {
    "spatio_temporal": (),
    "factorised_encoder": ("model.depth=4", "model.temporal_depth=4"),
    "factorised_self_attention": ("model.depth=6",),
    "factorised_dot_product": (),
}

# vivit-medmnist without one ingredient: name -> (the row's label, the overrides that remove it).
ABLATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "valid-8cube": ("8³ VALID tubelets instead of 7³ SAME (27 tokens; 4 voxels of each axis unseen)",
                    ("model.tubelet_size=[8,8,8]", "model.padding=valid")),
    "no-drop-path": ("no stochastic depth", ("model.drop_path_rate=0.0",)),
    "no-label-smoothing": ("no label smoothing", ("train.label_smoothing=0.0",)),
    "no-ema": ("no EMA of the weights", ("train.ema_decay=null",)),
    "no-flips": ("no left-right (depth-axis) flips", ("augment.flip_t=0.0",)),
    "no-affine": ("no 3D affine", ("augment.affine_prob=0.0",)),
    "adam-constant": ("Adam lr 1e-4, constant, instead of AdamW + cosine + warm-up",
                      ("optim.optimizer=adam", "optim.lr=1e-4", "optim.weight_decay=0.0",
                       "optim.schedule=constant", "optim.warmup_epochs=0")),
    "60-epochs": ("60 epochs instead of 100", ("train.epochs=60",)),
}

# vivit-medmnist trained longer: every seed of the full recipe had its lowest val loss at its
# last epoch (100), a validation-only sign of under-training; these rows ask what more epochs give.
LONGER: dict[str, tuple[str, tuple[str, ...]]] = {
    "200-epochs": ("200 epochs instead of 100", ("train.epochs=200",)),
}

# vivit-medmnist with one ingredient added that the issue names and the recipe leaves out:
# a convolutional stem (Xiao et al., 2021) and mixup. Each is judged on validation figures
# before it may join the shipped recipe.
ADDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "conv-stem": ("with a convolutional stem (one 3³ convolution to 8 channels and a GELU) before the 7³ tubelets",
                  ("model.stem_channels=[8]",)),
    "mixup": ("with mixup (α 0.2)", ("augment.mixup_alpha=0.2",)),
}


@dataclass(frozen=True)
class Cell:
    """One row of the table: `vivit train --recipe <recipe> --dataset <dataset> <overrides>` over seeds."""

    name: str
    label: str
    dataset: str
    recipe: str
    overrides: tuple[str, ...] = ()

    def run_dir(self, root: Path, seed: int) -> Path:
        return root / self.name / f"seed{seed}"


def variant_cell(recipe: str, variant: str, dataset: str = ABLATION_DATASET) -> Cell:
    overrides = (f"model.variant={variant}", *VARIANT_OVERRIDES[variant])
    return Cell(f"{dataset}/{recipe}/{variant}", f"{recipe}, {variant}", dataset, recipe, overrides)


def recommended_cell(dataset: str) -> Cell:
    """The recipe exactly as shipped; on OrganMNIST3D it is the variant table's Model 1 row, under its name."""
    label = f"{RECOMMENDED} on {dataset}"
    if dataset == ABLATION_DATASET:
        return full_recipe_cell(label)
    return Cell(f"{dataset}/{RECOMMENDED}", label, dataset, RECOMMENDED)


def full_recipe_cell(label: str) -> Cell:
    """The variant table's Model 1 row of the recommended recipe, under another table's label."""
    return replace(variant_cell(RECOMMENDED, "spatio_temporal"), label=label)


def changed_recipe_cell(name: str, what: str, overrides: tuple[str, ...]) -> Cell:
    """The recommended recipe on the ablation dataset with `overrides`: a row of the ablation, longer or additions table."""
    return Cell(f"{ABLATION_DATASET}/{RECOMMENDED}-{name}", what, ABLATION_DATASET, RECOMMENDED, overrides)


def ablation_cell(ablation: str) -> Cell:
    return changed_recipe_cell(ablation, *ABLATIONS[ablation])


def longer_cell(name: str) -> Cell:
    return changed_recipe_cell(name, *LONGER[name])


def addition_cell(name: str) -> Cell:
    return changed_recipe_cell(name, *ADDITIONS[name])


def cells(group: str, datasets: tuple[str, ...] = DEFAULT_DATASETS) -> list[Cell]:
    """The cells of a group (`all`: every group once), in the order of the tables."""
    if group == "recipe-variant":
        return [variant_cell(recipe, variant) for recipe in RECIPES for variant in VARIANT_OVERRIDES]
    if group == "ablation":
        return [full_recipe_cell("full recipe")] + [ablation_cell(a) for a in ABLATIONS]
    if group == "longer":
        return [full_recipe_cell("full recipe (100 epochs)")] + [longer_cell(n) for n in LONGER]
    if group == "additions":
        return [full_recipe_cell("full recipe")] + [addition_cell(n) for n in ADDITIONS]
    if group == "datasets":
        for dataset in datasets:
            if dataset not in MEDMNIST_3D:
                raise ValueError(f"Unknown dataset '{dataset}'; choose from: {', '.join(MEDMNIST_3D)}")
        return [recommended_cell(d) for d in dict.fromkeys((ABLATION_DATASET, *datasets))]
    if group == "all":
        unique: dict[str, Cell] = {}
        for each in GROUPS:
            for cell in cells(each, datasets):
                unique.setdefault(cell.name, cell)  # the full recipe belongs to four groups
        return list(unique.values())
    raise ValueError(f"Unknown group '{group}'; choose one of: {', '.join((*GROUPS, 'all'))}")


def matching(selection: list[Cell], only: str | None) -> list[Cell]:
    return [cell for cell in selection if only is None or only in cell.name]
