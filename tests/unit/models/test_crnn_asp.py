"""crnn-asp: conv front end, BiGRU and attentive statistics pooling on log-mel frames."""

from __future__ import annotations

import pytest

from emoscope import models
from emoscope.errors import ConfigError

SMALL = {"channels": (4, 8), "time_pool": (2, 1), "rnn_hidden": 8, "attention_dim": 8,
         "hidden": 8}


def test_default_size_fits_a_cpu():
    model = models.build_model("crnn-asp", input_shape=(350, 64), n_classes=8)
    assert 500_000 < models.n_parameters(model) < 1_000_000
    assert model.rnn.bidirectional and model.rnn.hidden_size == 128
    assert model.rnn.input_size == 128 * 4  # 64 mels pooled 16x


@pytest.mark.parametrize("shape", [(30, 20), (5, 64), (1, 8), (17, 13)])
def test_shapes(contract, shape):
    contract.shapes("crnn-asp", shape, **SMALL)


def test_shapes_default_config(contract):
    contract.shapes("crnn-asp", (40, 64), n_classes=8)


@pytest.mark.parametrize("pad_value", [0.0, -23.0])
@pytest.mark.parametrize("opts", [
    {},
    {"time_pool": (2, 2), "hidden": None},
    {"bidirectional": False, "rnn_layers": 2, "time_pool": (1, 1)},
])
def test_padding_is_ignored(contract, opts, pad_value):
    contract.padding("crnn-asp", (23, 16), pad_value=pad_value, **{**SMALL, **opts})


def test_padding_is_ignored_default_config(contract):
    contract.padding("crnn-asp", (37, 64))


def test_rebuild(contract):
    contract.rebuild("crnn-asp", (20, 16), **SMALL)


def test_overfits(contract):
    contract.overfits("crnn-asp", (16, 12), **SMALL)


@pytest.mark.parametrize("shape", [(64,), (3, 64, 64)])
def test_wrong_kind(shape):
    with pytest.raises(ConfigError, match="'crnn-asp' takes sequence features"):
        models.build_model("crnn-asp", input_shape=shape, n_classes=4)


@pytest.mark.parametrize(("opts", "match"), [
    ({"time_pool": (2, 2, 1)}, "one factor per conv block"),
    ({"hidden": 0}, "hidden=0 must be positive"),
    ({"hidden": "none"}, "hidden='none' should be int | None"),
    ({"heads": 4}, "unknown option.*heads"),
])
def test_bad_options(opts, match):
    with pytest.raises(ConfigError, match=match):
        models.build_model("crnn-asp", input_shape=(100, 64), n_classes=4, **opts)
