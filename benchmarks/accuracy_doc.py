"""docs/results.md, generated from the entries of benchmarks/results/accuracy.json alone.

Every cell of every table appears, finished or not: a cell shows how many of its requested
seeds have finished ("1 of 3") and a cell with none says "not run yet".
"""

from __future__ import annotations

import shlex
import statistics
from dataclasses import dataclass
from typing import Any

from accuracy_cells import (
    ABLATION_DATASET,
    CANDIDATES,
    DEFAULT_DATASETS,
    FIRST_EPOCHS,
    RECOMMENDED,
    SHIPPED_EPOCHS,
    Cell,
    ablation_cell,
    candidate_cell,
    cells,
    dataset_cells,
    every_dataset,
    full_recipe_cell,
    recommended_cell,
    stemless_cell,
    variant_cell,
)


@dataclass(frozen=True)
class Reference:
    """Published best (MedMNIST v2, Yang et al. 2023, Table 4) and our target, as test ACC / AUC."""

    best_acc: float
    best_acc_by: str
    best_auc: float
    best_auc_by: str
    target_acc: float
    target_auc: float


REFERENCES = {
    "organmnist3d": Reference(0.907, "ResNet-18 (3D)", 0.996, "ResNet-18 (3D)", 0.93, 0.997),
    "adrenalmnist3d": Reference(0.802, "auto-sklearn", 0.839, "ResNet-18 (ACS)", 0.85, 0.88),
}


def mean_std(values: list[float], digits: int = 3) -> str:
    """'mean ± std' over seeds; one value alone; '–' for none (e.g. top-5 of a binary task)."""
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def finished_seeds(cell: Cell, entries: list[dict[str, Any]], seeds: list[int], having: str | None = None) -> list[dict[str, Any]]:
    """The entries of `cell` for the requested seeds, only those holding the field `having` if given."""
    return [e for e in entries if e["cell"] == cell.name and e["seed"] in seeds and (having is None or having in e)]


def _metric(finished: list[dict[str, Any]], split: str, key: str) -> list[float]:
    return [e[split][key] for e in finished if key in e[split]]


def _span(values: list[str]) -> str:
    distinct = sorted(set(values))
    return distinct[0] if len(distinct) == 1 else f"{distinct[0]} – {distinct[-1]}"


def machine_label(machine: dict[str, Any]) -> str:
    threads = machine["threads"]
    return f"{machine['cpu']} ({threads} thread{'' if threads == 1 else 's'}, {machine['device']})"


def row(cell: Cell, entries: list[dict[str, Any]], seeds: list[int]) -> list[str]:
    """Label, test ACC / AUC / top-5, val ACC / AUC, seeds finished, parameters, minutes per seed, machine, date."""
    finished = finished_seeds(cell, entries, seeds)
    progress = f"{len(finished)} of {len(seeds)}"
    if not finished:
        return [cell.label, "not run yet", "", "", "", "", progress, "", "", "", ""]
    metrics = [mean_std(_metric(finished, split, key)) for split, key in
               [("test", "accuracy"), ("test", "auc"), ("test", "top5"), ("val", "accuracy"), ("val", "auc")]]
    machines = ", ".join(sorted({machine_label(e["machine"]) for e in finished}))
    parameters = ", ".join(f"{p:,}" for p in sorted({e["parameters"] for e in finished}))
    minutes = mean_std([e["train_minutes"] for e in finished], digits=0)
    return [cell.label, *metrics, progress, parameters, minutes, machines, _span([e["date"] for e in finished])]


HEADER = ["run", "test ACC", "test AUC", "test top-5", "val ACC", "val AUC", "seeds", "parameters",
          "minutes per seed", "machine", "date"]


def table(selection: list[Cell], entries: list[dict[str, Any]], seeds: list[int]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row(cell, entries, seeds)) + " |" for cell in selection]
    return "\n".join(lines)


