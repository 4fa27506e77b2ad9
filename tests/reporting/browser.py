"""Headless Chromium for the report tests, and a screenshot command for the docs:

    python -m tests.reporting.browser RUN_DIR/report/index.html docs/images/report.png

Playwright drives the system's Chromium (Debian: apt-get install chromium); it downloads
no browser of its own and the page is opened from file://, so nothing needs a network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CHROMIUM = os.environ.get("VIVIT_CHROMIUM", "/usr/bin/chromium")
# Headless and quiet: no GPU, no sandbox (containers), nothing that phones home.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


def launch(playwright):  # -> playwright Browser
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def screenshot(index: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(index.resolve().as_uri(), wait_until="load")
        page.screenshot(path=str(out), full_page=True)
        browser.close()


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]))
