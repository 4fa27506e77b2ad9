"""docs/models.md shows what the presets build: its table is the one `benchmarks/tables.py --models` writes."""

from __future__ import annotations

import sys

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # the scripts are run as files, not installed
import tables  # noqa: E402


def test_the_models_page_lists_every_preset_and_variant_as_built_today() -> None:
    page = (REPO_ROOT / "docs" / "models.md").read_text()
    table = tables.models().split("\n\n", 1)[1]  # after the line naming the machine and torch version
    assert table in page, "run `python benchmarks/tables.py --models`"
