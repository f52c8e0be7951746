"""Distributed training with PyTorch DDP, in the processes ``torchrun`` starts.

::

    torchrun --nproc_per_node 2 -m emoscope.cli train configs/default.yaml \\
        --data-root ../shared/data/RAVDESS --out runs/ddp --distributed

Every rank runs the same experiment (manifest, protocol, folds, standardiser) and trains the
same model wrapped in :class:`torch.nn.parallel.DistributedDataParallel`:

- **Sharding.** Each epoch's item order is the single-process one (:func:`epoch_order`, seeded
  by ``(seed, epoch)``), so every rank knows every global batch of ``train.batch_size`` items;
  rank ``r`` of ``W`` takes the positions ``r, r + W, ...`` of each global batch (what
  :class:`torch.utils.data.DistributedSampler` gives with a per-rank batch of ``B / W``).
  Nothing depends on anything but ``(seed, epoch, rank)``, so ``--resume`` stays exact.
- **Gradients.** Each rank's loss is scaled by its share of the global batch (items, or the
  sum of class weights under ``balance: class_weights``) times ``W``, so DDP's average of the
  ranks' gradients is the gradient of the global batch's mean loss, exactly as in one process,
  also when the batch does not divide by ``W`` (a rank left without items computes a zero-
  weighted loss on a borrowed item, so every rank takes part in every all-reduce).
- **Metrics.** The training loss is summed across ranks; validation (and test) predictions are
  computed on a strided share of the items by each rank and all-gathered, so every rank sees
  the same validation UA and loss and takes the same best-epoch and early-stopping decisions.
- **Outputs.** Rank 0 alone writes checkpoints, the run directory and the bundle; on
  ``--resume`` it reads the checkpoint and broadcasts it. The others wait at barriers.

Differences from one process: dropout masks, batch augmentation (SpecAugment, mixup) and
batch normalisation statistics (plain ``BatchNorm`` on CPU; CUDA runs convert to
``SyncBatchNorm``) are per rank, so such models train equivalently, not identically. The backend
is ``gloo`` on CPU and ``nccl`` when CUDA is available.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.train.context import check_distributable

if TYPE_CHECKING:
    import pandas as pd

    from emoscope.features.base import FeatureExtractor
    from emoscope.train.data import Batch, FeatureDataset

__all__ = [
    "TORCHRUN_VARIABLES",
    "DistContext",
    "check_distributable",
    "distributed_session",
    "init_distributed",
    "launched_by_torchrun",
    "rank_share",
    "shutdown_distributed",
]

#: What torchrun sets in every process it starts (and :func:`init_distributed` reads).
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")

_LAUNCH_HINT = ("torchrun --nproc_per_node N -m emoscope.cli train CONFIG ... --distributed "
                "(add --nnodes, --node_rank and --master_addr across machines)")


def launched_by_torchrun(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process was started by ``torchrun`` (its variables are all set)."""
    env = os.environ if env is None else env
    return all(env.get(v) for v in TORCHRUN_VARIABLES)


def rank_share(targets: np.ndarray, *, rank: int, world_size: int,
               class_weight: np.ndarray | None = None) -> float:
    """The factor that makes DDP's averaged gradient equal the global batch's gradient.

    Rank ``rank`` takes the positions ``rank::world_size`` of a global batch whose labels are
    ``targets``; its mean loss is normalised by its own item count (or, with class weights and
    hard labels, the sum of its items' weights). Scaling it by ``world_size * (own / global)``
    makes the mean over ranks of the scaled gradients the gradient of the global mean loss.

    Parameters
    ----------
    targets : np.ndarray [shape=(n,)], int
        The global batch's label indices, in batch order.
    rank, world_size : int
    class_weight : np.ndarray [shape=(n_classes,)], optional
        The loss's class weights (``None``: plain mean, or soft targets).

    Returns
    -------
    float
        ``0.0`` for a rank without items.
    """
    t = np.asarray(targets, dtype=np.int64)
    mine = t[rank::world_size]
    if not len(t) or not len(mine):
        return 0.0
    if class_weight is None:
        return world_size * len(mine) / len(t)
    w = np.asarray(class_weight, dtype=np.float64)
    return float(world_size * w[mine].sum() / w[t].sum())


