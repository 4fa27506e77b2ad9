"""`python -m tests.reliability.killer POINT N vivit-args...`: the vivit command, killed by
SIGKILL at the N-th time (counting from 1) it reaches POINT:

- weights:       model.safetensors of a checkpoint half written
- trainer_state: Lightning's resume state half written
- swap:          a checkpoint fully staged, its symlink not yet swapped
- swapped:       the symlink swapped, the old checkpoint not yet removed
- history:       history.csv.tmp half written

A kill -9 cannot be caught, so these are the states a power cut leaves behind.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

POINTS = ("weights", "trainer_state", "swap", "swapped", "history")


def main() -> None:
    point, count, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    assert point in POINTS, point
    reached = {"n": 0}

    def maybe_die(name: str, partial: Path | None = None) -> None:
        if name != point:
            return
        reached["n"] += 1
        if reached["n"] == count:
            if partial is not None and partial.exists():
                os.truncate(partial, partial.stat().st_size // 2)
            os.kill(os.getpid(), signal.SIGKILL)

    install(maybe_die)
    from vivit.cli.main import main as vivit

    sys.exit(vivit(args))


def install(maybe_die: Any) -> None:
    import lightning.pytorch as pl

    from vivit import checkpoints
    from vivit.training.run_dir import RunDir

    save_file = checkpoints.save_file

    def save_weights(tensors: Any, filename: str, metadata: Any = None) -> None:
        save_file(tensors, filename, metadata=metadata)
        maybe_die("weights", Path(filename))

    checkpoints.save_file = save_weights

    save_checkpoint = pl.Trainer.save_checkpoint

    def save_state(self: pl.Trainer, filepath: Any, *args: Any, **kwargs: Any) -> None:
        save_checkpoint(self, filepath, *args, **kwargs)
        maybe_die("trainer_state", Path(filepath))

    pl.Trainer.save_checkpoint = save_state

    replace = os.replace

    def swap(source: Any, target: Any) -> None:
        is_link_swap = Path(str(source)).name.startswith(".") and Path(str(source)).name.endswith(".link")
        if is_link_swap:
            maybe_die("swap")
        replace(source, target)
        if is_link_swap:
            maybe_die("swapped")

    checkpoints.os.replace = swap  # the os module: patched for this process only

    write_history = RunDir.write_history

    def history(self: RunDir, rows: Any) -> None:
        staging = self.history_path.with_suffix(".csv.tmp")
        staging.write_text("epoch,train/loss\n1,0.5\n")
        maybe_die("history", staging)
        write_history(self, rows)

    RunDir.write_history = history  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
