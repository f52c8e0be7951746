"""Augmenters: apply the augmentations an :class:`AugmentConfig` enables, each with its
probability, to one item at a time.

Determinism and resuming
------------------------
Every augmenter call takes a :class:`numpy.random.Generator`. Derive one per item from the run's
seed, the epoch and the item's index, never from a generator shared across items::

    rng = np.random.default_rng([seed, epoch, index])       # == augmenter.rng_for(epoch, index)
    y = augmenter(y, sr, rng=rng)

The draws of item ``index`` in epoch ``epoch`` then depend on nothing else: not on the order
the loader visits items, the number of workers, or whether the run was interrupted, so a
resumed run repeats exactly the augmentations of the original. (This is what
:class:`emoscope.train.data.FeatureDataset` does, and ``FeatureAugmenter``/``ImageAugmenter``
fit its ``transform(x, rng)`` hook as they are; :class:`BatchAugmenter` fits the training
loop's ``batch_transform`` and draws from the per-epoch ``torch.Generator`` it is given.)
Without ``rng`` an augmenter draws from its own generator seeded once with ``seed``:
reproducible for the same sequence of calls, but not resumable.

An augmentation that is off (probability 0) draws nothing, so turning one on changes the draws
of those that follow it; an augmenter with nothing on returns its input as it is (not copied).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from emoscope.audio._checks import check_sample_rate, check_waveform
from emoscope.augment._checks import check_count, check_rng
from emoscope.augment.config import AugmentConfig
from emoscope.augment.waveform import add_noise, gain, pitch_shift, speed_perturb, time_shift
from emoscope.errors import ConfigError

if TYPE_CHECKING:
    import torch

__all__ = [
    "BatchAugmenter",
    "FeatureAugmenter",
    "ImageAugmenter",
    "WaveformAugmenter",
    "item_rng",
]


def item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of one item in one epoch: ``np.random.default_rng([seed, epoch, index])``.

    Parameters
    ----------
    seed, epoch, index : int
        Non-negative.
    """
    for name, v in (("seed", seed), ("epoch", epoch), ("index", index)):
        check_count(name, v)
    return np.random.default_rng([int(seed), int(epoch), int(index)])


