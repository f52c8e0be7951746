"""The extractor contract: options are checked, inputs validated, keys stable."""

from __future__ import annotations

import numpy as np
import pytest

from emoscope import features
from emoscope.errors import AudioError, ConfigError, EmptyAudioError, UnknownNameError
from emoscope.testing import tone


def test_every_registered_extractor_is_listed():
    assert {"mfcc-mean", "mfcc-delta", "logmel", "spectrogram-image", "prosody", "egemaps",
            "compare", "ssl"} <= set(features.available())


@pytest.mark.parametrize(("opts", "match"), [
    ({"n_mels": "64"}, "n_mels='64' should be int"),
    ({"n_mfcc": 13.5}, "n_mfcc=13.5 should be int"),
    ({"with_std": "yes"}, "with_std='yes' should be bool"),
    ({"fmax": "8k"}, "fmax='8k' should be float | None"),
    ({"bogus": 1}, "unknown option"),
])
def test_bad_options_are_named(opts, match):
    with pytest.raises(ConfigError, match=match):
        features.create("mfcc-mean", **opts)


def test_unknown_feature():
    with pytest.raises(UnknownNameError, match="unknown feature 'nope'"):
        features.create("nope")


def test_spec_round_trip_and_numeric_keys():
    ext = features.create("mfcc-mean", n_mfcc=20, fmax=8000)
    again = features.create(ext.spec())
    assert again.config == ext.config and again.cache_key() == ext.cache_key()
    assert features.create("mfcc-mean", fmax=8000.0).cache_key() == \
        features.create("mfcc-mean", fmax=8000).cache_key()


@pytest.mark.parametrize(("y", "sr", "err"), [
    (np.zeros(0, np.float32), 16000, EmptyAudioError),
    (np.array([0.1, np.nan] * 400, np.float32), 16000, AudioError),
    (np.zeros((2, 2, 100), np.float32), 16000, AudioError),
    (np.arange(800), 16000, AudioError),  # integers are not a waveform
    (tone(), 0, AudioError),
    (tone()[:10], 16000, AudioError),  # shorter than one window
])
def test_bad_waveforms(y, sr, err):
    with pytest.raises(err):
        features.create("mfcc-mean")(y, sr)


def test_create_from_a_config_section_keeps_its_options():
    # an experiment's `features:` section holds the options beside "name" (regression: they
    # were once dropped, so configs silently ran with default options)
    ext = features.create({"name": "logmel", "n_mels": 16, "trim": "energy", "duration": 2.0})
    assert (ext.config.n_mels, ext.config.trim, ext.config.duration) == (16, "energy", 2.0)
    again = features.create(ext.spec())
    assert again.config == ext.config


def test_experiment_extracts_with_the_configs_feature_options(tmp_path):
    from emoscope.config import load_config
    from emoscope.testing.corpora.tess import make_tess
    from emoscope.train.experiment import run_experiment

    root = make_tess(tmp_path / "tess", words=("back", "bar"))
    cfg = load_config({"name": "o", "data": {"corpus": "tess"},
                       "protocol": {"name": "tess-cross-speaker"},
                       "features": {"name": "mfcc-mean", "n_mfcc": 7, "trim": "energy"},
                       "model": {"name": "svm"}})
    run = run_experiment(cfg, out_dir=tmp_path / "run", data_root=root, progress=False,
                         cache=tmp_path / "cache")
    spec = run.results["features"]["config"]
    assert spec["n_mfcc"] == 7 and spec["trim"] == "energy"
