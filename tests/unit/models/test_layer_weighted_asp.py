"""layer-weighted-asp: per-frame layer weighting, a projection and attentive statistics pooling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError

SMALL = {"n_layers": 3, "hidden": 8, "attention_dim": 4}


@pytest.mark.parametrize("shape", [(30, 12), (1, 12), (7, 24)])
def test_shapes(contract, shape):
    contract.shapes("layer-weighted-asp", shape, **SMALL)


def test_padding_is_ignored(contract):
    contract.padding("layer-weighted-asp", (23, 12), **SMALL)


def test_rebuild(contract):
    contract.rebuild("layer-weighted-asp", (20, 12), **SMALL)


def test_overfits(contract):
    contract.overfits("layer-weighted-asp", (16, 12), **SMALL)


def test_it_learns_which_layer_carries_the_label():
    """Only layer 1 of 3 tells the classes apart (in every frame): its weight grows."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n, t, d = 128, 10, 4
    y = rng.integers(0, 2, n)
    frames = rng.standard_normal((n, t, 3, d)).astype(np.float32)
    frames[:, :, 1, 0] += 2.0 * (2 * y - 1)[:, None]
    x, target = torch.from_numpy(frames.reshape(n, t, -1)), torch.from_numpy(y)
    m = models.build_model("layer-weighted-asp", input_shape=(t, 3 * d), n_classes=2,
                           n_layers=3, hidden=8, attention_dim=4, dropout=0.0)
    np.testing.assert_allclose(m.layer_weights(), np.full(3, 1 / 3), atol=1e-7)
    opt = torch.optim.Adam(m.parameters(), lr=0.03)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), target).backward()
        opt.step()
    w = m.layer_weights()
    assert w.argmax() == 1 and w[1] > 0.5 and abs(w.sum() - 1.0) < 1e-6


def test_frames_must_split_evenly_and_be_sequences():
    with pytest.raises(ConfigError, match="do not split into n_layers=3"):
        models.build_model("layer-weighted-asp", input_shape=(5, 10), n_classes=2, n_layers=3)
    with pytest.raises(ConfigError, match="takes sequence features"):
        models.build_model("layer-weighted-asp", input_shape=(12,), n_classes=2, n_layers=3)
