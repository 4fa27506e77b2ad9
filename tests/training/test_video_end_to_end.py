"""A video model end to end through the command line, on the real clips of the shared folder:
train on a labelled folder, evaluate with one view and with 2x3 views, predict a file with
4x3 views, export, report."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from tests.data.test_video import SHARED_VIDEO, needs_real_clips
from vivit.cli.main import main

CLASS_SOURCES = {"arm_wrestling": "kinetics400_arm_wrestling_demo.mp4", "other": "unlabeled_test.mp4"}
COPIES, FRAMES, OFFSET_STEP = 4, 24, 40  # 4 copies per class, 24 frames each, starting 40 frames apart


def write_excerpt(source: Path, target: Path, first_frame: int) -> None:
    """FRAMES frames of `source` from `first_frame`, at 96 x 72, as H.264."""
    with av.open(str(source)) as reader, av.open(str(target), "w") as writer:
        stream = writer.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 96, 72, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for index, frame in enumerate(reader.decode(video=0)):
            if index >= first_frame + FRAMES:
                break
            if index >= first_frame:
                pixels = frame.to_ndarray(width=96, height=72, format="rgb24")  # a new frame: the source's timestamps stay behind
                writer.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        writer.mux(stream.encode())


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clips")
    for name, source in CLASS_SOURCES.items():
        (root / name).mkdir()
        for copy in range(COPIES):
            write_excerpt(SHARED_VIDEO / source, root / name / f"{name}{copy}.mp4", copy * OFFSET_STEP)
    return root


@needs_real_clips
def test_a_video_model_trains_evaluates_multi_view_predicts_exports_and_reports(clips, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIVIT_CACHE_DIR", str(tmp_path / "cache"))
    run = tmp_path / "run"
    assert main([
        "train", "--dataset", str(clips), "--model", "vivit-tiny-video", "--size", "32", "--epochs", "2",
        "--out", str(run), "data.options={num_frames: 4, short_side: 40}", "model.depth=1", "data.batch_size=4",
        "data.eval_clips=2", "data.eval_crops=3", "augment.flip_w=0.5", "augment.crop_prob=1", "augment.crop_scale=[0.5,1]",
    ]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["views"]["clips"] == 2 and metrics["views"]["crops"] == 3 and "test" in metrics["views"]
    config = json.loads(next((run / "checkpoints").glob("last-*/config.json")).read_text())
    assert config["preprocessing"]["short_side"] == 40 and config["views"] == [2, 3]
    capsys.readouterr()

    assert main(["evaluate", str(run), "--views", "2x3"]) == 0
    printed = capsys.readouterr().out
    assert "test metrics\n" in printed and "test metrics, 2x3 views (2 clips x 3 crops, probabilities averaged)" in printed
    views_document = json.loads((run / "evaluation" / "test-views.json").read_text())
    assert views_document["views"] == {"clips": 2, "crops": 3, "average": "probabilities"}

    assert main(["predict", str(run), str(clips / "other" / "other0.mp4"), "--views", "4x3", "--top-k", "2"]) == 0
    header, row = capsys.readouterr().out.strip().splitlines()
    assert header.split() == ["input", "top-1", "p", "top-2", "p"] and set(row.split()[1::2]) == set(CLASS_SOURCES)

    assert main(["export", str(run)]) == 0
    assert (run / "export" / "model.onnx").is_file()
    assert main(["report", str(run)]) == 0
    assert (run / "report" / "index.html").is_file()


def test_views_are_refused_for_a_volume_run_in_one_line(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", "--dataset", "synthetic-shapes", "--epochs", "1", "--out", str(run),
                 "data.options={num_samples: 8}", "data.eval_clips=4"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "synthetic-shapes, which is not a video folder: multi-view evaluation (4x1)" in err
