"""Specification of multi-view prediction and of the preprocessing record a video model carries:
`vivit predict --views TxC` averages the views' probabilities, an exported model's metadata
reads a file exactly as `vivit predict` does, and a volume model refuses views in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from tests.data.test_video import write_clip
from vivit.checkpoints import load_model, save_model
from vivit.cli.main import main
from vivit.data.video import decode_clip, decode_preprocessed
from vivit.data.video_preprocessing import VideoPreprocessing
from vivit.evaluation.view_average import average_views
from vivit.evaluation.views import evaluate_views
from vivit.models import create_model

CLASSES = ["left", "right", "still"]
# Dense clips 3 frames apart, short side to 40 then 32x32 crops: not what the model's input
# size alone would give (uniform, short side 32), so parity needs the record.
PREPROCESSING = VideoPreprocessing(num_frames=4, size=(32, 32), sampling="dense", stride=3, short_side=40)


def video_checkpoint(directory: Path, preprocessing: VideoPreprocessing | None = PREPROCESSING) -> Path:
    torch.manual_seed(0)
    model = create_model("vivit-tiny-video", num_classes=3, input_size=(4, 32, 32), depth=1, tubelet_size=(2, 8, 8))
    record = {"preprocessing": preprocessing.to_dict(), "views": [1, 1]} if preprocessing else {}
    save_model(directory, model, class_names=CLASSES, **record)
    return directory


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clips") / "ramp.mp4", 40, size=(48, 80), gradient=True)


def predicted(capsys, *argv: str) -> list[dict]:
    assert main(["predict", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_predict_with_views_prints_the_mean_probability_of_the_views(tmp_path, clip, capsys):
    run = video_checkpoint(tmp_path / "checkpoint")
    (row,) = predicted(capsys, str(run), str(clip), "--views", "4x3")
    model = load_model(run)
    views = PREPROCESSING.normalise(torch.from_numpy(decode_preprocessed(clip, PREPROCESSING, 4, 3)))  # (12, 3, 4, 32, 32)
    with torch.no_grad():
        expected = model(views).softmax(dim=-1).mean(dim=0)
    assert [entry["class"] for entry in row["top"]] == [CLASSES[i] for i in expected.argsort(descending=True)]
    np.testing.assert_allclose([entry["probability"] for entry in row["top"]], expected.sort(descending=True).values, atol=1e-5)


def test_predict_with_views_prints_a_table_of_the_averaged_top_k(tmp_path, clip, capsys):
    run = video_checkpoint(tmp_path / "checkpoint")
    assert main(["predict", str(run), str(clip), "--views", "4x3", "--top-k", "2"]) == 0
    header, line = capsys.readouterr().out.strip().splitlines()
    assert header.split() == ["input", "top-1", "p", "top-2", "p"] and line.split()[0].endswith("ramp.mp4")


def test_averaging_identical_views_equals_a_single_view():
    torch.manual_seed(0)
    model = create_model("vivit-tiny-video", num_classes=3, input_size=(4, 32, 32), depth=1, tubelet_size=(2, 8, 8)).eval()
    clip = torch.rand(2, 3, 4, 32, 32)
    with torch.no_grad():
        single = model(clip).softmax(dim=-1)
        averaged = average_views(model, clip[:, None].expand(2, 12, 3, 4, 32, 32)).softmax(dim=-1)
    torch.testing.assert_close(averaged, single, atol=1e-6, rtol=1e-5)


def test_evaluating_twelve_identical_views_gives_the_single_view_figures(clip):
    torch.manual_seed(0)
    model = create_model("vivit-tiny-video", num_classes=3, input_size=(4, 32, 32), depth=1, tubelet_size=(2, 8, 8))
    single = decode_preprocessed(clip, PREPROCESSING)  # (1, 3, 4, 32, 32)
    labels = torch.tensor([0, 1, 2])
    one = evaluate_views(model, [single] * 3, labels, 3, PREPROCESSING)
    twelve = evaluate_views(model, [single.repeat(12, axis=0)] * 3, labels, 3, PREPROCESSING, batch_size=5)
    assert twelve["loss"] == pytest.approx(one["loss"], abs=1e-6) and twelve["accuracy"] == one["accuracy"]


def test_a_model_trained_on_16_frame_clips_at_112_evaluates_at_3_crops(tmp_path):
    wide = write_clip(tmp_path / "wide.mp4", 60, size=(120, 200), gradient=True)
    torch.manual_seed(0)
    model = create_model("vivit-tiny-video", num_classes=2, depth=1)
    assert model.config.input_size == (16, 112, 112)
    preprocessing = VideoPreprocessing(num_frames=16, size=(112, 112), short_side=128)
    views = decode_preprocessed(wide, preprocessing, 2, 3)
    assert views.shape == (6, 3, 16, 112, 112)
    metrics = evaluate_views(model, [views, views], torch.tensor([0, 1]), 2, preprocessing, batch_size=4)
    assert 0 <= metrics["accuracy"] <= 1 and np.isfinite(metrics["loss"])


def test_onnx_on_a_decoded_clip_equals_vivit_predict_on_the_file(tmp_path, clip, capsys):
    run = video_checkpoint(tmp_path / "checkpoint")
    onnx_file = tmp_path / "model.onnx"
    assert main(["export", str(run), "--out", str(onnx_file)]) == 0
    capsys.readouterr()
    (row,) = predicted(capsys, str(run), str(clip))

    # A server with the file alone: read the record, decode, scale, normalise, run.
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    record = json.loads(session.get_modelmeta().custom_metadata_map["preprocessing"])
    pixels = decode_clip(clip, record["num_frames"], tuple(record["size"]), record["sampling"], record["stride"],
                         short_side=record["short_side"])
    video = (pixels.astype(np.float32) / 255 - np.array(record["mean"], np.float32)[:, None, None, None]) / np.array(
        record["std"], np.float32)[:, None, None, None]
    (logits,) = session.run(None, {"video": video[None]})
    probabilities = torch.from_numpy(logits[0]).softmax(dim=-1)
    names = json.loads(session.get_modelmeta().custom_metadata_map["class_names"])
    served = sorted(zip(names, probabilities.tolist()), key=lambda pair: -pair[1])
    assert [entry["class"] for entry in row["top"]] == [name for name, _ in served]
    np.testing.assert_allclose([entry["probability"] for entry in row["top"]], [p for _, p in served], atol=1e-5)


def test_a_checkpoint_without_a_record_reads_videos_as_before(tmp_path, clip, capsys):
    run = video_checkpoint(tmp_path / "checkpoint", preprocessing=None)
    (row,) = predicted(capsys, str(run), str(clip))
    model = load_model(run)
    with torch.no_grad():
        expected = model(torch.from_numpy(decode_clip(clip, 4, (32, 32)))[None].float() / 255).softmax(dim=-1)[0]
    assert row["top"][0]["probability"] == pytest.approx(float(expected.max()), abs=1e-5)


@pytest.mark.parametrize("views", ["4x2", "0x3", "4", "fourxthree"])
def test_a_views_setting_that_is_not_t_by_1_or_3_is_one_line(tmp_path, clip, capsys, views):
    run = video_checkpoint(tmp_path / "checkpoint")
    assert main(["predict", str(run), str(clip), "--views", views]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--views {views}: give TxC" in err


def test_views_are_refused_for_a_volume_model(tmp_path, capsys):
    model = create_model("keras-seed", num_classes=2)
    save_model(tmp_path / "checkpoint", model, class_names=["a", "b"])
    np.save(tmp_path / "volume.npy", np.zeros((28, 28, 28), np.uint8))
    assert main(["predict", str(tmp_path / "checkpoint"), str(tmp_path / "volume.npy"), "--views", "4x3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "1-channel volumes; --views averages clips and crops of videos" in err
