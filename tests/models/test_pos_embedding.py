"""Positional embeddings: resized per axis, never mixing time into space."""

from __future__ import annotations

import torch

from vivit.models.layers.pos_embedding import (
    LearnedPositionalEmbedding,
    SeparablePositionalEmbedding,
    SinusoidalPositionalEmbedding,
)


def test_learned_table_is_unchanged_at_the_size_it_was_built_for() -> None:
    embedding = LearnedPositionalEmbedding((3, 4, 5), 8)
    tokens = torch.zeros(2, 3, 4, 5, 8)
    torch.testing.assert_close(embedding(tokens), embedding.table.expand(2, -1, -1, -1, -1))


def test_resizing_time_leaves_the_spatial_pattern_untouched() -> None:
    embedding = LearnedPositionalEmbedding((3, 4, 5), 8)
    with torch.no_grad():  # the same spatial pattern at every time index
        embedding.table.copy_(embedding.table[:, :1].expand(-1, 3, -1, -1, -1))
    resized = embedding(torch.zeros(1, 7, 4, 5, 8))
    for t in range(7):
        torch.testing.assert_close(resized[:, t], embedding.table[:, 0])


def test_resizing_space_leaves_the_temporal_profile_untouched() -> None:
    embedding = LearnedPositionalEmbedding((3, 4, 5), 8)
    with torch.no_grad():  # constant over space, varying over time
        embedding.table.copy_(embedding.table[:, :, :1, :1].expand(-1, -1, 4, 5, -1))
    resized = embedding(torch.zeros(1, 3, 6, 9, 8))
    torch.testing.assert_close(resized[:, :, 2, 7], embedding.table[:, :, 0, 0])


def test_separable_embedding_is_a_temporal_plus_a_spatial_table() -> None:
    embedding = SeparablePositionalEmbedding((3, 4, 5), 8)
    out = embedding(torch.zeros(1, 3, 4, 5, 8))
    expected = embedding.temporal[:, :, None, None] + embedding.spatial[:, None]
    torch.testing.assert_close(out, expected)
    assert sum(p.numel() for p in embedding.parameters()) == (3 + 4 * 5) * 8


def test_sinusoidal_embedding_gives_each_position_its_own_code_and_has_no_parameters() -> None:
    embedding = SinusoidalPositionalEmbedding(24)
    codes = embedding(torch.zeros(1, 3, 4, 5, 24)).reshape(-1, 24)
    assert not list(embedding.parameters())
    assert torch.cdist(codes, codes).add(torch.eye(60)).min() > 0  # all 60 positions distinct
