"""One fold's training: the model trained on the fold's training ids (epochs chosen on its
validation ids) and its probabilities on the test ids, as a typed :class:`FoldOutcome`.

A finished fold is written as ``folds/fold-k/result.json`` (``{"probabilities", "extra"}``,
without the weights) so that a resumed run skips it; :meth:`FoldOutcome.from_json` reads it
back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emoscope import features
from emoscope.bundle import TrainedModel
from emoscope.config import ExperimentConfig
from emoscope.train.context import LocalContext, TrainingContext

__all__ = ["FoldOutcome", "train_sklearn_fold", "train_torch_fold"]


@dataclass
class FoldOutcome:
    """What training one fold gives.

    Attributes
    ----------
    probabilities : np.ndarray [shape=(len(test_ids), n_labels)]
        Test probabilities, columns in label order.
    test_ids : list of str
        The fold's test utterances that have features, in row order.
    trained : emoscope.bundle.TrainedModel
        The model, for the bundle (no weights when read back from ``result.json``).
    history : list of dict
        One row per epoch (``epoch``, ``train_loss``, ``valid_ua``, ...); empty for
        scikit-learn models.
    best_epoch : int, optional
    best_valid_ua : float, optional
        The epoch kept and its validation UA (``None`` without epochs or validation).
    train_seconds : float
    pretrain_history : list, optional
        Audio-visual: the contrastive pre-training's epochs.
    audio_visual : bool
        Whether the fold trained on audio and video.
    layer_weights : list of float, optional
        A layer-weighted head's learned weight per encoder layer.
    """

    probabilities: np.ndarray
    test_ids: list[str]
    trained: TrainedModel
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_valid_ua: float | None = None
    train_seconds: float = 0.0
    pretrain_history: list[Any] | None = None
    audio_visual: bool = False
    layer_weights: list[float] | None = None

    def to_json(self) -> dict[str, Any]:
        """``result.json``'s content: the probabilities and everything but the weights."""
        t = self.trained
        extra: dict[str, Any] = {
            "history": self.history, "best_epoch": self.best_epoch,
            "best_valid_ua": self.best_valid_ua, "train_seconds": self.train_seconds,
            "model_spec": t.model_spec, "family": t.family, "test_ids": list(self.test_ids)}
        if t.family == "torch":
            extra["standardizer"] = t.standardizer
        if self.layer_weights is not None:
            extra["layer_weights"] = self.layer_weights
        if self.audio_visual:
            extra["video_features"] = t.video_features
            extra["pretrain_history"] = self.pretrain_history
        return {"probabilities": np.asarray(self.probabilities).tolist(), "extra": extra}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FoldOutcome:
        """A finished fold read back from ``result.json`` (its weights are not in it)."""
        e = data["extra"]
        trained = TrainedModel(model_spec=e["model_spec"], family=e["family"],
                               standardizer=e.get("standardizer"),
                               video_features=e.get("video_features"))
        return cls(np.asarray(data["probabilities"], dtype=np.float32), list(e["test_ids"]),
                   trained, history=list(e.get("history") or []),
                   best_epoch=e.get("best_epoch"), best_valid_ua=e.get("best_valid_ua"),
                   train_seconds=float(e.get("train_seconds") or 0.0),
                   pretrain_history=e.get("pretrain_history"),
                   audio_visual="video_features" in e, layer_weights=e.get("layer_weights"))

    def write(self, path: Path) -> None:
        """Write ``result.json``."""
        path.write_text(json.dumps(self.to_json()))


