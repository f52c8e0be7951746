"""From cached features to training batches.

A :class:`FeatureDataset` serves ``(x, y)`` pairs for a list of manifest ids, reading arrays from
the feature cache on demand (so memory holds one batch, not the corpus); :func:`collate` pads
sequences and returns their lengths.

Batch shapes by feature kind:

=========== ================================= ===============================
kind        ``x``                             ``lengths``
=========== ================================= ===============================
vector      ``(B, D)``                        ``None``
sequence    ``(B, T_max, F)`` zero-padded     ``(B,)`` int64 valid frames
image       ``(B, C, H, W)``                  ``None``
video       ``(B, T, C, H, W)``               ``None``
=========== ================================= ===============================

Several inputs (audio-visual: kind ``"image+video"``): every item is a tuple of arrays, one per
input, read from a mapping such as :class:`~emoscope.video.experiment.PairedFeatures`; each
part is standardised and collated on its own, and ``x`` (and ``lengths``, when any part is a
sequence) become tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from emoscope.errors import ConfigError
from emoscope.features.extract import FeatureSet

__all__ = ["Batch", "FeatureDataset", "PartStandardizer", "Standardizer", "collate",
           "epoch_order", "standardizer_from_dict"]


@dataclass
class Standardizer:
    """Per-dimension mean/std of training features (vectors, or frames of sequences).

    Attributes
    ----------
    mean, std : np.ndarray [shape=(D,)]
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, arrays: Sequence[np.ndarray]) -> Standardizer:
        """Fit on vectors ``(D,)`` or sequences ``(T, D)``, streaming (one array at a time)."""
        n, s, ss = 0, None, None
        for a in arrays:
            a2 = a.reshape(-1, a.shape[-1]).astype(np.float64)
            s = a2.sum(0) if s is None else s + a2.sum(0)
            ss = (a2**2).sum(0) if ss is None else ss + (a2**2).sum(0)
            n += a2.shape[0]
        if n == 0 or s is None or ss is None:
            raise ConfigError("cannot standardise: no training features")
        mean = s / n
        std = np.sqrt(np.maximum(ss / n - mean**2, 0.0))
        std[std < 1e-8] = 1.0
        return cls(mean.astype(np.float32), std.astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std).astype(np.float32, copy=False)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, list[float]]) -> Standardizer:
        return cls(np.asarray(d["mean"], np.float32), np.asarray(d["std"], np.float32))


@dataclass
class PartStandardizer:
    """Standardisers of the parts of multi-input items (``None`` for a part left as is:
    images and face frames).

    Attributes
    ----------
    parts : tuple of Standardizer or None
    """

    parts: tuple[Standardizer | None, ...]

    @classmethod
    def fit(cls, items: Mapping[str, tuple[np.ndarray, ...]], ids: Sequence[str],
            kind: str) -> PartStandardizer:
        """Fit one :class:`Standardizer` per vector or sequence part of ``kind``
        (``"sequence+video"``, ...) on the items ``ids``."""
        parts = kind.split("+")
        return cls(tuple(Standardizer.fit(items[i][k] for i in ids)
                         if part in ("vector", "sequence") else None
                         for k, part in enumerate(parts)))

    def __call__(self, x: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        return tuple(xi if s is None else s(xi) for s, xi in zip(self.parts, x, strict=True))

    def to_dict(self) -> dict[str, list[dict[str, list[float]] | None]]:
        return {"parts": [None if s is None else s.to_dict() for s in self.parts]}

    @classmethod
    def from_dict(cls, d: dict[str, list[dict[str, list[float]] | None]]) -> PartStandardizer:
        return cls(tuple(None if s is None else Standardizer.from_dict(s) for s in d["parts"]))


def standardizer_from_dict(d: dict) -> Standardizer | PartStandardizer:
    """Rebuild what :meth:`Standardizer.to_dict` or :meth:`PartStandardizer.to_dict` wrote."""
    return PartStandardizer.from_dict(d) if "parts" in d else Standardizer.from_dict(d)


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


@dataclass
class Batch:
    """A collated batch: ``x``, ``lengths`` (sequences), ``y`` ``(B,)`` and ``index`` ``(B,)``;
    ``x`` and ``lengths`` are tuples for multi-input items."""

    x: torch.Tensor | tuple[torch.Tensor, ...]
    lengths: torch.Tensor | tuple[torch.Tensor | None, ...] | None
    y: torch.Tensor
    index: torch.Tensor


def collate(items: list[tuple[np.ndarray, int, int]]) -> Batch:
    """Stack items; pad sequences ``(T_i, F)`` to ``(B, T_max, F)`` with their lengths; collate
    tuple items part by part."""
    xs = [it[0] for it in items]
    y = torch.tensor([it[1] for it in items], dtype=torch.long)
    index = torch.tensor([it[2] for it in items], dtype=torch.long)
    if isinstance(xs[0], tuple):  # several inputs: collate each part on its own
        parts = [collate([(x[k], 0, 0) for x in xs]) for k in range(len(xs[0]))]
        lengths = tuple(p.lengths for p in parts)
        return Batch(tuple(p.x for p in parts),
                     None if all(n is None for n in lengths) else lengths, y, index)
    if xs[0].ndim == 2:  # sequences
        lengths = torch.tensor([x.shape[0] for x in xs], dtype=torch.long)
        out = np.zeros((len(xs), int(lengths.max()), xs[0].shape[1]), np.float32)
        for k, x in enumerate(xs):
            out[k, : x.shape[0]] = x
        return Batch(torch.from_numpy(out), lengths, y, index)
    return Batch(torch.from_numpy(np.stack(xs)), None, y, index)


def epoch_order(n: int, *, seed: int, epoch: int, weights: np.ndarray | None = None
                ) -> np.ndarray:
    """The item order of one epoch: a permutation, or with ``weights`` a weighted draw with
    replacement (over-sampling); deterministic in ``(seed, epoch)``."""
    rng = np.random.default_rng([seed, epoch, 7919])
    if weights is None:
        return rng.permutation(n)
    p = weights / weights.sum()
    return rng.choice(n, size=n, replace=True, p=p)
