"""The model shipped inside the package: loads safely, is small, and recognises emotions of
speakers it never heard (RAVDESS actors 01 and 02 were held out of its training)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emoscope import corpora
from emoscope.cli import main
from emoscope.inference import Predictor, default_bundle_path, predict_files

BUNDLE = default_bundle_path()
pytestmark = pytest.mark.skipif(not (BUNDLE / "bundle.json").is_file(),
                                reason="no shipped default model in this checkout")


def test_shipped_model_is_small_and_safe():
    files = {p.name: p.stat().st_size for p in BUNDLE.iterdir()}
    assert "model.pkl" not in files and "weights.safetensors" in files
    assert sum(files.values()) < 8e6
    card = (BUNDLE / "MODEL_CARD.md").read_text()
    assert "CC BY-NC" in card and "ravdess-si6" in card
    meta = json.loads((BUNDLE / "bundle.json").read_text())
    assert meta["training"]["data"]["corpora"] == {"tess": "TESS", "ravdess": "RAVDESS"}


def test_shipped_model_on_held_out_actors(shared_data):
    p = Predictor.from_bundle()
    assert len(p.labels) == 8 and "calm" in p.labels
    df = corpora.load("ravdess", shared_data / "RAVDESS")
    df = df[df["speaker"].isin(["01", "02"])]
    res = predict_files(p, list(df["path"]), progress=False)
    assert not res.skipped and len(res.predictions) == len(df) == 120
    by_path = {str(r.path): r.label for r in res.predictions}
    y = df["label"].to_numpy()
    pred = np.array([by_path[str(path)] for path in df["path"]])
    ua = np.mean([(pred[y == c] == c).mean() for c in np.unique(y)])
    assert ua > 0.3  # chance is 0.125 on these 8 labels


def test_predict_without_bundle_uses_the_shipped_model(shared_data, capsys):
    f = next((shared_data / "RAVDESS").rglob("03-01-05-02-01-01-01.flac"))
    assert main(["predict", str(f), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["label"] in row["probabilities"] and len(row["probabilities"]) == 8


def test_shipped_model_matches_its_committed_config():
    from pathlib import Path

    from emoscope import features
    from emoscope.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / "shipped_default.yaml")
    meta = json.loads((BUNDLE / "bundle.json").read_text())
    assert features.create(cfg.features).spec() == meta["features"]
    assert meta["model"]["name"] == cfg.model.name
