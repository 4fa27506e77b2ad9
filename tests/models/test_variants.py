"""Every variant with every tokeniser: shapes, gradients, independence, resizing."""

from __future__ import annotations

import pytest
import torch

from vivit.models import POS_EMBEDDINGS, create_model
from vivit.models.layers.drop_path import DropPath

from .conftest import INPUT_SIZE, small_model


def test_forward_and_backward_on_non_cubic_input(variant: str, tokenizer: str) -> None:
    model = small_model(variant, tokenizer)
    video = torch.rand(3, 2, *INPUT_SIZE)
    logits = model(video)
    assert logits.shape == (3, 5)
    assert torch.isfinite(logits).all()
    logits.square().sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, f"{name} received no gradient"
        assert torch.isfinite(parameter.grad).all(), f"{name} has a non-finite gradient"
        assert parameter.grad.abs().sum() > 0, f"{name} has an all-zero gradient"


def test_a_sample_does_not_depend_on_the_rest_of_the_batch(variant: str, tokenizer: str) -> None:
    model = small_model(variant, tokenizer).eval()
    batch = torch.rand(4, 2, *INPUT_SIZE)
    other = batch.clone()
    other[1:] = torch.rand(3, 2, *INPUT_SIZE)
    with torch.no_grad():
        torch.testing.assert_close(model(batch)[0], model(other)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pos_embedding", POS_EMBEDDINGS)
def test_runs_at_a_size_other_than_the_one_it_was_built_for(variant: str, tokenizer: str, pos_embedding: str) -> None:
    model = small_model(variant, tokenizer, pos_embedding=pos_embedding).eval()
    with torch.no_grad():
        for size in [(12, 16, 8), (4, 8, 20)]:
            logits = model(torch.rand(2, 2, *size))
            assert logits.shape == (2, 5)
            assert torch.isfinite(logits).all()


def test_keras_seed_has_the_parameter_count_of_the_keras_model() -> None:
    model = create_model("keras-seed", num_classes=11)
    assert sum(p.numel() for p in model.parameters()) == 1_656_971
    assert model.num_tokens == 27


def test_drop_path_is_identity_in_eval_and_active_in_training(variant: str) -> None:
    model = small_model(variant, drop_path_rate=0.5, depth=3)
    video = torch.rand(4, 2, *INPUT_SIZE)
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(video), model(video))
        reference = model(video)
    model.train()
    torch.manual_seed(1)
    with torch.no_grad():
        trained = [model(video) for _ in range(3)]
    assert any(not torch.allclose(out, reference) for out in trained)


def test_every_residual_branch_has_stochastic_depth(variant: str) -> None:
    """Scenic's factorised self-attention forgot it; count the branches that honour the rate."""
    model = small_model(variant, drop_path_rate=0.3, depth=3, temporal_depth=2)
    branches_per_block = {"factorised_self_attention": 3}.get(variant, 2)
    blocks = 3 + (2 if variant == "factorised_encoder" else 0)
    drop_paths = [m for m in model.modules() if isinstance(m, DropPath)]
    assert len(drop_paths) == branches_per_block * blocks
    rates = [m.drop_prob for m in drop_paths]
    assert rates[0] == 0.0 and max(rates) == pytest.approx(0.3)


def test_models_import_nothing_but_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vivit.models; "
        "bad = [m for m in ('lightning', 'torchmetrics', 'av', 'pooch', 'yaml', 'safetensors') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_shared_base_is_not_a_model_of_its_own() -> None:
    from vivit.models import ViViTConfig
    from vivit.models.base import ViViT

    with pytest.raises(TypeError, match="abstract"):
        ViViT(ViViTConfig())
