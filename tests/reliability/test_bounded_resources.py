"""Bounded resources: a long full-HD clip or a large volume costs what the model's input
costs, not what the file holds; a batch that cannot fit is refused before training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.reliability.fuzzing import record
from vivit.checkpoints import publish, save_model
from vivit.errors import ConfigError
from vivit.models import create_model
from vivit.models.memory_estimate import estimate_bytes
from vivit.training.preflight import check_batch_fits

# glibc's adaptive mmap threshold lets freed blocks be reused without the process's memory
# growing, which hides allocations; a fixed threshold returns every large block to the
# system when freed, so the peak of anonymous memory is the peak of live memory.
MEASURING = {**os.environ, "OMP_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "65536"}
FRAMES_1080P = 240  # 10 s at 24 fps: 1.4 GiB as decoded RGB frames
CLIP_BOUND_MIB = 64  # anonymous memory a prediction may add: the clip decodes to 1.4 GiB
VOLUME_BOUND_MIB = 128  # the 16 MiB volume is read whole and converted to float (64 MiB) once


def write_clip(path: Path, frames: int, width: int, height: int) -> Path:
    """A clip of a bright square crossing a gradient, MPEG-4 Part 2 (fast to encode)."""
    import av

    gradient = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None].repeat(height, 0).repeat(3, 2)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.thread_type = "AUTO"
        for index in range(frames):
            image = gradient.copy()
            x = index * (width - 100) // frames
            image[height // 2 - 50 : height // 2 + 50, x : x + 100] = 255
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def peak_rss(checkpoint: Path, warmup: Path, target: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.reliability.peak_rss", str(checkpoint), str(warmup), str(target)],
        capture_output=True, text=True, timeout=600, env=MEASURING,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def checkpoint_of(tmp_path: Path, preset: str, **overrides) -> Path:
    model = create_model(preset, num_classes=3, **overrides)
    publish(tmp_path / "checkpoints", "last", "0001", lambda d: save_model(d, model, class_names=["a", "b", "c"]))
    return tmp_path


def test_predicting_a_long_1080p_clip_keeps_only_the_sampled_frames(tmp_path: Path) -> None:
    run = checkpoint_of(tmp_path, "vivit-tiny-video", input_size=(8, 64, 64), depth=2)
    clip = write_clip(tmp_path / "long-1080p.mp4", FRAMES_1080P, 1920, 1080)
    warmup = write_clip(tmp_path / "warmup.mp4", 8, 320, 240)
    measured = peak_rss(run, warmup, clip)
    added = measured["peak_mib"] - measured["before_mib"]
    decoded_whole = FRAMES_1080P * 1920 * 1080 * 3 / 2**20
    record("memory", "predict, 1080p clip", {
        "frames": FRAMES_1080P, "file_mib": round(clip.stat().st_size / 2**20, 1), "all_frames_decoded_mib": round(decoded_whole),
        "added_peak_mib": round(added, 1), "bound_mib": CLIP_BOUND_MIB, "seconds": round(measured["seconds"], 2),
    })
    assert added < CLIP_BOUND_MIB, measured


def test_predicting_a_large_volume_costs_the_model_input_not_the_volume(tmp_path: Path) -> None:
    run = checkpoint_of(tmp_path, "keras-seed")
    rng = np.random.default_rng(0)
    np.save(tmp_path / "warmup.npy", rng.integers(0, 256, (28, 28, 28), dtype=np.uint8))
    volume = tmp_path / "large.npy"
    np.save(volume, rng.integers(0, 256, (256, 256, 256), dtype=np.uint8))  # 16 MiB, 600k tokens at its own size
    measured = peak_rss(run, tmp_path / "warmup.npy", volume)
    added = measured["peak_mib"] - measured["before_mib"]
    record("memory", "predict, 256^3 uint8 volume", {
        "file_mib": round(volume.stat().st_size / 2**20, 1), "added_peak_mib": round(added, 1), "bound_mib": VOLUME_BOUND_MIB,
        "seconds": round(measured["seconds"], 2),
    })
    assert added < VOLUME_BOUND_MIB, measured


STACK_VOLUMES = 20_000  # 28^3 uint8 each: 419 MiB of pixels, in a 1 MiB deflated .npz
STACK_BOUND_MIB = 64  # what predicting the stack may cost above predicting one volume


# VmHWM, not ru_maxrss: a child's ru_maxrss keeps the peak of the process it was forked from
# before exec (pytest's, hundreds of MiB after a session's tests), VmHWM only its own.
PEAK_OF_ONE_COMMAND = """
import sys
from pathlib import Path
from vivit.cli.main import main
status = main(sys.argv[1:])
print(next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:")))
sys.exit(status)
"""


def cli_peak_rss_mib(*args: str) -> float:
    """Peak resident memory (VmHWM) of one `vivit` command, in MiB."""
    done = subprocess.run([sys.executable, "-c", PEAK_OF_ONE_COMMAND, *args], env=MEASURING, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1].split()[1]) / 1024


def test_predicting_a_stack_of_20000_volumes_reads_it_a_few_rows_at_a_time(tmp_path: Path) -> None:
    from tests.reliability.hostile import npz_stacking

    run = Path(__file__).resolve().parents[1] / "fixtures" / "run-0.1.0"
    stack = npz_stacking(tmp_path / "stack.npz", STACK_VOLUMES)
    np.save(tmp_path / "one.npy", np.zeros((28, 28, 28), np.uint8))
    one = cli_peak_rss_mib("predict", str(run), str(tmp_path / "one.npy"), "--out", str(tmp_path / "one.csv"))
    many = cli_peak_rss_mib("predict", str(run), str(stack), "--out", str(tmp_path / "stack.csv"))
    assert len((tmp_path / "stack.csv").read_text().splitlines()) == STACK_VOLUMES + 1
    record("memory", f"predict, .npz of {STACK_VOLUMES:,} volumes of 28^3", {
        "file_mib": round(stack.stat().st_size / 2**20, 1), "pixels_mib": round(STACK_VOLUMES * 28**3 / 2**20),
        "peak_rss_mib": round(many), "one_volume_peak_rss_mib": round(one), "bound_mib": STACK_BOUND_MIB,
    })
    assert many - one < STACK_BOUND_MIB, (one, many)


def test_a_batch_that_cannot_fit_is_refused_before_the_run_starts(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vivit.cli.main", "train", "--dataset", "synthetic-shapes", "data.options={num_samples: 48}",
         "data.batch_size=100000000", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "data.batch_size=100000000" in result.stderr and "lower data.batch_size to" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists(), "a refused run must leave nothing behind"
    record("memory", "pre-flight refusal", {"message": result.stderr.strip()})


def test_the_advised_batch_size_is_the_largest_that_fits() -> None:
    from vivit.training.recipe import load_recipe

    config = create_model("keras-seed", num_classes=11).config
    free = estimate_bytes(config, 300) + 1
    recipe = load_recipe("keras-seed", ["data.batch_size=1000"])
    with pytest.raises(ConfigError, match=r"lower data\.batch_size to 300$"):
        check_batch_fits(recipe, config, free=free, where="a test machine")
    check_batch_fits(load_recipe("keras-seed", ["data.batch_size=300", "data.eval_batch_size=300"]), config, free=free, where="x")


@pytest.mark.parametrize(("preset", "batch"), [("keras-seed", 128), ("vivit-tiny-28", 16)])
def test_the_memory_estimate_is_a_lower_bound_of_a_real_training_step(preset: str, batch: int) -> None:
    """If the estimate ever exceeded what a step takes, the pre-flight could refuse a run that fits."""
    code = f"""
import torch
from tests.reliability.anon_memory import AnonPeak
from vivit.models import create_model
torch.set_num_threads(1)
with AnonPeak() as memory:
    model = create_model({preset!r}, num_classes=11)
    optimizer = torch.optim.Adam(model.parameters())
    video = torch.rand({batch}, model.config.in_channels, *model.config.input_size)
    torch.nn.functional.cross_entropy(model(video), torch.zeros({batch}, dtype=torch.long)).backward()
    optimizer.step()
print(memory.peak - memory.before)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=MEASURING)
    assert result.returncode == 0, result.stderr[-2000:]
    config = create_model(preset, num_classes=11).config
    measured = int(result.stdout.strip().splitlines()[-1])  # weights, input, gradients, Adam moments, activations
    estimated = estimate_bytes(config, batch)
    record("memory", f"training step, {preset}, batch {batch}", {"estimate_mib": round(estimated / 2**20), "measured_mib": round(measured / 2**20)})
    assert estimated <= measured