@dataclass
class DistContext:
    """This process's place in a distributed run, and the collective operations it uses.

    Build it with :func:`init_distributed` (or :func:`distributed_session`); a context with
    ``world_size == 1`` works without a process group (every collective is the identity).

    Attributes
    ----------
    rank, world_size, local_rank : int
    backend : {"gloo", "nccl"}
    device : torch.device
        Where the model trains: ``cuda:<local_rank>`` with nccl, else the CPU.
    owns_group : bool
        Whether :func:`init_distributed` created the process group (and so destroys it).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = "gloo"
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and shows progress."""
        return self.rank == 0

    def salt(self, name: str) -> str:
        """A per-rank random stream name: ``name`` itself on rank 0 (as in one process)."""
        return name if self.rank == 0 else f"{name}:rank{self.rank}"

    # ------------------------------------------------------------------ collectives

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if self.world_size > 1:
            import torch.distributed as dist

            dist.barrier()

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (any picklable object)."""
        if self.world_size == 1:
            return obj
        import torch.distributed as dist

        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def all_gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order, on every rank."""
        if self.world_size == 1:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def all_reduce_sum(self, value: float) -> float:
        """The sum of ``value`` over ranks (float64)."""
        if self.world_size == 1:
            return float(value)
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return float(t.item())

    # ------------------------------------------------------------------ model and data

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` on this rank's device, wrapped for DDP (the module itself when alone).

        The parameters stay ``model``'s own, so an optimiser built on ``model.parameters()``
        and ``model.state_dict()`` (checkpoints, bundles) work unchanged.
        """
        model.to(self.device)
        if self.world_size == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        if self.device.type == "cuda":  # SyncBatchNorm needs a GPU; on CPU BN stays per rank
            for name, child in list(model.named_children()):
                setattr(model, name, nn.SyncBatchNorm.convert_sync_batchnorm(child))
            return DistributedDataParallel(model, device_ids=[self.device.index])
        return DistributedDataParallel(model)

    def to_device(self, batch: Batch) -> Batch:
        """``batch`` with its tensors on :attr:`device`."""
        if self.device.type == "cpu":
            return batch
        from emoscope.train.data import Batch

        def move(v: Any) -> Any:
            if isinstance(v, tuple):
                return tuple(move(p) for p in v)
            return None if v is None else v.to(self.device, non_blocking=True)

        return Batch(move(batch.x), move(batch.lengths), move(batch.y), batch.index)

    def local_batches(self, ds: FeatureDataset, order: np.ndarray, batch_size: int, *,
                      targets: np.ndarray, class_weight: np.ndarray | None = None
                      ) -> Iterator[tuple[Batch, float, int]]:
        """This rank's part of every global batch of ``order``.

        Yields
        ------
        batch : Batch
            The items at positions ``rank::world_size`` of the global batch ``order[s:s+B]``
            (the global batch's first item, to be weighted 0, when there are none).
        share : float
            The loss factor of :func:`rank_share`.
        n_global : int
            Items in the global batch.
        """
        from emoscope.train.data import collate

        tg = np.asarray(targets)
        for s in range(0, len(order), batch_size):
            glob = np.asarray(order[s:s + batch_size])
            mine = glob[self.rank::self.world_size]
            share = rank_share(tg[glob], rank=self.rank, world_size=self.world_size,
                               class_weight=class_weight)
            if not len(mine):  # every rank must join every all-reduce: a weightless stand-in
                mine, share = glob[:1], 0.0
            yield self.to_device(collate([ds[int(i)] for i in mine])), share, len(glob)

    def predict_proba(self, model: nn.Module, ds: FeatureDataset, *,
                      batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``(len(ds), n_classes)`` in ``ds`` order, each rank computing
        the items ``rank::world_size`` (eval mode, no grad), gathered on every rank."""
        from emoscope.train.data import collate

        model.eval()
        positions = np.arange(self.rank, len(ds), self.world_size)
        parts = []
        with torch.inference_mode():
            for s in range(0, len(positions), batch_size):
                b = self.to_device(collate([ds[int(i)] for i in positions[s:s + batch_size]]))
                parts.append(torch.softmax(model(b.x, b.lengths), dim=-1).float().cpu().numpy())
        mine = np.concatenate(parts) if parts else None
        gathered = self.all_gather((positions, mine))
        n_classes = next((p.shape[1] for _, p in gathered if p is not None), 0)
        out = np.zeros((len(ds), n_classes), np.float32)
        for pos, p in gathered:
            if p is not None:
                out[pos] = p
        return out

    def extract_share(self, rows: pd.DataFrame, extractor: FeatureExtractor, *,
                      cache: Any = None, workers: int = 1, progress: bool = False) -> None:
        """Extract this rank's share (rows ``rank::world_size``) of ``rows`` into the feature
        cache, then wait for the others: afterwards every rank reads the whole corpus from the
        cache (on a filesystem shared by all nodes), or computes only what its node lacks."""
        if self.world_size == 1:
            return
        from emoscope.features.extract import extract_features

        extract_features(rows.iloc[self.rank::self.world_size], extractor, cache=cache,
                         workers=workers, progress=progress and self.is_main)
        self.barrier()


def init_distributed(*, backend: str | None = None, timeout: float | None = None
                     ) -> DistContext:
    """Join the process group of a ``torchrun`` launch (from its environment variables).

    Parameters
    ----------
    backend : {"gloo", "nccl"}, optional
        Default: ``nccl`` when CUDA is available, else ``gloo``.
    timeout : float, optional
        Seconds a collective (a barrier) may wait before failing; torch's default otherwise.

    Raises
    ------
    ConfigError
        Not started by torchrun, or torch without distributed support.
    """
    if not launched_by_torchrun():
        missing = ", ".join(v for v in TORCHRUN_VARIABLES if not os.environ.get(v))
        raise ConfigError(f"--distributed needs the processes torchrun starts ({missing} not "
                          f"set); launch it as: {_LAUNCH_HINT}")
    import torch.distributed as dist

    if not dist.is_available():
        raise ConfigError("this torch has no distributed support (torch.distributed)")
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend not in ("gloo", "nccl"):
        raise ConfigError(f"unknown backend {backend!r}: choose gloo or nccl")
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    owns = not dist.is_initialized()
    if owns:
        kwargs: dict[str, Any] = {}
        if timeout is not None:
            kwargs["timeout"] = datetime.timedelta(seconds=timeout)
        dist.init_process_group(backend=backend, rank=rank, world_size=world, **kwargs)
    return DistContext(rank, world, local_rank, backend, device, owns)


def shutdown_distributed(ctx: DistContext) -> None:
    """Leave the process group (destroyed only when :func:`init_distributed` made it)."""
    if ctx.owns_group:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


@contextlib.contextmanager
def distributed_session(*, backend: str | None = None,
                        timeout: float | None = None) -> Iterator[DistContext]:
    """:func:`init_distributed` for the ``with`` block, then :func:`shutdown_distributed`.

    >>> with distributed_session() as ctx:                       # doctest: +SKIP
    ...     run_experiment(cfg, out_dir="runs/x", distributed=ctx)
    """
    ctx = init_distributed(backend=backend, timeout=timeout)
    try:
        yield ctx
    finally:
        shutdown_distributed(ctx)
