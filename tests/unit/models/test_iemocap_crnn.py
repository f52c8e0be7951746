"""iemocap-cnn-rnn and iemocap-cnn-lstm: conv blocks, then image columns through an RNN."""

from __future__ import annotations

import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError

SMALL = {"channels": (4, 8, 8), "freq_bins": 2, "rnn_hidden": 8, "hidden": 8}
NAMES = ["iemocap-cnn-rnn", "iemocap-cnn-lstm"]


def test_cells():
    rnn = models.build_model("iemocap-cnn-rnn", input_shape=(3, 224, 224), n_classes=4)
    lstm = models.build_model("iemocap-cnn-lstm", input_shape=(3, 224, 224), n_classes=4)
    assert type(rnn.rnn) is torch.nn.RNN and rnn.rnn.nonlinearity == "tanh"
    assert type(lstm.rnn) is torch.nn.LSTM
    assert rnn.rnn.input_size == 128 * 4 and rnn.rnn.hidden_size == 128
    gru = models.build_model("iemocap-cnn-rnn", input_shape=(3, 32, 32), n_classes=4, cell="gru")
    assert type(gru.rnn) is torch.nn.GRU
    two = models.build_model("iemocap-cnn-lstm", input_shape=(3, 32, 32), n_classes=4,
                             rnn_layers=2)
    assert two.rnn.dropout == 0.1 and two.head[0].p == 0.1 and two.head[3].p == 0.2


def test_time_runs_along_the_width():
    """Columns are frames: the last state depends on the order of the columns."""
    torch.manual_seed(0)
    model = models.build_model("iemocap-cnn-rnn", input_shape=(3, 16, 32), n_classes=4,
                               **SMALL).eval()
    x = torch.randn(1, 3, 16, 32)
    with torch.no_grad():
        a, b = model(x), model(x.flip(-1))
        c = model(x.flip(-2))  # frequency flipped, same columns: still different features
    assert not torch.allclose(a, b) and not torch.allclose(a, c)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(3, 24, 40), (1, 16, 16), (3, 8, 8)])
def test_shapes(contract, name, shape):
    contract.shapes(name, shape, **SMALL)


@pytest.mark.parametrize("name", NAMES)
def test_rebuild(contract, name):
    contract.rebuild(name, (3, 16, 16), rnn_layers=2, **SMALL)


@pytest.mark.parametrize("name", NAMES)
def test_overfits(contract, name):
    contract.overfits(name, (3, 16, 16), **SMALL)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_kind(name):
    with pytest.raises(ConfigError, match=f"'{name}' takes image features; got sequence"):
        models.build_model(name, input_shape=(100, 64), n_classes=4)


@pytest.mark.parametrize(("opts", "match"), [
    ({"cell": "transformer"}, "cell='transformer'"),
    ({"rnn_dropout": -0.1}, "rnn_dropout=-0.1 must be in"),
    ({"rnn_layers": 0}, "rnn_layers=0 must be positive"),
    ({"bidirectional": True}, "unknown option.*bidirectional"),
])
def test_bad_options(opts, match):
    with pytest.raises(ConfigError, match=match):
        models.build_model("iemocap-cnn-lstm", input_shape=(3, 16, 16), n_classes=4, **opts)
