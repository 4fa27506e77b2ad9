"""The recommended recipe, vivit-medmnist, works unchanged for every 28^3 MedMNIST 3D dataset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import SHARED_DATA
from vivit.data.medmnist import load_medmnist
from vivit.data.registry import MEDMNIST_3D, MedMNISTInfo
from vivit.data.types import DatasetBundle, Split
from vivit.training.module import ViViTClassifier
from vivit.training.recipe import DataSettings, load_recipe

BATCH = 8


def bundle_for(info: MedMNISTInfo) -> DatasetBundle:
    """The real 28^3 file where shared/data has it; else random volumes with the registry's facts.

    The facts (classes, left/right pairs and axis) are what the recipe meets on the real data,
    so a dataset whose file is absent here is still checked against them.
    """
    path = SHARED_DATA / info.filename(28)
    if path.is_file():
        return load_medmnist(info.name, path=path)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (BATCH, 1, 28, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.arange(BATCH) % info.num_classes
    return DatasetBundle(
        info.name, info.task, info.class_names, {"train": Split(images, labels)},
        left_right_pairs=info.left_right_pairs, left_right_axis=info.left_right_axis,
    )


def test_recipe_names_no_dataset_and_trains_for_200_epochs_with_a_conv_stem() -> None:
    recipe = load_recipe("vivit-medmnist")
    assert recipe.data == DataSettings(batch_size=32)  # nothing dataset-specific, not even the size
    assert recipe.train.epochs == 200 and recipe.train.select.startswith("val/")
    assert "test" not in recipe.train.select
    assert recipe.model_config(11, (1, 28, 28, 28)).stem_channels == (8,)


@pytest.mark.parametrize("name", sorted(MEDMNIST_3D))
def test_recipe_builds_its_model_and_augments_a_batch_of_every_dataset(name: str) -> None:
    torch.set_num_threads(1)
    bundle = bundle_for(MEDMNIST_3D[name])
    recipe = load_recipe("vivit-medmnist", [f"data.dataset={name}"])
    config = recipe.model_config(bundle.num_classes, bundle.input_shape)
    # The classifier training builds: model sized to the data, augmenter told the laterality.
    module = ViViTClassifier(recipe, config, bundle, steps_per_epoch=1)
    train = bundle.splits["train"]
    videos, labels = train.images[:BATCH].float().div(255), train.labels[:BATCH]
    augmented, targets = module.augmenter(videos, labels, torch.Generator().manual_seed(0))
    assert augmented.shape == videos.shape and targets.shape == (BATCH, bundle.num_classes)
    if not bundle.left_right_pairs:
        # No left/right classes: a mirrored volume keeps its label.
        assert torch.equal(targets.argmax(dim=1), labels)
    with torch.no_grad():
        assert module.model(augmented).shape == (BATCH, MEDMNIST_3D[name].num_classes)


def test_vivit_train_runs_the_recipe_on_adrenalmnist3d(tmp_path: Path) -> None:
    if not (SHARED_DATA / "adrenalmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    command = [
        sys.executable, "-m", "vivit.cli.main", "train", "--recipe", "vivit-medmnist", "--dataset", "adrenalmnist3d",
        "--epochs", "1", "train.limit_train_batches=2", "--data-dir", str(SHARED_DATA), "--out", str(tmp_path / "run"),
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "metrics.json").is_file()
