"""Model inputs from examples: stack vectors and images, pad sequences, collate several inputs.

=========== ================================= ===============================
kind        ``x``                             ``lengths``
=========== ================================= ===============================
vector      ``(B, D)``                        ``None``
sequence    ``(B, T_max, F)`` zero-padded     ``(B,)`` int64 valid frames
image       ``(B, C, H, W)``                  ``None``
video       ``(B, T, C, H, W)``               ``None``
=========== ================================= ===============================

Training batches (:mod:`emoscope.train.data`) and inference (:mod:`emoscope.inference`) both
collate with :func:`collate`, so a model sees the same layout in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Batch", "collate"]


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
