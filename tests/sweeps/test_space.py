"""Search spaces: parsed from YAML, checked against the recipe before any trial runs."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from vivit.errors import ConfigError
from vivit.sweeps.space import (
    check_space,
    default_space_path,
    load_space,
    parse_parameter,
)
from vivit.training.recipe import build_recipe, read_recipe_file


def test_the_shipped_default_space_fits_the_shipped_recipes() -> None:
    space = load_space()
    assert default_space_path().is_file()
    assert {p.key for p in space} >= {"optim.lr", "optim.weight_decay", "model.drop_path_rate"}
    for recipe in ("keras-seed", "medmnist-protocol"):
        check_space(space, read_recipe_file(recipe))


def test_each_kind_draws_inside_its_range() -> None:
    space = [
        parse_parameter("optim.lr", {"type": "float", "low": "1e-5", "high": 1e-2, "log": True}),
        parse_parameter("model.depth", {"type": "int", "low": 1, "high": 4}),
        parse_parameter("model.tubelet_size", {"type": "categorical", "choices": [[4, 4, 4], [2, 7, 7]]}),
    ]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(10):
        drawn = {p.key: p.suggest(study.ask()) for p in space}
        assert 1e-5 <= drawn["optim.lr"] <= 1e-2
        assert drawn["model.depth"] in (1, 2, 3, 4)
        assert drawn["model.tubelet_size"] in ([4, 4, 4], [2, 7, 7])  # lists survive Optuna's scalar-only choices


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("optim.lrr: {type: float, low: 0.1, high: 1}", "Unknown key 'optim.lrr'"),
        ("model.depthh: {type: int, low: 1, high: 2}", "model.depthh"),
        ("lr: {type: float, low: 0.1, high: 1}", "must be written as section.key"),
        ("optim.lr: {type: gaussian}", "needs a type"),
        ("optim.lr: {type: float, low: 0, high: 1, log: true}", "low > 0 on a log scale"),
        ("model.variant: {type: categorical}", "non-empty list of choices"),
    ],
)
def test_a_bad_space_is_a_one_line_config_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as error:
        check_space(load_space(path), read_recipe_file("keras-seed"))
    assert "\n" not in str(error.value)


def test_sampled_values_reach_the_recipe() -> None:
    from vivit.sweeps.space import override
    from vivit.training.recipe import apply_overrides

    data = apply_overrides(read_recipe_file("keras-seed"), [override("optim.lr", 1e-05), override("model.tubelet_size", [4, 4, 4])])
    recipe = build_recipe(data)
    assert recipe.optim.lr == 1e-05 and recipe.model["tubelet_size"] == [4, 4, 4]
