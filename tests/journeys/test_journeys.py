"""Every command and Python example of the README and the user guide runs, as written, and does what its page says.

The README runs first in a fresh checkout (tests/journeys/workspace.py); each guide page
then continues from a copy of where the README's quick start left off (`runs/adrenal`
trained). Commands run in page order, each must exit 0 without a traceback and write the
paths its comment names. Trainings are shrunk by the `vivit` on PATH, never by editing the
command: tests/journeys/shrink.py says how. The commands not run are the ones
tests/journeys/skips.py lists, with their reasons; any other command runs, so a command
added to a page is tested the day it is written.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.journeys.documents import REPO_ROOT, Command, commands, commands_outside_shell_blocks, journey_documents
from tests.journeys.journey import JourneyFailed, summary, walk
from tests.journeys.shrink import SHORT_TRAINING, TINY_DECODER, TINY_MODEL, shrunk
from tests.journeys.skips import FRESH_MACHINE, SKIP_RULES, TEST_SUITE, skip_rule_for
from tests.journeys.workspace import Workspace

README = REPO_ROOT / "README.md"
GUIDE_PAGES = [page for page in journey_documents() if page != README]
EXTRAS_THE_JOURNEYS_USE = ("matplotlib", "optuna", "onnx", "onnxruntime", "nibabel", "pydicom")


def all_commands() -> list[Command]:
    return [command for page in journey_documents() for command in commands(page)]


def all_steps() -> list[tuple[Command, str]]:
    return [(command, step) for command in all_commands() for step in command.steps]


# What the pages must be, for the suite to run them ------------------------------------------


def test_the_readme_and_every_guide_page_with_commands_are_walked() -> None:
    with_commands = {page.name for page in journey_documents() if commands(page)}
    assert {"README.md", "cli.md", "datasets.md", "recipes.md", "export.md", "sweeps.md"} <= with_commands


def test_every_vivit_command_of_the_pages_is_in_a_block_the_suite_runs() -> None:
    misplaced = [line for page in journey_documents() for line in commands_outside_shell_blocks(page)]
    assert misplaced == [], "show these in a ```bash or ```console block (the suite runs them) or drop them"


def test_no_command_that_runs_holds_a_placeholder() -> None:
    placeholders = [
        f"{command.where}: {step}"
        for command, step in all_steps()
        if skip_rule_for(step, command.language == "python") is None and re.search(r"<[\w ]+>|\bRUN\b|path/to/", step)
    ]
    assert placeholders == [], "write concrete commands (runs/adrenal, clips, ...) that a user can paste"


def test_every_skip_rule_skips_a_documented_command() -> None:
    used = {rule.name for rule in SKIP_RULES for command, step in all_steps() if rule.matches(step, command.language == "python")}
    assert used == {rule.name for rule in SKIP_RULES}, "a rule that skips nothing: delete it"


def test_the_skipped_installs_name_extras_and_a_torch_that_ci_installs() -> None:
    extras = set(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    ci_script = (REPO_ROOT / ".ci" / "run").read_text()
    installs = [step for _, step in all_steps() if FRESH_MACHINE.matches(step) and "pip install" in step]
    assert installs
    for step in installs:
        for named in re.findall(r'"\.\[([\w,]+)\]"', step):
            assert set(named.split(",")) <= extras, f"{step}: no such extra in pyproject.toml"
        for torch in re.findall(r"pip install (torch==[\w.]+)", step):
            assert f"pip install -q {torch}" in ci_script, step


def test_ci_runs_the_readme_test_command_with_the_extras_it_installs() -> None:
    ci_script = (REPO_ROOT / ".ci" / "run").read_text()
    readme_steps = [step for command in commands(README) for step in command.steps]
    test_commands = [step for step in readme_steps if TEST_SUITE.matches(step)]
    assert test_commands, "the README shows how to run the tests"
    for step in test_commands:
        assert step in ci_script, f"CI must run the README's test command: {step}"
    for extras in re.findall(r'pip install -e ("\.\[[\w,]+\]")', " ".join(readme_steps)):
        assert f"-e {extras}" in ci_script, f"CI must install the extras the README installs: {extras}"


# How the suite reads a page and shrinks a training --------------------------------------------


def test_a_command_keeps_its_quotes_and_loses_its_comment(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```console\nvivit train 'data.options={a: 1}' --out runs/a   # writes runs/a/metrics.json\n"
        "# a comment line\nvivit train \\\n  --epochs 2\n```\n"
        "```bash\npython3 -m venv .venv && . .venv/bin/activate\n```\n"
        "```python\nimport vivit\n```\n"
    )
    first, second, third, fourth = commands(page)
    assert first.steps == ["vivit train 'data.options={a: 1}' --out runs/a"]
    assert first.promised_paths() == ["runs/a/metrics.json"] and first.line == 2
    assert second.steps == ["vivit train    --epochs 2"] and second.line == 4
    assert third.steps == ["python3 -m venv .venv", ". .venv/bin/activate"]
    assert [skip_rule_for(step) for step in third.steps] == [FRESH_MACHINE, None]
    assert (fourth.language, fourth.steps, fourth.line) == ("python", ["import vivit\n"], 10)


def test_a_vivit_command_in_a_text_block_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```text\nclips/\n  a.mp4\n```\n\n```\nvivit report runs/a\n```\n")
    assert commands_outside_shell_blocks(page) == ["page.md line 7: vivit report runs/a"]


def test_trainings_and_sweeps_are_shrunk_by_appended_overrides_only() -> None:
    assert shrunk(["train", "--epochs", "60", "epochs=10"]) == ["train", "--epochs", "60", "epochs=10", *SHORT_TRAINING, *TINY_MODEL]
    assert shrunk(["sweep", "--trials", "20"])[:5] == ["sweep", "--trials", "20", "--trials", "2"]
    assert shrunk(["pretrain", "--out", "runs/mae"]) == ["pretrain", "--out", "runs/mae", *SHORT_TRAINING, *TINY_MODEL, *TINY_DECODER]
    assert shrunk(["train", "--resume", "runs/a"]) == ["train", "--resume", "runs/a"]
    assert shrunk(["train", "--resume", "runs/a", "--epochs", "150"])[-2:] == ["--epochs", "2"]
    assert shrunk(["report", "runs/a"]) == ["report", "runs/a"]


def test_a_command_that_fails_fails_the_journey_naming_its_line(tmp_path: Path, shared_data: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# A page\n\n```bash\nvivit models   # prints the presets\nvivit evaluate runs/nowhere\n```\n")
    with pytest.raises(JourneyFailed, match=r"page.md line 5: `vivit evaluate runs/nowhere` exited 2"):
        walk(page, Workspace.create(tmp_path / "work"))


def test_the_python_blocks_of_a_page_run_as_one_session(tmp_path: Path, shared_data: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nanswer = 42\n```\n\n```python\nassert answer == 42\nprint(undefined)\n```\n")
    with pytest.raises(JourneyFailed, match=r"(?s)page.md line 5: its python block exited 1.*NameError: name 'undefined'"):
        walk(page, Workspace.create(tmp_path / "work"))


def test_a_path_promised_in_a_comment_must_be_written(tmp_path: Path, shared_data: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```bash\nmkdir -p runs/a   # runs/a/metrics.json\n```\n")
    with pytest.raises(JourneyFailed, match="did not write runs/a/metrics.json"):
        walk(page, Workspace.create(tmp_path / "work"))


# The journeys ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def after_the_readme(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, str]:
    if not (SHARED_DATA / "adrenalmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    for module in EXTRAS_THE_JOURNEYS_USE:
        pytest.importorskip(module, reason='the journeys use every extra: pip install -e ".[test,report,export,medical,sweep]"')
    workspace = Workspace.create(tmp_path_factory.mktemp("journey-readme"))
    return workspace, summary(walk(README, workspace))


@pytest.mark.slow
def test_the_readme_journey(after_the_readme: tuple[Workspace, str]) -> None:
    workspace, steps = after_the_readme
    print(steps)
    assert (workspace.checkout / "runs" / "adrenal" / "metrics.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("page", GUIDE_PAGES, ids=[page.name for page in GUIDE_PAGES])
def test_the_guide_journey(page: Path, after_the_readme: tuple[Workspace, str], tmp_path: Path) -> None:
    workspace = Workspace.create(tmp_path, continue_from=after_the_readme[0])
    print(summary(walk(page, workspace)))
