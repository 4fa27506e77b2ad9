"""Which process runs a trial, so that a worker can tell a dead one's trial from a live one's.

Optuna's heartbeat declares a RUNNING trial dead only after its grace period; a worker
restarted sooner would count the killed worker's trial as under way and stop one trial
short. Each trial records its host, process id and the process's start time (pid numbers
are reused; a start time is not), and a worker on the same host fails a trial whose owner
is gone at once and enqueues its parameters again, as the heartbeat would have. Trials
owned by other hosts are left to the heartbeat.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

HOST, PID, STARTED = "host", "pid", "process_started"


def owner() -> dict[str, Any]:
    """This process, as trial user attributes."""
    return {HOST: socket.gethostname(), PID: os.getpid(), STARTED: _start_time(os.getpid())}


def owned_by_dead_process(attrs: dict[str, Any]) -> bool:
    """True when the trial's owner ran on this host and no longer runs."""
    if attrs.get(HOST) != socket.gethostname() or not isinstance(attrs.get(PID), int):
        return False
    pid = attrs[PID]
    started = _start_time(pid)
    if started is not None or attrs.get(STARTED) is not None:
        return started != attrs.get(STARTED)  # gone, or its number now names another process
    try:
        os.kill(pid, 0)  # no /proc: signal 0 only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by another user
        return False
    return False


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), or None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22; the command name (field 2) is in parentheses and may hold spaces.
    return stat.rsplit(")", 1)[1].split()[19]


def fail_trials_of_dead_workers(study: Any) -> list[int]:
    """FAIL the RUNNING trials whose worker on this host has died, enqueue each one's
    parameters again (at most twice a trial, as the heartbeat retry does); return their numbers."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.storages import RetryFailedTrialCallback
    from optuna.trial import TrialState

    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not owned_by_dead_process(trial.user_attrs):
            continue
        try:
            # Optuna has no public call to end another process's trial; its own stale-trial
            # sweep uses this storage method too.
            study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except UpdateFinishedTrialError:  # another worker got to it first
            continue
        RetryFailedTrialCallback(max_retry=2)(study, study._storage.get_trial(trial._trial_id))
        failed.append(trial.number)
    return failed


def outstanding(study: Any) -> list[Any]:
    """The study's RUNNING trials: under way, or owned by a worker elsewhere that may have died."""
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def outstanding_note(study: Any) -> str | None:
    """One plain sentence when trials are still RUNNING, naming them and their owners; else None."""
    running = outstanding(study)
    if not running:
        return None
    owners = ", ".join(
        f"{t.number} (process {t.user_attrs.get(PID, '?')} on {t.user_attrs.get(HOST, '?')})" for t in running
    )
    done = sum(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False))
    return (
        f"study '{study.study_name}' has {len(running)} trial(s) still RUNNING: {owners}; the best so far is "
        f"from {done} completed trial(s). Rerun the sweep once those workers have ended (or after the heartbeat "
        f"grace period, for a worker that died on another host) to finish them"
    )
