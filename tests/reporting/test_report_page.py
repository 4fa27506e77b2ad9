"""`vivit report` as a reader meets it: one offline page, opened in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.reporting.browser import VIEWPORT
from vivit.cli.main import main

CAPTION = re.compile(r"^T: [^|]+ \| P: [^|()]+$")  # "T: liver | P: liver"


def build(run_dir: Path, *options: str) -> Path:
    assert main(["report", str(run_dir), *options]) == 0
    return run_dir / "report" / "index.html"


def section(html: str, anchor: str) -> str:
    return html.split(f'<section id="{anchor}">')[1].split("</section>")[0]


@pytest.mark.parametrize("run, samples", [("adrenal_run", 12), ("motion_run", 6)])
def test_report_opens_offline_with_every_image_loaded_and_every_sample_captioned(
    request: pytest.FixtureRequest, browser, artifacts_dir: Path, run: str, samples: int
) -> None:
    index = build(request.getfixturevalue(run), "--samples", str(samples))
    page = browser.new_page(viewport=VIEWPORT)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.on("request", lambda request: None if request.url.startswith(("file://", "data:")) else problems.append(request.url))
    page.goto(index.as_uri(), wait_until="load")

    images = page.evaluate("[...document.images].map(i => [i.getAttribute('src'), i.complete && i.naturalWidth])")
    assert len(images) >= samples + 3  # the samples, the curves, the confusion matrix, the ROC
    assert [src for src, width in images if not width] == []
    captions = page.locator("#predictions figure .caption").all_text_contents()
    assert len(captions) == samples
    assert all(CAPTION.match(text) for text in captions), captions
    assert page.locator("#attention figure img").count() == 4
    assert problems == []

    page.screenshot(path=str(artifacts_dir / f"report-{run.removesuffix('_run')}.png"), full_page=True)
    page.close()


def test_report_writes_only_the_gifs_it_shows_and_replaces_an_older_report(motion_run: Path) -> None:
    build(motion_run, "--samples", "7")
    build(motion_run, "--samples", "3")
    folder = motion_run / "report"
    assert len(list(folder.glob("sample-*.gif"))) == 3
    assert len(list(folder.glob("attention-*.gif"))) == 3
    assert {p.name for p in folder.glob("*.png")} == {"curves.png", "confusion.png", "roc.png"}


def test_errors_pick_shows_only_mistakes_marked_as_such(motion_run: Path) -> None:
    html = build(motion_run, "--pick", "errors", "--samples", "5").read_text()
    grid = section(html, "predictions")
    assert grid.count('<figure class="sample error"') == grid.count("<figure") > 0
    assert "most confident mistakes" in grid


def test_page_header_names_dataset_model_and_metrics(motion_run: Path) -> None:
    header = build(motion_run, "--samples", "2").read_text().split("</header>")[0]
    for expected in ("synthetic-motion", "vivit-tiny-video", "Model 4: factorised dot-product attention",
                     "parameters", "<th>accuracy</th>", "<td>test</td>"):
        assert expected in header


def test_report_of_a_folder_that_is_no_run_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not a run directory" in error


def test_predict_writes_a_captioned_gif_per_input(motion_run: Path, tmp_path: Path) -> None:
    clip = np.random.default_rng(0).integers(0, 255, (3, 8, 32, 32), dtype=np.uint8)
    np.save(tmp_path / "clip.npy", clip)
    assert main(["predict", str(motion_run), str(tmp_path / "clip.npy"), "--gif", str(tmp_path / "gifs")]) == 0
    from PIL import Image

    with Image.open(tmp_path / "gifs" / "clip.npy.gif") as gif:
        assert gif.n_frames == 8 and gif.width >= 128 and gif.height > 128  # 4x frames and a caption band


@pytest.fixture(scope="module")
def default_report(adrenal_run: Path) -> Path:
    return build(adrenal_run)  # 25 samples


@pytest.mark.parametrize("width", [800, 1400])
def test_the_prediction_grid_is_five_by_five_at_any_window_width(browser, default_report: Path, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(default_report.as_uri(), wait_until="load")
    boxes = page.locator("#predictions figure").evaluate_all(
        "figures => figures.map(f => { const r = f.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top)]; })"
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.close()
    assert len(boxes) == 25
    rows = sorted({top for _, top in boxes})
    assert len(rows) == 5 and all(sum(top == row for _, top in boxes) == 5 for row in rows)
    assert overflow <= 0


def test_report_captions_read_true_then_predicted_class(default_report: Path) -> None:
    from vivit.data.registry import get_medmnist_info

    names = "|".join(map(re.escape, get_medmnist_info("adrenalmnist3d").class_names))
    captions = re.findall(r'<span class="caption">(.*?)</span></figcaption>', section(default_report.read_text(), "predictions"))
    plain = [re.sub(r"<[^>]+>", "", caption) for caption in captions]
    assert len(plain) == 25 and all(re.fullmatch(rf"T: ({names}) \| P: ({names})", text) for text in plain), plain


def test_each_report_gif_starts_at_the_middle_slice_of_its_volume(default_report: Path) -> None:
    from PIL import Image

    from tests.conftest import SHARED_DATA
    from vivit.data.medmnist import load_medmnist

    volumes = load_medmnist("adrenalmnist3d", path=SHARED_DATA / "adrenalmnist3d.npz").splits["test"].images
    gifs = sorted(default_report.parent.glob("sample-*.gif"))
    assert len(gifs) == 25
    for path in gifs:
        volume = volumes[int(path.stem.removeprefix("sample-"))][0].numpy()  # (T, H, W)
        filled = np.flatnonzero(volume.reshape(len(volume), -1).max(axis=1) > 0)
        middle = volume[(filled[0] + filled[-1] + 1) // 2]  # the middle of the slices that show anything
        with Image.open(path) as gif:
            first = np.asarray(gif.convert("L"))
        scale = first.shape[0] // middle.shape[0]
        np.testing.assert_array_equal(first, middle.repeat(scale, axis=0).repeat(scale, axis=1), err_msg=path.name)
        assert first.any(), f"{path.name} starts on a black slice"
