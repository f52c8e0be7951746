"""The epoch loop: it learns, selects on validation, and a killed run resumes to the same end."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from emoscope.config import TrainConfig
from emoscope.features import FeatureCache, FeatureSet, create
from emoscope.train.data import FeatureDataset
from emoscope.train.loop import predict_proba, train_torch_model


class Tiny(nn.Module):
    def __init__(self, d: int = 6, n: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, n))

    def forward(self, x, lengths=None):
        return self.net(x)


@pytest.fixture
def data(tmp_path):
    """Three separable classes of 6-d vectors."""
    ext = create("mfcc-mean", n_mfcc=6, n_mels=16)
    cache = FeatureCache(tmp_path)
    rng = np.random.default_rng(0)
    keys, ys = {}, {}
    for i in range(90):
        c = i % 3
        x = rng.normal(0, 1, 6).astype(np.float32)
        x[c] += 4.0
        cache.put(f"k{i}", ext, x)
        keys[f"u{i}"], ys[f"u{i}"] = f"k{i}", c
    fs = FeatureSet(ext, cache, keys)
    ids = list(keys)
    return fs, ids[:60], [ys[i] for i in ids[:60]], ids[60:75], [ys[i] for i in ids[60:75]], \
        ids[75:], [ys[i] for i in ids[75:]]


def _run(data, cfg, **kw):
    fs, tr, ty, va, vy, _, _ = data
    torch.manual_seed(cfg.seed)
    model = Tiny()
    return train_torch_model(model, cfg, fs, kind="vector", train_ids=tr, train_y=ty,
                             valid_ids=va, valid_y=vy, n_classes=3, **kw)


def test_it_learns_and_selects_on_validation(data):
    res = _run(data, TrainConfig(epochs=15, batch_size=16, lr=0.01, seed=0))
    fs, *_, te, tey = data
    ds = FeatureDataset(fs, te, tey, kind="vector", standardizer=res.standardizer)
    acc = (predict_proba(res.model, ds).argmax(1) == np.array(tey)).mean()
    assert acc >= 0.9
    assert len(res.history) == 15 and {"train_loss", "valid_ua", "lr"} <= set(res.history[0])
    assert res.best_valid_ua == max(r["valid_ua"] for r in res.history)
    assert res.history[res.best_epoch - 1]["valid_ua"] == res.best_valid_ua


def test_ties_in_validation_ua_go_to_the_lower_validation_loss(data):
    res = _run(data, TrainConfig(epochs=15, batch_size=16, lr=0.01, seed=0))
    best = res.best_valid_ua
    tied = [r for r in res.history if r["valid_ua"] == best]
    assert len(tied) > 1  # separable classes: validation UA saturates
    chosen = res.history[res.best_epoch - 1]
    assert chosen["valid_loss"] == min(r["valid_loss"] for r in tied)
    assert res.best_epoch > res.history.index(tied[0]) + 1  # not simply the first to reach it


def test_early_stopping(data):
    res = _run(data, TrainConfig(epochs=50, batch_size=16, lr=0.05, early_stopping=2))
    assert len(res.history) < 50


def test_killed_run_resumes_to_the_same_weights(data, tmp_path):
    cfg = TrainConfig(epochs=6, batch_size=16, lr=0.01, seed=4, schedule="cosine",
                      balance="oversample")
    whole = _run(data, cfg, checkpoint=tmp_path / "a.pt")

    class Killed(Exception):
        pass

    def die(epoch, row):
        if epoch == 3:
            raise Killed

    with pytest.raises(Killed):
        _run(data, cfg, checkpoint=tmp_path / "b.pt", progress=die)
    resumed = _run(data, cfg, checkpoint=tmp_path / "b.pt", resume=True)
    assert resumed.resumed_from == 3
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]
    for (k, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values(),
                         strict=True):
        assert torch.equal(a, b), k
