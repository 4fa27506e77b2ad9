"""The user guide's recipe and overrides are ones vivit accepts."""

from __future__ import annotations

import re
import shlex

import yaml

from tests.conftest import REPO_ROOT
from vivit.cli.train import FLAG_KEYS
from vivit.training.recipe import build_recipe, load_recipe

RECIPES_GUIDE = (REPO_ROOT / "docs" / "guide" / "recipes.md").read_text()


def test_the_example_recipe_of_the_guide_is_valid() -> None:
    example = re.search(r"```yaml\n(.*?)```", RECIPES_GUIDE, re.S).group(1)
    recipe = build_recipe(yaml.safe_load(example))
    assert recipe.model["variant"] == "factorised_encoder" and recipe.train.select == "val/auc"


def test_every_override_line_of_the_guide_is_accepted() -> None:
    block = re.search(r"## Overrides.*?```console\n(.*?)```", RECIPES_GUIDE, re.S).group(1)
    lines = [shlex.split(line) for line in block.splitlines()]
    assert len(lines) >= 4
    for words in lines:
        overrides = [w for w in words if "=" in w and not w.startswith("-")]
        flags = {w.lstrip("-").replace("-", "_"): v for w, v in zip(words, words[1:]) if w.startswith("--")}
        overrides += [f"{FLAG_KEYS[name]}={value}" for name, value in flags.items()]
        load_recipe("keras-seed", overrides)
