"""The documented commands the journey suite does not run, each with its reason.

Every other command of the README and the guide runs. A rule matches one step of a
command line (the parts joined by `&&`); a rule with `runs_when` runs its steps on a
machine where that holds (a GPU, say) and is skipped, with its reason, elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


def _cuda_devices() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@dataclass(frozen=True)
class SkipRule:
    name: str
    pattern: str  # a regular expression that must match the whole step (a shell command)
    reason: str
    runs_when: Callable[[], bool] | None = None
    python: bool = False  # a rule for Python blocks: the pattern is found anywhere in the block

    def matches(self, step: str, python: bool = False) -> bool:
        if python != self.python:
            return False
        return re.search(self.pattern, step) is not None if python else re.fullmatch(self.pattern, step) is not None


FRESH_MACHINE = SkipRule(
    "fresh-machine install",
    r"(python3 -m venv \S+|(\S+/)?pip install .+|git clone .+|cd vivit)",
    "installs vivit on a fresh machine; the suite runs with vivit installed, and CI installs from scratch in .ci/run",
)
TEST_SUITE = SkipRule(
    "the test suite",
    r"(VIVIT_DATA_DIR=\S+ )?(\S+/)?python -m pytest -rs",
    "runs this very test suite, which CI runs as .ci/run's last command",
)
TWO_GPUS = SkipRule(
    "two GPUs",
    r"vivit train --devices 2",
    "trains on 2 GPUs; runs on a machine with two CUDA devices",
    runs_when=lambda: _cuda_devices() >= 2,
)
A_GPU = SkipRule(
    "a GPU",
    r"""python -c "import torch; print\(torch.cuda.is_available\(\)\)\"""",
    "prints True on a machine with a CUDA GPU only; runs there",
    runs_when=lambda: _cuda_devices() >= 1,
)
DOWNLOADED_WEIGHTS = SkipRule(
    "downloaded weights",
    r"vivit train .*--init (vivit-b-16x2-kinetics400|vit_base_patch16_224\.safetensors) .*",
    "starts a base-size model from weights downloaded from the Hugging Face Hub or timm (network; hours on a CPU); "
    "tests/transfer/test_finetune.py initialises from small checkpoints of both kinds",
)
DOWNLOADED_HF_VIVIT = SkipRule(
    "a downloaded HF ViViT",
    r"load_hf_vivit\(\"vivit-b-16x2-kinetics400\"\)",
    "reads google/vivit-b-16x2-kinetics400 downloaded from the Hugging Face Hub (network); "
    "tests/transfer/test_hf_vivit.py checks load_hf_vivit against HF transformers' ViViT",
    python=True,
)
SKIP_RULES = (FRESH_MACHINE, TEST_SUITE, TWO_GPUS, A_GPU, DOWNLOADED_WEIGHTS, DOWNLOADED_HF_VIVIT)


def skip_rule_for(step: str, python: bool = False) -> SkipRule | None:
    """The rule that skips this step (a shell command, or a Python block) here, or None: it runs."""
    for rule in SKIP_RULES:
        if rule.matches(step, python):
            return None if rule.runs_when is not None and rule.runs_when() else rule
    return None
