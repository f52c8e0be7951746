"""Feature-level augmentation: SpecAugment masks, mixup, and image crops and rotations.

================================ =================== =========================================
what                             on                  notes
================================ =================== =========================================
:func:`spec_augment`             ``(T, F)`` or       numpy; masks only inside valid frames
                                 ``(B, T, F)``
:class:`SpecAugment`             ``(B, T, F)``       torch ``nn.Module``; identity in eval mode
:func:`mixup`                    ``(B, ...)``        numpy arrays or torch tensors
:func:`random_crop`              ``(C, H, W)``       the IEMOCAP study's image augmentation
:func:`random_rotate`            ``(C, H, W)``       the IEMOCAP study's image augmentation
================================ =================== =========================================

Sequences are time-major: ``T`` frames of ``F`` features (a log-mel band, an MFCC, ...).
SpecAugment (Park et al., 2019) sets ``time_masks`` bands of consecutive frames and
``freq_masks`` bands of consecutive features to ``mask_value``; a width given as an ``int`` ``W``
is the *largest* width, each mask's width being drawn uniformly from ``0..W`` as in the paper,
while a pair ``(lo, hi)`` draws from ``lo..hi`` (``(8, 8)``: exactly 8). Widths are capped at the
axis length (the valid frames for time masks). Masks may overlap. The default mask value, 0,
is the mean of standardised features (:class:`emoscope.train.data.Standardizer`); pass
``mask_value="mean"`` for unstandardised features (the item's mean over its valid frames).

Random choices come from an explicit :class:`numpy.random.Generator` (``rng``), or for
:class:`SpecAugment` an optional :class:`torch.Generator`. Bad arrays raise
:class:`~emoscope.errors.AudioError`; bad options raise :class:`~emoscope.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, TypeVar

import numpy as np
import torch
from torch import nn

from emoscope.audio._checks import check_number
from emoscope.augment._checks import check_count, check_rng
from emoscope.errors import AudioError, ConfigError

__all__ = [
    "SpecAugment",
    "mixup",
    "random_crop",
    "random_rotate",
    "spec_augment",
]

Width = int | tuple[int, int]
MaskValue = float | Literal["mean"]
ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def _width_range(name: str, width: Any) -> tuple[int, int]:
    """An ``int`` W as ``(0, W)``; a pair ``(lo, hi)`` checked; ConfigError otherwise."""
    if isinstance(width, tuple | list):
        if len(width) != 2:
            raise ConfigError(f"{name} must be an int or a (low, high) pair, got {width!r}")
        lo, hi = (check_count(f"{name}[{i}]", w) for i, w in enumerate(width))
        if lo > hi:
            raise ConfigError(f"{name} must have low <= high, got {width!r}")
        return lo, hi
    return 0, check_count(name, width)


def _check_mask_value(value: Any) -> float | str:
    if value == "mean" and isinstance(value, str):
        return "mean"
    if isinstance(value, str):
        raise ConfigError(f"mask_value must be a number or 'mean', got {value!r}")
    return check_number("mask_value", value)


def _check_array(x: Any, ndims: tuple[int, ...], what: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise AudioError(f"expected a numpy array of shape {what}, got {type(x).__name__}")
    if x.ndim not in ndims or not np.issubdtype(x.dtype, np.floating):
        raise AudioError(f"expected a floating-point array of shape {what}, got "
                         f"{x.dtype} {x.shape}")
    if not np.isfinite(x).all():
        raise AudioError("the array holds NaN or infinite values")
    return x


def _check_lengths(lengths: Any, batch: int, frames: int) -> np.ndarray:
    """Valid frames per item, shape ``(batch,)`` int64, each in ``[0, frames]``."""
    if lengths is None:
        return np.full(batch, frames, dtype=np.int64)
    arr = np.asarray(lengths.cpu() if isinstance(lengths, torch.Tensor) else lengths)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if (arr.shape != (batch,) or not np.issubdtype(arr.dtype, np.integer)
            or (arr < 0).any() or (arr > frames).any()):
        raise ConfigError(f"lengths must be {batch} integer(s) in [0, {frames}], got {lengths!r}")
    return arr.astype(np.int64)


def spec_augment(
    x: np.ndarray,
    *,
    freq_masks: int = 2,
    freq_width: Width = 8,
    time_masks: int = 2,
    time_width: Width = 20,
    rng: np.random.Generator,
    lengths: int | Sequence[int] | np.ndarray | None = None,
    mask_value: MaskValue = 0.0,
) -> np.ndarray:
    """SpecAugment frequency and time masking (no time warping).

    Parameters
    ----------
    x : np.ndarray [shape=(T, F) or (B, T, F)], floating point
        Time-major features.
    freq_masks, time_masks : int
        Number of frequency and time masks per item (``0``: none).
    freq_width, time_width : int or (int, int)
        Largest width ``W`` (drawn from ``0..W``) or a ``(lo, hi)`` range; see the module doc.
    rng : np.random.Generator
    lengths : int, sequence of int or np.ndarray [shape=(B,)], optional
        Valid frames per item (an ``int`` for ``(T, F)``); frames past them are padding and are
        never masked. ``None``: every frame is valid.
    mask_value : float or "mean"
        Value written into the masks; ``"mean"``: the item's mean over its valid frames.

    Returns
    -------
    np.ndarray [shape=x.shape], x.dtype
        A masked copy.

    Raises
    ------
    AudioError
        ``x`` not a finite floating-point array of 2 or 3 dimensions.
    ConfigError
        Bad counts, widths, lengths, mask value or ``rng``.
    """
    x = _check_array(x, (2, 3), "(T, F) or (B, T, F)")
    n_f, n_t = check_count("freq_masks", freq_masks), check_count("time_masks", time_masks)
    f_lo, f_hi = _width_range("freq_width", freq_width)
    t_lo, t_hi = _width_range("time_width", time_width)
    value = _check_mask_value(mask_value)
    check_rng(rng)
    batch = x if x.ndim == 3 else x[None]
    n_items, n_frames, n_feats = batch.shape
    valid = _check_lengths(lengths, n_items, n_frames)
    out = batch.copy()
    for b in range(n_items):
        length = int(valid[b])
        fill = value
        if value == "mean":
            fill = float(batch[b, :length].mean()) if length else 0.0
        for _ in range(n_f):
            w = min(int(rng.integers(f_lo, f_hi + 1)), n_feats)
            f0 = int(rng.integers(0, n_feats - w + 1))
            out[b, :length, f0:f0 + w] = fill
        for _ in range(n_t):
            w = min(int(rng.integers(t_lo, t_hi + 1)), length)
            t0 = int(rng.integers(0, length - w + 1))
            out[b, t0:t0 + w, :] = fill
    return out if x.ndim == 3 else out[0]


class SpecAugment(nn.Module):
    """Batched SpecAugment masking for ``(B, T, F)`` tensors; identity in eval mode.

    The same masking as :func:`spec_augment`, vectorised over the batch (each item draws its
    own masks) on the tensor's device. Masks stay inside each item's valid frames.

    Parameters
    ----------
    freq_masks, freq_width, time_masks, time_width, mask_value :
        As in :func:`spec_augment`.

    Examples
    --------
    >>> aug = SpecAugment(freq_masks=2, freq_width=8, time_masks=2, time_width=20)
    >>> x = aug(x, lengths)       # (B, T, F) -> (B, T, F), masked only when aug.training
    """

    def __init__(self, *, freq_masks: int = 2, freq_width: Width = 8, time_masks: int = 2,
                 time_width: Width = 20, mask_value: MaskValue = 0.0) -> None:
        super().__init__()
        self.freq_masks = check_count("freq_masks", freq_masks)
        self.time_masks = check_count("time_masks", time_masks)
        self.freq_width = _width_range("freq_width", freq_width)
        self.time_width = _width_range("time_width", time_width)
        self.mask_value = _check_mask_value(mask_value)

    def extra_repr(self) -> str:
        return (f"freq_masks={self.freq_masks}, freq_width={self.freq_width}, "
                f"time_masks={self.time_masks}, time_width={self.time_width}, "
                f"mask_value={self.mask_value!r}")

    @staticmethod
    def _bands(count: int, width: tuple[int, int], size: torch.Tensor, axis: int,
               generator: torch.Generator | None) -> torch.Tensor:
        """``count`` random bands per item, each inside ``[0, size[b])``: bool ``(B, axis)``."""
        n = size.shape[0]
        pos = torch.arange(axis)
        mask = torch.zeros(n, axis, dtype=torch.bool)
        lo, hi = width
        for _ in range(count):
            w = lo + torch.floor(torch.rand(n, generator=generator) * (hi - lo + 1)).long()
            w = torch.minimum(w, size)
            start = torch.floor(torch.rand(n, generator=generator) * (size - w + 1)).long()
            mask |= (pos >= start[:, None]) & (pos < (start + w)[:, None])
        return mask

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, *,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Mask ``x``.

        Parameters
        ----------
        x : torch.Tensor [shape=(B, T, F)]
        lengths : torch.Tensor [shape=(B,)], optional
            Valid frames per item; ``None``: all ``T``.
        generator : torch.Generator, optional
            A CPU generator for reproducible masks (default: torch's global one).

        Returns
        -------
        torch.Tensor [shape=(B, T, F)]
            ``x`` itself in eval mode or without masks; otherwise a masked copy.
        """
        if x.ndim != 3:
            raise AudioError(f"SpecAugment expects (B, T, F), got {tuple(x.shape)}")
        if not self.training or (self.freq_masks == 0 and self.time_masks == 0):
            return x
        n, n_frames, n_feats = x.shape
        size_t = torch.from_numpy(_check_lengths(lengths, n, n_frames))
        time = self._bands(self.time_masks, self.time_width, size_t, n_frames, generator)
        freq = self._bands(self.freq_masks, self.freq_width,
                           torch.full((n,), n_feats, dtype=torch.long), n_feats, generator)
        valid = torch.arange(n_frames)[None, :] < size_t[:, None]  # (B, T)
        mask = time[:, :, None] | (freq[:, None, :] & valid[:, :, None])  # (B, T, F)
        mask = mask.to(x.device)
        if self.mask_value == "mean":
            v = valid.to(x.device)[:, :, None]
            count = (v.sum(dim=(1, 2)) * n_feats).clamp(min=1)
            fill = (x * v).sum(dim=(1, 2)) / count  # (B,)
            return torch.where(mask, fill[:, None, None].to(x.dtype), x)
        return x.masked_fill(mask, float(self.mask_value))


