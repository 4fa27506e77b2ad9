"""Which tokens a masked autoencoder hides (VideoMAE, Tong et al. 2022, Section 3.3).

- `tube`: one set of spatial positions is hidden at every time step, so a masked tubelet
  cannot be copied from its neighbour in time. The visible tokens still form a grid
  (B, nt, ns_visible, D): every variant's encoder runs on it unchanged.
- `random`: tokens hidden independently over the whole (nt x ns) grid. The visible tokens
  no longer form a grid, so only Model 1 (which attends over a flat token set) takes them.

Masks hide `floor(ratio * n)` of the `n` candidates, exactly, in every sample (as VideoMAE
counts them), so at least one token stays visible for any ratio below 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from vivit.errors import ConfigError

MASKINGS = ("tube", "random")


@dataclass(frozen=True)
class TokenMask:
    """Which of a (nt, ns) token grid an encoder sees.

    visible: (B, k) int64 indices, sorted. For `tube` they index the ns spatial positions
    (the same k positions at every time step); for `random` the nt*ns tokens, time-major.
    """

    masking: str
    visible: torch.Tensor
    grid: tuple[int, int]  # (nt, ns)

    @property
    def hidden(self) -> torch.Tensor:
        """(B, nt, ns) bool: True where the token is masked (what the loss is taken on)."""
        nt, ns = self.grid
        batch = self.visible.shape[0]
        if self.masking == "tube":
            shown = torch.zeros(batch, ns, dtype=torch.bool, device=self.visible.device)
            shown.scatter_(1, self.visible, True)
            return ~shown[:, None, :].expand(batch, nt, ns)
        shown = torch.zeros(batch, nt * ns, dtype=torch.bool, device=self.visible.device)
        shown.scatter_(1, self.visible, True)
        return ~shown.view(batch, nt, ns)

    def to(self, device: torch.device | str) -> TokenMask:
        return TokenMask(self.masking, self.visible.to(device), self.grid)

    def gather(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, nt, ns, D) -> the visible tokens as a grid: (B, nt, k, D) for `tube`, (B, 1, k, D) for `random`."""
        b, nt, ns, d = tokens.shape
        if self.masking == "tube":
            index = self.visible[:, None, :, None].expand(b, nt, -1, d)
            return tokens.gather(2, index)
        index = self.visible[:, :, None].expand(b, -1, d)
        return tokens.reshape(b, nt * ns, d).gather(1, index)[:, None]

    def scatter(self, visible: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
        """Visible features as `gather` returns them -> (B, nt*ns, D'), `fill` (D',) at the hidden places."""
        nt, ns = self.grid
        b, d = visible.shape[0], visible.shape[-1]
        full = fill.to(visible.dtype).expand(b, nt * ns, d).clone()
        if self.masking == "tube":
            # Token (t, s) sits at t * ns + s of the time-major sequence.
            offsets = torch.arange(nt, device=visible.device)[None, :, None] * ns
            index = (offsets + self.visible[:, None, :]).flatten(1)  # (B, nt*k)
        else:
            index = self.visible
        full.scatter_(1, index[:, :, None].expand(-1, -1, d), visible.reshape(b, -1, d))
        return full


def num_hidden(ratio: float, candidates: int) -> int:
    return int(ratio * candidates)


def draw_mask(
    masking: str, ratio: float, batch: int, grid: tuple[int, int], generator: torch.Generator | None = None
) -> TokenMask:
    """A fresh mask per sample for a (nt, ns) token grid, drawn on the CPU from `generator`."""
    if masking not in MASKINGS:
        raise ConfigError(f"Unknown masking '{masking}'; choose one of: {', '.join(MASKINGS)}")
    if not 0.0 <= ratio < 1.0:
        raise ConfigError(f"mask_ratio must be in [0, 1), got {ratio}; a ratio of 1 would leave the encoder nothing to see")
    nt, ns = grid
    candidates = ns if masking == "tube" else nt * ns
    keep = candidates - num_hidden(ratio, candidates)
    # Ranks of uniform noise give a uniformly random subset (as MAE draws its masks).
    noise = torch.rand(batch, candidates, generator=generator)
    visible = noise.argsort(dim=1)[:, :keep].sort(dim=1).values  # sorted: ratio 0 keeps the grid's order
    return TokenMask(masking, visible, grid)
