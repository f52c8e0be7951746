"""holdout-speakers: named test speakers, everyone else trains; one corpus or several."""

from __future__ import annotations

import pytest

from emoscope import protocols
from emoscope.config import load_config
from emoscope.errors import ConfigError, ProtocolError
from emoscope.testing.corpora.ravdess import make_ravdess
from emoscope.testing.corpora.tess import make_tess
from emoscope.train.experiment import build_protocol, load_manifest


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("two")
    make_tess(root / "TESS", words=("back", "bar"))
    make_ravdess(root / "RAVDESS", actors=(1, 2, 3, 4))
    return root


def _cfg(**protocol):
    return load_config({"name": "x", "data": {"corpus": "mix",
                                              "corpora": {"tess": "TESS", "ravdess": "RAVDESS"}},
                        "protocol": {"name": "holdout-speakers", **protocol},
                        "features": {"name": "mfcc-mean"}, "model": {"name": "mlp"}})


def test_several_corpora_read_together(data_root):
    df = load_manifest(_cfg(options={"speakers": ["ravdess:02"]}), data_root)
    assert set(df["corpus"]) == {"tess", "ravdess"}
    assert df["id"].is_unique
    assert df.attrs["labels"][:7] == ["angry", "disgust", "fearful", "happy", "neutral",
                                      "surprised", "sad"]
    assert "calm" in df.attrs["labels"]  # RAVDESS's extra label joins the union


def test_holdout_tests_on_the_named_speakers_only(data_root):
    cfg = _cfg(options={"speakers": ["ravdess:02", "ravdess:04"]}, valid_fraction=None)
    df = load_manifest(cfg, data_root)
    p = build_protocol(cfg, df)
    (fold,) = p.folds
    assert fold.test_speakers == ("ravdess:02", "ravdess:04")
    assert not p.leaky and not fold.valid
    assert {"tess:OAF", "tess:YAF", "ravdess:01", "ravdess:03"} <= set(fold.train_speakers)
    assert len(fold.train) + len(fold.test) == len(df)


def test_validation_comes_from_training_speakers(data_root):
    cfg = _cfg(options={"speakers": ["ravdess:02"]}, valid_fraction=None, valid_speakers=1)
    p = build_protocol(cfg, load_manifest(cfg, data_root))
    (fold,) = p.folds
    assert len(fold.valid_speakers) == 1
    assert not set(fold.valid_speakers) & (set(fold.train_speakers) | set(fold.test_speakers))


def test_bad_speakers(data_root):
    df = load_manifest(_cfg(options={"speakers": ["ravdess:02"]}), data_root)
    with pytest.raises(ProtocolError, match="not in the manifest"):
        protocols.build("holdout-speakers", df, speakers=["ravdess:99"])
    with pytest.raises(ConfigError, match="list of test speakers"):
        protocols.build("holdout-speakers", df)
    with pytest.raises(ProtocolError, match="none is left"):
        protocols.build("holdout-speakers", df, speakers=sorted(
            {"tess:OAF", "tess:YAF", "ravdess:01", "ravdess:02", "ravdess:03", "ravdess:04"}))


def test_corpus_options_with_several_corpora_are_refused(data_root):
    cfg = load_config({"name": "x", "data": {"corpus": "mix", "corpora": {"tess": "TESS"},
                                             "options": {"vocal_channel": "speech"}},
                       "protocol": {"name": "loso"}, "features": {"name": "mfcc-mean"},
                       "model": {"name": "mlp"}})
    with pytest.raises(ConfigError, match="one corpus"):
        load_manifest(cfg, data_root)