def reproduce_command(cell: Cell, seeds: list[int]) -> str:
    extra = [] if cell.dataset in (ABLATION_DATASET, *DEFAULT_DATASETS) else ["--datasets", cell.dataset]
    command = ["python", "benchmarks/accuracy.py", "--only", cell.name, *extra, "--seeds", *map(str, seeds)]
    return shlex.join(command)


def commands(selection: list[Cell], seeds: list[int]) -> str:
    return "\n".join(f"- {cell.label}: `{reproduce_command(cell, seeds)}`" for cell in selection)


def _target_status(ref: Reference, finished: list[dict[str, Any]], seeds: list[int]) -> str:
    """Whether the shipped recipe's mean over every requested seed reaches the target, and which figure falls short."""
    if len(finished) < len(seeds):
        return f"open: {len(finished)} of {len(seeds)} seeds"
    short = [name for name, mean, target in (("ACC", statistics.mean(_metric(finished, "test", "accuracy")), ref.target_acc),
                                             ("AUC", statistics.mean(_metric(finished, "test", "auc")), ref.target_auc))
             if mean < target]
    return "met" if not short else "not met (" + " and ".join(short) + " short)"


def references(entries: list[dict[str, Any]], seeds: list[int]) -> str:
    """The bars to beat, our targets, and where the shipped recipe stands against them."""
    lines = [f"| dataset | best published test ACC | best published test AUC | our target (mean of 3 seeds) | "
             f"`{RECOMMENDED}` test ACC | `{RECOMMENDED}` test AUC | target |", "|---|---|---|---|---|---|---|"]
    for name, ref in REFERENCES.items():
        finished = finished_seeds(recommended_cell(name), entries, seeds)
        lines.append(f"| {name} | {ref.best_acc:.3f} ({ref.best_acc_by}) | {ref.best_auc:.3f} ({ref.best_auc_by}) | "
                     f"ACC ≥ {ref.target_acc:.2f}, AUC ≥ {ref.target_auc:.3f} | "
                     f"{mean_std(_metric(finished, 'test', 'accuracy'))} | {mean_std(_metric(finished, 'test', 'auc'))} | "
                     f"{_target_status(ref, finished, seeds)} |")
    return "\n".join(lines)


INTRO = f"""# Accuracy: ViViT recipes on 28³ MedMNIST 3D

**This page fills in as runs finish.** It is generated by `benchmarks/accuracy.py` from
`benchmarks/results/accuracy.json` and nothing else. Every cell is listed; "1 of 3" means one of
its three seeds has finished, and "not run yet" means none has. The figures are mean ± standard
deviation over the finished seeds (a single seed shows its value alone), on the official splits.

Protocol: `{RECOMMENDED}` picks its checkpoint by validation accuracy, ties going to the lower validation
loss (`train.select: val/accuracy`; see "Ties re-broken after the fact" for runs trained before that rule),
`keras-seed` takes the last epoch as the Keras example does; the test split is evaluated once, at
the end of each run, on that checkpoint, and no test figure chose anything. The recommended
recipe, `{RECOMMENDED}`, was chosen on validation figures only, and runs unchanged on every dataset:
`vivit train --recipe {RECOMMENDED} --dataset NAME`. Time is the sum of `epoch_seconds` in each
run's `history.csv` (training and validation), on the machine named in its row. On the 2-core
CPU, seeds usually ran two or three at a time with 1 thread each, so their minutes are what a
shared machine gave, not what an idle one would; "Training time under one load" at the end
compares the cells on equal terms.
Rerun any row with the command listed under its table (from the repository root, with
`VIVIT_DATA_DIR` naming the folder of the MedMNIST files); finished seeds are kept, stopped ones resumed.
`--jobs N` trains N seeds at once. On a lent CUDA GPU, `benchmarks/accuracy_gpu.sh` runs every seed
not recorded yet in one bounded call (see its header); GPU runs train in bf16 autocast, as
`vivit train` does on a bf16 GPU, and their rows name the GPU.

## Bars and targets

The best test figures of the MedMNIST v2 benchmark (Yang et al., 2023), what we aim for, and where the
shipped recipe stands: its test figures over the requested seeds, from its row under "{RECOMMENDED} on each dataset".
A target counts as met only when the mean of every seed reaches both figures.

"""

