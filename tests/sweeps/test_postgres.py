"""Two independent `vivit sweep` processes on one PostgreSQL study (as on two machines).

Runs when VIVIT_TEST_POSTGRES_URL names a server; `.ci/postgres.sh start` starts one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.sweeps.sweeps import assert_sweep_reached, finish, start_sweep, sweep_command

URL = os.environ.get("VIVIT_TEST_POSTGRES_URL")


@pytest.mark.slow
@pytest.mark.skipif(not URL, reason="VIVIT_TEST_POSTGRES_URL is not set; `eval \"$(.ci/postgres.sh start)\"` starts a server")
def test_two_sweep_processes_share_one_postgres_study(tmp_path: Path) -> None:
    study = f"pg-{uuid.uuid4().hex[:8]}"  # the server outlives the test: a fresh study each time
    command = sweep_command(tmp_path, URL, study, 4)
    first = start_sweep(command)
    second = start_sweep(command)
    finish(first)
    finish(second)
    done = assert_sweep_reached(URL, study, 4)
    assert all((Path(t.user_attrs["run_dir"]) / "metrics.json").exists() for t in done)
    assert (tmp_path / study / "best-recipe.yaml").exists()
