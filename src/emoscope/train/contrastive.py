"""Contrastive audio-video pre-training, as in the IEMOCAP study.

Before any label is used for classification, the audio stream and the video stream learn to
agree on which sound goes with which face. Each clip in a batch gives:

- a **positive** pair: its audio with its own frames (``same = 1``);
- **hard negatives**: its audio with the frames of another clip of *another* emotion;
- **super-hard negatives**: its audio with the frames of another clip of the *same* emotion
  (the pair can only be told apart by what happens in that very clip).

The margin contrastive loss (Hadsell, Chopra & LeCun 2006) on the distance ``d`` between the
two streams' last hidden layers::

    L = same * d**2 + (1 - same) * max(0, margin - d)**2       averaged over the pairs

pulls positives together and pushes negatives at least ``margin`` apart. Each stream's
embeddings are standardised over the batch, then L2-normalised, before the distance (see
:class:`~emoscope.video.config.ContrastiveConfig`: without the standardisation the ReLU layers'
shared mean makes every clip's embedding nearly the same and nothing is learned).
Supervised fine-tuning of the whole fusion model follows (the ordinary trainer);
``epochs: 0`` skips the pre-training (the direct supervised alternative).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from emoscope.errors import ConfigError
from emoscope.video.config import ContrastiveConfig

__all__ = ["contrastive_loss", "contrastive_pairs", "pair_distances", "pretrain_contrastive"]


def contrastive_loss(za: torch.Tensor, zv: torch.Tensor, same: torch.Tensor, *,
                     margin: float = 1.0) -> torch.Tensor:
    """The margin contrastive loss of pairs of embeddings.

    Parameters
    ----------
    za, zv : torch.Tensor [shape=(P, D)]
        The audio and video embeddings of ``P`` pairs.
    same : torch.Tensor [shape=(P,)]
        1 for a positive pair (same clip), 0 for a negative one.
    margin : float
        Negatives at distance ``>= margin`` cost nothing.

    Returns
    -------
    torch.Tensor, scalar
        ``mean(same * d**2 + (1 - same) * relu(margin - d)**2)`` with ``d = ||za - zv||``.
    """
    if za.shape != zv.shape or za.dim() != 2:
        raise ConfigError(f"za and zv must be (pairs, dim) of one shape, got {tuple(za.shape)} "
                          f"and {tuple(zv.shape)}")
    if same.shape != (za.shape[0],):
        raise ConfigError(f"same must have shape ({za.shape[0]},), got {tuple(same.shape)}")
    if not margin > 0:
        raise ConfigError(f"margin must be positive, got {margin}")
    s = same.to(za.dtype)
    d = pair_distances(za, zv)
    return (s * d.pow(2) + (1 - s) * torch.relu(margin - d).pow(2)).mean()


def pair_distances(za: torch.Tensor, zv: torch.Tensor) -> torch.Tensor:
    """Euclidean distance of each pair ``(P,)`` of embeddings ``(P, D)`` (finite gradient at
    0)."""
    return ((za - zv).pow(2).sum(dim=1) + 1e-12).sqrt()


def contrastive_pairs(labels: Sequence[int] | np.ndarray, *, hard: int = 1, super_hard: int = 1,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of one batch of clips.

    Parameters
    ----------
    labels : sequence of int [shape=(B,)]
        Each clip's emotion.
    hard, super_hard : int
        Negatives per clip with another emotion / the same emotion (fewer when the batch has
        no such clip).
    rng : np.random.Generator
        Draws the negatives.

    Returns
    -------
    audio_index, video_index : np.ndarray [shape=(P,)], int64
        Which clip's audio and which clip's frames make each pair; the first ``B`` pairs are
        the positives ``(i, i)``.
    same : np.ndarray [shape=(P,)], float32
        1 for the positives, 0 for the negatives.
    """
    y = np.asarray(labels)
    idx = np.arange(len(y))
    a, v, s = list(idx), list(idx), [1.0] * len(y)
    for i in idx:
        others = idx[(y != y[i])]
        twins = idx[(y == y[i]) & (idx != i)]
        for pool, n in ((others, hard), (twins, super_hard)):
            if len(pool) and n:
                picks = rng.choice(pool, size=min(n, len(pool)), replace=False)
                a += [i] * len(picks)
                v += list(picks)
                s += [0.0] * len(picks)
    return (np.asarray(a, np.int64), np.asarray(v, np.int64), np.asarray(s, np.float32))


