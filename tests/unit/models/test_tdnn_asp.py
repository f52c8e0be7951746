"""tdnn-asp: dilated 1-D convolutions with SE, aggregation and attentive statistics pooling."""

from __future__ import annotations

import pytest

from emoscope import models
from emoscope.errors import ConfigError

SMALL = {"channels": 8, "dilations": (1, 2), "se_bottleneck": 4, "aggregate": 8,
         "attention_dim": 8, "hidden": 8}


def test_default_size_fits_a_cpu():
    model = models.build_model("tdnn-asp", input_shape=(300, 64), n_classes=8)
    assert 300_000 < models.n_parameters(model) < 700_000


@pytest.mark.parametrize("shape", [(30, 20), (5, 64), (1, 8), (17, 13)])
def test_shapes(contract, shape):
    contract.shapes("tdnn-asp", shape, **SMALL)


@pytest.mark.parametrize("pad_value", [0.0, -23.0])
@pytest.mark.parametrize("opts", [{}, {"se_bottleneck": 0, "hidden": None},
                                  {"kernel_size": 5, "dilations": (1, 3, 5)}])
def test_padding_is_ignored(contract, opts, pad_value):
    contract.padding("tdnn-asp", (23, 16), pad_value=pad_value, **{**SMALL, **opts})


def test_padding_is_ignored_default_config(contract):
    contract.padding("tdnn-asp", (37, 64))


def test_rebuild(contract):
    contract.rebuild("tdnn-asp", (20, 16), **SMALL)


def test_overfits(contract):
    contract.overfits("tdnn-asp", (16, 12), **SMALL)


@pytest.mark.parametrize("shape", [(64,), (3, 64, 64)])
def test_wrong_kind(shape):
    with pytest.raises(ConfigError, match="'tdnn-asp' takes sequence features"):
        models.build_model("tdnn-asp", input_shape=shape, n_classes=4)


@pytest.mark.parametrize(("opts", "match"), [
    ({"kernel_size": 4}, "kernel_size must be odd"),
    ({"se_bottleneck": -1}, "se_bottleneck"),
    ({"channels": 0}, "channels=0 must be positive"),
    ({"dropout": 1.0}, "dropout"),
])
def test_bad_config(opts, match):
    with pytest.raises(ConfigError, match=match):
        models.build_model("tdnn-asp", input_shape=(10, 8), n_classes=3, **opts)
