"""A named protocol's corpus wins over the config's, so one config benchmarks everywhere."""

from __future__ import annotations

import pytest

from emoscope.config import load_config
from emoscope.errors import ConfigError
from emoscope.train.experiment import for_protocol


def _cfg(**data):
    return load_config({"name": "x", "data": {"corpus": "ravdess", **data},
                        "protocol": {"name": "ravdess-si6"}, "features": {"name": "mfcc-mean"},
                        "model": {"name": "mlp"}})


def test_named_protocol_of_another_corpus_switches_the_corpus():
    assert for_protocol(_cfg(), "tess-cross-speaker").data.corpus == "tess"
    assert for_protocol(_cfg(), "tess-random-80-20").data.corpus == "tess"


def test_own_protocol_and_kinds_change_nothing():
    cfg = _cfg()
    assert for_protocol(cfg) is cfg
    assert for_protocol(cfg, "ravdess-si6") is cfg
    assert for_protocol(cfg, "loso") is cfg


def test_switch_with_corpus_options_is_refused():
    with pytest.raises(ConfigError, match=r"data\.corpus"):
        for_protocol(_cfg(options={"include_song": True}), "tess-cross-speaker")
