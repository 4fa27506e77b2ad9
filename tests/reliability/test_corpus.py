"""The hostile-input corpus (corpus.py), replayed through the real `vivit` command.

Every case must end as its author said: a hostile input in one `vivit: error:` line with
exit status 2, a good one read. A traceback, a silent exit 0 on a hostile input, a refused
good input, code run by a pickle or a YAML tag, or a hang fails the test and prints the
case's stderr. With $VIVIT_RELIABILITY_LOG set, every row goes to the log for
`benchmarks/reliability.py --corpus`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.reliability.corpus import CASES, FAILURES, REPO
from tests.reliability.fuzzing import record


def test_every_hostile_input_of_the_corpus_is_refused_in_one_line_and_every_good_one_is_read(tmp_path: Path) -> None:
    results = tmp_path / "corpus.json"
    done = subprocess.run([sys.executable, "-m", "tests.reliability.corpus", str(results)], cwd=REPO, capture_output=True,
                          text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(results.read_text())
    record("corpus", "cases", rows)
    assert len(rows) == len(CASES)
    failed = [row for row in rows if row["outcome"] in FAILURES]
    assert not failed, "\n\n".join(f"{row['case']}: {row['outcome']}\n{row.get('stderr', '')}" for row in failed)
    for row in rows:
        expected = {"error": "one-line error", "ok": "ok"}[row["expect"]]
        assert row["outcome"] in (expected, "skipped"), row
