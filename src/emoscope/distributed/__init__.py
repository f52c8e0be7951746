"""Scale beyond one process: PyTorch DDP training launched by ``torchrun``, and batch
prediction and feature extraction on a Ray cluster.

- :mod:`emoscope.distributed.ddp`: ``emoscope train CONFIG --distributed`` under
  ``torchrun --nproc_per_node N``: data sharded by rank, gradients all-reduced, metrics reduced
  across ranks, checkpoints and run outputs written by rank 0 only, exact ``--resume``.
- :mod:`emoscope.distributed.ray_batch`: ``emoscope predict ... --ray [ADDRESS]``: files scored
  by Ray workers that each load the bundle once; results in input order.
- :mod:`emoscope.distributed.ray_features`: ``emoscope extract ... --ray [ADDRESS]``: features
  extracted by Ray workers into the same :class:`~emoscope.features.cache.FeatureCache`.

Nothing here is imported by ``import emoscope``; torch's distributed package and Ray are
imported only when used (Ray is the optional extra ``emoscope[ray]``).
"""

from __future__ import annotations

__all__: list[str] = []