VARIANTS_TEXT = f"""## Recipe × variant on {ABLATION_DATASET}

The paper's four models, with the `keras-seed` recipe (the Keras example: Adam 1e-4, 60 epochs,
8³ VALID tubelets, no augmentation, last epoch tested) and with `{RECOMMENDED}`. All keep the
width 128 and about Model 1's parameters: `factorised_encoder` has 4 spatial + 4 temporal layers
(`model.depth=4 model.temporal_depth=4`), `factorised_self_attention` 6 blocks of two attentions
(`model.depth=6`); `spatio_temporal` and `factorised_dot_product` have 8 layers. The `{RECOMMENDED}`
rows train {FIRST_EPOCHS} epochs without the convolutional stem, the recipe as it was when they ran
(`train.epochs={FIRST_EPOCHS} model.stem_channels=[]` in their commands).

"""

ABLATION_TEXT = f"""## Ablation: {RECOMMENDED} without one ingredient ({ABLATION_DATASET}, spatio_temporal)

Each row removes one ingredient of the recipe and keeps the rest; the first row is the full recipe.
The base is the recipe at {FIRST_EPOCHS} epochs without the stem, as it was when these rows ran; the shipped
recipe trains {SHIPPED_EPOCHS} (see "trained longer") and has the convolutional stem (see "Candidates").

"""

DATASETS_TEXT = f"""## {RECOMMENDED} on each dataset

The recommended recipe as shipped (Model 1, spatio_temporal, {SHIPPED_EPOCHS} epochs, the convolutional stem),
with nothing changed between datasets; under it, the recipes it replaced: without the stem, as it shipped
from 2026-11-29 to 2026-11-30, and at {FIRST_EPOCHS} epochs without the stem, as it shipped until 2026-11-29.

"""

LONGER_TEXT = f"""## {RECOMMENDED} trained longer ({ABLATION_DATASET}, spatio_temporal)

Every seed of the full recipe had its lowest validation loss at its last epoch (see "What the
curves and the errors show"), so these rows train the same recipe (no stem) for more epochs; the cosine
schedule stretches over them. Nothing here changes the shipped recipe unless the validation figures
call for it; test figures are reported, not used to choose. The rule, written down before seeds 1 and 2
of the 200-epoch row finished: {SHIPPED_EPOCHS} epochs replace {FIRST_EPOCHS} if, over the three seeds, the
mean val ACC of the chosen checkpoints is higher and the mean lowest val loss is lower.

"""

ADDITIONS_TEXT = f"""## {RECOMMENDED} with one ingredient added ({ABLATION_DATASET}, spatio_temporal)

Each row adds to the full recipe at {FIRST_EPOCHS} epochs (as it was when these rows ran) one
thing the issue names that the recipe leaves out. The convolutional stem is not in the ViViT
paper: one 3×3×3 convolution with stride 1 and a GELU before the tubelet embedding, which then
reads its 8 channels instead of the voxels
(`model.stem_channels`; Xiao et al., 2021, "Early convolutions help transformers see better",
without their BatchNorm, whose running statistics the EMA of the weights leaves behind:
`models/layers/conv_stem.py` says why). The token grid stays 4×4×4. An addition joins the
shipped recipe only if the validation figures call for it; test figures are reported, not used
to choose.

"""

