"""Tiny model bundles for tests: built in a second, no training, real bundle files.

The weights are a seeded random initialisation, so predictions are meaningless but
deterministic; everything around them (feature pipeline, standardiser, label order, bundle
format) is exactly what a trained bundle holds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["make_bundle"]

DEFAULT_LABELS = ("angry", "happy", "neutral", "sad")


def make_bundle(
    path: str | os.PathLike[str],
    *,
    feature: str = "logmel",
    feature_options: dict[str, Any] | None = None,
    model: str = "crnn-asp",
    model_options: dict[str, Any] | None = None,
    labels: Sequence[str] = DEFAULT_LABELS,
    seed: int = 0,
) -> Path:
    """Write a bundle of a randomly initialised ``model`` on ``feature`` to ``path``.

    The standardiser is fitted on the features of a few generated speech-like clips. Torch
    models only (scikit-learn models need fitting; train a tiny run for those).
    """
    import torch

    from emoscope import features, models
    from emoscope.bundle import TrainedModel, save_bundle
    from emoscope.config import load_config
    from emoscope.features.standardize import Standardizer
    from emoscope.testing.synth import speechlike

    extractor = features.create(feature, **(feature_options or {}))
    rng = np.random.default_rng(seed)
    clips = [speechlike(seconds=1.0 + 0.5 * k, f0=float(rng.uniform(100, 250)), seed=k)
             for k in range(4)]
    feats = [extractor(c, 16000) for c in clips]
    standardizer = None
    if extractor.kind in ("vector", "sequence"):
        standardizer = Standardizer.fit(feats)
    torch.manual_seed(seed)
    net = models.build_model(model, input_shape=feats[0].shape, n_classes=len(labels),
                             **(model_options or {}))
    if net.family != "torch":
        from emoscope.errors import ConfigError

        raise ConfigError(f"make_bundle builds torch models only, not {model!r}")
    net.eval()
    state = {k: v.detach().contiguous() for k, v in net.state_dict().items()}
    cfg = load_config({"name": "tiny", "data": {"corpus": "folder"},
                       "protocol": {"name": "random"},
                       "features": {"name": feature, **(feature_options or {})},
                       "model": {"name": model, **(model_options or {})}})
    metrics = {"protocol": "none", "leaky": False, "folds": [],
               "mean": {"ua": 0.0, "wa": 0.0, "macro_f1": 0.0},
               "std": {"ua": 0.0, "wa": 0.0, "macro_f1": 0.0}}
    trained = TrainedModel(
        model_spec=models.model_spec(net), family="torch", state=state,
        standardizer=None if standardizer is None else standardizer.to_dict())
    return save_bundle(path, extractor=extractor, labels=list(labels), trained=trained,
                       metrics=metrics, config=cfg, fold_name="untrained", protocol=None)
