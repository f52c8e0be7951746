"""tess-lstm: the TESS study's Keras LSTM, on the MFCC mean vector or on frames."""

from __future__ import annotations

import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError

SMALL = {"hidden": 16, "dense": (8, 8)}


def test_default_is_the_study_architecture():
    model = models.build_model("tess-lstm", input_shape=(40,), n_classes=7)
    assert model.lstm.input_size == 1 and model.lstm.hidden_size == 256
    linears = [m for m in model.head if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(256, 128), (128, 64), (64, 7)]
    assert [m.p for m in model.head if isinstance(m, torch.nn.Dropout)] == [0.2] * 3
    keras = 4 * (256 * (1 + 256) + 256) + (256 * 128 + 128) + (128 * 64 + 64) + (64 * 7 + 7)
    assert models.n_parameters(model) == keras + 4 * 256  # torch's second LSTM bias vector


def test_keras_init():
    torch.manual_seed(0)
    lstm = models.build_model("tess-lstm", input_shape=(40,), n_classes=7).lstm
    h = 256
    assert torch.all(lstm.bias_ih_l0[h:2 * h] == 1) and torch.all(lstm.bias_ih_l0[:h] == 0)
    assert torch.all(lstm.bias_hh_l0 == 0)
    w = lstm.weight_hh_l0  # (4h, h), orthonormal columns
    assert torch.allclose(w.T @ w, torch.eye(h), atol=1e-4)
    torch.manual_seed(0)
    plain = models.build_model("tess-lstm", input_shape=(40,), n_classes=7, init="torch").lstm
    assert not torch.all(plain.bias_hh_l0 == 0)


@pytest.mark.parametrize("shape", [(40,), (12, 5)])
def test_shapes(contract, shape):
    contract.shapes("tess-lstm", shape, **SMALL)
    contract.shapes("tess-lstm", shape, n_classes=7)  # default size


def test_vector_is_a_sequence_of_single_values():
    torch.manual_seed(0)
    vec = models.build_model("tess-lstm", input_shape=(10,), n_classes=3, **SMALL).eval()
    seq = models.build_model("tess-lstm", input_shape=(10, 1), n_classes=3, **SMALL).eval()
    seq.load_state_dict(vec.state_dict())
    x = torch.randn(2, 10)
    with torch.no_grad():
        assert torch.allclose(vec(x), seq(x.unsqueeze(-1)), atol=1e-6)


@pytest.mark.parametrize("pad_value", [0.0, 7.5])
def test_padding_is_ignored(contract, pad_value):
    contract.padding("tess-lstm", (13, 5), pad_value=pad_value, **SMALL)


def test_rebuild(contract):
    contract.rebuild("tess-lstm", (40,), **SMALL)
    contract.rebuild("tess-lstm", (9, 4), **SMALL)


def test_overfits(contract):
    contract.overfits("tess-lstm", (20,), **SMALL)
    contract.overfits("tess-lstm", (8, 3), **SMALL)


def test_wrong_kind():
    with pytest.raises(ConfigError,
                       match="'tess-lstm' takes vector or sequence features; got image"):
        models.build_model("tess-lstm", input_shape=(3, 8, 8), n_classes=2)


@pytest.mark.parametrize(("opts", "match"), [
    ({"hidden": "256"}, "hidden='256' should be int"),
    ({"dense": (128, "64")}, r"dense=\(128, '64'\) should be tuple\[int, ...\]"),
    ({"dense": (128, 0)}, "dense=.* must be positive"),
    ({"dropout": 1.0}, r"dropout=1.0 must be in \[0, 1\)"),
    ({"init": "glorot"}, "init='glorot'"),
    ({"units": 3}, "unknown option.*units"),
])
def test_bad_options(opts, match):
    with pytest.raises(ConfigError, match=match):
        models.build_model("tess-lstm", input_shape=(40,), n_classes=7, **opts)


def test_bad_batches():
    model = models.build_model("tess-lstm", input_shape=(40,), n_classes=7, **SMALL)
    with pytest.raises(ConfigError, match="dim 40"):
        model(torch.zeros(2, 13))
    with pytest.raises(ConfigError, match="2 dimensions"):
        model(torch.zeros(2, 40, 1))
    seq = models.build_model("tess-lstm", input_shape=(10, 4), n_classes=7, **SMALL)
    with pytest.raises(ConfigError, match=r"lengths must be in \[1, 10\]"):
        seq(torch.zeros(2, 10, 4), torch.tensor([0, 3]))
    with pytest.raises(ConfigError, match=r"lengths must be in \[1, 10\]"):
        seq(torch.zeros(2, 10, 4), torch.tensor([11, 3]))
    with pytest.raises(ConfigError, match="integer tensor of shape"):
        seq(torch.zeros(2, 10, 4), torch.tensor([1.0, 3.0]))
