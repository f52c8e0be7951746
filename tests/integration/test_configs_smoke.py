"""Every shipped config runs end to end (one epoch, a small speaker-independent split) on a fake
corpus of its own kind, and the run directory holds everything it should."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emoscope.bundle import load_bundle
from emoscope.config import load_config
from emoscope.evaluate.results import read_metrics
from emoscope.testing.corpora.iemocap import make_iemocap
from emoscope.testing.corpora.ravdess import make_ravdess
from emoscope.testing.corpora.tess import make_tess
from emoscope.train.experiment import run_experiment

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
FAKES = {
    "tess": lambda root: make_tess(root, words=("back", "bar", "base", "bath")),
    "ravdess": lambda root: make_ravdess(root, actors=(1, 2, 3, 4)),
    "iemocap": lambda root: make_iemocap(root, sessions=(1, 2)),
}
SMALL = ["train.epochs=1", "train.batch_size=8", "train.feature_workers=1"]


@pytest.fixture(scope="module")
def corpora_root(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpora")
    roots = {name: make(base / name) for name, make in FAKES.items()}
    multi = base / "multi"  # several corpora under one data root (data.corpora)
    FAKES["tess"](multi / "TESS")
    FAKES["ravdess"](multi / "RAVDESS")
    roots["multi"] = multi
    return roots


def test_there_are_configs():
    names = {p.stem for p in CONFIGS}
    assert {"default", "tess_lstm_study", "iemocap_cnn_study", "egemaps_svm"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_runs(path, corpora_root, tmp_path):
    cfg = load_config(path)
    model_path = getattr(cfg.features.config, "model_path", None)
    if model_path and not Path(model_path).is_dir():  # a pretrained encoder's local folder
        pytest.skip(f"{model_path} is not present")
    protocol = "loso-session" if cfg.data.corpus == "iemocap" else None
    overrides = list(SMALL)
    if cfg.data.corpus != "iemocap":
        overrides += ["protocol.name=speaker-kfold", "protocol.options={k: 2}"]
    cfg = load_config(path, overrides=overrides)
    root = corpora_root["multi" if cfg.data.corpora else cfg.data.corpus]
    res = run_experiment(cfg, out_dir=tmp_path / "run", data_root=root,
                         protocol=protocol, progress=False, cache=tmp_path / "cache")
    run = res.run_dir
    metrics = read_metrics(run / "metrics.json")
    assert len(metrics["folds"]) == 2 and 0.0 <= metrics["mean"]["ua"] <= 1.0
    for name in ("config.yaml", "predictions.csv", "confusion.png", "folds.png", "report.html"):
        assert (run / name).is_file(), name
    assert "LEAKY" not in (run / "report.html").read_text()
    bundle = load_bundle(run / "bundle", trusted=True)
    assert bundle.labels == metrics["labels"]
    meta = json.loads((run / "bundle" / "bundle.json").read_text())
    assert meta["model"]["name"] == cfg.model.name
