"""Recipes: the shipped ones say what the issue says; overrides reach every key."""

from __future__ import annotations


import pytest

from vivit.training.recipe import apply_overrides, build_recipe, load_recipe, shipped_recipes
from vivit.training.schedules import lr_multiplier


def test_keras_seed_recipe_is_the_keras_example() -> None:
    recipe = load_recipe("keras-seed")
    assert recipe.data.dataset == "organmnist3d" and recipe.data.batch_size == 32
    assert recipe.model == {"preset": "keras-seed"}
    assert (recipe.optim.optimizer, recipe.optim.lr, recipe.optim.weight_decay) == ("adam", 1e-4, 0.0)
    assert recipe.optim.schedule == "constant"
    assert (recipe.train.epochs, recipe.train.seed, recipe.train.select) == (60, 42, "last")
    assert recipe.augment == {}


def test_medmnist_protocol_divides_the_lr_by_ten_at_half_and_three_quarters() -> None:
    recipe = load_recipe("medmnist-protocol")
    assert (recipe.train.epochs, recipe.optim.lr, recipe.data.batch_size) == (100, 1e-3, 32)
    assert recipe.train.select == "val/auc"
    factor = lr_multiplier(recipe.optim, steps_per_epoch=10, epochs=100)
    assert [factor(s) for s in (0, 499, 500, 749, 750, 999)] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])


def test_cosine_schedule_warms_up_linearly_then_decays_to_min_lr() -> None:
    recipe = load_recipe("keras-seed", ["optim.schedule=cosine", "optim.warmup_epochs=1", "optim.min_lr=1e-6"])
    factor = lr_multiplier(recipe.optim, steps_per_epoch=10, epochs=10)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(99) * recipe.optim.lr == pytest.approx(1e-6, rel=0.05)


def test_every_shipped_recipe_loads() -> None:
    assert {"keras-seed", "medmnist-protocol"} <= set(shipped_recipes())
    for name in shipped_recipes():
        load_recipe(name)


def test_overrides_reach_dotted_and_bare_keys() -> None:
    recipe = load_recipe("keras-seed", ["optim.lr=3e-4", "depth=4", "variant=factorised_encoder", "augment.flip_h=0.5"])
    assert recipe.optim.lr == 3e-4
    assert recipe.model["depth"] == 4 and recipe.model["variant"] == "factorised_encoder"
    assert recipe.augment == {"flip_h": 0.5}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("optim.lrr=1", "Unknown key 'optim.lrr'"),
        ("model.hidden=3", "Unknown model setting"),
        ("variant=timesformer", "Unknown variant 'timesformer'"),
        ("preset=vivit-huge", "Unknown model preset 'vivit-huge'"),
        ("optim.schedule=linear", "Unknown optim.schedule 'linear'"),
        ("augment.flip_x=1", "flip_x"),
        ("lr", "must look like key=value"),
    ],
)
def test_bad_overrides_name_the_key(override: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_recipe("keras-seed", [override])


def test_unknown_recipe_lists_the_shipped_ones() -> None:
    with pytest.raises(ValueError, match="Unknown recipe 'nope'; choose one of: keras-seed"):
        load_recipe("nope")


def test_recipe_round_trips_through_its_dict() -> None:
    recipe = load_recipe("medmnist-protocol", ["train.ema_decay=0.999"])
    assert build_recipe(recipe.to_dict()) == recipe
    assert apply_overrides(recipe.to_dict(), []) == recipe.to_dict()


@pytest.mark.parametrize("flags, expected", [
    ({"avx2", "fma", "avx512f"}, "32-true"),  # bf16 emulated: many times slower than fp32
    ({"avx2", "avx512f", "avx512_bf16"}, "bf16-mixed"),
    ({"avx2", "amx_bf16", "amx_tile"}, "bf16-mixed"),
    (set(), "32-true"),  # no /proc/cpuinfo
])
def test_precision_auto_on_a_cpu_follows_its_bf16_instructions(flags: set, expected: str, monkeypatch) -> None:
    import torch

    from vivit import hardware

    monkeypatch.delenv(hardware.FAST_BF16_ENV, raising=False)
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    recipe = load_recipe("keras-seed")
    assert recipe.train.precision == "auto" and recipe.resolved_precision() == expected
    assert load_recipe("keras-seed", ["train.precision=32-true"]).resolved_precision() == "32-true"


def test_the_bf16_detection_can_be_forced_either_way(monkeypatch) -> None:
    from vivit import hardware

    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    monkeypatch.setenv(hardware.FAST_BF16_ENV, "0")
    assert not hardware.cpu_has_fast_bf16()
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset())
    monkeypatch.setenv(hardware.FAST_BF16_ENV, "1")
    assert hardware.cpu_has_fast_bf16()


def test_the_cpu_flags_are_read_from_proc_cpuinfo(tmp_path, monkeypatch) -> None:
    from vivit import hardware

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\n")
    monkeypatch.setattr(hardware, "CPUINFO", cpuinfo)
    hardware.cpu_flags.cache_clear()
    try:
        assert hardware.cpu_flags() == {"fpu", "avx2", "avx512_bf16"} and hardware.cpu_model() == "AMD EPYC"
    finally:
        hardware.cpu_flags.cache_clear()


def test_limit_train_batches_trains_on_that_many_batches_per_epoch(tmp_path) -> None:
    import lightning.pytorch as pl

    from vivit.training.run import train

    seen: list[int] = []

    class CountBatches(pl.Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
            seen.append(batch_idx)

    tiny = ["model.depth=1", "model.embed_dim=32", "model.num_heads=2", "model.head_dim=16", "model.mlp_dim=64"]
    # 48 training samples in batches of 16 would be 3 batches an epoch.
    recipe = load_recipe(
        "keras-seed",
        ["data.dataset=synthetic-shapes", "data.options={num_samples: 48}", "data.batch_size=16", "train.epochs=2",
         "train.limit_train_batches=1", *tiny],
    )
    train(recipe, tmp_path / "run", extra_callbacks=[CountBatches()])
    assert seen == [0, 0]


def test_limit_train_batches_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="train.limit_train_batches must be at least 1"):
        load_recipe("keras-seed", ["train.limit_train_batches=0"])


def test_a_warm_up_as_long_as_the_run_is_one_warning_line(capsys: pytest.CaptureFixture[str]) -> None:
    load_recipe("vivit-medmnist", ["train.epochs=2"])  # what `--recipe vivit-medmnist --epochs 2` loads
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("vivit: warning: optim.warmup_epochs (5) >= train.epochs (2): the whole run stays in warm-up")


def test_a_warm_up_shorter_than_the_run_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    load_recipe("vivit-medmnist", ["train.epochs=6"])
    load_recipe("keras-seed", ["train.epochs=1"])  # no warm-up at all
    assert capsys.readouterr().err == ""


def test_train_threads_sets_the_kernel_threads_of_the_run(tmp_path) -> None:
    from tests.training.test_end_to_end import SMALL_SYNTHETIC, vivit_cli

    result = vivit_cli("train", *SMALL_SYNTHETIC, "--epochs", "1", "train.threads=1", "--out", str(tmp_path / "run"),
                       env={"OMP_NUM_THREADS": "2"})  # what the setting overrides
    assert result.returncode == 0, result.stderr
    assert ", 1 thread)" in result.stdout  # the banner names the threads the run uses

