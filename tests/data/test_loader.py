"""BatchLoader: every sample once per epoch, shards that cover the data, reproducible order."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vivit.data.loader import BatchLoader
from vivit.data.types import Split
from vivit.errors import ConfigError, DataError


def _indexed_split(num_samples: int) -> Split:
    """Sample i is a tiny clip filled with the value i and labelled i, so batches reveal indices."""
    values = torch.arange(num_samples, dtype=torch.uint8)
    images = values.view(-1, 1, 1, 1, 1).expand(-1, 2, 2, 3, 3).contiguous()  # (N, C, T, H, W)
    return Split(images=images, labels=values.long())


def _epoch_indices(loader: BatchLoader) -> list[int]:
    return [int(i) for _, y in loader for i in y]


def test_batches_are_float_clips_in_unit_range_with_int64_labels() -> None:
    split = _indexed_split(10)
    x, y = next(iter(BatchLoader(split, batch_size=4)))
    assert x.shape == (4, 2, 2, 3, 3) and x.dtype == torch.float32
    assert y.dtype == torch.int64
    assert torch.equal(x, split.images[:4].float() / 255)
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_images_stay_uint8_in_memory_and_are_converted_per_batch() -> None:
    split = _indexed_split(10)
    list(BatchLoader(split, batch_size=4))
    assert split.images.dtype == torch.uint8


def test_without_shuffle_the_order_is_the_split_order() -> None:
    assert _epoch_indices(BatchLoader(_indexed_split(23), batch_size=5)) == list(range(23))


def test_a_shuffled_epoch_visits_every_sample_exactly_once() -> None:
    loader = BatchLoader(_indexed_split(103), batch_size=10, shuffle=True, seed=1)
    indices = _epoch_indices(loader)
    assert sorted(indices) == list(range(103))
    assert indices != list(range(103))
    assert len(loader) == 11 and [len(y) for _, y in loader][-1] == 3


def test_drop_last_yields_only_full_batches() -> None:
    loader = BatchLoader(_indexed_split(103), batch_size=10, shuffle=True, drop_last=True)
    sizes = [len(y) for _, y in loader]
    assert sizes == [10] * 10 and len(loader) == 10


def test_iterating_twice_repeats_the_order_and_set_epoch_changes_it() -> None:
    loader = BatchLoader(_indexed_split(50), batch_size=8, shuffle=True, seed=3)
    first = _epoch_indices(loader)
    assert _epoch_indices(loader) == first
    loader.set_epoch(1)
    second = _epoch_indices(loader)
    assert second != first and sorted(second) == sorted(first)
    loader.set_epoch(0)
    assert _epoch_indices(loader) == first


def test_the_order_depends_only_on_seed_and_epoch() -> None:
    def order(seed: int, epoch: int) -> list[int]:
        loader = BatchLoader(_indexed_split(50), batch_size=8, shuffle=True, seed=seed)
        loader.set_epoch(epoch)
        return _epoch_indices(loader)

    assert order(7, 2) == order(7, 2)
    assert order(7, 2) != order(8, 2)
    assert order(0, 1) != order(1, 0)  # seed and epoch are mixed, not added


def test_shards_of_all_ranks_cover_the_epoch_with_equal_batch_counts() -> None:
    split = _indexed_split(103)
    loaders = [
        BatchLoader(split, batch_size=4, shuffle=True, seed=5, rank=rank, world_size=4) for rank in range(4)
    ]
    shards = [_epoch_indices(loader) for loader in loaders]
    assert len({len(loader) for loader in loaders}) == 1
    assert all(len(shard) == 26 for shard in shards)  # ceil(103 / 4)
    union = [i for shard in shards for i in shard]
    assert set(union) == set(range(103))
    assert len(union) - 103 == 1  # padded by wrapping: one sample seen twice


@settings(max_examples=60, deadline=None)
@given(
    num_samples=st.integers(1, 40),
    batch_size=st.integers(1, 9),
    world_size=st.integers(1, 5),
    drop_last=st.booleans(),
)
def test_every_rank_yields_len_batches_and_together_they_cover_everything(
    num_samples: int, batch_size: int, world_size: int, drop_last: bool
) -> None:
    split = _indexed_split(num_samples)
    loaders = [
        BatchLoader(split, batch_size, shuffle=True, drop_last=drop_last, rank=rank, world_size=world_size)
        for rank in range(world_size)
    ]
    per_rank = math.ceil(num_samples / world_size)
    expected_batches = per_rank // batch_size if drop_last else math.ceil(per_rank / batch_size)
    for loader in loaders:
        assert len(loader) == expected_batches == sum(1 for _ in loader)
    if not drop_last:
        assert {i for loader in loaders for i in _epoch_indices(loader)} == set(range(num_samples))


def test_lightning_reshuffles_it_through_its_sampler() -> None:
    from lightning.fabric.utilities.data import _set_sampler_epoch

    loader = BatchLoader(_indexed_split(50), batch_size=8, shuffle=True)
    first = _epoch_indices(loader)
    _set_sampler_epoch(loader, 1)  # what Lightning's fit loop does at each epoch start
    assert _epoch_indices(loader) != first


def test_batches_are_moved_to_the_requested_device() -> None:
    x, y = next(iter(BatchLoader(_indexed_split(4), batch_size=2, device="meta")))
    assert x.device.type == "meta" and y.device.type == "meta"
    assert x.dtype == torch.float32


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(batch_size=0), ConfigError),
        (dict(batch_size=2, rank=2, world_size=2), ConfigError),
        (dict(batch_size=2, world_size=0), ConfigError),
    ],
)
def test_impossible_settings_are_refused(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        BatchLoader(_indexed_split(4), **kwargs)


def test_an_empty_split_is_refused() -> None:
    with pytest.raises(DataError, match="empty"):
        BatchLoader(_indexed_split(0), batch_size=2)