def mixup(x: ArrayT, y_onehot: ArrayT, *, alpha: float,
          rng: np.random.Generator) -> tuple[ArrayT, ArrayT]:
    """Mixup (Zhang et al., 2018): convex combinations of a batch with a shuffled copy of itself.

    One ``lam ~ Beta(alpha, alpha)`` and one permutation ``p`` per batch, both from ``rng``:
    ``x' = lam * x + (1 - lam) * x[p]`` and the same for the labels, which become soft (each row
    still sums to 1).

    Parameters
    ----------
    x : np.ndarray or torch.Tensor [shape=(B, ...)], floating point
    y_onehot : np.ndarray or torch.Tensor [shape=(B, C)]
        One-hot (or already soft) labels, the same kind of array as ``x``.
    alpha : float
        Beta parameter ``>= 0``; ``0`` switches mixup off (the inputs are returned as they are).
        ``0.2``-``0.4`` is usual.
    rng : np.random.Generator

    Returns
    -------
    x_mixed : same type as x [shape=(B, ...)]
    y_mixed : same type as y_onehot [shape=(B, C)], floating point
        On the same device as the inputs for tensors.

    Raises
    ------
    AudioError
        Mismatched batch sizes, labels not ``(B, C)``, non-floating ``x``.
    ConfigError
        Negative or non-finite ``alpha``, bad ``rng``.
    """
    a = check_number("alpha", alpha, low=0.0)
    check_rng(rng)
    is_torch = isinstance(x, torch.Tensor) and isinstance(y_onehot, torch.Tensor)
    is_numpy = isinstance(x, np.ndarray) and isinstance(y_onehot, np.ndarray)
    if not (is_torch or is_numpy):
        raise AudioError("x and y_onehot must both be numpy arrays or both torch tensors")
    if x.ndim < 1 or y_onehot.ndim != 2 or x.shape[0] != y_onehot.shape[0]:
        raise AudioError(f"expected x (B, ...) and y_onehot (B, C), got {tuple(x.shape)} and "
                         f"{tuple(y_onehot.shape)}")
    floating = x.is_floating_point() if is_torch else np.issubdtype(x.dtype, np.floating)
    if not floating:
        raise AudioError(f"x must be floating point, got {x.dtype}")
    if a == 0.0:
        return x, y_onehot
    lam = float(rng.beta(a, a))
    perm = rng.permutation(x.shape[0])
    if is_torch:
        idx = torch.as_tensor(perm, device=x.device)
        y = y_onehot if y_onehot.is_floating_point() else y_onehot.to(x.dtype)
        return lam * x + (1.0 - lam) * x[idx], lam * y + (1.0 - lam) * y[idx]
    y = y_onehot if np.issubdtype(y_onehot.dtype, np.floating) else y_onehot.astype(x.dtype)
    x_mixed = (lam * x + (1.0 - lam) * x[perm]).astype(x.dtype, copy=False)
    y_mixed = (lam * y + (1.0 - lam) * y[perm]).astype(y.dtype, copy=False)
    return x_mixed, y_mixed