CANDIDATES_TEXT = f"""## Candidates for the shipped recipe (each dataset, spatio_temporal, {SHIPPED_EPOCHS} epochs)

An addition whose validation figures called for it at {FIRST_EPOCHS} epochs (the convolutional stem: see its
val ACC beside the full recipe's in the table above, three seeds each) trains here as the shipped recipe did
then ({SHIPPED_EPOCHS} epochs, no stem), on every dataset, under that recipe's own row. The rule, written down
on 2026-11-30 before any of these rows ran: a candidate joins the shipped recipe if, on every dataset and over
three seeds, the mean val ACC of its chosen checkpoints is higher and its mean lowest val loss is lower than
the shipped recipe's (the rule that chose {SHIPPED_EPOCHS} epochs). Test figures are reported, not used to choose.
The stem won and joined on 2026-11-30: its rows are now the shipped recipe's, under "{RECOMMENDED} on each dataset".

"""

TTA_TEXT = """## Test-time augmentation, reported apart

Runs whose recipe trains with flips are also evaluated on the mean of the class probabilities
over those flips (`vivit evaluate RUN --split test --tta`; on `vivit-medmnist` the volume and its
mirror along T, the mirror's left/right organ labels read back). It costs one forward pass per
view; nothing was chosen on it. Single-view figures are those of the tables above, over the
same seeds.

"""

TTA_HEADER = ["run", "views", "test ACC", "test ACC, TTA", "test AUC", "test AUC, TTA", "val ACC, TTA", "val AUC, TTA", "seeds"]


def tta_table(selection: list[Cell], entries: list[dict[str, Any]], seeds: list[int]) -> str:
    """Single-view against TTA for every cell with TTA figures; '' when none has any."""
    lines = []
    for cell in selection:
        finished = finished_seeds(cell, entries, seeds, having="tta")
        if not finished:
            continue
        tta = [e["tta"] for e in finished]
        views = ", ".join(str(v) for v in sorted({t["views"] for t in tta}))
        values = [mean_std(_metric(source, split, key)) for source, split, key in [
            (finished, "test", "accuracy"), (tta, "test", "accuracy"), (finished, "test", "auc"), (tta, "test", "auc"),
            (tta, "val", "accuracy"), (tta, "val", "auc")]]
        lines.append("| " + " | ".join([cell.label, views, *values, f"{len(finished)} of {len(seeds)}"]) + " |")
    if not lines:
        return ""
    return "\n".join(["| " + " | ".join(TTA_HEADER) + " |", "|" + "---|" * len(TTA_HEADER), *lines])


DIAGNOSIS_TEXT = """## What the curves and the errors show

Read from each finished run's `history.csv` and test confusion matrix when it was recorded
(`benchmarks/accuracy_diagnosis.py`); mean ± std over the seeds. Train ACC is measured on the
batches as trained (augmented, label-smoothed under `vivit-medmnist`), so its gap to val ACC is
not a sign by itself. The val loss (plain cross-entropy) is: if it is lowest in the last tenth of
the epochs the run was still improving when it stopped (under-training); if it ends well above its
lowest it over-fitted after that epoch. A cosine schedule takes its smallest steps last, so a lowest
val loss at the very end says training had not stopped helping, not how much longer training would
give. Left↔right counts the test errors that take a paired
organ (kidney, femur, lung) for its twin on the other side; its share of all errors is in brackets.
The commonest confusion is summed over the seeds.

"""

DIAGNOSIS_HEADER = ["run", "epochs", "train ACC, last epoch", "val loss lowest at epoch", "val loss, last above lowest",
                    "checkpoint epoch", "test errors", "of which left↔right", "commonest confusion (true → predicted)", "seeds"]


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


def _commonest(diagnoses: list[dict[str, Any]]) -> str:
    counts: dict[tuple[str, str], int] = {}
    for true, predicted, count in (c for d in diagnoses for c in d["test_errors"]["confusions"]):
        counts[true, predicted] = counts.get((true, predicted), 0) + count
    if not counts:
        return "none"
    (true, predicted), count = max(counts.items(), key=lambda item: item[1])
    return f"{true} → {predicted} ({count})"


