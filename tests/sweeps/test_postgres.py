"""Two independent `vivit sweep` processes on one PostgreSQL study (as on two machines).

Runs when VIVIT_TEST_POSTGRES_URL names a server; `.ci/postgres.sh start` starts one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.sweeps.sweeps import assert_sweep_reached, finish, start_sweep, sweep_command

URL = os.environ.get("VIVIT_TEST_POSTGRES_URL")
needs_server = pytest.mark.skipif(not URL, reason="VIVIT_TEST_POSTGRES_URL is not set; `eval \"$(.ci/postgres.sh start)\"` starts a server")

OPEN_STORAGE = "import sys; from vivit.sweeps.study import make_storage; make_storage(sys.argv[1], heartbeat=1)"


@pytest.mark.slow
@needs_server
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


@needs_server
def test_workers_that_start_together_on_an_empty_database_all_open_it() -> None:
    """They all create Optuna's tables at once; PostgreSQL fails all but one, and they retry."""
    import sqlalchemy

    schema = f"race_{uuid.uuid4().hex[:8]}"  # an empty schema: a database without Optuna's tables
    with sqlalchemy.create_engine(URL).begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    url = f"{URL}?options=-csearch_path%3D{schema}"
    workers = [subprocess.Popen([sys.executable, "-c", OPEN_STORAGE, url], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [0] * 4, errors
