"""A fold's typed outcome: what result.json keeps, and what it leaves out (the weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from emoscope.bundle import TrainedModel
from emoscope.train.fold import FoldOutcome


@pytest.mark.parametrize("audio_visual", [False, True])
def test_result_json_round_trip_without_weights(tmp_path, audio_visual):
    trained = TrainedModel(model_spec={"name": "mlp", "config": {}, "input_shape": [4],
                                       "n_classes": 2},
                           family="torch", state={"w": torch.ones(2)},
                           standardizer={"mean": [0.0], "std": [1.0]},
                           video_features={"name": "face-frames"} if audio_visual else None)
    out = FoldOutcome(np.array([[0.25, 0.75]], np.float32), ["a"], trained,
                      history=[{"epoch": 1, "train_loss": 0.5}], best_epoch=1,
                      best_valid_ua=0.5, train_seconds=2.0, audio_visual=audio_visual,
                      pretrain_history=[] if audio_visual else None)
    out.write(tmp_path / "result.json")
    data = json.loads((tmp_path / "result.json").read_text())
    assert set(data) == {"probabilities", "extra"} and "state" not in data["extra"]
    assert ("video_features" in data["extra"]) is audio_visual
    back = FoldOutcome.from_json(data)
    assert back.test_ids == ["a"] and back.best_valid_ua == 0.5 and back.best_epoch == 1
    np.testing.assert_allclose(back.probabilities, out.probabilities)
    assert back.trained.standardizer == trained.standardizer
    assert back.trained.video_features == trained.video_features
    assert trained.has_weights and not back.trained.has_weights


def test_a_layer_weighted_head_writes_its_learned_weights(tmp_path):
    from emoscope.config import load_config
    from emoscope.testing.corpora.tess import make_tess
    from emoscope.train.experiment import run_experiment

    root = make_tess(tmp_path / "tess", words=("back", "bar", "base"))
    cfg = load_config({"name": "lw", "data": {"corpus": "tess"},
                       "protocol": {"name": "tess-cross-speaker"},
                       "features": {"name": "mfcc-mean", "n_mfcc": 13, "with_std": True},
                       "model": {"name": "layer-weighted-mlp", "n_layers": 2, "hidden": [8]},
                       "train": {"epochs": 2, "batch_size": 8}})
    res = run_experiment(cfg, out_dir=tmp_path / "run", data_root=root, progress=False,
                         cache=tmp_path / "cache")
    weights = json.loads((res.run_dir / "layer_weights.json").read_text())
    assert set(weights) == {f.name for f in res.protocol.folds}
    for w in weights.values():
        assert len(w) == 2 and abs(sum(w) - 1.0) < 1e-5
    assert (res.run_dir / "layer_weights.png").is_file()
    assert "layer_weights.png" in (res.run_dir / "report.html").read_text()
    saved = json.loads((res.run_dir / "folds" / "fold-1" / "result.json").read_text())
    assert FoldOutcome.from_json(saved).layer_weights == weights[res.protocol.folds[0].name]