def diagnosis_row(label: str, finished: list[dict[str, Any]], seeds: list[int]) -> list[str]:
    diagnoses = [e["diagnosis"] for e in finished]
    curves = [d["curves"] for d in diagnoses]
    errors = [d["test_errors"] for d in diagnoses]
    swaps = [e["left_right_swaps"] for e in errors if e["left_right_swaps"] is not None]
    rise = [100 * (c["val_loss_last"] / c["val_loss_lowest"] - 1) for c in curves]
    return [
        label,
        _span([str(e["epochs_run"]) for e in finished]),
        mean_std([c["train_accuracy_last"] for c in curves]),
        mean_std([c["val_loss_lowest_epoch"] for c in curves], digits=0),
        mean_std(rise, digits=0) + " %",
        mean_std([e["selected_epoch"] for e in finished if e.get("selected_epoch") is not None], digits=0),
        mean_std([e["errors"] for e in errors], digits=0) + f" of {_span([str(e['samples']) for e in errors])}",
        f"{mean_std(swaps, digits=0)} ({_share(sum(swaps), sum(e['errors'] for e in errors))})" if swaps else "–",
        _commonest(diagnoses),
        f"{len(finished)} of {len(seeds)}",
    ]


def diagnosis_table(selection: list[Cell], entries: list[dict[str, Any]], seeds: list[int]) -> str:
    """One row per cell with diagnosed seeds; '' when none has any."""
    lines = []
    for cell in selection:
        finished = finished_seeds(cell, entries, seeds, having="diagnosis")
        if finished:
            lines.append("| " + " | ".join(diagnosis_row(cell.label, finished, seeds)) + " |")
    if not lines:
        return ""
    return "\n".join(["| " + " | ".join(DIAGNOSIS_HEADER) + " |", "|" + "---|" * len(DIAGNOSIS_HEADER), *lines])


TIES_TEXT = """## Ties re-broken after the fact

Runs trained before 2026-11-29 kept the first epoch of a tie in val accuracy. The rule is now the
lowest val loss among the tied epochs (`src/vivit/training/selection.py` says why).
`benchmarks/reselect_ties.py` replayed the rule over each finished run's `history.csv` (validation
figures only). Where it picked the last epoch, that epoch's weights were evaluated again on val and
test, so the test split was touched a second time for these seeds. The tables above give the rule's
figures; this one gives both. A seed whose pick was an epoch with no kept weights keeps the first
rule's figures in the tables, marked "not kept" here; retraining it applies the rule. A seed marked
"not re-selected yet" picks its last epoch, whose weights are kept: running
`benchmarks/reselect_ties.py` on it applies the rule.

"""

TIES_HEADER = ["run", "seed", "epoch: first of ties → rule", "test ACC: first of ties → rule", "test AUC: first of ties → rule"]


def ties_table(selection: list[Cell], entries: list[dict[str, Any]], seeds: list[int]) -> str:
    """A row per seed whose selection changed with the tie-break; '' when none did."""
    lines = []
    for cell in selection:
        for e in sorted(finished_seeds(cell, entries, seeds), key=lambda e: e["seed"]):
            if first := e.get("first_of_ties"):
                figures = [f"{first['test'][k]:.3f} → {e['test'][k]:.3f}" for k in ("accuracy", "auc")]
                lines.append(f"| {cell.label} | {e['seed']} | {first['epoch']} → {e['selected_epoch']} | " + " | ".join(figures) + " |")
            elif "tie_rule_unapplied" in e:
                why = "not re-selected yet" if e.get("tie_pick_kept") else "not kept"
                figures = [f"{e['test'][k]:.3f} ({why})" for k in ("accuracy", "auc")]
                lines.append(f"| {cell.label} | {e['seed']} | {e['selected_epoch']} → {e['tie_rule_unapplied']} | " + " | ".join(figures) + " |")
    if not lines:
        return ""
    return "\n".join(["| " + " | ".join(TIES_HEADER) + " |", "|" + "---|" * len(TIES_HEADER), *lines])


