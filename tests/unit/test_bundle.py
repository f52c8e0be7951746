"""Model bundles: round trip, and every kind of bad bundle is a clear error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoscope.bundle import load_bundle
from emoscope.config import load_config
from emoscope.errors import ConfigError
from emoscope.testing.corpora.tess import make_tess
from emoscope.train.experiment import run_experiment


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("b")
    root = make_tess(base / "tess", words=("back", "bar", "base"))
    cfg = load_config({"name": "b", "data": {"corpus": "tess"},
                       "protocol": {"name": "tess-cross-speaker"},
                       "features": {"name": "mfcc-mean", "n_mfcc": 13},
                       "model": {"name": "mlp"}, "train": {"epochs": 2, "batch_size": 8}})
    return run_experiment(cfg, out_dir=base / "run", data_root=root, progress=False,
                          cache=base / "cache")


def test_round_trip_reproduces_the_test_probabilities(run):
    b = load_bundle(run.bundle)
    assert b.labels == run.results["labels"] and b.family == "torch"
    assert "UA" in (run.bundle / "MODEL_CARD.md").read_text()
    from emoscope import corpora
    from emoscope.features import extract_features

    meta = json.loads((run.bundle / "bundle.json").read_text())
    k = [f.name for f in run.protocol.folds].index(meta["fold"]) + 1
    fold = json.loads((run.run_dir / "folds" / f"fold-{k}" / "result.json").read_text())
    ids = fold["extra"]["test_ids"]
    df = corpora.load("tess", run.run_dir.parent / "tess")
    fs = extract_features(df[df.id.isin(ids)], b.extractor, progress=False,
                          cache=run.run_dir.parent / "cache")
    np.testing.assert_allclose(b.predict_proba_features(fs, ids), fold["probabilities"],
                               atol=1e-5)
    assert meta["format"] == "emoscope-bundle" and meta["metrics"]["protocol"] == \
        "tess-cross-speaker"
    assert np.isfinite(meta["metrics"]["mean"]["ua"])


def test_bad_bundles(run, tmp_path):
    import shutil

    with pytest.raises(ConfigError, match="not a model bundle"):
        load_bundle(tmp_path)
    bad = tmp_path / "b1"
    shutil.copytree(run.bundle, bad)
    (bad / "bundle.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"corrupt bundle\.json"):
        load_bundle(bad)
    shutil.rmtree(bad)
    shutil.copytree(run.bundle, bad)
    meta = json.loads((bad / "bundle.json").read_text())
    (bad / "bundle.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(ConfigError, match="newer than this emoscope"):
        load_bundle(bad)
    (bad / "bundle.json").write_text(json.dumps(meta))
    (bad / "weights.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(ConfigError, match="unreadable weights"):
        load_bundle(bad)
    (bad / "weights.safetensors").unlink()
    with pytest.raises(ConfigError):
        load_bundle(bad)
