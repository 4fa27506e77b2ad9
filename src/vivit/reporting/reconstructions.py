"""The report of a pretraining run: what the masked autoencoder makes of volumes it half sees.

Each card is one GIF of three panels side by side, slice by slice: the masked input (hidden
tubelets grey), the reconstruction (the visible tubelets as they are, the hidden ones as the
decoder predicts them, its per-tubelet normalisation undone with the true tubelet's mean and
std, as VideoMAE shows its samples) and the original.
"""

from __future__ import annotations

from pathlib import Path

import torch

from vivit.checkpoints import load_mae
from vivit.data.types import Split
from vivit.models import MaskedAutoencoder
from vivit.models.mae import pixels_to_voxels, tubelet_pixels
from vivit.reporting import gifs
from vivit.reporting.html import Picture, PretrainingPage, SampleCard
from vivit.training.recipe import Recipe
from vivit.training.run_dir import RunDir, SelectedCheckpoint

RECONSTRUCTIONS = 8  # "a few volumes": at most this many cards
HIDDEN_GREY = 0.5
MASK_SEED = 0  # the same masks in every report of a run


def reconstruction_panels(model: MaskedAutoencoder, video: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(B, C, T, H, W) in [0, 1] -> (3, B, C, T', H', W'): masked input, reconstruction, original,
    on the token grid's voxels (SAME padding included, frames sampled as the tokenizer samples them)."""
    with torch.no_grad():
        mask = model.draw_mask(video, generator)
        output = model(video, mask)
        grid = model.encoder.tokenizer.grid(tuple(video.shape[2:]))
        original = pixels_to_voxels(tubelet_pixels(video, model.config), model.config, grid)
        hidden = output.hidden[..., None].expand(-1, -1, -1, output.target.shape[-1]).to(video.dtype)
        hidden_voxels = pixels_to_voxels(hidden, model.config, grid).bool()
        predicted = model.reconstruct(video, output.prediction)
    masked_input = torch.where(hidden_voxels, torch.full_like(original, HIDDEN_GREY), original)
    reconstruction = torch.where(hidden_voxels, predicted, original)
    return torch.stack([masked_input, reconstruction, original])


def reconstruction_cards(out: Path, model: MaskedAutoencoder, split: Split, count: int) -> list[SampleCard]:
    chosen = torch.randperm(len(split), generator=torch.Generator().manual_seed(MASK_SEED))[:count]
    video = split.images.index_select(0, chosen).float().div(255)
    panels = reconstruction_panels(model, video, torch.Generator().manual_seed(MASK_SEED))
    cards = []
    for column, index in enumerate(chosen.tolist()):
        order = gifs.play_order(panels[2, column])
        frames = gifs.side_by_side(*(gifs.sample_frames(panel[column]) for panel in panels))[order]
        path = gifs.write_gif(out / f"reconstruction-{index:05d}.gif", frames)
        text = "masked input | reconstruction | original"
        cards.append(SampleCard(Picture(path.name, frames.shape[2], frames.shape[1], text), text, index, True))
    return cards


def pretraining_page(out: Path, run: RunDir, recipe: Recipe, selected: SelectedCheckpoint, split_name: str, split: Split,
                     samples: int, curves: Picture | None) -> PretrainingPage:
    model = load_mae(selected.path)
    mae = model.mae_config
    config = model.config
    count = min(samples, RECONSTRUCTIONS, len(split))
    metrics = {name: row for name, row in (run.read_metrics() or {}).items() if isinstance(row, dict)}
    return PretrainingPage(
        title=f"{recipe.name}: masked-autoencoder pretraining on {recipe.data.dataset}",
        subtitle=f"run {run.path.resolve().name}, {split_name} split, checkpoint '{selected.name}' "
                 f"(epoch {model.checkpoint_info.get('epoch')})",
        facts=[
            ("encoder", f"{config.variant}, {config.tokenizer} {'x'.join(map(str, config.tubelet_size))}, width "
                        f"{config.embed_dim}, depth {config.depth}, grid {'x'.join(map(str, model.encoder.grid))}"),
            ("masking", f"{mae.masking}, ratio {mae.mask_ratio:g}"),
            ("decoder", f"width {mae.decoder_dim}, depth {mae.decoder_depth}, "
                        f"{'normalised' if mae.normalise_targets else 'raw'} voxels as targets"),
        ],
        metrics=metrics,
        recipe_text=run.config_text(),
        curves=curves,
        reconstructions=reconstruction_cards(out, model, split, count),
        reconstructions_note=(
            f"{count} {split_name} samples drawn at random, each with a fresh mask (seed {MASK_SEED}): left the masked "
            f"input (hidden tubelets grey), middle the reconstruction (visible tubelets as given, hidden ones predicted), "
            f"right the original. The loss is taken on the hidden tubelets only."
        ),
    )
