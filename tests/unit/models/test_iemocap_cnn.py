"""iemocap-cnn: the IEMOCAP study's CNN on spectrogram images."""

from __future__ import annotations

import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError

SMALL = {"channels": (4, 8, 8), "hidden": 16, "pool": (2, 2)}


def test_default_architecture():
    model = models.build_model("iemocap-cnn", input_shape=(3, 224, 224), n_classes=4)
    convs = [b.conv for b in model.convs]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == \
        [(3, 32, (3, 3)), (32, 64, (3, 3)), (64, 128, (3, 3))]
    linears = [m for m in model.head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(128 * 16, 256), (256, 4)]
    drop = [m for m in model.head if isinstance(m, torch.nn.Dropout)]
    assert [d.p for d in drop] == [0.2]
    assert list(model.head).index(drop[0]) == len(model.head) - 2  # right before the last FC


@pytest.mark.parametrize("shape", [(3, 24, 24), (1, 17, 40), (3, 8, 8)])
def test_shapes_any_size(contract, shape):
    contract.shapes("iemocap-cnn", shape, **SMALL)
    contract.shapes("iemocap-cnn", shape, batch_norm=True, **SMALL)


def test_rebuild(contract):
    contract.rebuild("iemocap-cnn", (3, 16, 16), batch_norm=True, **SMALL)


def test_overfits(contract):
    contract.overfits("iemocap-cnn", (3, 16, 16), **SMALL)


@pytest.mark.parametrize("shape", [(40,), (100, 40)])
def test_wrong_kind(shape):
    with pytest.raises(ConfigError, match="'iemocap-cnn' takes image features"):
        models.build_model("iemocap-cnn", input_shape=shape, n_classes=4)


def test_wrong_channels():
    model = models.build_model("iemocap-cnn", input_shape=(3, 16, 16), n_classes=4, **SMALL)
    with pytest.raises(ConfigError, match="3-channel"):
        model(torch.zeros(1, 1, 16, 16))


@pytest.mark.parametrize(("opts", "match"), [
    ({"channels": [32, 64.0]}, "channels=.* should be tuple"),
    ({"pool": (4,)}, r"pool=\(4,\) should be tuple\[int, int\]"),
    ({"batch_norm": 1}, "batch_norm=1 should be bool"),
    ({"hiden": 3}, "unknown option.*hiden"),
])
def test_bad_options(opts, match):
    with pytest.raises(ConfigError, match=match):
        models.build_model("iemocap-cnn", input_shape=(3, 16, 16), n_classes=4, **opts)
