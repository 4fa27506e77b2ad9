"""Finished runs of the accuracy table as entries of benchmarks/results/accuracy.json.

The JSON file, not runs/, is what is committed: it accumulates entries from every session
and machine, one per (cell, seed); recording a cell's seed again replaces its entry.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

import torch
from accuracy_cells import Cell
from accuracy_diagnosis import diagnosis
from harness import cpu_name
from reselect_ties import FIRST_METRICS, verdict
from seeded_runs import read_metrics, training_minutes

from vivit.models import ViViTConfig, build_model
from vivit.training.run_dir import RunDir

# Written into each run directory when this script starts or resumes it.
RUN_RECORD = "benchmark.json"
# benchmarks/cell_timing.py's figures, beside the JSON of finished runs.
TIMING_RESULTS = "cell_timing.json"
METRICS = ("accuracy", "auc", "top5")  # top5 only for more than five classes


def machine(threads: int | None) -> dict[str, Any]:
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "threads": threads or torch.get_num_threads(),
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
    }


def write_run_record(run_dir: Path, command: str, extra_overrides: list[str], threads: int | None) -> None:
    """What started the run and where; the machine that finishes a resumed run writes it last."""
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {"command": command, "extra_overrides": extra_overrides, "machine": machine(threads)}
    (run_dir / RUN_RECORD).write_text(json.dumps(record, indent=2) + "\n")


def parameter_count(run_dir: Path) -> int:
    """Parameters of the model the run trained, built from its config.yaml (on the meta device: no memory)."""
    resolved = RunDir(run_dir).read_config()["resolved_model"]
    with torch.device("meta"):
        model = build_model(ViViTConfig(**resolved))
    return sum(p.numel() for p in model.parameters())


def _epochs_run(run_dir: Path) -> int:
    return len(RunDir(run_dir).read_history()["epoch"])


def entry(cell: Cell, seed: int, run_dir: Path, command: str) -> dict[str, Any]:
    """The entry of a finished run; `command` is used when the run directory holds no record of its own."""
    metrics = read_metrics(run_dir)
    record_path = run_dir / RUN_RECORD
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    finished = datetime.datetime.fromtimestamp(RunDir(run_dir).metrics_path.stat().st_mtime, datetime.timezone.utc)
    return {
        "cell": cell.name,
        "dataset": cell.dataset,
        "recipe": cell.recipe,
        "overrides": list(cell.overrides),
        "extra_overrides": record.get("extra_overrides", []),
        "seed": seed,
        "test": {k: round(v, 6) for k, v in metrics["test"].items() if k in METRICS},
        "val": {k: round(v, 6) for k, v in metrics["val"].items() if k in METRICS},
        "checkpoint": metrics.get("checkpoint"),
        "selected_epoch": metrics.get("epoch"),
        "epochs_run": _epochs_run(run_dir),
        "parameters": parameter_count(run_dir),
        "train_minutes": round(training_minutes(run_dir), 2),
        "machine": record.get("machine") or machine(None),
        "date": finished.date().isoformat(),
        "command": record.get("command", command),
        **_tta(run_dir),
        **diagnosis(run_dir, cell.dataset),
        **_ties(run_dir),
    }


def _tta(run_dir: Path) -> dict[str, Any]:
    """{"tta": {"views", "val", "test"}} once `vivit evaluate --tta` has run on both splits, else {}."""
    run = RunDir(run_dir)
    documents = {split: run.read_evaluation(f"{split}-tta") for split in ("val", "test")}
    if any(document is None for document in documents.values()):
        return {}
    tta = {split: {k: round(v, 6) for k, v in doc.items() if k in METRICS} for split, doc in documents.items()}
    return {"tta": {"views": len(documents["test"]["tta"]), **tta}}


def _ties(run_dir: Path) -> dict[str, Any]:
    """How the run stands with the tie-break of training/selection.py (benchmarks/reselect_ties.py):
    {"first_of_ties": ...} when best was re-pointed after the fact; {"tie_rule_unapplied": epoch,
    "tie_pick_kept": bool} when the rule picks another epoch than best holds, with whether that
    epoch's weights exist (the last epoch: reselect_ties.py can re-point best there) or not (only
    retraining applies the rule); {} when the run follows the rule."""
    first = run_dir / FIRST_METRICS
    if first.is_file():
        metrics = json.loads(first.read_text())
        return {"first_of_ties": {"epoch": metrics.get("epoch"), **{
            split: {k: round(v, 6) for k, v in metrics[split].items() if k in METRICS} for split in ("val", "test")}}}
    outcome, _, picked = verdict(run_dir)
    if outcome in ("last", "lost"):
        return {"tie_rule_unapplied": picked, "tie_pick_kept": outcome == "last"}
    return {}


def merge(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries of both, one per (cell, seed), a new entry replacing an old one; sorted by cell and seed."""
    by_key = {(e["cell"], e["seed"]): e for e in existing}
    by_key.update({(e["cell"], e["seed"]): e for e in new})
    return [by_key[key] for key in sorted(by_key)]


def load_entries(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["entries"] if path.is_file() else []


def save_entries(path: Path, entries: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    about = "Finished runs of benchmarks/accuracy.py, one per (cell, seed); docs/results.md is generated from this file."
    staging = path.with_suffix(".json.tmp")
    staging.write_text(json.dumps({"about": about, "entries": entries}, indent=1) + "\n")
    os.replace(staging, path)
