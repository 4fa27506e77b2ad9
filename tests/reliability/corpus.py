"""A corpus of hostile inputs, replayed through the real `vivit` command.

Each case writes its files (tests/reliability/hostile.py makes the lying ones), names the
command a user would type, and says what must happen: `error` (a mistake the command must
refuse) or `ok` (an input it must read). Its process ends in one of

- ok: exit 0;
- one-line error: exit 2, one `vivit: error:` line, no traceback;
- traceback: a traceback, or any other exit status (a bug);
- silently wrong: exit 0 where an error was expected, or a file the case forbids exists
  afterwards (a pickle or YAML tag that ran code);
- wrongly refused: an error where the input should have been read;
- hang: still running after CASE_SECONDS.

    python -m tests.reliability.corpus RESULTS.json [--only SUBSTRING]

replays every case and writes one row per case: outcome, exit status, the error line, the
peak resident memory (ru_maxrss) and the seconds of its process. A case's process is forked
from the replayer after it has imported vivit's stack (torch, Lightning, PyAV), and runs
`vivit.cli.main.main(argv)` as `python -m vivit.cli.main` would: a fresh interpreter per case
would spend 2-5 s importing torch, minutes for the corpus. Cases needing what this machine
does not allow (a tmpfs mount, as root) are kept with outcome `skipped` and the reason.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.reliability import hostile

REPO = Path(__file__).resolve().parents[2]
FIXTURE_RUN = REPO / "tests" / "fixtures" / "run-0.1.0"
SHARED_DATA = Path(os.environ.get("VIVIT_SHARED_DIR", REPO.parent / "shared")) / "data"
CASE_SECONDS = 60
FAILURES = ("traceback", "silently wrong", "wrongly refused", "hang")
STACK_VOLUMES = 20_000


@dataclass(frozen=True)
class Command:
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    forbidden: Path | None = None  # must not exist afterwards: proof that no code ran


@dataclass(frozen=True)
class Case:
    kind: str  # the class of hostile input
    name: str
    expect: str  # "error" or "ok"
    build: Callable[[Path, Assets], contextlib.AbstractContextManager[Command]]


@dataclass(frozen=True)
class Assets:
    """What several cases share, made once: a volume run, a video checkpoint, a clean clip."""

    volume_run: Path  # tests/fixtures/run-0.1.0: a 28^3, 1-channel model (read only, never written)
    video_checkpoint: Path  # a 3-channel (4, 32, 32) model
    clip: Path  # a clean 12-frame MJPEG clip

    @staticmethod
    def make(folder: Path) -> Assets:
        from vivit.checkpoints import publish, save_model
        from vivit.models import create_model

        video = folder / "video-model"
        model = create_model("vivit-tiny-video", num_classes=2, input_size=(4, 32, 32), depth=1)
        publish(video / "checkpoints", "last", "0001", lambda d: save_model(d, model, class_names=["left", "right"]))
        clip = hostile.video_changing_resolution(folder / "clean.avi", sizes=((48, 64),), frames_each=12)
        return Assets(FIXTURE_RUN, video, clip)


CASES: list[Case] = []


def case(kind: str, name: str, expect: str = "error") -> Callable:
    def register(build: Callable[[Path, Assets], Iterator[Command]]) -> Callable:
        CASES.append(Case(kind, name, expect, contextlib.contextmanager(build)))
        return build

    return register


def copied_run(folder: Path, with_settings: bool = False) -> Path:
    """A writable copy of the fixture run; `with_settings`: its weights re-saved by this version,
    which records the model settings in them."""
    run = folder / "run"
    shutil.copytree(FIXTURE_RUN, run, symlinks=True)
    if with_settings:
        from vivit.checkpoints import load_model, read_checkpoint_info, save_model

        last = (run / "checkpoints" / "last").resolve()
        info = {k: v for k, v in read_checkpoint_info(last).items() if k not in ("format", "model")}
        save_model(last, load_model(last), **info)
    return run


def predicting(assets: Assets, *inputs: Path, video: bool = False) -> Command:
    return Command(["predict", str(assets.video_checkpoint if video else assets.volume_run), *map(str, inputs)])


# --- .npz and .npy files -------------------------------------------------------------------------

@case("npz", "an array stored twice under one name")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield predicting(assets, hostile.npz_storing_an_array_twice(folder / "twice.npz"))


@case("npz", "a raw entry 'volume' beside 'volume.npy'")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield predicting(assets, hostile.npz_storing_an_array_twice(folder / "raw.npz", raw=True))


@case("npz", "a local header naming another entry than the directory")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield predicting(assets, hostile.npz_whose_local_header_names_another_entry(folder / "renamed.npz"))


@case("npz", "a dataset file storing an array twice (datasets verify)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    entry = ("train_images.npy", hostile.npy_bytes(hostile.volume(0, (1, 28, 28, 28))))
    path = hostile.npz_of_entries(folder / "organmnist3d.npz", [entry, entry])
    yield Command(["datasets", "verify", str(path)])


@case("npz", "a dataset file of six members summing past free memory, each of which fits (datasets verify)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    from vivit.system_memory import available_memory

    keys = [f"{split}_{part}" for split in ("train", "val", "test") for part in ("images", "labels")]
    path = hostile.npz_of_members_summing_past(folder / "organmnist3d.npz", available_memory() * 3 // 2, keys)
    yield Command(["datasets", "verify", str(path)])


@case("npz", "a .npy header claiming a petabyte")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    data = hostile.npy_bytes(hostile.volume(1))
    header = np.lib.format.header_data_from_array_1_0(hostile.volume(1)) | {"shape": (2**25, 2**25)}
    path = folder / "liar.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(data[-28**3:])
    yield predicting(assets, path)


@case("npz", "an object array (a pickle)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    np.save(folder / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    yield predicting(assets, folder / "objects.npy")


@case("npz", "a .npy cut in half")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    data = hostile.npy_bytes(hostile.volume(9))
    (folder / "half.npy").write_bytes(data[: len(data) // 2])
    yield predicting(assets, folder / "half.npy")


@case("npz", "a directory where the dataset file should be (train --data-dir)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    (folder / "organmnist3d.npz").mkdir()
    yield Command(["train", "--dataset", "organmnist3d", "--data-dir", str(folder), "--out", str(folder / "out")])


@case("npz", f"a 1 MiB .npz stacking {STACK_VOLUMES:,} volumes of 28^3, predicted to a CSV", expect="ok")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    stack = hostile.npz_stacking(folder / "stack.npz", STACK_VOLUMES)  # made in a function: nothing big is held at the fork
    yield Command(["predict", str(assets.volume_run), str(stack), "--out", str(folder / "predictions.csv")])


@case("npz", "a plain 28^3 volume (control)", expect="ok")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    np.save(folder / "volume.npy", hostile.volume(100))
    yield predicting(assets, folder / "volume.npy")


@case("npz", "the real OrganMNIST3D file (datasets verify, control)", expect="ok")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    import pytest

    if not (SHARED_DATA / "organmnist3d.npz").is_file():
        pytest.skip(f"the real file is not in {SHARED_DATA} (CI has it)")
    yield Command(["datasets", "verify", str(SHARED_DATA / "organmnist3d.npz")])


# --- videos --------------------------------------------------------------------------------------

@case("video", "a PNG image named .mp4")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield predicting(assets, hostile.png_named(folder / "photo.mp4"), video=True)


@case("video", "an ffconcat list named .mp4")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield predicting(assets, hostile.playlist_named(folder / "list.mp4", assets.clip), video=True)


@case("video", "an M3U playlist named .mkv")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield predicting(assets, hostile.playlist_named(folder / "list.mkv", assets.clip, kind="m3u"), video=True)


@case("video", "an empty .mp4")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    (folder / "empty.mp4").write_bytes(b"")
    yield predicting(assets, folder / "empty.mp4", video=True)


@case("video", "random bytes named .avi")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    (folder / "noise.avi").write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    yield predicting(assets, folder / "noise.avi", video=True)


@case("video", "a Matroska clip whose codec id names no decoder")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield predicting(assets, hostile.video_of_unknown_codec(folder / "unknown.mkv"), video=True)


@case("video", "a clip whose resolution changes mid-stream (48x64 then 96x80)", expect="ok")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield predicting(assets, hostile.video_changing_resolution(folder / "switch.avi"), video=True)


@case("video", "training on a folder holding a clip that changes resolution, skip_bad: true", expect="ok")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    videos = hostile.video_folder(folder / "videos")
    yield Command(["train", "--dataset", str(videos), "data.size=16", "data.options={num_frames: 4, skip_bad: true}",
                   "model.tubelet_size=[2,8,8]", "--epochs", "1", "--out", str(folder / "out")])


# --- YAML ----------------------------------------------------------------------------------------

@case("yaml", "a recipe of nested aliases (a billion laughs)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    (folder / "bomb.yaml").write_text(hostile.ALIAS_BOMB)
    yield Command(["train", "--recipe", str(folder / "bomb.yaml"), "--out", str(folder / "out")])


@case("yaml", "a search space of nested aliases")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    (folder / "space.yaml").write_text(hostile.ALIAS_BOMB)
    yield Command(["sweep", "--space", str(folder / "space.yaml"), "--trials", "1", "--out", str(folder / "out"),
                   "--storage", f"sqlite:///{folder / 'sweeps.db'}"])


@case("yaml", "a recipe with a !!python/object/apply tag")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    marker = folder / "ran-code"
    (folder / "tagged.yaml").write_text(f"name: x\ndata: !!python/object/apply:os.system ['touch {marker}']\n")
    yield Command(["train", "--recipe", str(folder / "tagged.yaml"), "--out", str(folder / "out")], forbidden=marker)


# --- recipe values -------------------------------------------------------------------------------

SYNTHETIC = ["--dataset", "synthetic-shapes", "data.options={num_samples: 16}", "--epochs", "1"]
BAD_SETTINGS = ("optim.lr=-1", "data.batch_size=0", "train.seed=-3", "model.variant=bogus", "optim.no_such_key=1",
                "train.precision=fp8", "data.options={num_frames: 0}", "data.dataset=/no/such/folder")


def training_with(setting: str) -> Callable[[Path, Assets], Iterator[Command]]:
    def build(folder: Path, assets: Assets) -> Iterator[Command]:
        yield Command(["train", *SYNTHETIC, setting, "--out", str(folder / "out")])

    return build


for _setting in BAD_SETTINGS:
    case("settings", f"vivit train {_setting}")(training_with(_setting))


@case("settings", "vivit predict --top-k 0 (a flag's value, refused by the parser)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    np.save(folder / "volume.npy", hostile.volume(1))
    yield Command(["predict", str(assets.volume_run), str(folder / "volume.npy"), "--top-k", "0"])


# --- run directories -----------------------------------------------------------------------------

@case("run directory", "config.json changing num_heads, keeping every tensor shape (evaluate)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    run = copied_run(folder, with_settings=True)
    config = (run / "checkpoints" / "last" / "config.json")
    document = json.loads(config.read_text())
    document["model"].update(num_heads=4, head_dim=8)
    config.write_text(json.dumps(document))
    yield Command(["evaluate", str(run)])


@case("run directory", "config.json that is not JSON (predict)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    run = copied_run(folder)
    (run / "checkpoints" / "last" / "config.json").write_bytes(b"{\"format\": \xff")
    np.save(folder / "volume.npy", hostile.volume(1))
    yield Command(["predict", str(run), str(folder / "volume.npy")])


@case("run directory", "config.json claiming depth 100000 (predict)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    run = copied_run(folder)
    config = run / "checkpoints" / "last" / "config.json"
    document = json.loads(config.read_text())
    document["model"]["depth"] = 100_000
    config.write_text(json.dumps(document))
    np.save(folder / "volume.npy", hostile.volume(1))
    yield Command(["predict", str(run), str(folder / "volume.npy")])


@case("run directory", "model.safetensors cut to 1000 bytes (evaluate)")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    run = copied_run(folder)
    weights = run / "checkpoints" / "last" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    yield Command(["evaluate", str(run)])


@case("run directory", "a forged trainer state (pickle running code, digest forged), resume, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    import pickle

    from tests.reliability.test_security import RunsCode
    from vivit.checkpoints import file_sha256

    run, marker = copied_run(folder), folder / "ran-code"
    last = (run / "checkpoints" / "last").resolve()
    (last / "trainer_state.ckpt").write_bytes(pickle.dumps(RunsCode(marker)))
    config = last / "config.json"
    document = json.loads(config.read_text())
    document["trainer_state_sha256"] = file_sha256(last / "trainer_state.ckpt")  # forged to match the pickle
    config.write_text(json.dumps(document))
    yield Command(["train", "--resume", str(run)], env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, forbidden=marker)


UNREADABLE_CONFIGS = {
    "a !!python/object tag": "!!python/object/apply:os.system ['touch {marker}']\n",
    "a list": "- name\n- data\n",
    "empty": "",
    "binary": "\x00\xff\xfe\x01PK\x03\x04",
}
COMMANDS = {"evaluate": lambda run: ["evaluate", str(run)], "report": lambda run: ["report", str(run)],
            "resume": lambda run: ["train", "--resume", str(run)]}
def with_config_yaml(text: str, command: Callable[[Path], list[str]]) -> Callable[[Path, Assets], Iterator[Command]]:
    def build(folder: Path, assets: Assets) -> Iterator[Command]:
        run, marker = copied_run(folder), folder / "ran-code"
        (run / "config.yaml").write_bytes(text.format(marker=marker).encode("latin-1"))
        yield Command(command(run), forbidden=marker)

    return build


for _variant, _text in UNREADABLE_CONFIGS.items():
    for _command, _args in COMMANDS.items():
        case("run directory", f"config.yaml {_variant} ({_command})")(with_config_yaml(_text, _args))


@case("run directory", "a copy of the 0.1.0 run (evaluate, control)", expect="ok")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield Command(["evaluate", str(copied_run(folder))])


# --- output locations ----------------------------------------------------------------------------

@case("location", "train --out on a read-only mount")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    from tests.reliability.locations import read_only_folder

    with read_only_folder(folder / "ro") as ro:
        yield Command(["train", *SYNTHETIC, "--out", str(ro / "run")])


@case("location", "predict --out on a full disk")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    from tests.reliability.locations import full_folder

    np.save(folder / "volume.npy", hostile.volume(1))
    with full_folder(folder / "full") as full:
        yield Command(["predict", str(assets.volume_run), str(folder / "volume.npy"), "--out", str(full / "p.csv")])


@case("location", "train --out naming a file")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    (folder / "taken").write_text("a file")
    yield Command(["train", *SYNTHETIC, "--out", str(folder / "taken")])


@case("location", "evaluate --json inside /proc")
def _(folder: Path, assets: Assets) -> Iterator[Command]:
    yield Command(["evaluate", str(copied_run(folder)), "--json", "/proc/vivit.json"])


# --- replaying -----------------------------------------------------------------------------------

ERROR_LINE = re.compile(r"vivit( [a-z]+)*: error: ")  # ours, or argparse's "vivit train: error: ..."


def classify(expect: str, status: int, stderr: str, forbidden: bool) -> str:
    errors = [line for line in stderr.splitlines() if ERROR_LINE.match(line)]
    if forbidden:
        return "silently wrong"
    if "Traceback" in stderr or status not in (0, 2):
        return "traceback"
    if status == 0:
        return "silently wrong" if expect == "error" else "ok"
    if len(errors) != 1:
        return "traceback"
    return "wrongly refused" if expect == "ok" else "one-line error"


def run_forked(command: Command, folder: Path) -> tuple[int, str, float, float]:
    """(exit status, stderr, peak RSS in MiB, seconds) of `vivit ARGS` in a forked process."""
    log = folder / "stderr.txt"
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the case's process: never returns
        status = 1
        try:
            os.chdir(folder)
            os.environ.update(command.env)
            for fd, name in ((1, "stdout.txt"), (2, "stderr.txt")):
                os.dup2(os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            from vivit.cli.main import main

            status = main(command.args)
        except SystemExit as exit_:  # argparse, as the interpreter would report it
            status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except BaseException:  # noqa: BLE001 - what the interpreter would print for an uncaught error
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    deadline = started + CASE_SECONDS
    while True:
        done, wait_status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, wait_status, usage = os.wait4(pid, 0)
            return -1, "hang", usage.ru_maxrss / 1024, CASE_SECONDS
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    return os.waitstatus_to_exitcode(wait_status), log.read_text(errors="replace"), usage.ru_maxrss / 1024, seconds


def replay(scratch: Path, only: str = "") -> list[dict]:
    import pytest

    assets = Assets.make(scratch / "assets")
    rows = []
    for number, item in enumerate(c for c in CASES if only in c.name):
        folder = scratch / f"case{number:02d}"
        folder.mkdir()
        row = {"kind": item.kind, "case": item.name, "expect": item.expect}
        try:
            with item.build(folder, assets) as command:
                status, stderr, rss, seconds = run_forked(command, folder)
                forbidden = command.forbidden is not None and command.forbidden.exists()
        except pytest.skip.Exception as skipped:
            rows.append(row | {"outcome": "skipped", "reason": str(skipped)})
            continue
        outcome = "hang" if stderr == "hang" else classify(item.expect, status, stderr, forbidden)
        message = next((line for line in stderr.splitlines() if ERROR_LINE.match(line)), "")
        rows.append(row | {"outcome": outcome, "status": status, "error": message.replace(str(scratch), "…"),
                           "peak_rss_mib": round(rss, 1), "seconds": round(seconds, 2)}
                    | ({"stderr": stderr[-3000:]} if outcome in FAILURES else {}))
    return rows


OUTCOMES = ("ok", "one-line error", "traceback", "silently wrong", "wrongly refused", "hang", "skipped")


def render(log: dict, measured: str) -> str:
    """The corpus block of docs/reliability.md from a reliability log (corpus rows, kill test figures)."""
    rows = log["corpus"]["cases"]
    groups = {kind: [r for r in rows if r["kind"] == kind] for kind in dict.fromkeys(r["kind"] for r in rows)} | {"all": rows}
    lines = [measured, "", "| inputs | cases | " + " | ".join(OUTCOMES) + " |", "|---|" + "---:|" * (len(OUTCOMES) + 1)]
    for kind, group in groups.items():
        lines.append(f"| {kind} | {len(group)} | " + " | ".join(str(sum(r["outcome"] == o for r in group)) for o in OUTCOMES) + " |")
    ran = sorted((r for r in rows if "peak_rss_mib" in r), key=lambda r: -r["peak_rss_mib"])
    slowest = max(ran, key=lambda r: r["seconds"])
    lines += [
        "",
        "- highest peak RSS: " + "; ".join(f"{r['case']}: {r['peak_rss_mib']:.0f} MiB, {r['seconds']:.1f} s" for r in ran[:3]),
        f"- lowest: {ran[-1]['case']}: {ran[-1]['peak_rss_mib']:.0f} MiB, most of it the libraries imported before the fork",
        f"- slowest: {slowest['case']}, {slowest['seconds']:.1f} s; all cases together {sum(r['seconds'] for r in ran):.0f} s",
        *(f"- skipped: {r['case']} ({r['reason']})" for r in rows if r["outcome"] == "skipped"),
    ]
    kill = log.get("faults", {}).get("kill -9 then resume")
    if kill:
        lines.append(f"- kill -9 at {len(kill['kills'])} points ({', '.join(kill['kills'])}), resumed after each: history and "
                     f"metrics equal to those of an uninterrupted {kill['epochs']}-epoch run: {kill['metrics_equal']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="replay the hostile-input corpus through the vivit command")
    parser.add_argument("results", type=Path)
    parser.add_argument("--only", default="", help="cases whose name contains this")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"  # one thread: no OpenMP pool in this process to break by forking
    import lightning  # noqa: F401 - imported once here, shared by every forked case
    import torch

    import vivit.cli.main  # noqa: F401
    import vivit.inference.predict  # noqa: F401
    import vivit.training.run  # noqa: F401

    torch.set_num_threads(1)
    scratch = args.results.parent / "corpus-cases"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    os.environ.setdefault("VIVIT_CACHE_DIR", str(scratch / "cache"))
    args.results.write_text(json.dumps(replay(scratch, args.only), indent=1))


if __name__ == "__main__":
    main()
