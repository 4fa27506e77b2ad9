"""A folder where a documented journey runs as a user's own checkout would.

    ROOT/shared/data/*.npz, ROOT/shared/video/*   links to the real files (never written)
    ROOT/vivit/                                   the checkout: the commands' working directory
        .venv/bin/{vivit,python,activate}         vivit installed (`vivit` shrinks trainings: shrink.py)
        clips/arm_wrestling/*.mp4, clips/other/*.avi   a video folder, one folder per class
        clip.mp4, volume.npy, stack.npz, scans/   the user's own inputs that the commands name
        scan.nii.gz, dicom_series/

so `VIVIT_DATA_DIR=../shared/data` and `.venv/bin/vivit` work as written. Each command runs
in its own `bash`; the variables it exports and the folder it `cd`s to carry over to the
next command, as in one terminal.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.conftest import SHARED
from tests.journeys.documents import REPO_ROOT

CLASS_CLIPS = {"arm_wrestling": "kinetics400_arm_wrestling_demo.mp4", "other": "unlabeled_test.avi"}
CLIPS_PER_CLASS = 4  # the fewest for a 70/15/15 split that leaves one in val and one in test


@dataclass(frozen=True)
class Outcome:
    status: int
    output: str  # stdout and stderr


class Workspace:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.checkout = root / "vivit"
        self._state = root / "exported.sh"
        self._cwd = root / "cwd"
        self._env = env

    @classmethod
    def create(cls, root: Path, continue_from: Workspace | None = None) -> Workspace:
        _mirror_shared(root / "shared")
        checkout = root / "vivit"
        if continue_from is not None:
            shutil.copytree(continue_from.checkout, checkout, symlinks=True)
        else:
            checkout.mkdir(parents=True)
            _install_shims(checkout / ".venv" / "bin")
            _write_user_inputs(checkout, root / "shared")
        workspace = cls(root, _environment(checkout / ".venv" / "bin", root / "shared" / "data"))
        workspace._state.write_text("")
        workspace._cwd.write_text(str(checkout))
        return workspace

    def run(self, step: str, timeout: float = 300) -> Outcome:
        script = "\n".join([
            f"cd {shlex.quote(str(self.cwd))}",
            f". {shlex.quote(str(self._state))}",
            step,
            "__journey_status=$?",
            f"export -p | grep -v '^declare -[a-z]*r' > {shlex.quote(str(self._state))}.next",
            f"mv {shlex.quote(str(self._state))}.next {shlex.quote(str(self._state))}",
            f"pwd > {shlex.quote(str(self._cwd))}",
            "exit $__journey_status",
        ])
        result = subprocess.run(["bash", "-c", script], env=self._env, capture_output=True, text=True, timeout=timeout)
        return Outcome(result.returncode, result.stdout + result.stderr)

    def run_python(self, code: str, earlier: list[str], where: str) -> Outcome:
        """A page's Python block, in one session with its earlier blocks (re-run, their output hidden)."""
        script = self.root / "block.py"
        script.write_text(
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    for __block in {earlier!r}:\n"
            "        exec(compile(__block, 'an earlier block', 'exec'))\n"
            f"exec(compile({code!r}, {where!r}, 'exec'))\n"
        )
        return self.run(f"python {shlex.quote(str(script))}")

    @property
    def cwd(self) -> Path:
        """Where the last command left the terminal."""
        return Path(self._cwd.read_text().rstrip("\n"))

    def path(self, relative: str) -> Path:
        return self.cwd / relative


def _environment(bin_dir: Path, data_dir: Path) -> dict[str, str]:
    python_path = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",  # vivit is installed
        "PYTHONPATH": python_path,
        "VIVIT_DATA_DIR": str(data_dir),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }


def _mirror_shared(mirror: Path) -> None:
    for folder in ("data", "video"):
        (mirror / folder).mkdir(parents=True)
        for original in (SHARED / folder).iterdir():
            (mirror / folder / original.name).symlink_to(original.resolve())


def _install_shims(bin_dir: Path) -> None:
    bin_dir.mkdir(parents=True)
    python = shlex.quote(sys.executable)
    scripts = {
        "python": f'exec {python} "$@"',
        "vivit": f'exec {python} -m tests.journeys.shrink "$@"',
        "activate": 'export VIRTUAL_ENV="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"\nexport PATH="$VIRTUAL_ENV/bin:$PATH"',
    }
    for name, body in scripts.items():
        script = bin_dir / name
        script.write_text(f"#!/usr/bin/env bash\n{body}\n")
        script.chmod(0o755)


def _write_user_inputs(checkout: Path, shared: Path) -> None:
    """The files a user brings: volumes and scans of adrenal glands, and videos."""
    from tests.inference.test_medical import write_dicom_slice, write_nifti

    with np.load(shared / "data" / "adrenalmnist3d.npz") as data:
        volumes = data["test_images"][:8]  # (N, 28, 28, 28) uint8
    np.save(checkout / "volume.npy", volumes[0])
    np.savez(checkout / "stack.npz", x=volumes[1:4])
    for index, volume in enumerate(volumes[4:8]):  # a folder of scans, one in a sub-folder per patient
        folder = checkout / "scans" / f"patient-{index}"
        folder.mkdir(parents=True)
        np.save(folder / "scan.npy", volume)
    write_nifti(checkout / "scan.nii.gz", np.pad(volumes[0].astype(np.float32) / 255, 6))
    (checkout / "dicom_series").mkdir()
    for z, hu in enumerate(volumes[1].astype(np.float32) * 4 - 500):
        write_dicom_slice(checkout / "dicom_series" / f"slice-{z:03d}.dcm", hu, z=float(z))
    (checkout / "clip.mp4").symlink_to((shared / "video" / CLASS_CLIPS["arm_wrestling"]).resolve())
    for class_name, clip in CLASS_CLIPS.items():
        folder = checkout / "clips" / class_name
        folder.mkdir(parents=True)
        for index in range(CLIPS_PER_CLASS):
            (folder / f"{index}{Path(clip).suffix}").symlink_to((shared / "video" / clip).resolve())
