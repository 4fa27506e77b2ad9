"""docs/tutorial.md cannot rot: every bash and python block runs, in order, on small settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.docs.tutorial import FAST_ARGUMENTS, FAST_REPLACEMENTS, TUTORIAL, run_tutorial, shrink, tutorial_blocks


def test_the_tutorial_states_exactly_how_ci_shrinks_it() -> None:
    text = TUTORIAL.read_text()
    assert f"`{FAST_ARGUMENTS}`" in text
    for before, after in FAST_REPLACEMENTS.items():
        assert f"`{before}` becomes `{after}`" in text
        assert before in text, "a documented replacement that no block uses"


def test_shrink_appends_the_fast_arguments_to_training_lines_only() -> None:
    code = "vivit train --recipe keras-seed --out runs/a\nvivit evaluate runs/a\n  vivit sweep --trials 12\nvivit sweep-report x\n"
    assert shrink(code).splitlines() == [
        f"vivit train --recipe keras-seed --out runs/a {FAST_ARGUMENTS}",
        "vivit evaluate runs/a",
        f"  vivit sweep --trials 2 {FAST_ARGUMENTS}",
        "vivit sweep-report x",
    ]


def test_the_tutorial_has_bash_and_python_blocks_to_run() -> None:
    languages = [block.language for block in tutorial_blocks(TUTORIAL.read_text())]
    assert languages.count("bash") >= 5 and languages.count("python") >= 5


def test_a_failing_block_names_its_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# t\n\n```python\nx = 1\n```\n\n```bash\nexit 3\n```\n")
    with pytest.raises(AssertionError, match="page.md line 7 \\(bash\\) exited 3"):
        run_tutorial(tmp_path / "work", fast=True, tutorial=page)


@pytest.mark.slow
def test_every_block_of_the_tutorial_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not (SHARED_DATA / "organmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    pytest.importorskip("matplotlib", reason='the tutorial draws figures: pip install -e ".[report]"')
    pytest.importorskip("optuna", reason='the tutorial runs a sweep: pip install -e ".[sweep]"')
    monkeypatch.setenv("VIVIT_DATA_DIR", str(SHARED_DATA))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    run_tutorial(tmp_path, fast=True)
    for figure in ("volume-slices.png", "tubelets.png", "keras-seed-curves.png", "augmentation.png", "comparison.png"):
        assert (tmp_path / "figures" / figure).stat().st_size > 1000, figure
    assert (tmp_path / "runs" / "keras-seed" / "report" / "index.html").exists()
    assert (tmp_path / "runs" / "sweeps" / "tutorial" / "best-recipe.yaml").exists()
