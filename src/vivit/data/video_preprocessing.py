"""How a video file becomes a model input, as one record a checkpoint and an exported model keep.

Training, `vivit evaluate`, `vivit predict` and a server reading an exported model's metadata
must turn a file into the same tensor. `VideoPreprocessing` holds every setting that decides
it: the frames (``num_frames``, ``sampling``, ``stride``), the resize (``short_side``), the
crop (``size``) and the normalisation. vivit's models read RGB scaled to [0, 1]; the
normalisation that follows, ``(x - mean) / std`` per channel, is the identity (mean 0, std 1)
and is written down so that a deployment does not have to guess it (Kinetics models
elsewhere use ImageNet or 0.5 constants).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from vivit.data.video_sampling import check_clip_request
from vivit.errors import ConfigError

RGB_MEAN = (0.0, 0.0, 0.0)
RGB_STD = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class VideoPreprocessing:
    """The decoding, resizing, cropping and normalisation of one clip of a video file."""

    num_frames: int
    size: tuple[int, int]  # the crop (H, W): the model's frame size
    sampling: str = "uniform"
    stride: int = 2
    # The short side after the aspect-keeping resize; None: the smallest that covers the crop.
    short_side: int | None = None
    mean: tuple[float, float, float] = RGB_MEAN
    std: tuple[float, float, float] = RGB_STD

    def __post_init__(self) -> None:
        check_clip_request(self.num_frames, self.size, self.sampling, self.stride, self.short_side)
        if tuple(self.mean) != RGB_MEAN or tuple(self.std) != RGB_STD:
            raise ConfigError(
                f"vivit's video models read RGB in [0, 1] (mean {list(RGB_MEAN)}, std {list(RGB_STD)}); "
                f"got mean {list(self.mean)}, std {list(self.std)}"
            )

    @classmethod
    def for_input_size(cls, input_size: tuple[int, int, int]) -> VideoPreprocessing:
        """What a checkpoint written before this record existed was trained with: uniform
        sampling of T frames, the short side resized to the crop."""
        frames, height, width = input_size
        return cls(num_frames=frames, size=(height, width))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: lists for tuples."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str) -> VideoPreprocessing:
        """The record as `to_dict` wrote it; `source` names the file in a one-line error."""
        try:
            settings = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
            return cls(**settings)
        except (TypeError, ConfigError) as error:
            raise ConfigError(f"{source} holds no valid video preprocessing ({error})") from None

    def normalise(self, clips: torch.Tensor) -> torch.Tensor:
        """uint8 (..., 3, T, H, W) -> float32 model input: x / 255, then (x - mean) / std."""
        mean = torch.tensor(self.mean).view(3, 1, 1, 1)
        std = torch.tensor(self.std).view(3, 1, 1, 1)
        return (clips.float().div_(255) - mean) / std
