"""The facts of the six MedMNIST 3D datasets (MedMNIST v2 metadata), by name.

Everything the loader checks a file against lives here: class names, split sizes,
official checksums and download addresses. Nothing here touches the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vivit.errors import ConfigError, DataError

ZENODO_RECORD = "https://zenodo.org/records/10519652/files"
SIZES = (28, 64)
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class MedMNISTInfo:
    """One MedMNIST 3D dataset: single-channel cubes of side 28 or 64."""

    name: str
    task: str  # "multi-class" or "binary"
    class_names: tuple[str, ...]
    split_sizes: dict[str, int]  # {"train": N, "val": N, "test": N}
    md5: dict[int, str]  # official checksum of the file of each side length
    # Pairs of labels that a flip of the left-right axis exchanges.
    left_right_pairs: tuple[tuple[int, int], ...] = field(default_factory=tuple)
    # Which axis of (T, H, W) = the file's (D, H, W) is the patient's left-right axis.
    left_right_axis: str | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def filename(self, size: int = 28) -> str:
        _check_size(size)
        return f"{self.name}.npz" if size == 28 else f"{self.name}_{size}.npz"

    def url(self, size: int = 28) -> str:
        return f"{ZENODO_RECORD}/{self.filename(size)}?download=1"


def _check_size(size: int) -> None:
    if size not in SIZES:
        raise ConfigError(f"MedMNIST 3D comes in sizes {SIZES}, not {size}")


MEDMNIST_3D: dict[str, MedMNISTInfo] = {
    info.name: info
    for info in (
        MedMNISTInfo(
            name="organmnist3d",
            task="multi-class",
            class_names=(
                "liver", "kidney-right", "kidney-left", "femur-right", "femur-left",
                "bladder", "heart", "lung-right", "lung-left", "spleen", "pancreas",
            ),
            split_sizes={"train": 971, "val": 161, "test": 610},
            md5={28: "a0c5a1ff56af4f155c46d46fbb45a2fe", 64: "58a2205adf14a9d0a189cb06dc78bf10"},
            left_right_pairs=((1, 2), (3, 4), (7, 8)),
            # Established on the real 28^3 data (all 1742 samples): a paired organ's
            # mean volume is the mirror image of its partner's along the file's first
            # axis only. Flipping the right organ's mean volume along D / H / W changes
            # its mean absolute difference to the left organ's from (no flip)
            # kidney 15.3 -> 9.5 / 21.7 / 22.2, femur 17.3 -> 4.3 / 22.7 / 21.5,
            # lung 38.4 -> 15.0 / 40.3 / 48.9. The centre of mass of the tissue
            # brighter than each volume's mean also separates left from right along
            # D most for every pair (kidney 0.8, femur 2.7, lung 5.2 voxels, against
            # at most 0.5 along H or W). See
            # tests/data/test_organmnist3d_anatomy.py.
            left_right_axis="T",
        ),
        MedMNISTInfo(
            name="nodulemnist3d",
            task="binary",
            class_names=("benign", "malignant"),
            split_sizes={"train": 1158, "val": 165, "test": 310},
            md5={28: "8755a7e9e05a4d9ce80a24c3e7a256f3", 64: "c47c5b7d457bf6332200d2ea6d64ecd8"},
        ),
        MedMNISTInfo(
            name="adrenalmnist3d",
            task="binary",
            class_names=("normal", "hyperplasia"),
            split_sizes={"train": 1188, "val": 98, "test": 298},
            md5={28: "bbd3c5a5576322bc4cdfea780653b1ce", 64: "17721accfe9fb005146a47d33bc54b2f"},
        ),
        MedMNISTInfo(
            name="fracturemnist3d",
            task="multi-class",
            class_names=(
                "buckle rib fracture", "nondisplaced rib fracture", "displaced rib fracture",
            ),
            split_sizes={"train": 1027, "val": 103, "test": 240},
            md5={28: "6aa7b0143a6b42da40027a9dda61302f", 64: "f01d7e6316aedf4210da0da5b7437b42"},
        ),
        MedMNISTInfo(
            name="vesselmnist3d",
            task="binary",
            class_names=("vessel", "aneurysm"),
            split_sizes={"train": 1335, "val": 191, "test": 382},
            md5={28: "b41fd4f7e7e2feedddb201585ecafa1b", 64: "6bb274a8846e1097066dcd64e2c4520f"},
        ),
        MedMNISTInfo(
            name="synapsemnist3d",
            task="binary",
            class_names=("inhibitory synapse", "excitatory synapse"),
            split_sizes={"train": 1230, "val": 177, "test": 352},
            md5={28: "1235b78a3cd6280881dd7850a78eadb6", 64: "43bd14ebf3af9d3dd072446fedc14d5e"},
        ),
    )
}


def get_medmnist_info(name: str) -> MedMNISTInfo:
    try:
        return MEDMNIST_3D[name]
    except KeyError:
        raise ConfigError(
            f"Unknown dataset '{name}'; choose one of: {', '.join(MEDMNIST_3D)}"
        ) from None


def parse_medmnist_filename(filename: str) -> tuple[str, int] | None:
    """(name, size) of an official file name such as 'organmnist3d_64.npz', else None."""
    if not filename.endswith(".npz"):
        return None
    stem = filename[: -len(".npz")]
    name, _, suffix = stem.rpartition("_")
    if suffix.isdigit() and name in MEDMNIST_3D and int(suffix) in SIZES and int(suffix) != 28:
        return name, int(suffix)
    if stem in MEDMNIST_3D:
        return stem, 28
    return None


def identify_medmnist_file(path: object) -> tuple[MedMNISTInfo, int]:
    """The registry entry and cube side of a file named as the official one, else DataError."""
    filename = getattr(path, "name", str(path))
    parsed = parse_medmnist_filename(filename)
    if parsed is None:
        raise DataError(
            f"Cannot tell which MedMNIST dataset {path} holds; name it as the official file, "
            f"<name>.npz or <name>_64.npz with <name> one of: {', '.join(MEDMNIST_3D)}"
        )
    name, size = parsed
    return MEDMNIST_3D[name], size
