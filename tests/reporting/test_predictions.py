"""Which samples the prediction grid shows."""

from __future__ import annotations

import numpy as np
import pytest

from vivit.errors import ConfigError
from vivit.reporting.predictions import SplitPredictions, pick_samples

# Samples 1, 2 and 4 are mistakes, made with confidence 0.6, 0.9 and 0.7.
PREDICTIONS = SplitPredictions(
    probabilities=np.array([[0.8, 0.2], [0.4, 0.6], [0.9, 0.1], [0.3, 0.7], [0.7, 0.3]]),
    labels=np.array([0, 0, 1, 1, 1]),
)


def test_errors_come_most_confident_first() -> None:
    np.testing.assert_array_equal(pick_samples(PREDICTIONS, 2, "errors"), [2, 4])


def test_errors_are_only_as_many_as_the_model_makes() -> None:
    np.testing.assert_array_equal(pick_samples(PREDICTIONS, 10, "errors"), [2, 4, 1])


def test_random_pick_is_distinct_sorted_and_repeatable_by_seed() -> None:
    first = pick_samples(PREDICTIONS, 3, "random", seed=1)
    assert len(set(first)) == 3 and list(first) == sorted(first)
    np.testing.assert_array_equal(first, pick_samples(PREDICTIONS, 3, "random", seed=1))
    assert len(pick_samples(PREDICTIONS, 99, "random")) == 5


def test_unknown_pick_and_empty_grid_are_user_errors() -> None:
    with pytest.raises(ConfigError, match="random, errors"):
        pick_samples(PREDICTIONS, 3, "worst")
    with pytest.raises(ConfigError, match="at least 1"):
        pick_samples(PREDICTIONS, 0, "random")
