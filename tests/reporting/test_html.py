"""The page markup: escaped, self-contained, mistakes marked."""

from __future__ import annotations

import re

from vivit.reporting.html import ClassRow, Page, Picture, SampleCard, render

ODD_NAME = '<b>"kidney" & co</b>'


def page(**overrides) -> Page:
    card = SampleCard(Picture("sample-00003.gif", 112, 112, "a sample"), f"T: {ODD_NAME} | P: liver", 3, False)
    settings = dict(
        title="run", subtitle="", facts=[("dataset", ODD_NAME)], metrics={"test": {"accuracy": 0.5}},
        recipe_text="name: x", samples=[card], samples_note="", class_rows=[ClassRow(ODD_NAME, 3, 0.5, float("nan"), 0.4, None)],
        curves=None, confusion=Picture("confusion.png", 300, 300, "confusion"), roc=Picture("roc.png", 300, 300, "roc"),
        attention=[], attention_note="",
    )
    return Page(**{**settings, **overrides})


def test_class_names_are_escaped_everywhere() -> None:
    html = render(page())
    assert "<b>" not in html
    assert html.count("&lt;b&gt;&quot;kidney&quot; &amp; co&lt;/b&gt;") >= 3  # facts, caption, table


def test_page_links_nothing_outside_its_folder() -> None:
    html = render(page())
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "<script" not in html


def test_a_mistake_is_marked_in_its_card_and_undefined_values_show_a_dash() -> None:
    html = render(page())
    assert '<figure class="sample error"' in html and "error</span>" in html
    assert "<td>&ndash;</td>" in html
