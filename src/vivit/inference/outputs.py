"""Writing predictions to a file as they come: CSV (one row per input) or JSON (a list)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from types import TracebackType
from typing import IO

from vivit.errors import ConfigError, OutputError
from vivit.inference.predict import Prediction

SUFFIXES = (".csv", ".json")


class PredictionFile:
    """`with PredictionFile(path, k) as out: out.write(prediction)`; `out.skip(name, reason)`.

    Written to a temporary file beside `path` and moved into place when closed without an
    error, so an interrupted run never leaves a half-written file under the final name.
    """

    def __init__(self, path: Path, top_k: int) -> None:
        if path.suffix.lower() not in SUFFIXES:
            raise ConfigError(f"--out {path}: give a .csv or .json file")
        self.path, self.top_k = path, top_k
        self._staging = path.with_name(f".{path.name}.tmp")
        self._handle: IO[str] | None = None
        self._rows = 0

    def __enter__(self) -> PredictionFile:
        try:
            self._handle = open(self._staging, "w", newline="")
        except OSError as error:
            raise ConfigError(f"Cannot write predictions to {self.path} ({error.strerror}); choose another --out") from None
        if self._is_csv:
            self._csv = csv.writer(self._handle)
            ranks = range(1, self.top_k + 1)
            self._csv.writerow(["input", *(f"{what}_{r}" for r in ranks for what in ("class", "probability")), "error"])
        else:
            self._handle.write("[")
        return self

    @property
    def _is_csv(self) -> bool:
        return self.path.suffix.lower() == ".csv"

    def write(self, prediction: Prediction) -> None:
        if self._is_csv:
            cells = [cell for name, p in prediction.top for cell in (name, f"{p:.6f}")]
            self._csv.writerow([prediction.name, *cells, *[""] * (2 * self.top_k - len(cells)), ""])
        else:
            top = [{"class": c, "probability": p} for c, p in prediction.top]
            self._json({"input": prediction.name, "top": top})

    def skip(self, name: str, reason: str) -> None:
        if self._is_csv:
            self._csv.writerow([name, *[""] * (2 * self.top_k), reason])
        else:
            self._json({"input": name, "error": reason})

    def _json(self, entry: dict) -> None:
        assert self._handle is not None
        self._handle.write(("," if self._rows else "") + "\n  " + json.dumps(entry))
        self._rows += 1

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        assert self._handle is not None
        try:
            if not self._is_csv:
                self._handle.write("\n]\n")
            self._handle.close()
            if kind is None:
                os.replace(self._staging, self.path)
        except OSError as failure:  # a disk that filled up while writing: the earlier file stays
            error, kind = failure, type(failure)
        if kind is not None:
            self._staging.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OutputError(
                f"Cannot write predictions to {self.path} ({error.strerror or error}); free some space or choose another --out"
            ) from None
