"""Where training runs: this process alone, or one rank of a distributed run.

The training loop and the experiment runner talk to a :class:`TrainingContext` and never ask
which one they have. :class:`LocalContext` is the one process of an ordinary run (every
collective is the identity, this process writes everything);
:class:`emoscope.distributed.ddp.DistContext` is a rank of a ``torchrun`` launch with the same
interface.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.models.batch import Batch
from emoscope.train.data import FeatureDataset, batches, predict_proba

__all__ = ["LocalContext", "TrainingContext", "check_distributable"]


class TrainingContext(Protocol):
    """What the loop needs of the processes it trains in (see :class:`LocalContext`)."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool: ...
    def salt(self, name: str) -> str: ...
    def barrier(self) -> None: ...
    def broadcast(self, obj: Any) -> Any: ...
    def all_reduce_sum(self, value: float) -> float: ...
    def wrap(self, model: nn.Module) -> nn.Module: ...
    def local_batches(self, ds: FeatureDataset, order: np.ndarray, batch_size: int, *,
                      targets: np.ndarray, class_weight: np.ndarray | None = None
                      ) -> Iterator[tuple[Batch, float, int]]: ...
    def predict_proba(self, model: nn.Module, ds: FeatureDataset, *,
                      batch_size: int = 64) -> np.ndarray: ...
    def extract_share(self, rows: pd.DataFrame, extractor: Any, *, cache: Any, workers: int,
                      progress: bool) -> None: ...


class LocalContext:
    """One process training alone: rank 0 of 1, on the CPU; every collective is the identity.

    Attributes
    ----------
    rank, world_size : int
        0 and 1.
    device : torch.device
        The CPU.
    """

    rank = 0
    world_size = 1
    device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Always: the one process writes the run directory."""
        return True

    def salt(self, name: str) -> str:
        """``name``: one process needs no per-rank random streams."""
        return name

    def barrier(self) -> None:
        """Nothing to wait for."""

    def broadcast(self, obj: Any) -> Any:
        """``obj`` itself."""
        return obj

    def all_reduce_sum(self, value: float) -> float:
        """``value`` itself."""
        return value

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` itself (no DDP wrapper)."""
        return model

    def local_batches(self, ds: FeatureDataset, order: np.ndarray, batch_size: int, *,
                      targets: np.ndarray, class_weight: np.ndarray | None = None
                      ) -> Iterator[tuple[Batch, float, int]]:
        """Every batch of ``order``, with loss factor 1 and its size (the whole batch is this
        process's)."""
        for b in batches(ds, order, batch_size):
            yield b, 1.0, len(b.y)

    def predict_proba(self, model: nn.Module, ds: FeatureDataset, *,
                      batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``(len(ds), n_classes)`` in ``ds`` order."""
        return predict_proba(model, ds, batch_size=batch_size)

    def extract_share(self, rows: pd.DataFrame, extractor: Any, *, cache: Any, workers: int,
                      progress: bool) -> None:
        """Nothing: the one process extracts everything itself."""


def check_distributable(cfg: Any) -> None:
    """Refuse what ``--distributed`` does not train, before any process group is made.

    Raises
    ------
    ConfigError
        A scikit-learn model (it trains in one process), or an audio-visual / video config.
    """
    name = cfg.model.name
    if cfg.model.model_class.family != "torch":
        raise ConfigError(f"--distributed trains torch models with DDP; {name} is a "
                          "scikit-learn model, which trains in one process: drop --distributed")
    if cfg.video is not None or cfg.features.extractor_class.input_column != "path":
        raise ConfigError("--distributed does not train audio-visual or video configs yet; "
                          "train them in one process")
