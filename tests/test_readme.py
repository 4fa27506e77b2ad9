"""The README's two commands stay true: CI runs the README's test command."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (REPO_ROOT / "README.md").read_text())


def test_readme_opens_with_an_install_and_run_command_and_a_test_command() -> None:
    install_and_run, run_tests = readme_commands()[:2]
    assert "pip install torch==2.13.0" in install_and_run and install_and_run.rstrip().endswith("vivit train")
    assert "pytest" in run_tests


def test_ci_runs_the_readme_test_command() -> None:
    pytest_part = readme_commands()[1].split("&&")[-1].strip()
    ci_script = (REPO_ROOT / ".ci" / "run").read_text()
    assert pytest_part in ci_script
    extras = re.search(r'-e "(\.\[[a-z,]+\])"', readme_commands()[1]).group(1)
    assert f'-e "{extras}"' in ci_script, "CI must install the extras the README's test command installs"
    assert "pip install -q torch==2.13.0" in ci_script
