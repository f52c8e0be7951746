"""ssl-head: pooling and an MLP over self-supervised encoder states."""

from __future__ import annotations

import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError

SMALL = {"hidden": (8,), "attention_dim": 8}


def test_kinds():
    seq = models.build_model("ssl-head", input_shape=(150, 768), n_classes=4)
    vec = models.build_model("ssl-head", input_shape=(1536,), n_classes=4)
    assert seq.pool is not None and seq.mlp[1].in_features == 1536
    assert vec.pool is None and vec.mlp[1].in_features == 1536


@pytest.mark.parametrize("shape", [(20, 12), (1, 12), (12,)])
@pytest.mark.parametrize("input_norm", [True, False])
def test_shapes(contract, shape, input_norm):
    contract.shapes("ssl-head", shape, input_norm=input_norm, **SMALL)


@pytest.mark.parametrize("pad_value", [0.0, 1e4])
@pytest.mark.parametrize("input_norm", [True, False])
def test_padding_is_ignored(contract, pad_value, input_norm):
    contract.padding("ssl-head", (19, 12), pad_value=pad_value, input_norm=input_norm, **SMALL)


@pytest.mark.parametrize("shape", [(10, 12), (12,)])
def test_rebuild(contract, shape):
    contract.rebuild("ssl-head", shape, **SMALL)


@pytest.mark.parametrize("shape", [(10, 12), (12,)])
def test_overfits(contract, shape):
    contract.overfits("ssl-head", shape, **SMALL)


def test_wrong_kind():
    with pytest.raises(ConfigError, match="'ssl-head' takes sequence or vector features; got "
                                          "image features"):
        models.build_model("ssl-head", input_shape=(3, 8, 8), n_classes=4)


def test_wrong_hidden_size():
    model = models.build_model("ssl-head", input_shape=(10, 768), n_classes=4)
    with pytest.raises(ConfigError, match="dim 768"):
        model(torch.zeros(1, 10, 1024))


@pytest.mark.parametrize(("opts", "match"), [
    ({"hidden": (256, -1)}, "hidden=.* must be positive"),
    ({"input_norm": "yes"}, "input_norm='yes' should be bool"),
    ({"pooling": "mean"}, "unknown option.*pooling"),
])
def test_bad_options(opts, match):
    with pytest.raises(ConfigError, match=match):
        models.build_model("ssl-head", input_shape=(10, 768), n_classes=4, **opts)
