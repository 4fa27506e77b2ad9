"""The one description of a ViViT model: every paper choice is a validated switch.

A config is plain data (JSON-serialisable) so that a checkpoint can carry it and a
run directory can show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from vivit.errors import ConfigError
from vivit.validation import check_fields

VARIANTS = (
    "spatio_temporal",  # Model 1: every token attends to every token
    "factorised_encoder",  # Model 2: spatial transformer per frame, then temporal transformer
    "factorised_self_attention",  # Model 3: spatial attention, then temporal attention, per block
    "factorised_dot_product",  # Model 4: half the heads over space, half over time
)
TOKENIZERS = ("tubelet", "frames")
PADDINGS = ("valid", "same")
POS_EMBEDDINGS = ("learned", "separable", "sinusoidal")
POOLINGS = ("cls", "mean")
MLP_ACTIVATIONS = ("gelu", "gelu_tanh")
# No tensor dimension can reach 2**31 elements on any device we run on.
MAX_SIZE = 2**31 - 1


def check_choice(switch: str, value: str, valid: tuple[str, ...]) -> str:
    """Return `value` if it is one of `valid`, else raise a ConfigError listing them."""
    if value not in valid:
        raise ConfigError(f"Unknown {switch} '{value}'; choose one of: {', '.join(valid)}")
    return value


@dataclass(frozen=True)
class ViViTConfig:
    """Every choice of a ViViT model, validated when the config is made.

    The paper's switches are names: `variant` (Models 1 to 4: `spatio_temporal`,
    `factorised_encoder`, `factorised_self_attention`, `factorised_dot_product`),
    `tokenizer` (`tubelet` or `frames`), `padding` (`valid` drops what the tubelets do not
    fill, `same` pads to cover every voxel), `pos_embedding` (`learned`, `separable`,
    `sinusoidal`), `pooling` (`cls` or `mean`). An unknown name or an impossible
    combination raises a `ConfigError` that says what to choose instead.

    `stem_channels` adds a convolutional stem before the tokenizer (not in the paper; one
    3x3x3 convolution per entry, see `layers/conv_stem.py`); empty, the tokenizer reads
    the input as the paper's does.

    Sizes: `input_size` is (T, H, W) and `tubelet_size` (t, h, w); `embed_dim`, `depth`,
    `num_heads`, `mlp_dim`; `temporal_depth` for Model 2. Regularisation: `dropout`,
    `attn_dropout`, `drop_path_rate` (stochastic depth, linear over depth).
    """

    num_classes: int = 11
    in_channels: int = 1
    # (T, H, W) the positional embedding is built for; other sizes are resized at run time.
    input_size: tuple[int, int, int] = (28, 28, 28)
    variant: str = "spatio_temporal"
    tokenizer: str = "tubelet"
    # Extent (t, h, w) of one token. The `frames` tokenizer takes 2D patches: t must be 1.
    tubelet_size: tuple[int, int, int] = (4, 4, 4)
    # `frames` tokenizer: keep every frame_stride-th frame (the paper's uniform sampling).
    frame_stride: int = 1
    padding: str = "same"
    # Widths of the optional convolutional stem's layers; () is the paper's tokenisation.
    stem_channels: tuple[int, ...] = ()
    embed_dim: int = 192
    depth: int = 6
    # Model 2 only: layers of the temporal transformer that follows the spatial one.
    temporal_depth: int = 4
    num_heads: int = 3
    head_dim: int | None = None  # defaults to embed_dim // num_heads
    mlp_dim: int = 768
    mlp_activation: str = "gelu"
    # The Keras example applies GELU after the second dense layer of the MLP as well.
    mlp_output_activation: bool = False
    qkv_bias: bool = True
    norm_eps: float = 1e-6
    pos_embedding: str = "learned"
    pooling: str = "mean"
    dropout: float = 0.0
    attn_dropout: float = 0.0
    drop_path_rate: float = 0.0

    def __post_init__(self) -> None:
        check_fields(self, "model setting ")  # values from YAML/JSON may be of any type
        self._check_sizes_fit_a_tensor()
        # Lists from YAML/JSON become tuples so configs compare and hash by value.
        for name in ("input_size", "tubelet_size"):
            value = tuple(int(v) for v in getattr(self, name))
            if len(value) != 3 or min(value) < 1:
                raise ConfigError(f"{name} must be three positive integers (t, h, w), got {value}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "stem_channels", tuple(int(v) for v in self.stem_channels))
        check_choice("variant", self.variant, VARIANTS)
        check_choice("tokenizer", self.tokenizer, TOKENIZERS)
        check_choice("padding", self.padding, PADDINGS)
        check_choice("pos_embedding", self.pos_embedding, POS_EMBEDDINGS)
        check_choice("pooling", self.pooling, POOLINGS)
        check_choice("mlp_activation", self.mlp_activation, MLP_ACTIVATIONS)
        self._check_combinations()

    def _check_sizes_fit_a_tensor(self) -> None:
        # A config.json may say anything; torch raises an unrelated TypeError on a size past int64.
        for f in fields(self):
            value = getattr(self, f.name)
            for number in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(number, int) and not isinstance(number, bool) and abs(number) > MAX_SIZE:
                    raise ConfigError(f"{f.name} {number} is larger than any tensor can be (at most {MAX_SIZE})")

    def _check_combinations(self) -> None:
        # Counts first: the checks below divide by num_heads.
        for name in ("num_classes", "in_channels", "embed_dim", "depth", "num_heads", "mlp_dim", "frame_stride"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if any(width < 1 for width in self.stem_channels):
            raise ConfigError(f"stem_channels must be positive widths, one per stem layer, got {list(self.stem_channels)}")
        if self.head_dim is not None and self.head_dim < 1:
            raise ConfigError(f"head_dim must be at least 1 or left unset, got {self.head_dim}")
        if self.tokenizer == "frames" and self.tubelet_size[0] != 1:
            raise ConfigError(
                f"the frames tokenizer takes 2D patches: set tubelet_size=(1, h, w) "
                f"(got {self.tubelet_size}) and choose frame_stride for the temporal sampling"
            )
        if self.pooling == "cls" and self.variant in ("factorised_self_attention", "factorised_dot_product"):
            raise ConfigError(
                f"pooling 'cls' is not defined for variant '{self.variant}' (its tokens form a "
                f"time x space grid with no place for a class token); use pooling='mean'"
            )
        if self.variant == "factorised_dot_product" and self.num_heads % 2:
            raise ConfigError(
                f"factorised_dot_product splits heads between space and time: num_heads must be even, got {self.num_heads}"
            )
        if self.embed_dim % self.num_heads and self.head_dim is None:
            raise ConfigError(
                f"embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}; set head_dim explicitly"
            )
        if self.temporal_depth < 0:
            raise ConfigError(f"temporal_depth must be >= 0, got {self.temporal_depth}")
        for name in ("dropout", "attn_dropout", "drop_path_rate"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")

    @property
    def attention_head_dim(self) -> int:
        return self.head_dim if self.head_dim is not None else self.embed_dim // self.num_heads

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ViViTConfig:
        check_known_settings(cls, data, "model")
        return cls(**data)

    def replace(self, **overrides: Any) -> ViViTConfig:
        return ViViTConfig.from_dict({**self.to_dict(), **overrides})


def check_known_settings(config_class: type, data: dict[str, Any], section: str) -> None:
    """Refuse keys that are not fields of the dataclass `config_class`, naming the valid ones."""
    known = {f.name for f in fields(config_class)}
    unknown = sorted(map(str, set(data) - known))
    if unknown:
        raise ConfigError(f"Unknown {section} setting(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
