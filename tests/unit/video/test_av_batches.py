"""Multi-input items through the trainer's data path: tuple collate, per-part standardiser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emoscope.train.data import (
    FeatureDataset,
    PartStandardizer,
    Standardizer,
    collate,
    standardizer_from_dict,
)


def _items():
    rng = np.random.default_rng(0)
    return {f"c{i}": (rng.normal(3.0, 2.0, size=(5 + i, 4)).astype(np.float32),  # sequence
                      rng.random((2, 1, 6, 8)).astype(np.float32))              # face frames
            for i in range(3)}


def test_collate_tuples_part_by_part():
    items = _items()
    b = collate([(x, k, k) for k, x in enumerate(items.values())])
    seq, video = b.x
    assert seq.shape == (3, 7, 4) and video.shape == (3, 2, 1, 6, 8)
    assert b.lengths[0].tolist() == [5, 6, 7] and b.lengths[1] is None
    assert torch.equal(video[1], torch.from_numpy(items["c1"][1]))
    images = collate([((np.zeros((1, 4, 4), np.float32), x[1]), 0, 0) for x in items.values()])
    assert images.lengths is None  # no sequence part: nothing padded


def test_part_standardizer_fits_sequence_parts_only():
    items = _items()
    std = PartStandardizer.fit(items, list(items), "sequence+video")
    assert isinstance(std.parts[0], Standardizer) and std.parts[1] is None
    ds = FeatureDataset(items, list(items), [0, 1, 2], kind="sequence+video", standardizer=std)
    (seq, video), y, i = ds[2]
    frames = np.concatenate([items[k][0] for k in items])
    np.testing.assert_allclose(seq, (items["c2"][0] - frames.mean(0)) / frames.std(0), rtol=1e-4)
    np.testing.assert_array_equal(video, items["c2"][1])
    assert (y, i) == (2, 2)
    again = standardizer_from_dict(std.to_dict())
    assert isinstance(again, PartStandardizer) and again.parts[1] is None
    np.testing.assert_allclose(again.parts[0].mean, std.parts[0].mean)
    plain = standardizer_from_dict(Standardizer.fit([frames]).to_dict())
    assert isinstance(plain, Standardizer)
    with pytest.raises(KeyError):
        PartStandardizer.from_dict({})
