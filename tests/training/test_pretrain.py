"""`vivit pretrain`: masked-autoencoder pretraining as a normal run, and `vivit train --init` from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from vivit.checkpoints import load_mae, load_model
from vivit.cli.main import main
from vivit.errors import CheckpointError, ConfigError
from vivit.models import build_model
from vivit.training.pretrain_data import load_pretraining_bundle
from vivit.training.recipe import load_recipe
from vivit.training.run import resume, train
from vivit.training.run_dir import RunDir

TINY = ["model.embed_dim=32", "model.depth=2", "model.num_heads=4", "model.head_dim=8", "model.mlp_dim=64",
        "model.tubelet_size=[4,4,4]", "model.stem_channels=[]", "mae.decoder_dim=16", "mae.decoder_depth=1", "mae.decoder_heads=2"]
SYNTHETIC = ["data.dataset=synthetic-shapes", "data.options={num_samples: 32}", "data.batch_size=16", "train.seed=3"]
# Raw voxels as targets: the noise of the synthetic volumes dominates each 4^3 tubelet's normalised
# voxels, which a few steps cannot learn; the raw ones show learning within a few epochs.
# A constant rate: a run extended from 3 to 8 epochs then follows the 8-epoch run's schedule exactly.
PRETRAIN = [*SYNTHETIC, *TINY, "optim.lr=2e-3", "optim.schedule=constant", "optim.warmup_epochs=0", "mae.normalise_targets=false"]
FINETUNE_SHAPE = [override for override in TINY if not override.startswith("mae.")]


def pretrained(out: Path, epochs: int, *extra: str) -> Path:
    return train(load_recipe("vivit-mae-pretrain", [*PRETRAIN, f"train.epochs={epochs}", *extra]), out)


@pytest.fixture(scope="module")
def pretraining_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pretrained(tmp_path_factory.mktemp("pretrain") / "run", 8)


@pytest.mark.slow
def test_a_tiny_pretraining_on_synthetic_volumes_lowers_the_reconstruction_loss(pretraining_run: Path) -> None:
    rows = RunDir(pretraining_run).read_history_rows()
    assert len(rows) == 8
    assert rows[-1]["train/loss"] < 0.8 * rows[0]["train/loss"]
    assert rows[-1]["val/loss"] < rows[0]["val/loss"]
    metrics = RunDir(pretraining_run).read_metrics()
    assert metrics["checkpoint"] == "last" and metrics["epoch"] == 8 and "test" not in metrics  # no test split read


@pytest.mark.slow
def test_a_resumed_pretraining_draws_the_masks_of_an_uninterrupted_one(tmp_path: Path, pretraining_run: Path) -> None:
    short = pretrained(tmp_path / "short", 3)
    resume(short, epochs=8)
    extended, whole = RunDir(short).read_history_rows(), RunDir(pretraining_run).read_history_rows()
    assert [row["train/loss"] for row in extended] == pytest.approx([row["train/loss"] for row in whole], rel=1e-5)


@pytest.mark.slow
def test_each_epoch_trains_on_new_masks_and_validates_on_the_same_ones(tmp_path: Path) -> None:
    # A rate too small to move the weights, and no augmentation or dropout: what changes a loss from
    # epoch to epoch is then the masks (an epoch's batches are equal in size, so their order is not).
    frozen = ["optim.lr=1e-12", "optim.schedule=constant", "optim.warmup_epochs=0", "augment.flip_t=0", "augment.affine_prob=0"]
    rows = RunDir(pretrained(tmp_path / "run", 3, *frozen)).read_history_rows()
    val, train_losses = [row["val/loss"] for row in rows], [row["train/loss"] for row in rows]
    assert max(val) - min(val) < 1e-6, val
    assert min(abs(a - b) for a, b in zip(train_losses, train_losses[1:])) > 1e-4, train_losses


@pytest.mark.parametrize("name", ["run", "checkpoint", "weights file"])
def test_init_from_a_pretraining_run_loads_every_encoder_tensor_and_nothing_else(pretraining_run: Path, name: str) -> None:
    path = {"run": pretraining_run, "checkpoint": pretraining_run / "checkpoints" / "last",
            "weights file": pretraining_run / "checkpoints" / "last" / "model.safetensors"}[name]
    recipe = load_recipe("vivit-mae-finetune", [*SYNTHETIC, *FINETUNE_SHAPE])
    config = recipe.model_config(num_classes=4, input_shape=(1, 28, 28, 28))
    torch.manual_seed(0)
    model = build_model(config)
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    from vivit.transfer.finetune import init_from_pretrained

    assert init_from_pretrained(model, path) == "vivit-pretrain"
    encoder = load_mae(pretraining_run).encoder.state_dict()
    loaded = model.state_dict()
    assert set(encoder) == {key for key in loaded if not key.startswith("head.")}  # every encoder tensor ...
    for key, tensor in encoder.items():
        assert torch.equal(loaded[key], tensor), key
    assert torch.equal(loaded["head.weight"], fresh["head.weight"])  # ... and nothing else: a fresh classifier


@pytest.mark.slow
def test_fine_tuning_from_a_pretraining_run_on_the_command_line(tmp_path: Path, pretraining_run: Path) -> None:
    code = main(["train", "--recipe", "vivit-mae-finetune", "--dataset", "synthetic-shapes", "data.options={num_samples: 32}",
                 "--epochs", "1", "--init", str(pretraining_run), *FINETUNE_SHAPE, "--out", str(tmp_path / "finetuned")])
    assert code == 0
    assert load_model(tmp_path / "finetuned").config.num_classes == 5  # synthetic-shapes' classes, a fresh head


@pytest.mark.slow
def test_fine_tuning_another_architecture_names_the_setting(pretraining_run: Path) -> None:
    recipe = load_recipe("vivit-mae-finetune", [*SYNTHETIC, *FINETUNE_SHAPE, "model.depth=3"])
    from vivit.transfer.finetune import init_from_pretrained

    with pytest.raises(ConfigError, match="fine-tune with model.depth=2"):
        init_from_pretrained(build_model(recipe.model_config(4, (1, 28, 28, 28))), pretraining_run)


@pytest.mark.slow
def test_a_pretraining_checkpoint_is_no_classifier(pretraining_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(CheckpointError, match="--init"):
        load_model(pretraining_run)
    assert main(["evaluate", str(pretraining_run), "--split", "val"]) == 2
    assert "fine-tune it with vivit train --init" in capsys.readouterr().err


@pytest.mark.parametrize(("command", "recipe", "advice"), [
    ("train", "vivit-mae-pretrain", "run it with vivit pretrain --recipe vivit-mae-pretrain"),
    ("pretrain", "vivit-medmnist", "run it with vivit train --recipe vivit-medmnist"),
])
def test_each_command_names_the_other_for_the_other_kind_of_recipe(
    command: str, recipe: str, advice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--recipe", recipe, "--dataset", "synthetic-shapes"]) == 2
    assert advice in capsys.readouterr().err


@pytest.mark.parametrize("variant", ["factorised_encoder", "factorised_self_attention", "factorised_dot_product"])
def test_random_masking_of_a_factorised_variant_is_refused_before_any_work(variant: str) -> None:
    with pytest.raises(ConfigError, match="use mae.masking=tube"):
        load_recipe("vivit-mae-pretrain", ["mae.masking=random", f"model.variant={variant}"])


@pytest.mark.parametrize(("override", "message"), [
    ("mae.mask_ratio=1.0", "mae.mask_ratio must be in \\[0, 1\\)"),
    ("mae.masking=block", "Unknown mae.masking 'block'"),
    ("mae.decoder_depth=0", "mae.decoder_depth must be at least 1"),
    ("mae.decoder_size=3", "Unknown key 'mae.decoder_size'"),
])
def test_every_mae_key_is_validated(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_recipe("vivit-mae-pretrain", [override])


def test_pretraining_on_several_datasets_joins_their_train_splits_and_reads_no_test_split(shared_data: Path) -> None:
    bundle = load_pretraining_bundle("organmnist3d+adrenalmnist3d", None, str(shared_data), {})
    assert set(bundle.splits) == {"train", "val"}
    assert len(bundle.splits["train"]) == 971 + 1188 and len(bundle.splits["val"]) == 161 + 98
    assert bundle.input_shape == (1, 28, 28, 28)


@pytest.fixture
def clip() -> Path:
    """A real clip of shared/video, which the video-folder tests copy into their folders."""
    from tests.conftest import SHARED

    path = SHARED / "video" / "unlabeled_test.mp4"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


def test_pretraining_on_a_video_folder_reads_every_video_but_the_held_out_ones(tmp_path: Path, clip: Path) -> None:
    for place in ("a.mp4", "nested/b.mp4", "val/c.mp4", "test/d.mp4"):
        (tmp_path / place).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(clip, tmp_path / place)
    bundle = load_pretraining_bundle(str(tmp_path), 32, None, {"num_frames": 4})
    assert set(bundle.splits) == {"train"}  # a folder has no val split: pretraining follows its train loss
    assert tuple(bundle.splits["train"].images.shape) == (2, 3, 4, 32, 32)


def test_an_unlabelled_folder_takes_the_frame_size_and_bad_file_options_of_a_labelled_one(tmp_path: Path, clip: Path) -> None:
    shutil.copy(clip, tmp_path / "good.mp4")
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.warns(UserWarning, match="bad.mp4"):
        bundle = load_pretraining_bundle(str(tmp_path), None, None, {"num_frames": 4, "size": [32, 48], "skip_bad": True})
    assert tuple(bundle.splits["train"].images.shape) == (1, 3, 4, 32, 48)


def test_an_average_of_the_weights_needs_a_val_split_to_reach_the_checkpoints(tmp_path: Path, clip: Path) -> None:
    shutil.copy(clip, tmp_path / "only.mp4")
    overrides = [f"data.dataset={tmp_path}", "data.options={num_frames: 4}", "data.size=32", "train.ema_decay=0.99",
                 *TINY, "model.tubelet_size=[2,8,8]"]
    with pytest.raises(ConfigError, match="train.ema_decay needs a val split"):
        train(load_recipe("vivit-mae-pretrain", overrides), tmp_path / "run")
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_pretraining_on_a_labelled_folder_leaves_unseen_the_videos_fine_tuning_tests_on(tmp_path: Path, clip: Path) -> None:
    from vivit.data.datasets import load_dataset

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for index in range(5):
            shutil.copy(clip, tmp_path / name / f"{index}.mp4")
    options = {"num_frames": 4}
    pretraining = load_pretraining_bundle(str(tmp_path), 32, None, options)
    fine_tuning = load_dataset(tmp_path, size=32, **options)
    assert set(pretraining.splits) == {"train", "val"}
    for split in ("train", "val"):
        assert len(pretraining.splits[split]) == len(fine_tuning.splits[split])
    assert len(fine_tuning.splits["test"]) == 2  # one per class, never decoded for pretraining


def test_samples_of_different_shapes_cannot_be_joined(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="samples of one shape"):
        load_pretraining_bundle("synthetic-shapes+synthetic-motion", None, None, {"num_samples": 4})


@pytest.mark.slow
def test_the_report_of_a_pretraining_run_shows_masked_input_reconstruction_and_original(pretraining_run: Path) -> None:
    from PIL import Image

    from vivit.reporting.build import build_report

    index = build_report(pretraining_run)
    page = index.read_text()
    assert "Reconstructions" in page and "val split" in page  # no test split: the val volumes
    gifs = sorted(index.parent.glob("reconstruction-*.gif"))
    assert len(gifs) == 8
    with Image.open(gifs[0]) as image:
        assert image.width == 3 * 112 + 2 * 4  # three 28^3 panels at 4x, white gaps between
