"""The sweep report: one offline HTML page per set of studies, in the run report's style.

Per study: the optimisation history, the parameter importances, parallel coordinates
and the table of trials. Figures use matplotlib's object API on the Agg canvas (never
pyplot), as the run report's do, rather than optuna.visualization.matplotlib.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from vivit.reporting.html import STYLE
from vivit.reporting.plots import new_figure, save
from vivit.sweeps.trial_owners import outstanding_note


def finished(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]


def importances(study: Any) -> tuple[dict[str, float], str]:
    """Parameter importances and the method that gave them.

    fANOVA (Optuna's default) needs scikit-learn; PED-ANOVA needs nothing more, so it is
    the fallback. Too few trials give none.
    """
    import optuna

    if len(finished(study)) < 2:
        return {}, "too few completed trials"
    for name, make in (("fANOVA", lambda: None), ("PED-ANOVA", optuna.importance.PedAnovaImportanceEvaluator)):
        try:
            return dict(optuna.importance.get_param_importances(study, evaluator=make())), name
        except (ImportError, RuntimeError, ValueError):
            continue
    return {}, "not computable"


def plot_history(study: Any, path: Path) -> Path:
    trials = finished(study)
    numbers = [t.number for t in trials]
    values = np.array([t.value for t in trials])
    best = np.minimum.accumulate(values) if study.direction.name == "MINIMIZE" else np.maximum.accumulate(values)
    figure = new_figure(6.0, 3.2)
    axes = figure.add_subplot()
    axes.plot(numbers, values, "o", color="#4c78a8", label="trial")
    axes.step(numbers, best, where="post", color="#e45756", label="best so far")
    axes.set_xlabel("trial")
    axes.set_ylabel(study.user_attrs.get("metric", "objective"))
    axes.legend(loc="best", fontsize=8)
    return save(figure, path)


def plot_importances(scores: dict[str, float], method: str, path: Path) -> Path:
    names = list(scores)[::-1]  # most important on top
    figure = new_figure(6.0, 0.5 + 0.35 * len(names))
    axes = figure.add_subplot()
    axes.barh(names, [scores[n] for n in names], color="#4c78a8")
    axes.set_xlabel(f"importance ({method})")
    return save(figure, path)


def plot_parallel_coordinates(study: Any, path: Path) -> Path:
    """One line per completed trial across every parameter, each axis scaled to [0, 1]."""
    trials = finished(study)
    names = sorted({k for t in trials for k in t.params})
    columns = [_axis_positions([t.params.get(n) for t in trials], study, n) for n in names]
    values = np.array([t.value for t in trials])
    span = np.ptp(values) or 1.0
    shade = (values - values.min()) / span
    if study.direction.name == "MINIMIZE":
        shade = 1 - shade  # dark = good either way
    figure = new_figure(max(4.0, 1.4 * len(names) + 1), 3.4)
    axes = figure.add_subplot()
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    for row, level in enumerate(shade):
        axes.plot(range(len(names)), [c[row] for c in columns], color=cmap(float(level)), alpha=0.8)
    axes.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
    axes.set_yticks([0, 1], ["low", "high"])
    axes.set_title("parallel coordinates (yellow = best)", fontsize=9)
    return save(figure, path)


def _axis_positions(values: list[Any], study: Any, name: str) -> list[float]:
    """Numbers to [0, 1] (log-scaled when the distribution is); categories evenly spaced."""
    numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numeric) == len(values):
        log = any(getattr(t.distributions.get(name), "log", False) for t in finished(study)[:1])
        scaled = np.log(np.array(numeric, dtype=float)) if log else np.array(numeric, dtype=float)
        low, high = scaled.min(), scaled.max()
        return list((scaled - low) / (high - low)) if high > low else [0.5] * len(values)
    categories = sorted({str(v) for v in values})
    step = 1 / max(1, len(categories) - 1)
    return [categories.index(str(v)) * step if len(categories) > 1 else 0.5 for v in values]


def trial_table(study: Any) -> str:
    trials = study.get_trials(deepcopy=False)
    names = sorted({k for t in trials for k in t.params})
    head = "".join(f"<th>{escape(h)}</th>" for h in ("trial", "state", "value", "epochs", *names, "run"))
    rows = []
    for t in trials:
        value = "" if t.value is None else f"{t.value:.4f}"
        params = "".join(f"<td>{escape(_short(t.params.get(n)))}</td>" for n in names)
        cells = f"<td>{t.number}</td><td>{t.state.name}</td><td>{value}</td><td>{len(t.intermediate_values)}</td>{params}"
        rows.append(f"<tr>{cells}<td>{escape(str(t.user_attrs.get('run_dir', '')))}</td></tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _short(value: Any) -> str:
    if isinstance(value, float) and value != 0 and not math.isnan(value):
        return f"{value:.3g}"
    return "" if value is None else str(value)


def study_section(study: Any, out: Path, slot: int) -> str:
    trials = study.get_trials(deepcopy=False)
    done = finished(study)
    states = ", ".join(f"{s}: {sum(t.state.name == s for t in trials)}" for s in ("COMPLETE", "PRUNED", "FAIL", "RUNNING"))
    metric = escape(str(study.user_attrs.get("metric", "objective")))
    subtitle = f"{len(trials)} trials ({states}); {study.direction.name.lower()} {metric}"
    parts = [f"<h2>{escape(study.study_name)}</h2>", f"<p class='subtitle'>{subtitle}</p>"]
    note = outstanding_note(study)
    if note:
        parts.append(f"<p class='note'>Outstanding: {escape(note)}.</p>")
    if not done:
        return "".join(parts + ["<p class='note'>No completed trial yet.</p>"])
    best = study.best_trial
    parts.append(f"<p>Best: trial {best.number}, value {best.value:.4f}, "
                 f"run <code>{escape(str(best.user_attrs.get('run_dir', '')))}</code></p>")
    figures = [plot_history(study, out / f"history-{slot}.png")]
    scores, method = importances(study)
    if scores:
        figures.append(plot_importances(scores, method, out / f"importances-{slot}.png"))
    if study.best_trial.params:
        figures.append(plot_parallel_coordinates(study, out / f"parallel-{slot}.png"))
    parts.append("<div class='side'>" + "".join(f"<div><img class='plot' src='{f.name}' alt='{f.stem}'></div>" for f in figures) + "</div>")
    if not scores:
        parts.append(f"<p class='note'>Parameter importances: {escape(method)}.</p>")
    parts.append(trial_table(study))
    return "".join(parts)


def write_report(studies: list[Any], out: Path) -> Path:
    """Write out/index.html and its PNGs; return the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    names = ", ".join(s.study_name for s in studies)
    body = "".join(study_section(study, out, slot) for slot, study in enumerate(studies))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Sweep {escape(names)}</title>"
            f"<style>{STYLE}</style></head><body><h1>Sweep {escape(names)}</h1>{body}</body></html>")
    path = out / "index.html"
    path.write_text(page)
    return path
