"""The tool as users run it: train, evaluate, predict, resume, and the errors they meet."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vivit.cli.main import main

SMALL_SYNTHETIC = ["--dataset", "synthetic-shapes", "data.options={num_samples: 48}", "data.batch_size=16"]


def vivit_cli(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vivit.cli.main", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, **kwargs
    )


def history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "history.csv") as handle:
        return [{k: v for k, v in row.items() if k != "epoch_seconds"} for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def adrenal_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import SHARED_DATA

    if not (SHARED_DATA / "adrenalmnist3d.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_DATA} (CI has them)")
    run_dir = tmp_path_factory.mktemp("runs") / "adrenal"
    code = main(["train", "--dataset", "adrenalmnist3d", "--epochs", "2", "--data-dir", str(SHARED_DATA), "--out", str(run_dir)])
    assert code == 0
    return run_dir


def test_training_writes_a_complete_run_directory(adrenal_run: Path) -> None:
    for path in ["config.yaml", "history.csv", "metrics.json", "checkpoints/last/model.safetensors",
                 "checkpoints/last/config.json", "checkpoints/last/trainer_state.ckpt", "evaluation/test.json"]:
        assert (adrenal_run / path).exists(), path
    assert [row["epoch"] for row in history(adrenal_run)] == ["1", "2"]
    metrics = json.loads((adrenal_run / "metrics.json").read_text())
    for split in ("val", "test"):
        assert set(metrics[split]) == {"accuracy", "auc", "loss"}  # binary: no top-5
        assert 0.0 <= metrics[split]["accuracy"] <= 1.0


def test_evaluate_prints_a_table_and_writes_json(adrenal_run: Path, capsys: pytest.CaptureFixture) -> None:
    from tests.conftest import SHARED_DATA

    assert main(["evaluate", str(adrenal_run), "--split", "test", "--data-dir", str(SHARED_DATA)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "hyperplasia" in out
    document = json.loads((adrenal_run / "evaluation" / "test.json").read_text())
    recorded = json.loads((adrenal_run / "metrics.json").read_text())["test"]
    assert document["accuracy"] == pytest.approx(recorded["accuracy"])
    assert np.array(document["confusion_matrix"]).sum() == 298


def test_evaluate_rewrites_the_evaluation_training_wrote_byte_for_byte(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert main(["train", *SMALL_SYNTHETIC, "--epochs", "1", "--out", str(run_dir)]) == 0
    written_by_training = {split: (run_dir / "evaluation" / f"{split}.json").read_bytes() for split in ("val", "test")}
    for split in ("val", "test"):
        assert main(["evaluate", str(run_dir), "--split", split, "--json", str(tmp_path / f"{split}.json")]) == 0
        assert (run_dir / "evaluation" / f"{split}.json").read_bytes() == written_by_training[split]
        assert (tmp_path / f"{split}.json").read_bytes() == written_by_training[split]
    document = json.loads(written_by_training["test"])
    assert list(document)[:4] == ["checkpoint", "epoch", "split", "class_names"]
    assert (document["checkpoint"], document["epoch"], document["split"]) == ("last", 1, "test")
    assert {"accuracy", "auc", "loss", "per_class_accuracy", "confusion_matrix"} <= set(document)


def test_predict_names_classes_for_a_volume_and_a_stack(adrenal_run: Path, tmp_path: Path, capsys) -> None:
    from tests.conftest import SHARED_DATA

    images = np.load(SHARED_DATA / "adrenalmnist3d.npz")["test_images"][:3]
    np.save(tmp_path / "one.npy", images[0])
    np.save(tmp_path / "stack.npy", images.astype(np.float32) / 255)
    assert main(["predict", str(adrenal_run), str(tmp_path / "one.npy"), str(tmp_path / "stack.npy"), "--json"]) == 0
    predictions = json.loads(capsys.readouterr().out)
    one, stack = tmp_path / "one.npy", tmp_path / "stack.npy"
    assert [p["input"] for p in predictions] == [str(one), f"{stack}[0]", f"{stack}[1]", f"{stack}[2]"]
    assert {c["class"] for c in predictions[0]["top"]} == {"normal", "hyperplasia"}
    assert sum(c["probability"] for c in predictions[0]["top"]) == pytest.approx(1.0, abs=1e-5)
    # The same volume as uint8 and as float in [0, 1] gets the same answer.
    as_uint8, as_float = ({c["class"]: c["probability"] for c in p["top"]} for p in predictions[:2])
    assert as_uint8 == pytest.approx(as_float, abs=1e-6)


def test_resuming_a_finished_run_changes_nothing(adrenal_run: Path) -> None:
    from tests.conftest import SHARED_DATA

    before = json.loads((adrenal_run / "metrics.json").read_text())
    assert main(["train", "--resume", str(adrenal_run), "--data-dir", str(SHARED_DATA)]) == 0
    assert json.loads((adrenal_run / "metrics.json").read_text()) == before
    assert len(history(adrenal_run)) == 2


def test_a_run_killed_mid_training_resumes_to_the_same_metrics(tmp_path: Path) -> None:
    """kill -9 after the first checkpoint; dropout and drop path on, so every RNG matters."""
    args = ["train", *SMALL_SYNTHETIC, "--epochs", "3", "model.dropout=0.1", "model.drop_path_rate=0.2"]
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    process = subprocess.Popen([sys.executable, "-m", "vivit.cli.main", *args, "--out", str(killed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / "checkpoints" / "last-0001").exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "metrics.json").exists(), "the run finished before it could be killed"
    assert vivit_cli("train", "--resume", str(killed)).returncode == 0
    assert vivit_cli(*args, "--out", str(whole)).returncode == 0
    assert history(killed) == history(whole)
    assert json.loads((killed / "metrics.json").read_text()) == json.loads((whole / "metrics.json").read_text())


@pytest.mark.parametrize("select", ["val/loss", "val/accuracy"])
def test_best_checkpoint_holds_the_weights_of_the_epoch_the_rule_picks(tmp_path: Path, select: str) -> None:
    from vivit.training.selection import best_epoch

    run_dir = tmp_path / "run"
    assert main(["train", *SMALL_SYNTHETIC, "--epochs", "4", f"train.select={select}", "optim.lr=3e-3", "--out", str(run_dir)]) == 0
    rows = history(run_dir)
    picked = best_epoch(select, [{k: float(v) for k, v in r.items() if v} for r in rows])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["checkpoint"] == "best" and metrics["epoch"] == picked
    # Evaluating the saved best weights again gives that epoch's validation loss.
    assert metrics["val"]["loss"] == pytest.approx(float(rows[picked - 1]["val/loss"]), rel=1e-4)


def test_training_over_an_existing_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "checkpoints").mkdir()
    result = vivit_cli("train", *SMALL_SYNTHETIC, "--epochs", "1", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "already holds a run; resume it with --resume" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--recipe", "nope"], "Unknown recipe 'nope'"),
        (["train", "optim.lrr=1"], "Unknown key 'optim.lrr'"),
        (["train", "--dataset", "cifar10"], "Unknown dataset 'cifar10'"),
        (["train", "--model", "vivit-huge"], "Unknown model preset 'vivit-huge'"),
        (["train", "--variant", "divided"], "Unknown variant 'divided'"),
        (["evaluate", "."], "is not a run directory"),
        (["predict", ".", "x.npy"], "holds no checkpoint"),
    ],
)
def test_expected_mistakes_end_with_one_line_and_no_traceback(args: list[str], message: str) -> None:
    result = vivit_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_data_without_network_says_where_to_put_the_file(tmp_path: Path, monkeypatch) -> None:
    import pooch
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("no network")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(Exception) as error:
        from vivit.training.recipe import load_recipe
        from vivit.training.run import train

        train(load_recipe("keras-seed", [f"data.data_dir={tmp_path}"]), tmp_path / "run")
    assert str(tmp_path / "organmnist3d.npz") in str(error.value)
    assert not (tmp_path / "run").exists(), "a data error must not leave an empty run directory"


def test_with_ema_the_checkpoint_holds_the_averaged_weights_that_were_validated(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    args = ["train", *SMALL_SYNTHETIC, "--epochs", "2", "train.ema_decay=0.5", "optim.lr=3e-3", "--out", str(run_dir)]
    assert main(args) == 0
    validated = float(history(run_dir)[-1]["val/loss"])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["val"]["loss"] == pytest.approx(validated, rel=1e-4)


def test_training_options_work_together(tmp_path: Path) -> None:
    """AdamW, cosine with warm-up, label smoothing, clipping, augmentation, mixup: one epoch runs."""
    args = ["train", *SMALL_SYNTHETIC, "--epochs", "2", "--variant", "factorised_encoder", "optim.optimizer=adamw",
            "optim.weight_decay=0.05", "optim.schedule=cosine", "optim.warmup_epochs=1", "train.label_smoothing=0.1",
            "optim.grad_clip=1.0", "augment.flip_h=0.5", "augment.mixup_alpha=0.2", "augment.noise_std=0.02",
            "--out", str(tmp_path / "run")]
    assert main(args) == 0
    lrs = [float(r["lr"]) for r in history(tmp_path / "run")]
    assert lrs[0] > lrs[1]  # cosine decays after the warm-up epoch


def test_predict_on_a_real_video_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from tests.conftest import SHARED

    clip = SHARED / "video" / "unlabeled_test.avi"
    if not clip.exists():
        pytest.skip(f"real clip {clip} not found (CI has it)")
    from vivit.checkpoints import publish, save_model
    from vivit.models import create_model

    model = create_model("vivit-tiny-video", num_classes=3, input_size=(8, 64, 64), depth=2)
    publish(tmp_path / "checkpoints", "last", "0001", lambda d: save_model(d, model, class_names=["run", "jump", "sit"]))
    assert main(["predict", str(tmp_path), str(clip), "--top-k", "2", "--json"]) == 0
    (prediction,) = json.loads(capsys.readouterr().out)
    assert prediction["input"] == str(clip)
    assert len(prediction["top"]) == 2 and {c["class"] for c in prediction["top"]} <= {"run", "jump", "sit"}
