"""Standardisation of features with training-set statistics, as a model bundle keeps it.

A :class:`Standardizer` holds the per-dimension mean and standard deviation of the training
features (vectors ``(D,)``, or the frames of sequences ``(T, D)``); a :class:`PartStandardizer`
holds one per part of multi-input (audio-visual) items. Both are plain arrays, saved in a model
bundle's ``bundle.json`` and applied at inference exactly as in training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from emoscope.errors import ConfigError

__all__ = ["PartStandardizer", "Standardizer", "standardizer_from_dict"]


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
