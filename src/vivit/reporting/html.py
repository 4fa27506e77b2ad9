"""The report page: plain HTML with its style inline, images beside it, no script, no
network. Everything shown is escaped here, so class names cannot break the page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

METRIC_KEYS = ("accuracy", "top5", "auc", "loss")
PREDICTION_COLUMNS = 5  # the 25 samples of a default report as a 5 x 5 grid

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a;
       max-width: 1240px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #d6dbe0; }
.subtitle { color: #56606b; margin: 0 0 12px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
.facts dt { color: #56606b; } .facts dd { margin: 0; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e3e7eb; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; } th { background: #f3f5f7; }
.note { color: #56606b; font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(var(--cell), 1fr)); gap: 10px; }
/* Predictions: always 5 x 5 whatever the window; minmax(0, ...) lets cards shrink below their content. */
.grid.fixed { grid-template-columns: repeat(var(--columns), minmax(0, 1fr)); }
figure { margin: 0; padding: 6px; border: 2px solid #cfe8d4; border-radius: 6px; background: #fbfdfb; text-align: center; }
figure.error { border-color: #d9534f; background: #fff6f5; }
figure img { image-rendering: pixelated; max-width: 100%; height: auto; }
figcaption { font-size: 12px; margin-top: 4px; overflow-wrap: anywhere; }
figcaption .mark { font-weight: 600; color: #2e7d32; } figure.error figcaption .mark { color: #c62828; }
figcaption .index { color: #7a848e; } figcaption .line { display: block; }
figcaption .caption { display: block; } figure.error figcaption .predicted { color: #c62828; font-weight: 600; }
img.plot { max-width: 100%; height: auto; }
.side { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.side > div { flex: 0 1 auto; max-width: 600px; }
details pre { background: #f3f5f7; padding: 8px; overflow-x: auto; font-size: 12px; }
"""


@dataclass(frozen=True)
class Picture:
    """An image beside index.html (a PNG plot or an animated GIF)."""

    file: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class SampleCard:
    picture: Picture
    caption: str  # "T: <true> | P: <predicted>"
    index: int  # position in the split
    correct: bool


@dataclass(frozen=True)
class ClassRow:
    name: str
    support: int
    precision: float
    recall: float
    f1: float
    auc: float | None


@dataclass(frozen=True)
class Page:
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    metrics: dict[str, dict[str, float]]  # row label -> metric -> value
    recipe_text: str
    samples: list[SampleCard]
    samples_note: str
    class_rows: list[ClassRow]
    curves: Picture | None
    confusion: Picture
    roc: Picture
    attention: list[SampleCard]
    attention_note: str


@dataclass(frozen=True)
class PretrainingPage:
    """The report of a `vivit pretrain` run: no classes, reconstructions instead."""

    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    metrics: dict[str, dict[str, float]]  # split -> {"loss": reconstruction loss}
    recipe_text: str
    curves: Picture | None
    reconstructions: list[SampleCard]
    reconstructions_note: str


def render_pretraining(page: PretrainingPage) -> str:
    return document(page.title, [
        header(page),
        section("Reconstructions", page.reconstructions_note, sample_grid(page.reconstructions), "reconstructions"),
        section("Training curves", "" if page.curves else "No history.csv in this run.", picture(page.curves), "curves"),
    ])


def render(page: Page) -> str:
    sections = [
        header(page),
        section("Predictions", page.samples_note, sample_grid(page.samples, PREDICTION_COLUMNS), "predictions"),
        section("Training curves", "" if page.curves else "No history.csv in this run.", picture(page.curves), "curves"),
        section("Per-class results", "", per_class(page), "classes"),
        section("ROC curves", "", picture(page.roc), "roc"),
        section("Attention maps", page.attention_note, sample_grid(page.attention), "attention"),
    ]
    return document(page.title, sections)


