"""Seeds derived from a run's seed, one per purpose, so no two random streams repeat each other.

A run has one seed; each random stream it needs (an epoch's shuffled order, an
epoch's dropout, a synthetic split) gets its own seed mixed from the run's seed and
a few integer keys naming that stream. Mixing, unlike `seed + epoch`, keeps
(seed=0, epoch=1) and (seed=1, epoch=0) apart. A stream seeded only from its keys
is the same whether the run went straight through or resumed at an epoch boundary.

Recorded runs depend on these exact values (tests/data/test_seeds.py pins them).
NumPy's SeedSequence ignores trailing zero keys, so keys (e, 0) and (e,) give the
same seed: each caller's keys are part of the recorded format and stay as they are.
"""

from __future__ import annotations

import numpy as np


def derive_seed(seed: int, *keys: int) -> int:
    """A 32-bit seed for the stream named by `keys` (e.g. epoch, stream index) within run `seed`."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0])
