"""Two small real runs, trained once per session: AdrenalMNIST3D volumes and synthetic videos.

The models are tiny (one layer each way, 32 wide) so that both train in seconds; the
variants differ (Model 2 with class tokens, Model 4) so the attention maps of both paths
reach the page.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.reporting.browser import CHROMIUM, launch
from vivit.cli.main import main

TINY_MODEL = [
    "model.depth=1", "model.temporal_depth=1", "model.embed_dim=32", "model.num_heads=2", "model.head_dim=16",
    "model.mlp_dim=64", "data.batch_size=64",
]


@pytest.fixture(scope="session")
def adrenal_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (SHARED_DATA / "adrenalmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    run_dir = tmp_path_factory.mktemp("report-runs") / "adrenal"
    code = main([
        "train", "--dataset", "adrenalmnist3d", "--data-dir", str(SHARED_DATA), "--epochs", "2",
        "--variant", "factorised_encoder", "model.pooling=cls", "--out", str(run_dir), *TINY_MODEL,
    ])
    assert code == 0
    return run_dir


@pytest.fixture(scope="session")
def motion_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("report-runs") / "motion"
    code = main([
        "train", "--dataset", "synthetic-motion", "--model", "vivit-tiny-video", "--variant", "factorised_dot_product",
        "--epochs", "2", "data.size=32", "data.options={num_samples: 16, num_frames: 8}", "model.tubelet_size=[2,8,8]",
        "--out", str(run_dir), *TINY_MODEL,
    ])
    assert code == 0
    return run_dir


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"chromium not found at {CHROMIUM}: apt-get install chromium (or set VIVIT_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # chromium is there, so the page can be checked: a missing driver is a setup error
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $VIVIT_ARTIFACTS_DIR (CI uploads it), else pytest's temporary folder."""
    folder = Path(os.environ.get("VIVIT_ARTIFACTS_DIR") or tmp_path_factory.mktemp("artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