def train_torch_fold(cfg: ExperimentConfig, fold: Any, fs: features.FeatureSet, y: dict[str, int],
                labels: list[str], fold_dir: Path, resume: bool,
                progress: Callable[[int, dict[str, float]], None] | None,
                variants: list[features.FeatureSet] | None = None,
                ctx: TrainingContext | None = None,
                ) -> FoldOutcome:
    """Train and test a torch model on one fold (contrastive pre-training first for an
    audio-visual config that asks for it); ``progress`` gets ``(epoch, row)``."""
    import torch

    from emoscope import models
    from emoscope.train.data import FeatureDataset
    from emoscope.train.loop import train_torch_model

    train_ids = [i for i in fold.train if i in fs]
    valid_ids = [i for i in fold.valid if i in fs]
    test_ids = [i for i in fold.test if i in fs]
    example = fs[train_ids[0]]
    kind = fs.kind
    input_shape = (tuple(a.shape for a in example) if isinstance(example, tuple)
                   else example.shape)
    torch.manual_seed(cfg.train.seed)
    model = cfg.model.build(input_shape=input_shape, n_classes=len(labels))
    aug = cfg.augment
    transform, batch_transform = None, None
    if kind == "image" and aug.image_enabled:
        from emoscope.augment import ImageAugmenter

        transform = ImageAugmenter(aug, seed=cfg.train.seed)
    elif kind.startswith("image+") and aug.image_enabled:  # audio-visual: the image part
        from emoscope.augment import ImageAugmenter
        from emoscope.train.paired import image_part_transform

        transform = image_part_transform(ImageAugmenter(aug, seed=cfg.train.seed))
    if aug.feature_enabled and kind == "sequence":
        from emoscope.augment import BatchAugmenter

        batch_transform = BatchAugmenter(aug)
    elif aug.mixup_alpha > 0:
        from emoscope.augment import BatchAugmenter

        batch_transform = BatchAugmenter(aug, specaugment=False)
    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)
    pretrain_history = None
    if cfg.video is not None:  # audio-visual: contrastive pre-training first, when asked
        from emoscope.train.contrastive import pretrain_contrastive

        av = cfg.video
        if av.pretrain.epochs:
            pretrain_history = pretrain_contrastive(
                model, av.pretrain, fs, kind=kind, train_ids=train_ids,
                train_y=[y[i] for i in train_ids], batch_size=cfg.train.batch_size,
                seed=cfg.train.seed, standardize=cfg.train.standardize,
                checkpoint=fold_dir / "pretrained.pt", resume=resume)
    res = train_torch_model(
        model, cfg.train, fs, kind=kind, train_ids=train_ids,
        train_y=[y[i] for i in train_ids], valid_ids=valid_ids,
        valid_y=[y[i] for i in valid_ids], n_classes=len(labels),
        checkpoint=fold_dir / "checkpoint.pt", resume=resume, progress=progress,
        transform=transform, batch_transform=batch_transform, variants=variants or (),
        distributed=ctx,
    )
    test_ds = FeatureDataset(fs, test_ids, [y[i] for i in test_ids], kind=kind,
                             standardizer=res.standardizer)
    ctx = ctx if ctx is not None else LocalContext()
    # distributed: the ranks share the test set; the main process writes
    probs = ctx.predict_proba(res.model, test_ds, batch_size=cfg.train.batch_size)
    if ctx.is_main:
        (fold_dir / "history.json").write_text(json.dumps(res.history, indent=1))
    state = {k: v.detach().contiguous() for k, v in res.model.state_dict().items()}
    trained = TrainedModel(
        model_spec=models.model_spec(res.model), family="torch", state=state,
        standardizer=None if res.standardizer is None else res.standardizer.to_dict(),
        # audio-visual: the bundle also keeps the face-frames extractor
        video_features=fs.parts[1].extractor.spec() if cfg.video is not None else None)
    return FoldOutcome(np.asarray(probs), test_ids, trained, history=res.history,
                       best_epoch=res.best_epoch, best_valid_ua=res.best_valid_ua,
                       train_seconds=res.seconds, pretrain_history=pretrain_history,
                       audio_visual=cfg.video is not None,
                       layer_weights=(res.model.layer_weights().tolist()
                                      if hasattr(res.model, "layer_weights") else None))


def train_sklearn_fold(cfg: ExperimentConfig, fold: Any, fs: features.FeatureSet, y: dict[str, int],
                  labels: list[str], variants: list[features.FeatureSet] | None = None,
                  ) -> FoldOutcome:
    """Fit and test a scikit-learn model on one fold (training and validation ids together:
    there are no epochs to select)."""
    from emoscope import models

    t0 = time.perf_counter()
    train_ids = [i for i in (*fold.train, *fold.valid) if i in fs]  # no epochs to select
    test_ids = [i for i in fold.test if i in fs]
    x_train = fs.stack(train_ids)
    y_train = [y[i] for i in train_ids]
    for v in variants or []:  # augmented copies are extra training rows
        extra_ids = [i for i in train_ids if i in v]
        if extra_ids:
            x_train = np.concatenate([x_train, v.stack(extra_ids)])
            y_train += [y[i] for i in extra_ids]
    model = cfg.model.build(input_shape=x_train.shape[1:], n_classes=len(labels))
    model.fit(x_train, np.array(y_train))
    probs = model.predict_proba(fs.stack(test_ids))
    trained = TrainedModel(model_spec=models.model_spec(model), family="sklearn",
                           sklearn_state=model.get_state())
    return FoldOutcome(np.asarray(probs), test_ids, trained,
                       train_seconds=time.perf_counter() - t0)
