"""Coverage-guided fuzzing (atheris / libFuzzer) of every reader of user files.

The first byte of an input picks the reader, the rest is the file: a .npy, a .npz, a
video (.mp4/.avi/.mkv), a recipe or a search-space YAML, a checkpoint's config.json or
model.safetensors, a NIfTI. A reader must return, or raise a VivitError whose message
is one line naming the file; anything else (another exception, a hang past -timeout,
memory past -rss_limit_mb) is a crash that libFuzzer reports and saves.

    python fuzz/inputs.py -max_total_time=60                  # what CI runs (for 30 s)
    python fuzz/inputs.py -max_total_time=3600 -jobs=2 corpus/  # a longer run, corpus kept

With no corpus folder given, it starts from valid seed files written to a temporary one.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import atheris  # noqa: E402 - after the thread setting

with atheris.instrument_imports(include=["vivit"]):
    from vivit.checkpoints import CONFIG, WEIGHTS, load_model, save_model
    from vivit.errors import VivitError
    from vivit.inference.inputs import read_inputs
    from vivit.models import ViViTConfig, build_model
    from vivit.sweeps.space import load_space
    from vivit.training.recipe import load_recipe

import numpy as np  # noqa: E402

VOLUME = ViViTConfig(num_classes=3, input_size=(8, 8, 8), tubelet_size=(4, 4, 4), embed_dim=16, depth=1, num_heads=2, mlp_dim=16)
VIDEO = VOLUME.replace(in_channels=3, input_size=(4, 16, 16))
READERS = ("volume.npy", "stack.npz", "clip.mp4", "clip.avi", "clip.mkv", "recipe.yaml", "space.yaml", CONFIG, WEIGHTS, "scan.nii")
WORK = Path(tempfile.mkdtemp(prefix="vivit-fuzz-"))
REFERENCE = WORK / "reference"


def read(name: str, path: Path) -> object:
    if name.endswith((".npy", ".npz", ".nii")):
        return read_inputs(path, VOLUME)
    if name.startswith("clip"):
        return read_inputs(path, VIDEO)
    if name == "recipe.yaml":
        return load_recipe(str(path))
    if name == "space.yaml":
        return load_space(path)
    # One file of a checkpoint is fuzzed, the other stays valid.
    other = WEIGHTS if name == CONFIG else CONFIG
    (path.parent / other).write_bytes((REFERENCE / other).read_bytes())
    return load_model(path.parent)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    name = READERS[data[0] % len(READERS)]
    folder = WORK / "case"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data[1:])
    try:
        read(name, path)
    except VivitError as error:
        message = str(error)
        if "\n" in message or path.name not in message and folder.name not in message:
            raise AssertionError(f"{name}: error is not one line naming the file: {message!r}") from None
    finally:
        for child in folder.iterdir():
            child.unlink()


def write_seeds(corpus: Path) -> None:
    """One valid file per reader, prefixed by its reader byte, as libFuzzer's starting corpus."""
    import yaml

    import torch

    REFERENCE.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)  # the same starting corpus on every run, so a -seed replays the same mutations
    save_model(REFERENCE, build_model(VOLUME), class_names=["a", "b", "c"])
    rng = np.random.default_rng(0)
    npy = io.BytesIO()
    np.save(npy, rng.integers(0, 256, (8, 8, 8), dtype=np.uint8))
    npz = io.BytesIO()
    np.savez_compressed(npz, a=rng.random((2, 8, 8, 8), dtype=np.float32))
    seeds = {
        "volume.npy": npy.getvalue(),
        "stack.npz": npz.getvalue(),
        "recipe.yaml": yaml.safe_dump({"data": {"dataset": "synthetic-shapes", "batch_size": 4}, "train": {"epochs": 1}}).encode(),
        "space.yaml": yaml.safe_dump({"optim.lr": {"type": "float", "low": 1e-5, "high": 1e-3, "log": True}}).encode(),
        CONFIG: (REFERENCE / CONFIG).read_bytes(),
        WEIGHTS: (REFERENCE / WEIGHTS).read_bytes(),
        "scan.nii": _nifti(rng),
    }
    for suffix in ("mp4", "avi", "mkv"):
        seeds[f"clip.{suffix}"] = _video(suffix)
    for name, content in seeds.items():
        (corpus / name).write_bytes(bytes([READERS.index(name)]) + content)


def _video(suffix: str) -> bytes:
    import av

    path = WORK / f"seed.{suffix}"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=8)
        stream.width, stream.height, stream.pix_fmt = 32, 24, "yuv420p"
        for index in range(6):
            image = np.full((24, 32, 3), index * 40, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path.read_bytes()


def _nifti(rng: np.random.Generator) -> bytes:
    try:
        import nibabel
    except ImportError:
        return b""
    path = WORK / "seed.nii"
    nibabel.save(nibabel.Nifti1Image(rng.random((6, 7, 8)).astype(np.float32), affine=np.eye(4)), str(path))
    return path.read_bytes()


def main() -> None:
    args = list(sys.argv)
    if not any(not a.startswith("-") for a in args[1:]):  # no corpus folder: seed a temporary one
        corpus = WORK / "corpus"
        corpus.mkdir()
        args.append(str(corpus))
    target = Path([a for a in args[1:] if not a.startswith("-")][0])
    if target.is_file():  # a crash to replay: no seeds written into it, but the reference checkpoint is made
        target = WORK / "seeds"
        target.mkdir()
    write_seeds(target)
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
