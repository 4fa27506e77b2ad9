"""Where the real data lives: `shared/` beside the repository (CI puts a copy there)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIVIT_SHARED_DIR", REPO_ROOT.parent / "shared"))
SHARED_DATA = SHARED / "data"


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "adrenalmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    return SHARED_DATA


# One suite, the same numbers on every CPU: `precision: auto` would pick bf16 autocast on a
# processor with bf16 instructions and fp32 on others. The bf16 path has its own tests.
os.environ.setdefault("VIVIT_CPU_BF16", "0")


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tests (and the CLI processes they start) keep their cache away from the user's."""
    folder = tmp_path_factory.mktemp("vivit-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIVIT_CACHE_DIR", str(folder))
        yield folder