def _resize_axis(img: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Linear interpolation of ``img`` to ``size`` samples along ``axis`` (pixel centres
    aligned, as ``align_corners=False``)."""
    n = img.shape[axis]
    if n == size:
        return img
    pos = np.clip((np.arange(size) + 0.5) * (n / size) - 0.5, 0.0, n - 1)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    shape = [1] * img.ndim
    shape[axis] = size
    w = (pos - i0).reshape(shape)
    return np.take(img, i0, axis=axis) * (1.0 - w) + np.take(img, i1, axis=axis) * w


def random_crop(img: np.ndarray, *, pixels: int = 10, rng: np.random.Generator) -> np.ndarray:
    """Crop a random margin off each border and stretch back to the original size.

    Each of the four margins is drawn independently from ``0..pixels`` (capped so that at least
    one row and column remain), then the crop is resized back to ``(H, W)`` with bilinear
    interpolation, as the IEMOCAP study's random crop. On a spectrogram image this is a small
    random zoom in time and frequency.

    Parameters
    ----------
    img : np.ndarray [shape=(C, H, W)], floating point
    pixels : int
        Largest margin per border, ``>= 0``.
    rng : np.random.Generator

    Returns
    -------
    np.ndarray [shape=(C, H, W)], img.dtype
    """
    img = _check_array(img, (3,), "(C, H, W)")
    p = check_count("pixels", pixels)
    check_rng(rng)
    _, h, w = img.shape
    ph, pw = min(p, (h - 1) // 2), min(p, (w - 1) // 2)
    top, bottom = (int(v) for v in rng.integers(0, ph + 1, size=2))
    left, right = (int(v) for v in rng.integers(0, pw + 1, size=2))
    crop = img[:, top:h - bottom, left:w - right].astype(np.float64)
    out = _resize_axis(_resize_axis(crop, h, 1), w, 2)
    return out.astype(img.dtype)


def _rotate(img: np.ndarray, degrees: float, fill: float | str) -> np.ndarray:
    """Rotate ``(C, H, W)`` by ``degrees`` (counter-clockwise as displayed, row 0 on top)
    about the centre, bilinear; pixels whose source lies outside the image get ``fill``."""
    _, h, w = img.shape
    theta = -np.deg2rad(degrees)  # as scipy.ndimage.rotate and np.rot90
    cos, sin = np.cos(theta), np.sin(theta)
    ci, cj = (h - 1) / 2.0, (w - 1) / 2.0
    di, dj = np.mgrid[0:h, 0:w].astype(np.float64)
    di -= ci
    dj -= cj
    src_i = ci + cos * di - sin * dj
    src_j = cj + sin * di + cos * dj
    # a source inside the outer pixel edges is inside the image (no fill for rounding dust)
    outside = (src_i < -0.5) | (src_i > h - 0.5) | (src_j < -0.5) | (src_j > w - 0.5)
    src_i = np.clip(src_i, 0.0, h - 1)
    src_j = np.clip(src_j, 0.0, w - 1)
    i0 = np.minimum(np.floor(src_i).astype(np.int64), h - 1)
    j0 = np.minimum(np.floor(src_j).astype(np.int64), w - 1)
    i1, j1 = np.minimum(i0 + 1, h - 1), np.minimum(j0 + 1, w - 1)
    wi, wj = src_i - i0, src_j - j0
    x = img.astype(np.float64)
    out = (x[:, i0, j0] * (1 - wi) * (1 - wj) + x[:, i0, j1] * (1 - wi) * wj
           + x[:, i1, j0] * wi * (1 - wj) + x[:, i1, j1] * wi * wj)
    for c in range(img.shape[0]):
        out[c][outside] = float(img[c].min()) if fill == "min" else float(fill)
    return out.astype(img.dtype)


def random_rotate(img: np.ndarray, *, max_degrees: float = 10.0, rng: np.random.Generator,
                  fill: float | Literal["min"] = "min") -> np.ndarray:
    """Rotate by a random angle about the centre, keeping the shape.

    The angle is drawn uniformly from ``[-max_degrees, max_degrees]``. Bilinear interpolation
    (the numpy equivalent of :func:`scipy.ndimage.rotate` with ``reshape=False, order=1``,
    except that pixels whose source falls within the image's outer pixel edges are
    interpolated rather than filled, so a tiny angle is nearly the identity); the corners that
    come from outside the image are filled with ``fill``.

    Parameters
    ----------
    img : np.ndarray [shape=(C, H, W)], floating point
    max_degrees : float
        In ``[0, 180]``; ``0`` returns a copy.
    rng : np.random.Generator
    fill : float or "min"
        ``"min"`` (default): each channel's minimum, i.e. the quietest level of a spectrogram
        image whatever its normalisation (0 after ``[0, 1]`` scaling, but a negative value
        after ImageNet normalisation, where 0 would be mid-grey). A number: that value.

    Returns
    -------
    np.ndarray [shape=(C, H, W)], img.dtype
    """
    img = _check_array(img, (3,), "(C, H, W)")
    limit = check_number("max_degrees", max_degrees, low=0.0, high=180.0)
    if isinstance(fill, str):
        if fill != "min":
            raise ConfigError(f"fill must be a number or 'min', got {fill!r}")
    else:
        check_number("fill", fill)
    check_rng(rng)
    angle = float(rng.uniform(-limit, limit)) if limit > 0 else 0.0
    if angle == 0.0:
        return img.copy()
    return _rotate(img, angle, fill)
