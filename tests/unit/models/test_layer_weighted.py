"""The layer-weighted head: blocks weighed by a learned softmax, then an MLP."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError


def test_shapes_weights_and_spec_round_trip():
    m = models.build_model("layer-weighted-mlp", input_shape=(3 * 8,), n_classes=4,
                           n_layers=3, hidden=(16,))
    m.eval()
    x = torch.randn(5, 24)
    assert m(x).shape == (5, 4)
    np.testing.assert_allclose(m.layer_weights(), np.full(3, 1 / 3), atol=1e-7)
    again = models.build_model(models.model_spec(m))
    again.load_state_dict(m.state_dict())
    again.eval()
    torch.testing.assert_close(again(x), m(x))


def test_it_learns_which_layer_carries_the_label():
    """Only layer 2 of 3 tells the classes apart: its weight grows."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n, d = 256, 6
    y = rng.integers(0, 2, n)
    blocks = rng.standard_normal((n, 3, d)).astype(np.float32)
    blocks[:, 2, 0] += 3.0 * (2 * y - 1)  # the signal, in layer 2 only
    x, t = torch.from_numpy(blocks.reshape(n, -1)), torch.from_numpy(y)
    m = models.build_model("layer-weighted-mlp", input_shape=(3 * d,), n_classes=2,
                           n_layers=3, hidden=(), dropout=0.0)
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), t).backward()
        opt.step()
    w = m.layer_weights()
    assert w.argmax() == 2 and w[2] > 0.6 and abs(w.sum() - 1.0) < 1e-6


def test_blocks_must_split_evenly():
    with pytest.raises(ConfigError, match="do not split into n_layers=3"):
        models.build_model("layer-weighted-mlp", input_shape=(10,), n_classes=2, n_layers=3)
    with pytest.raises(ConfigError, match="n_layers"):
        models.build_model("layer-weighted-mlp", input_shape=(12,), n_classes=2, n_layers=0)
