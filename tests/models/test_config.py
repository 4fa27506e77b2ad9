"""Every switch is validated; every mistake names the valid choices."""

from __future__ import annotations

import pytest

from vivit.models import VARIANTS, ViViTConfig, create_model, list_models


@pytest.mark.parametrize(
    ("switch", "value"),
    [("variant", "divided"), ("tokenizer", "patches"), ("pooling", "max"), ("pos_embedding", "rope"), ("padding", "full")],
)
def test_unknown_switch_names_the_valid_choices(switch: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"Unknown {switch} '{value}'; choose one of: "):
        ViViTConfig(**{switch: value})


def test_unknown_variant_lists_all_four() -> None:
    with pytest.raises(ValueError) as error:
        create_model("keras-seed", variant="timesformer")
    assert all(v in str(error.value) for v in VARIANTS)


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(ValueError, match="Unknown model preset 'vivit-huge'; choose one of: keras-seed"):
        create_model("vivit-huge")


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown model setting"):
        create_model("keras-seed", hidden_size=64)


@pytest.mark.parametrize("variant", ["factorised_self_attention", "factorised_dot_product"])
def test_cls_pooling_is_refused_where_there_is_no_place_for_a_class_token(variant: str) -> None:
    with pytest.raises(ValueError, match="use pooling='mean'"):
        ViViTConfig(variant=variant, pooling="cls")


@pytest.mark.parametrize(("setting", "value"), [("num_heads", 0), ("embed_dim", 0), ("head_dim", 0), ("head_dim", -8)])
def test_a_count_below_one_is_named_before_anything_divides_by_it(setting: str, value: int) -> None:
    # A checkpoint's config.json with num_heads 0 once crashed the check of embed_dim % num_heads.
    with pytest.raises(ValueError, match=rf"^{setting} must be at least 1"):
        ViViTConfig(**{setting: value})


@pytest.mark.parametrize(("setting", "value"), [("tubelet_size", (4, 4, 2**70)), ("embed_dim", 2**40), ("depth", -(2**64))])
def test_a_size_no_tensor_can_have_is_named(setting: str, value: object) -> None:
    # atheris found a config.json whose tubelet size overflowed int64 inside torch.
    with pytest.raises(ValueError, match=rf"^{setting} -?\d+ is larger than any tensor can be"):
        ViViTConfig(**{setting: value})


def test_config_round_trips_through_a_dict() -> None:
    config = create_model("vivit-tiny-video").config
    assert ViViTConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("name", [n for n in list_models() if n != "keras-seed"])
def test_every_preset_but_keras_seed_covers_every_voxel(name: str) -> None:
    config = create_model(name).config if name != "vivit-base-video" else None
    if config is None:  # too big to build in a unit test: check its numbers instead
        from vivit.models import preset_config

        config = preset_config(name)
    divides = all(n % p == 0 for n, p in zip(config.input_size, config.tubelet_size))
    assert config.padding == "same" or divides
    assert config.tokenizer == "tubelet" or config.frame_stride == 1
