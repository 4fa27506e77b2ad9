"""`--views TxC`, the multi-view setting of `vivit evaluate` and `vivit predict`."""

from __future__ import annotations

import re

SPATIAL_CROPS = (1, 3)  # as training/recipe.py's data.eval_crops; repeated so `--help` loads no torch


def parse_views(text: str) -> tuple[int, int]:
    """'4x3' -> (4 temporal clips, 3 spatial crops); anything else is a one-line ConfigError."""
    from vivit.errors import ConfigError

    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    clips, crops = (int(match[1]), int(match[2])) if match else (0, 0)
    if not match or clips < 1 or crops not in SPATIAL_CROPS:
        raise ConfigError(
            f"--views {text}: give TxC, T >= 1 temporal clips by C = 1 or 3 spatial crops, e.g. --views 4x3"
        )
    return clips, crops


VIEWS_HELP = ("TxC: average T temporal clips spread over each video x C spatial crops (1, or 3 along the long "
              "side); class probabilities are averaged. Video runs only")
