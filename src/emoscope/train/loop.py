"""Train and evaluate one fold: the epoch loop, checkpoints, resume, early stopping.

Determinism: the model is initialised from ``seed``; every epoch re-seeds torch from
``(seed, epoch)`` and draws its item order, crops and augmentation from the same pair, so an
epoch's work depends only on the weights it starts from. A checkpoint written after every epoch
holds those weights (and the optimizer and scheduler), so a run killed mid-way and resumed
finishes with exactly the result of an uninterrupted run.

Model selection never looks at the test set: the best epoch is the one with the highest
validation UA, ties going to the lower validation loss (validation UA saturates at 1.0 when
the validation speakers are easy, as on TESS, and the first epoch to reach it is rarely the
best); the last epoch when a fold has no validation set.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from emoscope.config import TrainConfig
from emoscope.errors import ConfigError
from emoscope.evaluate.metrics import unweighted_accuracy
from emoscope.features.extract import FeatureSet
from emoscope.files import atomic_path
from emoscope.train.context import LocalContext, TrainingContext
from emoscope.train.data import (
    FeatureDataset,
    PartStandardizer,
    Standardizer,
    epoch_order,
    predict_proba,
)

__all__ = ["TorchFoldResult", "predict_proba", "train_torch_model"]


@dataclass
class TorchFoldResult:
    """What training one fold produced."""

    model: nn.Module
    standardizer: Standardizer | PartStandardizer | None
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_valid_ua: float | None = None
    seconds: float = 0.0
    resumed_from: int = 0


def _mix(seed: int, epoch: int, salt: str) -> int:
    """A 63-bit seed that depends on ``(seed, epoch, salt)`` without collisions in practice."""
    digest = hashlib.blake2b(f"{seed}:{epoch}:{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)




def _optimizer(cfg: TrainConfig, params: Any) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay,
                           nesterov=True)


def _scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer, steps_per_epoch: int) -> Any:
    total = max(1, cfg.epochs * steps_per_epoch)
    warm = cfg.warmup_epochs * steps_per_epoch
    if cfg.schedule == "cosine":
        def f(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
        return torch.optim.lr_scheduler.LambdaLR(opt, f)
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total)
    if cfg.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5,
                                                          patience=3)
    return None


def _save_atomic(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def train_torch_model(
    model: nn.Module,
    cfg: TrainConfig,
    features: FeatureSet,
    *,
    kind: str,
    train_ids: Sequence[str],
    train_y: Sequence[int],
    valid_ids: Sequence[str] = (),
    valid_y: Sequence[int] = (),
    n_classes: int,
    checkpoint: Path | None = None,
    resume: bool = False,
    progress: Any = None,
    transform: Any = None,
    batch_transform: Any = None,
    variants: Sequence[Any] = (),
    distributed: TrainingContext | None = None,
) -> TorchFoldResult:
    """Train ``model`` on ``train_ids``; pick the best epoch on ``valid_ids`` by UA.

    Parameters
    ----------
    model : nn.Module
        Freshly built (initialised from ``cfg.seed`` by the caller).
    cfg : TrainConfig
    features : FeatureSet
        Or any mapping id -> array (or tuple of arrays, for several inputs).
    kind : {"vector", "sequence", "image", "video"}
        Or several joined by ``+`` (``"image+video"``) for tuple items.
    train_ids, train_y, valid_ids, valid_y :
        Ids and label indices.
    checkpoint : Path, optional
        Written after every epoch; with ``resume`` an existing one is continued.
    progress : callable, optional
        ``progress(epoch, row)`` after every epoch (for a live display).
    transform : callable, optional
        Item-level feature augmentation ``(x, rng) -> x`` for training items.
    batch_transform : callable, optional
        Batch-level augmentation ``(x, lengths, y_onehot, generator) -> (x, y_soft)``
        (SpecAugment, mixup).
    variants : sequence of FeatureSet, optional
        Augmented copies of the training features (waveform augmentation); each epoch draws
        one version per item. The standardiser is fitted on the originals only.
    distributed : DistContext, optional
        Train with DDP across ``torchrun``'s processes (:mod:`emoscope.distributed.ddp`):
        each rank takes its share of every global batch of ``cfg.batch_size`` items,
        validation is shared and gathered, rank 0 alone writes ``checkpoint``.

    Returns
    -------
    TorchFoldResult
        With the best epoch's weights loaded into ``model``.
    """
    if not train_ids:
        raise ConfigError("no training items")
    t0 = time.perf_counter()
    y_train = np.asarray(train_y, dtype=np.int64)
    standardizer = None
    if cfg.standardize and kind in ("vector", "sequence"):
        standardizer = Standardizer.fit(features[i] for i in train_ids)
    elif cfg.standardize and "+" in kind:  # several inputs: their vector/sequence parts
        standardizer = PartStandardizer.fit(features, train_ids, kind)
    train_ds = FeatureDataset(features, train_ids, list(y_train), kind=kind,
                              standardizer=standardizer, transform=transform,
                              max_frames=cfg.max_frames, seed=cfg.seed, variants=variants)
    valid_ds = FeatureDataset(features, valid_ids, list(valid_y), kind=kind,
                              standardizer=standardizer)
    counts = np.bincount(y_train, minlength=n_classes).astype(np.float64)
    class_weight = None
    if cfg.balance == "class_weights":
        w = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0)
        class_weight = torch.tensor(w, dtype=torch.float32)
    sample_weights = (1.0 / counts[y_train]) if cfg.balance == "oversample" else None
    loss_fn = nn.CrossEntropyLoss(weight=class_weight, label_smoothing=cfg.label_smoothing)

    ctx = distributed if distributed is not None else LocalContext()
    net = ctx.wrap(model)  # DDP's wrapper on a rank of a distributed run
    loss_fn = loss_fn.to(ctx.device)
    steps = math.ceil(len(train_ds) / cfg.batch_size)
    opt = _optimizer(cfg, model.parameters())
    sched = _scheduler(cfg, opt, steps)
    history: list[dict[str, float]] = []
    best_ua, best_epoch, best_state, bad, start = -1.0, 0, None, 0, 0
    best_loss = math.inf

    state = None
    if checkpoint is not None and resume and checkpoint.is_file() and ctx.is_main:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if resume:  # the main process's checkpoint, for every rank
        state = ctx.broadcast(state)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None and state.get("scheduler") is not None:
            sched.load_state_dict(state["scheduler"])
        history = list(state["history"])
        best_ua, best_epoch, bad = state["best_ua"], state["best_epoch"], state["bad_epochs"]
        best_loss = state.get("best_loss", math.inf)
        best_state = state["best_state"]
        start = state["epoch"]
    resumed_from = start

    for epoch in range(start, cfg.epochs):
        if cfg.early_stopping is not None and bad >= cfg.early_stopping:
            break
        # per-rank random streams in a distributed run
        torch.manual_seed(_mix(cfg.seed, epoch, ctx.salt("dropout")))
        gen = torch.Generator().manual_seed(_mix(cfg.seed, epoch, ctx.salt("batch")))
        train_ds.set_epoch(epoch)
        net.train()
        order = epoch_order(len(train_ds), seed=cfg.seed, epoch=epoch, weights=sample_weights)
        total_loss, seen = 0.0, 0
        # this process's share of each global batch (all of it alone), and its loss factor
        soft = batch_transform is not None  # soft targets: the mean is over items
        steps_iter = ctx.local_batches(
            train_ds, order, cfg.batch_size, targets=y_train,
            class_weight=None if class_weight is None or soft else class_weight.numpy())
        for b, share, n_global in steps_iter:
            x, target = b.x, b.y
            if batch_transform is not None:
                onehot = torch.nn.functional.one_hot(b.y, n_classes).float()
                x, target = batch_transform(x, b.lengths, onehot, gen)
            logits = net(x, b.lengths)
            loss = loss_fn(logits, target)
            opt.zero_grad(set_to_none=True)
            (loss * share).backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            if sched is not None and cfg.schedule in ("cosine", "onecycle"):
                sched.step()
            # this process's part of the global batch's mean loss
            total_loss += loss.item() * share / ctx.world_size * n_global
            seen += n_global
        total_loss = ctx.all_reduce_sum(total_loss)  # the global batches' loss, over ranks
        row: dict[str, float] = {"epoch": epoch + 1, "train_loss": total_loss / max(seen, 1),
                                 "lr": float(opt.param_groups[0]["lr"])}
        if len(valid_ds):
            probs = ctx.predict_proba(model, valid_ds, batch_size=cfg.batch_size)
            vy = np.asarray(valid_y)
            row["valid_loss"] = float(-np.log(np.clip(probs[np.arange(len(vy)), vy], 1e-12,
                                                      None)).mean())
            row["valid_ua"] = unweighted_accuracy(vy, probs.argmax(1), n_classes)
            row["valid_wa"] = float((probs.argmax(1) == vy).mean())
            score, loss = row["valid_ua"], row["valid_loss"]
            if sched is not None and cfg.schedule == "plateau":
                sched.step(score)
        else:
            score, loss = float(epoch), 0.0  # no validation: the last epoch is the best
        history.append(row)
        if score > best_ua or (score == best_ua and loss < best_loss):
            best_ua, best_loss, best_epoch = score, loss, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        bad = 0 if best_epoch == epoch + 1 else bad + 1
        if checkpoint is not None and ctx.is_main:
            _save_atomic({"epoch": epoch + 1, "model": model.state_dict(),
                          "optimizer": opt.state_dict(),
                          "scheduler": None if sched is None else sched.state_dict(),
                          "history": history, "best_ua": best_ua, "best_loss": best_loss,
                          "best_epoch": best_epoch, "bad_epochs": bad,
                          "best_state": best_state}, checkpoint)
        ctx.barrier()  # the other ranks wait for the main process's checkpoint
        if progress is not None:
            progress(epoch + 1, row)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.cpu()  # a distributed run trains on the rank's device
    model.eval()
    return TorchFoldResult(model, standardizer, history, best_epoch,
                           best_ua if len(valid_ds) else None,
                           time.perf_counter() - t0, resumed_from)
