"""The model contract: typed configs, the registry, build_model and model_spec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pytest
import torch

from emoscope import models
from emoscope.errors import ConfigError, UnknownNameError
from emoscope.models.base import ModelConfig, TorchModel, register_model


@dataclass(frozen=True)
class _Config(ModelConfig):
    size: int = 4
    rate: float = 0.5
    sizes: tuple[int, ...] = (1, 2)
    pair: tuple[int, int] = (3, 4)
    mode: Literal["a", "b"] = "a"
    maybe: int | None = None
    flag: bool = False

    def validate(self) -> None:
        self._positive("size", "sizes")


def test_every_model_is_registered():
    assert set(models.available()) == {
        "tess-lstm", "iemocap-cnn", "iemocap-cnn-rnn", "iemocap-cnn-lstm", "mlp", "crnn-asp",
        "tdnn-asp",
        "ssl-head", "layer-weighted-mlp", "layer-weighted-asp", "svm", "logreg", "gbt",
        "video-3dcnn", "av-fusion", "av-late-fusion"}  # audio-visual (emoscope.video)
    for name in models.available():
        cls = models.MODELS.get(name)
        assert cls.name == name and cls.family in ("torch", "sklearn") and cls.input_kinds
        assert (cls.family == "torch") == issubclass(cls, TorchModel)


def test_config_coerces_and_round_trips():
    c = _Config.from_dict({"size": 8, "rate": 1, "sizes": [5, 6, 7], "pair": [1, 2],
                           "maybe": 3})
    assert c.rate == 1.0 and isinstance(c.rate, float)
    assert c.sizes == (5, 6, 7) and c.pair == (1, 2)
    d = c.to_dict()
    assert d["sizes"] == [5, 6, 7] and json.loads(json.dumps(d)) == d
    assert _Config.from_dict(d) == c
    hash(c)  # frozen, tuples: hashable


@pytest.mark.parametrize(("opts", "match"), [
    ({"size": "4"}, "_Config: option size='4' should be int"),
    ({"size": 4.0}, "option size=4.0 should be int"),
    ({"size": True}, "option size=True should be int"),
    ({"rate": None}, "option rate=None should be float"),
    ({"sizes": [1, "2"]}, r"option sizes=\[1, '2'\] should be tuple\[int, ...\]"),
    ({"sizes": 3}, "option sizes=3 should be tuple"),
    ({"pair": [1, 2, 3]}, r"option pair=\[1, 2, 3\] should be tuple\[int, int\]"),
    ({"mode": "c"}, "option mode='c' should be Literal"),
    ({"maybe": "x"}, "option maybe='x' should be int | None"),
    ({"flag": 0}, "option flag=0 should be bool"),
    ({"size": 0}, "option size=0 must be positive"),
    ({"sizes": (1, -2)}, "option sizes=.* must be positive"),
    ({"bogus": 1, "other": 2}, "unknown option.*bogus, other; known: flag, maybe, mode"),
])
def test_bad_config_values_are_named(opts, match):
    with pytest.raises(ConfigError, match=match):
        _Config.from_dict(opts)


def test_direct_construction_is_checked_too():
    with pytest.raises(ConfigError, match="size='x'"):
        _Config(size="x")
    with pytest.raises(ConfigError, match="expected a mapping"):
        _Config.from_dict([("size", 3)])


def test_input_kind():
    assert models.input_kind((40,)) == "vector"
    assert models.input_kind((100, 64)) == "sequence"
    assert models.input_kind([3, 224, 224]) == "image"
    assert models.input_kind((None, 64)) == "sequence"  # frames vary
    model = models.build_model("crnn-asp", input_shape=(None, 16), n_classes=2)
    assert models.build_model(models.model_spec(model)).input_shape == (None, 16)
    assert models.input_kind((20, 1, 60, 100)) == "video"  # face frames (emoscope.video)
    assert models.input_kind(((3, 64, 64), (20, 1, 60, 100))) == "image+video"
    for bad in [(), (1, 2, 3, 4, 5), (0,), (3.0,), (True,), ("40",)]:
        with pytest.raises(ConfigError, match="input_shape"):
            models.input_kind(bad)


def test_build_model_errors():
    with pytest.raises(UnknownNameError, match=r"unknown model 'nope'; known: .*crnn-asp"):
        models.build_model("nope", input_shape=(4,), n_classes=2)
    with pytest.raises(ConfigError, match="needs input_shape and n_classes"):
        models.build_model("mlp", n_classes=2)
    for n in (1, 2.0, True, None):
        with pytest.raises(ConfigError, match="n_classes"):
            models.build_model("mlp", input_shape=(4,), n_classes=n if n is not None else "2")
    with pytest.raises(ConfigError, match="needs a 'name'"):
        models.build_model({"config": {}})
    with pytest.raises(ConfigError, match="a name or a spec"):
        models.build_model(3, input_shape=(4,), n_classes=2)
    # the kind is checked before the options, so a wrong kind is the error reported
    with pytest.raises(ConfigError, match="takes vector features"):
        models.build_model("mlp", input_shape=(3, 4), n_classes=2, bogus=1)


def test_build_from_spec_with_overrides():
    model = models.build_model("mlp", input_shape=(6,), n_classes=3, hidden=(5,))
    spec = models.model_spec(model)
    assert spec == {"name": "mlp", "config": {"hidden": [5], "dropout": 0.3, "norm": "batch",
                                              "input_dropout": 0.0},
                    "input_shape": [6], "n_classes": 3}
    other = models.build_model(spec, n_classes=5, dropout=0.1)
    assert other.n_classes == 5 and other.config.dropout == 0.1 and other.config.hidden == (5,)
    assert models.build_model({**spec, "name": "MLP"}).name == "mlp"


def test_model_constructor_takes_config_dict_or_none():
    cls = models.MODELS.get("mlp")
    assert cls(input_shape=(4,), n_classes=2).config == cls.Config()
    assert cls({"hidden": [3]}, input_shape=(4,), n_classes=2).config.hidden == (3,)
    with pytest.raises(ConfigError, match="needs a MLPConfig"):
        cls(models.MODELS.get("ssl-head").Config(), input_shape=(4,), n_classes=2)
    with pytest.raises(ConfigError, match="'mlp' takes vector"):
        cls(input_shape=(4, 4), n_classes=2)


def test_model_spec_needs_a_model():
    with pytest.raises(ConfigError, match="not an emoscope model"):
        models.model_spec(torch.nn.Linear(2, 2))


def test_n_parameters():
    lin = torch.nn.Linear(3, 2)
    assert models.n_parameters(lin) == 8
    lin.bias.requires_grad_(False)
    assert models.n_parameters(lin, trainable_only=True) == 6
    with pytest.raises(ConfigError):
        models.n_parameters(object())


def test_register_model_checks():
    with pytest.raises(ConfigError, match="family"):
        register_model("x-model", input_kinds=("vector",), family="jax")
    with pytest.raises(ConfigError, match="input_kinds"):
        register_model("x-model", input_kinds=("audio",))
    with pytest.raises(ConfigError, match="input_kinds"):
        register_model("x-model", input_kinds=())
    with pytest.raises(ConfigError, match="not a TorchModel"):
        @register_model("x-model", input_kinds=("vector",))
        class NotTorch:
            Config = _Config
    with pytest.raises(ConfigError, match="needs fit and predict_proba"):
        @register_model("x-model", input_kinds=("vector",), family="sklearn")
        class NoFit:
            Config = _Config
    with pytest.raises(ConfigError, match="Config that subclasses ModelConfig"):
        @register_model("x-model", input_kinds=("vector",))
        class NoConfig(torch.nn.Module):
            pass
    with pytest.raises(ConfigError, match="registered twice"):
        @register_model("mlp", input_kinds=("vector",))
        class Twice(TorchModel):
            Config = _Config
    assert "x-model" not in models.MODELS
