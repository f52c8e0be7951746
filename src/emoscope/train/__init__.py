"""Training: batches from cached features, the epoch loop with checkpoints and resume."""

from emoscope.train.data import Batch, FeatureDataset, Standardizer, collate, epoch_order
from emoscope.train.loop import TorchFoldResult, predict_proba, train_torch_model

__all__ = [
    "Batch",
    "FeatureDataset",
    "Standardizer",
    "TorchFoldResult",
    "collate",
    "epoch_order",
    "predict_proba",
    "train_torch_model",
]