def _standardize(z: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance per dimension over the batch ``(B, D)``."""
    return (z - z.mean(dim=0, keepdim=True)) / (z.std(dim=0, keepdim=True) + 1e-5)


def _embeddings(model: nn.Module, x: Any, cfg: ContrastiveConfig
                ) -> tuple[torch.Tensor, torch.Tensor]:
    za, zv = model.embed_pair(x)
    if za.shape[1] != zv.shape[1]:
        raise ConfigError(f"contrastive pre-training needs audio and video hidden layers of one "
                          f"size; got {za.shape[1]} and {zv.shape[1]} (set the streams' "
                          f"'hidden' options equal)")
    if cfg.standardize:  # batch statistics (batches hold >= 2 clips)
        za, zv = _standardize(za), _standardize(zv)
    if cfg.normalize:
        za, zv = nn.functional.normalize(za, dim=1), nn.functional.normalize(zv, dim=1)
    return za, zv


def pretrain_contrastive(
    model: nn.Module,
    cfg: ContrastiveConfig,
    features: Mapping[str, tuple[np.ndarray, ...]],
    *,
    kind: str,
    train_ids: Sequence[str],
    train_y: Sequence[int],
    batch_size: int = 64,
    seed: int = 0,
    standardize: bool = True,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> list[dict[str, float]]:
    """Pre-train a two-stream model's streams with the contrastive loss (in place).

    Parameters
    ----------
    model : nn.Module
        With ``embed_pair(x) -> (za (B, D), zv (B, D))`` (``av-fusion``, ``av-late-fusion``).
    cfg : ContrastiveConfig
    features : mapping id -> (audio array, frames array)
        E.g. :class:`~emoscope.train.paired.PairedFeatures`.
    kind : str
        The items' kind (``"image+video"``).
    train_ids, train_y :
        The training clips and their label indices (negatives are drawn by label).
    batch_size, seed :
        ``cfg.batch_size`` overrides ``batch_size``; batches and negatives depend only on
        ``(seed, epoch)``.
    standardize : bool
        Standardise vector/sequence parts with training statistics (as the trainer does).
    checkpoint : path, optional
        The pre-trained weights and history are saved here; with ``resume`` an existing file
        is loaded instead of pre-training again.
    progress : callable, optional
        ``progress(epoch, row)`` after every epoch.

    Returns
    -------
    list of dict
        Per epoch: ``epoch``, ``contrastive_loss``, ``positive_distance`` and
        ``negative_distance`` (mean distance of the pairs, in eval mode after the epoch).
    """
    from emoscope.train.data import FeatureDataset, PartStandardizer, collate, epoch_order
    from emoscope.train.loop import _mix

    if not hasattr(model, "embed_pair"):
        raise ConfigError(f"{type(model).__name__} has no audio and video streams to pre-train")
    if not train_ids:
        raise ConfigError("no training items")
    ckpt = None if checkpoint is None else Path(checkpoint)
    if ckpt is not None and resume and ckpt.is_file():
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        return list(state["history"])
    std = PartStandardizer.fit(features, train_ids, kind) if standardize else None
    ds = FeatureDataset(features, list(train_ids), list(train_y), kind=kind, standardizer=std)
    y = np.asarray(train_y)
    bs = cfg.batch_size or batch_size
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    history: list[dict[str, float]] = []
    for epoch in range(cfg.epochs):
        torch.manual_seed(_mix(seed, epoch, "contrastive"))
        rng = np.random.default_rng([seed, epoch, 4099])
        model.train()
        order = epoch_order(len(ds), seed=seed + 1, epoch=epoch)
        total, seen = 0.0, 0
        for s in range(0, len(order), bs):
            chunk = order[s:s + bs]
            if len(chunk) < 2:
                continue  # a lone clip has no negative
            b = collate([ds[int(i)] for i in chunk])
            za, zv = _embeddings(model, b.x, cfg)
            ai, vi, same = contrastive_pairs(y[chunk], hard=cfg.hard_negatives,
                                             super_hard=cfg.super_hard_negatives, rng=rng)
            loss = contrastive_loss(za[ai], zv[vi], torch.from_numpy(same), margin=cfg.margin)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(same)
            seen += len(same)
        row = {"epoch": epoch + 1, "contrastive_loss": total / max(seen, 1),
               **_distances(model, ds, y, cfg, bs, seed)}
        history.append(row)
        if progress is not None:
            progress(epoch + 1, row)
    model.eval()
    if ckpt is not None:
        tmp = ckpt.with_name(f".{ckpt.name}.{os.getpid()}.tmp")
        torch.save({"model": model.state_dict(), "history": history}, tmp)
        os.replace(tmp, ckpt)
    return history


def _distances(model: nn.Module, ds: Any, y: np.ndarray, cfg: ContrastiveConfig, bs: int,
               seed: int) -> dict[str, float]:
    """Mean positive and negative pair distance over the training clips (eval mode)."""
    from emoscope.train.data import collate

    model.eval()
    pos, neg = [], []
    rng = np.random.default_rng([seed, 7])
    with torch.inference_mode():
        for s in range(0, len(ds), bs):
            idx = np.arange(s, min(s + bs, len(ds)))
            if len(idx) < 2:
                continue
            b = collate([ds[int(i)] for i in idx])
            za, zv = _embeddings(model, b.x, cfg)
            ai, vi, same = contrastive_pairs(y[idx], hard=1, super_hard=1, rng=rng)
            d = pair_distances(za[ai], zv[vi]).numpy()
            pos += list(d[same == 1])
            neg += list(d[same == 0])
    return {"positive_distance": float(np.mean(pos)) if pos else float("nan"),
            "negative_distance": float(np.mean(neg)) if neg else float("nan")}
