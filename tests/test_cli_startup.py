"""`vivit --help` and `vivit --version` answer at once: they load neither torch nor lightning."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from tests.conftest import REPO_ROOT

# Runs the command as the `vivit` script does, then reports which heavy modules it loaded.
PROBE = """
import runpy, sys
sys.argv = ["vivit", *sys.argv[1:]]
try:
    runpy.run_module("vivit.cli.main", run_name="__main__")
except SystemExit:
    pass
sys.stderr.write("loaded: " + " ".join(m for m in ("torch", "lightning") if m in sys.modules) + "\\n")
"""


def run_vivit(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, check=True)


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["train", "--help"], ["datasets", "--help"], ["sweep", "--help"], ["export", "--help"]]
)
def test_help_and_version_load_neither_torch_nor_lightning(args: list[str]) -> None:
    result = run_vivit(*args)
    assert result.stderr.strip().splitlines()[-1] == "loaded:", result.stderr


def test_version_prints_the_installed_package_version() -> None:
    assert run_vivit("--version").stdout.strip() == f"vivit {version('vivit')}"
