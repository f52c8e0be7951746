"""Batches from cached features: padding with lengths, standardisation, deterministic order."""

from __future__ import annotations

import numpy as np
import pytest

from emoscope.errors import ConfigError
from emoscope.features import FeatureCache, FeatureSet, create
from emoscope.train.data import FeatureDataset, Standardizer, collate, epoch_order


@pytest.fixture
def seqs(tmp_path):
    ext = create("logmel", n_mels=8, n_fft=64, hop_length=32)
    cache = FeatureCache(tmp_path)
    rng = np.random.default_rng(0)
    keys = {}
    for i, n in enumerate([5, 9, 3, 12]):
        cache.put(f"k{i}", ext, rng.standard_normal((n, 8)).astype(np.float32) + i)
        keys[f"id{i}"] = f"k{i}"
    return FeatureSet(ext, cache, keys)


def test_collate_pads_and_reports_lengths(seqs):
    ds = FeatureDataset(seqs, list(seqs), [0, 1, 0, 1], kind="sequence")
    b = collate([ds[i] for i in range(4)])
    assert tuple(b.x.shape) == (4, 12, 8) and b.lengths.tolist() == [5, 9, 3, 12]
    assert float(b.x[2, 3:].abs().sum()) == 0.0
    np.testing.assert_allclose(b.x[1, :9].numpy(), seqs["id1"])
    assert b.y.tolist() == [0, 1, 0, 1] and b.index.tolist() == [0, 1, 2, 3]


def test_standardizer_streaming_matches_numpy(seqs):
    st = Standardizer.fit(seqs[i] for i in seqs)
    allf = np.concatenate([seqs[i] for i in seqs])
    np.testing.assert_allclose(st.mean, allf.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(st.std, allf.std(0), rtol=1e-4)
    z = np.concatenate([st(seqs[i]) for i in seqs])
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    assert Standardizer.from_dict(st.to_dict()).mean.tolist() == st.mean.tolist()
    with pytest.raises(ConfigError):
        Standardizer.fit([])


def test_crops_are_deterministic_per_epoch(seqs):
    ds = FeatureDataset(seqs, list(seqs), [0, 1, 0, 1], kind="sequence", max_frames=4, seed=3)
    ds.set_epoch(0)
    a = ds[3][0]
    ds.set_epoch(0)
    assert np.array_equal(a, ds[3][0]) and a.shape == (4, 8)
    shapes = {ds[i][0].shape[0] for i in range(4)}
    assert shapes == {3, 4}


def test_epoch_order():
    a = epoch_order(10, seed=1, epoch=2)
    assert sorted(a.tolist()) == list(range(10))
    assert np.array_equal(a, epoch_order(10, seed=1, epoch=2))
    assert not np.array_equal(a, epoch_order(10, seed=1, epoch=3))
    w = np.array([1.0] * 9 + [100.0])
    draw = epoch_order(1000, seed=0, epoch=0, weights=np.tile(w, 100))
    assert len(draw) == 1000
