"""The troubleshooting guide quotes the errors users really meet, as the code words them today."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from vivit.cli.main import main

GUIDE = REPO_ROOT / "docs" / "guide" / "troubleshooting.md"
PRETRAINED = REPO_ROOT / "experiments" / "pretrained" / "vivit-mae-pretrain-union-seed42"  # a real pretraining's checkpoint

# (command line, a part of its one-line error that the guide quotes word for word)
MISTAKES = [
    (["train", "--dataset", "organmnist"], "Unknown dataset 'organmnist'; choose one of: organmnist3d, nodulemnist3d"),
    (["train", "optim.learning_rate=1"], "Unknown key 'optim.learning_rate'; valid keys of 'optim': betas, gamma, grad_clip, lr"),
    (["train", "learning_rate=1"], "Unknown or ambiguous key 'learning_rate'; write it as section.key, e.g. optim.lr or model.depth"),
    (["train", "lr"], "Override 'lr' must look like key=value, e.g. optim.lr=3e-4"),
    (["train", "--variant", "factorized_encoder"], "Unknown variant 'factorized_encoder'; choose one of: spatio_temporal, factorised_encoder"),
    (["train", "--variant", "factorised_self_attention", "model.pooling=cls"], "pooling 'cls' is not defined for variant 'factorised_self_attention'"),
    (["train", "model.embed_dim=200", "model.num_heads=6", "model.head_dim=null"], "embed_dim 200 is not divisible by num_heads 6; set head_dim explicitly"),
    (["train", "--variant", "factorised_dot_product", "model.num_heads=3", "model.head_dim=16"],
     "factorised_dot_product splits heads between space and time: num_heads must be even, got 3"),
    (["train", "--dataset", "synthetic-shapes", "--size", "4", "data.options={num_samples: 4}"],
     "input T=4 is smaller than the token extent 8 along T; use an input with T >= 8, a smaller tubelet_size, or padding='same'"),
    (["train", "--dataset", "{tmp}/clips"], "has no class folders; expected"),
    (["train", "--dataset", "synthetic-shapes", "data.options={num_samples: 4}", "--out", "{tmp}/done"], "already holds a run; resume it with --resume"),
    (["evaluate", "{tmp}/clips"], "is not a run directory (config.yaml is missing)"),
    (["predict", "{tmp}/clips", "x.npy"], "holds no checkpoint (model.safetensors + config.json, or checkpoints/best|last/); train a model first"),
    (["pretrain", "--variant", "factorised_encoder", "mae.masking=random", "--dataset", "synthetic-shapes", "--out", "{tmp}/mae"],
     "masking 'random' leaves a different number of tokens in each frame, which breaks the (time x space) grid that "
     "variant 'factorised_encoder' attends over; use mae.masking=tube"),
    (["pretrain", "mae.mask_ratio=1"], "mae.mask_ratio must be in [0, 1), got 1: a ratio of 1 leaves the encoder nothing to see"),
    (["train", "--recipe", "vivit-mae-finetune", "--dataset", "synthetic-shapes", "--init", str(PRETRAINED), "model.depth=2",
      "--out", "{tmp}/ft"], "was pretrained with model.depth=8 but the model to fine-tune has depth=2; fine-tune with model.depth=8"),
]


@pytest.mark.parametrize(("argv", "quoted"), MISTAKES, ids=[" ".join(argv[:3]) for argv, _ in MISTAKES])
def test_troubleshooting_quotes_the_error_the_command_prints(
    argv: list[str], quoted: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "done" / "checkpoints").mkdir(parents=True)
    assert main([arg.replace("{tmp}", str(tmp_path)) for arg in argv]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("vivit: error: ") and "\n" not in error, error
    assert quoted in error, error
    assert quoted in GUIDE.read_text(), f"docs/guide/troubleshooting.md no longer quotes: {quoted}"
