"""From cached features to training batches.

A :class:`FeatureDataset` serves ``(x, y)`` pairs for a list of manifest ids, reading arrays from
the feature cache on demand (so memory holds one batch, not the corpus); :func:`collate` pads
sequences and returns their lengths.

Batch shapes by feature kind are those of :mod:`emoscope.models.batch`.

Several inputs (audio-visual: kind ``"image+video"``): every item is a tuple of arrays, one per
input, read from a mapping such as :class:`~emoscope.train.paired.PairedFeatures`; each
part is standardised and collated on its own, and ``x`` (and ``lengths``, when any part is a
sequence) become tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.features.extract import FeatureSet
from emoscope.features.standardize import (
    PartStandardizer,
    Standardizer,
    standardizer_from_dict,
)
from emoscope.models.batch import Batch, collate

__all__ = ["Batch", "FeatureDataset", "PartStandardizer", "Standardizer", "batches", "collate",
           "epoch_order", "predict_proba", "standardizer_from_dict"]


class FeatureDataset(torch.utils.data.Dataset):
    """Items ``(x, label_index, position)`` for ``ids``, read from a :class:`FeatureSet`.

    Parameters
    ----------
    features : FeatureSet
    ids : sequence of str
    targets : sequence of int
        Label index of each id.
    kind : {"vector", "sequence", "image"}
    standardizer : Standardizer, optional
    transform : callable, optional
        ``transform(x, rng) -> x`` applied to training items (feature-level augmentation).
    max_frames : int, optional
        Random crop of sequences longer than this (training only).
    seed : int
        With the epoch and the item's position, seeds crops and augmentation, so a resumed run
        repeats them exactly.
    variants : sequence of mappings id -> array, optional
        Augmented copies of the items' features (waveform augmentation, see
        :class:`~emoscope.features.extract.WaveformVariant`): every epoch each item is drawn
        uniformly from its original and its copies (those that exist for it).
    """

    def __init__(self, features: FeatureSet, ids: Sequence[str], targets: Sequence[int], *,
                 kind: str, standardizer: Standardizer | None = None,
                 transform: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
                 max_frames: int | None = None, seed: int = 0,
                 variants: Sequence[Mapping[str, np.ndarray]] = ()) -> None:
        if len(ids) != len(targets):
            raise ConfigError("ids and targets differ in length")
        self.variants = list(variants)
        self.features, self.ids, self.targets = features, list(ids), list(targets)
        self.kind, self.standardizer, self.transform = kind, standardizer, transform
        self.max_frames, self.seed, self.epoch = max_frames, seed, 0

    def __len__(self) -> int:
        return len(self.ids)

    def set_epoch(self, epoch: int) -> None:
        """Crops and augmentation of epoch ``epoch`` (call before iterating)."""
        self.epoch = epoch

    def _source(self, rng: np.random.Generator) -> Mapping[str, np.ndarray]:
        k = int(rng.integers(len(self.variants) + 1))
        return self.features if k == 0 else self.variants[k - 1]

    def __getitem__(self, i: int) -> tuple[np.ndarray, int, int]:
        rng = np.random.default_rng([self.seed, self.epoch, i])
        source = self._source(rng) if self.variants else self.features
        item_id = self.ids[i]
        x = source[item_id] if item_id in source else self.features[item_id]
        if isinstance(x, tuple):  # several inputs (audio-visual): one array per input
            if self.standardizer is not None:
                x = self.standardizer(x)
            if self.transform is not None:
                x = self.transform(x, rng)
            return (tuple(np.ascontiguousarray(p, dtype=np.float32) for p in x),
                    self.targets[i], i)
        if self.kind == "sequence" and self.max_frames and x.shape[0] > self.max_frames:
            start = int(rng.integers(0, x.shape[0] - self.max_frames + 1))
            x = x[start:start + self.max_frames]
        if self.standardizer is not None:
            x = self.standardizer(x)
        if self.transform is not None:
            x = self.transform(x, rng)
        return np.ascontiguousarray(x, dtype=np.float32), self.targets[i], i


def epoch_order(n: int, *, seed: int, epoch: int, weights: np.ndarray | None = None
                ) -> np.ndarray:
    """The item order of one epoch: a permutation, or with ``weights`` a weighted draw with
    replacement (over-sampling); deterministic in ``(seed, epoch)``."""
    rng = np.random.default_rng([seed, epoch, 7919])
    if weights is None:
        return rng.permutation(n)
    p = weights / weights.sum()
    return rng.choice(n, size=n, replace=True, p=p)


def batches(ds: FeatureDataset, order: np.ndarray, batch_size: int) -> Iterator[Batch]:
    """The items of ``ds`` in ``order``, collated ``batch_size`` at a time."""
    for s in range(0, len(order), batch_size):  # one batch in memory at a time
        yield collate([ds[int(i)] for i in order[s:s + batch_size]])


def predict_proba(model: nn.Module, ds: FeatureDataset, *, batch_size: int = 64) -> np.ndarray:
    """Class probabilities ``(len(ds), n_classes)`` in ``ds`` order (eval mode, no grad)."""
    model.eval()
    out = []
    order = np.arange(len(ds))
    with torch.inference_mode():
        for s in range(0, len(order), batch_size):
            b = collate([ds[int(i)] for i in order[s:s + batch_size]])
            out.append(torch.softmax(model(b.x, b.lengths), dim=-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
