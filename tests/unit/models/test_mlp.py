"""mlp: a feed-forward classifier on functionals."""

from __future__ import annotations

import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_shapes_and_norms(contract, norm):
    model = contract.shapes("mlp", (88,), n_classes=4, norm=norm, hidden=(16, 8))
    kinds = {type(m) for m in model.net}
    assert {"batch": torch.nn.BatchNorm1d, "layer": torch.nn.LayerNorm,
            "none": torch.nn.Identity}[norm] in kinds


def test_linear_classifier_and_input_dropout(contract):
    model = contract.shapes("mlp", (10,), hidden=(), input_dropout=0.1)
    assert models.n_parameters(model) == 10 * 3 + 3 + 0


@pytest.mark.parametrize("norm", ["batch", "layer", "none"])
def test_rebuild(contract, norm):
    contract.rebuild("mlp", (12,), norm=norm, hidden=(16,))


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_overfits(contract, norm):
    contract.overfits("mlp", (12,), norm=norm, hidden=(32, 16), dropout=0.1)


@pytest.mark.parametrize("shape", [(10, 88), (3, 8, 8)])
def test_wrong_kind(shape):
    with pytest.raises(ConfigError, match="'mlp' takes vector features"):
        models.build_model("mlp", input_shape=shape, n_classes=4)


@pytest.mark.parametrize(("opts", "match"), [
    ({"hidden": 128}, "hidden=128 should be tuple"),
    ({"norm": "group"}, "norm='group'"),
    ({"dropout": "0.2"}, "dropout='0.2' should be float"),
    ({"layers": 2}, "unknown option.*layers"),
])
def test_bad_options(opts, match):
    with pytest.raises(ConfigError, match=match):
        models.build_model("mlp", input_shape=(88,), n_classes=4, **opts)