TIMING_TEXT = """## Training time under one load

The "minutes per seed" above are each run's own, taken under whatever shared the CPU with it (two
or three runs side by side, sometimes a CI run), so they do not compare cells. Here every cell
trained a few epochs alone, one after another, at the table's thread count (`benchmarks/cell_timing.py`);
the median epoch after the first, times the cell's epochs, is its training time on that machine.
An epoch includes its validation pass; the final test pass is left out. "CPU busy before" is the
share of all cores busy in the 2 s before the cell started: near 0 % means nothing else ran.

"""

TIMING_HEADER = ["run", "seconds per epoch", "epochs", "minutes per seed", "against the full recipe", "CPU busy before",
                 "machine", "date"]


def timing_table(selection: list[Cell], timing: dict[str, Any]) -> str:
    """A row per timed cell of `selection` (cell_timing.json's "cells"); '' when none was timed."""
    full = timing.get(variant_cell(RECOMMENDED, "spatio_temporal").name)
    lines = []
    for cell in selection:
        if (timed := timing.get(cell.name)) is None:
            continue
        against = f"{timed['minutes_per_seed'] / full['minutes_per_seed']:.2f}×" if full else "–"
        lines.append(f"| {cell.label} | {timed['seconds_per_epoch']:.1f} | {timed['epochs']} | {timed['minutes_per_seed']:.0f} | "
                     f"{against} | {timed['cpu_busy_before']:.0%} | {machine_label(timed['machine'])} | {timed['date']} |")
    if not lines:
        return ""
    table = "\n".join(["| " + " | ".join(TIMING_HEADER) + " |", "|" + "---|" * len(TIMING_HEADER), *lines])
    return table + timing_noise(timing)


def timing_noise(timing: dict[str, Any]) -> str:
    """How far apart two timings of the same work land: the 60-epoch cell runs the full recipe's epoch."""
    full, same = timing.get(variant_cell(RECOMMENDED, "spatio_temporal").name), timing.get(ablation_cell("60-epochs").name)
    if not (full and same):
        return ""
    spread = abs(same["seconds_per_epoch"] - full["seconds_per_epoch"]) / full["seconds_per_epoch"]
    return (f"\n\nThe 60-epoch cell runs the very epoch of the full recipe, yet their seconds per epoch differ by "
            f"{spread:.0%}: that is the noise of this measurement, and smaller differences between cells say nothing.")


def _validation_means(cell: Cell, entries: list[dict[str, Any]], seeds: list[int]) -> tuple[int, float, float] | None:
    """(seeds, mean val ACC of the chosen checkpoints, mean lowest val loss) of a cell; None before any seed."""
    finished = finished_seeds(cell, entries, seeds, having="diagnosis")
    if not finished:
        return None
    return (len(finished), statistics.mean(e["val"]["accuracy"] for e in finished),
            statistics.mean(e["diagnosis"]["curves"]["val_loss_lowest"] for e in finished))


def _every_seed_in(means: tuple[int, float, float] | None, seeds: list[int]) -> bool:
    return means is not None and means[0] >= len(seeds)


def _wins_on_validation(changed: tuple[int, float, float], base: tuple[int, float, float]) -> bool:
    """The rule of the longer and candidates tables: higher mean val ACC and lower mean lowest val loss."""
    return changed[1] > base[1] and changed[2] < base[2]