def document(title: str, sections: list[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{escape(title)}</title>\n"
        # An empty icon: without one the browser asks for /favicon.ico and logs a failure.
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def header(page: Page | PretrainingPage) -> str:
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in page.facts)
    return (
        f"<header><h1>{escape(page.title)}</h1><p class=\"subtitle\">{escape(page.subtitle)}</p>"
        f"<dl class=\"facts\">{facts}</dl>{metrics_table(page.metrics)}"
        f"<details><summary>Full recipe (config.yaml)</summary><pre>{escape(page.recipe_text)}</pre></details></header>"
    )


def metrics_table(metrics: dict[str, dict[str, float]]) -> str:
    if not metrics:
        return "<p class=\"note\">No metrics.json in this run.</p>"
    keys = [k for k in METRIC_KEYS if any(k in row for row in metrics.values())]
    head = "".join(f"<th>{k}</th>" for k in keys)
    rows = "".join(
        f"<tr><td>{escape(label)}</td>" + "".join(f"<td>{number(row.get(k))}</td>" for k in keys) + "</tr>"
        for label, row in metrics.items()
    )
    return f"<table class=\"metrics\"><tr><th>split</th>{head}</tr>{rows}</table>"


def section(title: str, note: str, body: str, anchor: str) -> str:
    note_html = f"<p class=\"note\">{escape(note)}</p>" if note else ""
    return f"<section id=\"{anchor}\"><h2>{escape(title)}</h2>{note_html}{body}</section>"


def picture(item: Picture | None, css_class: str = "plot") -> str:
    if item is None:
        return ""
    return (
        f"<img class=\"{css_class}\" src=\"{escape(item.file)}\" width=\"{item.width}\" "
        f"height=\"{item.height}\" alt=\"{escape(item.alt)}\">"
    )


def sample_grid(cards: list[SampleCard], columns: int | None = None) -> str:
    """Cards in `columns` columns that shrink with the window, else as many as fit."""
    if not cards:
        return ""
    figures = "".join(sample_figure(card) for card in cards)
    if columns is not None:
        return f"<div class=\"grid fixed\" style=\"--columns: {columns}\">{figures}</div>"
    # Wide enough for "T: kidney-right | P: kidney-left" on one line under a 112-pixel sample.
    cell = max(176, max(card.picture.width for card in cards) + 16)
    return f"<div class=\"grid\" style=\"--cell: {cell}px\">{figures}</div>"


def sample_figure(card: SampleCard) -> str:
    mark = "&#10003;" if card.correct else "&#10007; error"
    truth, _, predicted = card.caption.rpartition(" | ")
    # The predicted half is a span of its own so that a mistake can colour it.
    text = (
        f"<span class=\"truth\">{escape(truth)}</span> | <span class=\"predicted\">{escape(predicted)}</span>"
        if truth else f"<span class=\"predicted\">{escape(predicted)}</span>"
    )
    return (
        f"<figure class=\"sample {'correct' if card.correct else 'error'}\" title=\"{escape(card.caption)}\">"
        f"{picture(card.picture, 'sample')}<figcaption><span class=\"mark\">{mark}</span> "
        f"<span class=\"index\">#{card.index}</span><span class=\"caption\">{text}</span></figcaption></figure>"
    )


def per_class(page: Page) -> str:
    rows = "".join(
        f"<tr><td>{escape(r.name)}</td><td>{r.support}</td><td>{number(r.precision)}</td>"
        f"<td>{number(r.recall)}</td><td>{number(r.f1)}</td><td>{number(r.auc)}</td></tr>"
        for r in page.class_rows
    )
    table = (
        "<table class=\"per-class\"><tr><th>class</th><th>samples</th><th>precision</th>"
        "<th title=\"the per-class accuracy of vivit evaluate\">recall (accuracy)</th><th>F1</th>"
        f"<th>AUC (vs rest)</th></tr>{rows}</table>"
        "<p class=\"note\">Recall is the per-class accuracy: the fraction of each class predicted as itself. "
        "&ndash; marks a value that is undefined (a class never predicted, or absent).</p>"
    )
    return f"<div class=\"side\">{picture(page.confusion)}<div>{table}</div></div>"


def number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "&ndash;"
    return f"{value:.3f}"
