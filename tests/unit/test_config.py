"""Experiment configs: every key and type checked before any work, dotted overrides."""

from __future__ import annotations

import pytest

from emoscope.config import (
    ExperimentConfig,
    TrainConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
    save_config,
)
from emoscope.errors import ConfigError
from emoscope.schema import fits_type

BASE = {
    "name": "t",
    "data": {"corpus": "tess"},
    "protocol": {"name": "tess-cross-speaker"},
    "features": {"name": "mfcc-mean", "n_mfcc": 40},
    "model": {"name": "mlp"},
    "train": {"epochs": 3, "lr": 0.001},
}


def test_round_trip_yaml(tmp_path):
    cfg = config_from_dict(ExperimentConfig, BASE)
    assert cfg.train.epochs == 3 and cfg.train.batch_size == 64
    p = save_config(cfg, tmp_path / "c.yaml")
    again = config_from_dict(ExperimentConfig, __import__("yaml").safe_load(p.read_text()))
    assert again == cfg and config_to_dict(again)["features"]["n_mfcc"] == 40


@pytest.mark.parametrize(("patch", "match"), [
    ({"train": {"lrr": 1}}, "unknown key 'train.lrr'"),
    ({"train": {"epochs": "ten"}}, "'train.epochs' = 'ten' should be int"),
    ({"train": {"optimizer": "adagrad"}}, "'train.optimizer'"),
    ({"train": {"standardize": 1}}, "should be bool"),
    ({"protocol": {"valid_fraction": "a"}}, "protocol.valid_fraction"),
    ({"bogus": 1}, "unknown key 'bogus'"),
])
def test_bad_configs_are_named(patch, match):
    data = {**BASE, **{k: ({**BASE.get(k, {}), **v} if isinstance(v, dict) else v)
                       for k, v in patch.items()}}
    with pytest.raises(ConfigError, match=match):
        config_from_dict(ExperimentConfig, data)


def test_missing_sections_and_names():
    with pytest.raises(ConfigError, match="missing key 'data'"):
        config_from_dict(ExperimentConfig, {k: v for k, v in BASE.items() if k != "data"})
    with pytest.raises(ConfigError, match="'model' needs a 'name'"):
        config_from_dict(ExperimentConfig, {**BASE, "model": {}})


def test_overrides():
    out = apply_overrides(BASE, ["train.lr=3e-4", "features.n_mfcc=20", "train.seed=7",
                                 "data.labels=[angry, sad]"])
    assert out["train"]["lr"] == 3e-4 and out["features"]["n_mfcc"] == 20
    assert out["data"]["labels"] == ["angry", "sad"] and BASE["train"]["lr"] == 0.001
    with pytest.raises(ConfigError):
        apply_overrides(BASE, ["train.lr"])
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides(BASE, ["name.x=1"])


def test_load_config_checks_feature_options(tmp_path):
    import yaml

    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump({**BASE, "features": {"name": "mfcc-mean", "n_mfc": 3}}))
    with pytest.raises(ConfigError, match=r"c\.yaml: .*unknown option\(s\) n_mfc"):
        load_config(p)
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    p.write_text("train: [unclosed")
    with pytest.raises(ConfigError, match="not a readable YAML"):
        load_config(p)


def test_fits_type():
    assert fits_type((1, 2), tuple[int, ...]) and not fits_type((1, "a"), tuple[int, ...])
    assert fits_type(None, int | None) and not fits_type(True, int)
    assert fits_type(3, float) and not fits_type("3", float)
    assert TrainConfig().epochs == 50


def test_yaml_exponent_strings_become_floats():
    cfg = config_from_dict(ExperimentConfig, {**BASE, "train": {"lr": "1e-4"}})
    assert cfg.train.lr == 1e-4
    with pytest.raises(ConfigError):
        config_from_dict(ExperimentConfig, {**BASE, "train": {"epochs": "1e2"}})


def test_model_and_augment_sections_are_checked():
    with pytest.raises(ConfigError, match="hidden"):
        load_config({**BASE, "model": {"name": "mlp", "hiden": (64,)}})
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        load_config({**BASE, "model": {"name": "nope"}})
    with pytest.raises(ConfigError, match="noise_prb"):
        load_config({**BASE, "augment": {"noise_prb": 0.5}})
    cfg = load_config({**BASE, "augment": {"noise_prob": 0.5}})
    assert cfg.augment.noise_prob == 0.5 and cfg.augment.gain_prob == 0.0