def epochs_verdict(entries: list[dict[str, Any]], seeds: list[int]) -> str:
    """The longer table's rule applied to its validation figures, once both rows have every seed."""
    first = _validation_means(full_recipe_cell(""), entries, seeds)
    longer = _validation_means(stemless_cell(ABLATION_DATASET), entries, seeds)
    if not (_every_seed_in(first, seeds) and _every_seed_in(longer, seeds)):
        return ""
    wins = _wins_on_validation(longer, first)
    return (f"\n\nThe rule's figures: mean val ACC {first[1]:.3f} at {FIRST_EPOCHS} epochs against {longer[1]:.3f} at "
            f"{SHIPPED_EPOCHS}; mean lowest val loss {first[2]:.4f} against {longer[2]:.4f}. "
            + (f"{SHIPPED_EPOCHS} epochs win on both, so the shipped recipe trains {SHIPPED_EPOCHS}." if wins else
               f"{SHIPPED_EPOCHS} epochs do not win on both, so by the rule the shipped recipe should train {FIRST_EPOCHS}."))


def candidates_verdict(entries: list[dict[str, Any]], seeds: list[int], datasets: tuple[str, ...]) -> str:
    """The candidates table's rule applied to its validation figures, once every row has every seed."""
    verdicts = []
    for name in CANDIDATES:
        pairs = [(dataset, _validation_means(stemless_cell(dataset), entries, seeds),
                  _validation_means(candidate_cell(name, dataset), entries, seeds)) for dataset in datasets]
        if not all(_every_seed_in(shipped, seeds) and _every_seed_in(candidate, seeds) for _, shipped, candidate in pairs):
            continue
        figures = "; ".join(f"{dataset}: mean val ACC {shipped[1]:.3f} against {candidate[1]:.3f}, mean lowest val loss "
                            f"{shipped[2]:.4f} against {candidate[2]:.4f}" for dataset, shipped, candidate in pairs)
        wins = all(_wins_on_validation(candidate, shipped) for _, shipped, candidate in pairs)
        verdicts.append(f"The rule's figures for `{name}` (the recipe it was judged against, then the candidate): {figures}. "
                        + ("It wins on both everywhere, so it joins the shipped recipe." if wins else
                           "It does not win on both everywhere, so the shipped recipe stays as it is."))
    return "".join(f"\n\n{verdict}" for verdict in verdicts)


def render(entries: list[dict[str, Any]], seeds: list[int], datasets: tuple[str, ...] = DEFAULT_DATASETS,
           timing: dict[str, Any] | None = None) -> str:
    """The whole page. Datasets beyond `datasets` appear once any of their runs is recorded;
    `timing` is the "cells" of benchmarks/cell_timing.py's JSON."""
    recorded = tuple(dict.fromkeys(e["dataset"] for e in entries
                                   if e["cell"] in {cell.name for cell in dataset_cells(e["dataset"])}))
    shown = tuple(dict.fromkeys((*datasets, *recorded)))
    sections = [INTRO + references(entries, seeds) + "\n"]
    for text, group in [(VARIANTS_TEXT, "recipe-variant"), (ABLATION_TEXT, "ablation"), (DATASETS_TEXT, "datasets"),
                        (LONGER_TEXT, "longer"), (ADDITIONS_TEXT, "additions"), (CANDIDATES_TEXT, "candidates")]:
        selection = cells(group, shown)
        verdict = ""
        if group == "longer":
            verdict = epochs_verdict(entries, seeds)
        elif group == "candidates":
            verdict = candidates_verdict(entries, seeds, every_dataset(shown))
        sections.append(text + table(selection, entries, seeds) + verdict + "\n\nCommands:\n\n" + commands(selection, seeds) + "\n")
    if tta := tta_table(cells("all", shown), entries, seeds):
        sections.append(TTA_TEXT + tta + "\n")
    if ties := ties_table(cells("all", shown), entries, seeds):
        sections.append(TIES_TEXT + ties + "\n")
    if diagnosed := diagnosis_table(cells("all", shown), entries, seeds):
        sections.append(DIAGNOSIS_TEXT + diagnosed + "\n")
    if timed := timing_table(cells("all", shown), timing or {}):
        sections.append(TIMING_TEXT + timed + "\n")
    return "\n".join(sections)