class _Augmenter:
    """Shared parts: the config, the seed, the fallback generator."""

    def __init__(self, config: AugmentConfig | None = None, seed: int = 0) -> None:
        if config is None:
            config = AugmentConfig()
        if not isinstance(config, AugmentConfig):
            raise ConfigError(f"{type(self).__name__} needs an AugmentConfig, got "
                              f"{type(config).__name__} (use AugmentConfig.from_dict)")
        self.config = config
        self.seed = check_count("seed", seed)
        self._rng = np.random.default_rng(self.seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed}, enabled={self.enabled})"

    @property
    def enabled(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def rng_for(self, epoch: int, index: int) -> np.random.Generator:
        """:func:`item_rng` of this augmenter's seed: the generator for item ``index`` in
        ``epoch``."""
        return item_rng(self.seed, epoch, index)

    def _pick_rng(self, rng: Any) -> np.random.Generator:
        return self._rng if rng is None else check_rng(rng)


class WaveformAugmenter(_Augmenter):
    """Waveform augmentations of an :class:`AugmentConfig`, in this order, each applied with
    its probability: speed perturbation, pitch shift, time shift, gain, noise.

    Parameters
    ----------
    config : AugmentConfig, optional
        Default: everything off.
    seed : int
        Base seed (see the module docstring).
    noises : sequence of np.ndarray [shape=(m,)], optional
        Noise recordings at the sample rate of the waveforms to augment; one is picked at
        random for each noisy item. Default: white noise.

    Examples
    --------
    >>> aug = WaveformAugmenter(AugmentConfig(noise_prob=0.5, speed_prob=1.0), seed=0)
    >>> y_aug = aug(y, 16000, rng=aug.rng_for(epoch, index))     # doctest: +SKIP
    """

    def __init__(self, config: AugmentConfig | None = None, seed: int = 0, *,
                 noises: Sequence[np.ndarray] | None = None) -> None:
        super().__init__(config, seed)
        self.noises = [check_waveform(n, name=f"noises[{i}]").astype(np.float32)
                       for i, n in enumerate(noises or [])]

    @property
    def enabled(self) -> bool:
        """Whether any waveform augmentation is on."""
        return self.config.waveform_enabled

    def __call__(self, y: np.ndarray, sr: int, *,
                 rng: np.random.Generator | None = None) -> np.ndarray:
        """Augment one waveform.

        Parameters
        ----------
        y : np.ndarray [shape=(n,)], floating point
        sr : int
            Its sample rate (kept).
        rng : np.random.Generator, optional
            The item's generator (see the module docstring).

        Returns
        -------
        np.ndarray [shape=(m,)], float32
            ``m != n`` only after speed perturbation by a factor other than 1; ``y`` itself
            when no augmentation is on.
        """
        if not self.enabled:
            return y
        c = self.config
        y = check_waveform(y)
        sr = check_sample_rate(sr)
        g = self._pick_rng(rng)
        out = y.astype(np.float32)
        if c.speed_prob > 0 and g.random() < c.speed_prob:
            factor = float(c.speed_factors[int(g.integers(len(c.speed_factors)))])
            out = speed_perturb(out, sr=sr, factor=factor)
        if c.pitch_prob > 0 and g.random() < c.pitch_prob:
            out = pitch_shift(out, sr=sr, semitones=float(g.uniform(*c.pitch_semitones)))
        if c.shift_prob > 0 and g.random() < c.shift_prob:
            out = time_shift(out, max_shift_s=c.shift_s, sr=sr, rng=g, mode=c.shift_mode)
        if c.gain_prob > 0 and g.random() < c.gain_prob:
            out = gain(out, db=float(g.uniform(*c.gain_db)))
        if c.noise_prob > 0 and g.random() < c.noise_prob:
            snr = float(g.uniform(*c.snr_db))
            clip = self.noises[int(g.integers(len(self.noises)))] if self.noises else None
            out = add_noise(out, snr_db=snr, rng=g, noise=clip)
        return out


class FeatureAugmenter(_Augmenter):
    """SpecAugment of an :class:`AugmentConfig` on one ``(T, F)`` sequence, with probability
    ``specaugment_prob``.

    Fits :class:`emoscope.train.data.FeatureDataset`'s ``transform(x, rng)`` hook. For padded
    batches on a device use :class:`~emoscope.augment.spectrogram.SpecAugment` instead.

    Parameters
    ----------
    config : AugmentConfig, optional
    seed : int
    """

    @property
    def enabled(self) -> bool:
        """Whether SpecAugment is on."""
        return self.config.feature_enabled

    def __call__(self, x: np.ndarray, rng: np.random.Generator | None = None, *,
                 length: int | None = None) -> np.ndarray:
        """Augment one sequence.

        Parameters
        ----------
        x : np.ndarray [shape=(T, F)], floating point
        rng : np.random.Generator, optional
        length : int, optional
            Valid frames when ``x`` is padded.

        Returns
        -------
        np.ndarray [shape=(T, F)]
            ``x`` itself when SpecAugment is off or not drawn.
        """
        if not self.enabled:
            return x
        from emoscope.augment.spectrogram import spec_augment

        c, g = self.config, self._pick_rng(rng)
        if g.random() >= c.specaugment_prob:
            return x
        return spec_augment(x, freq_masks=c.freq_masks, freq_width=c.freq_width,
                            time_masks=c.time_masks, time_width=c.time_width, rng=g,
                            lengths=length, mask_value=c.mask_value)


class ImageAugmenter(_Augmenter):
    """Image augmentations of an :class:`AugmentConfig` on one ``(C, H, W)`` image: a random
    crop resized back (``crop_prob``), then a random rotation (``rotate_prob``).

    Fits :class:`emoscope.train.data.FeatureDataset`'s ``transform(x, rng)`` hook.

    Parameters
    ----------
    config : AugmentConfig, optional
    seed : int
    """

    @property
    def enabled(self) -> bool:
        """Whether crops or rotations are on."""
        return self.config.image_enabled

    def __call__(self, img: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Augment one image.

        Parameters
        ----------
        img : np.ndarray [shape=(C, H, W)], floating point
        rng : np.random.Generator, optional

        Returns
        -------
        np.ndarray [shape=(C, H, W)]
            ``img`` itself when nothing is on or drawn.
        """
        if not self.enabled:
            return img
        from emoscope.augment.spectrogram import random_crop, random_rotate

        c, g = self.config, self._pick_rng(rng)
        out = img
        if c.crop_prob > 0 and g.random() < c.crop_prob:
            out = random_crop(out, pixels=c.crop_pixels, rng=g)
        if c.rotate_prob > 0 and g.random() < c.rotate_prob:
            out = random_rotate(out, max_degrees=c.rotate_degrees, rng=g)
        return out


class BatchAugmenter:
    """Batch-level augmentation for the training loop: SpecAugment on padded ``(B, T, F)``
    sequence batches (each item with probability ``specaugment_prob``, masks inside its
    length), then mixup (``mixup_alpha > 0``) on any batch.

    Fits :func:`emoscope.train.loop`'s ``batch_transform(x, lengths, y_onehot, generator)``
    hook; all draws come from that ``torch.Generator`` (seeded per epoch by the loop), so a
    resumed run repeats them. Use either this SpecAugment or :class:`FeatureAugmenter`'s
    (item level), not both.

    Parameters
    ----------
    config : AugmentConfig, optional
    specaugment : bool
        Apply SpecAugment here (``False``: mixup only).
    """

    def __init__(self, config: AugmentConfig | None = None, *, specaugment: bool = True) -> None:
        from emoscope.augment.spectrogram import SpecAugment

        if config is None:
            config = AugmentConfig()
        if not isinstance(config, AugmentConfig):
            raise ConfigError(f"BatchAugmenter needs an AugmentConfig, got "
                              f"{type(config).__name__}")
        self.config = config
        self.specaugment = bool(specaugment) and config.feature_enabled
        self._spec = SpecAugment(freq_masks=config.freq_masks, freq_width=config.freq_width,
                                 time_masks=config.time_masks, time_width=config.time_width,
                                 mask_value=config.mask_value).train()

    @property
    def enabled(self) -> bool:
        """Whether SpecAugment or mixup is on."""
        return self.specaugment or self.config.mixup_alpha > 0

    def __repr__(self) -> str:
        return (f"BatchAugmenter(specaugment={self.specaugment}, "
                f"mixup_alpha={self.config.mixup_alpha})")

    def __call__(self, x: torch.Tensor, lengths: torch.Tensor | None, y_onehot: torch.Tensor,
                 generator: torch.Generator | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Augment one training batch.

        Parameters
        ----------
        x : torch.Tensor [shape=(B, T, F) or (B, ...)]
        lengths : torch.Tensor [shape=(B,)] or None
            Valid frames of sequence batches.
        y_onehot : torch.Tensor [shape=(B, C)]
        generator : torch.Generator, optional
            CPU generator for every draw (default: torch's global one).

        Returns
        -------
        x : torch.Tensor, same shape as the input
        y : torch.Tensor [shape=(B, C)], soft labels (``y_onehot`` itself without mixup)
        """
        import torch

        from emoscope.augment.spectrogram import mixup

        if self.specaugment and x.ndim == 3:
            c = self.config
            masked = self._spec(x, lengths, generator=generator)
            pick = torch.rand(x.shape[0], generator=generator) < c.specaugment_prob
            x = torch.where(pick.to(x.device)[:, None, None], masked, x)
        if self.config.mixup_alpha > 0:
            seed = int(torch.randint(0, 2**62, (1,), generator=generator))
            x, y_onehot = mixup(x, y_onehot, alpha=self.config.mixup_alpha,
                                rng=np.random.default_rng(seed))
        return x, y_onehot
