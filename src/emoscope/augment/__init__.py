"""Data augmentation: waveforms, feature sequences, spectrogram images and batches.

- :mod:`~emoscope.augment.waveform`: pure functions on mono waveforms (noise at an SNR, gain,
  time shift, speed and pitch perturbation);
- :mod:`~emoscope.augment.spectrogram`: SpecAugment (numpy, and a torch module for batches),
  mixup, and the IEMOCAP study's image crop and rotation;
- :mod:`~emoscope.augment.config` and :mod:`~emoscope.augment.pipeline`: :class:`AugmentConfig`
  (everything off by default) and the augmenters that apply it item by item, reproducibly.

>>> from emoscope.augment import AugmentConfig, WaveformAugmenter
>>> aug = WaveformAugmenter(AugmentConfig(noise_prob=0.5, snr_db=(10, 30)), seed=0)
>>> y2 = aug(y, sr, rng=aug.rng_for(epoch, index))          # doctest: +SKIP

The names of :mod:`~emoscope.augment.spectrogram` are loaded on first use, as it imports torch
(~2 s): reading an ``augment`` config section does not need it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from emoscope.augment.config import AugmentConfig
from emoscope.augment.pipeline import (
    BatchAugmenter,
    FeatureAugmenter,
    ImageAugmenter,
    WaveformAugmenter,
    item_rng,
)
from emoscope.augment.waveform import add_noise, gain, pitch_shift, speed_perturb, time_shift

if TYPE_CHECKING:
    from emoscope.augment.spectrogram import (
        SpecAugment,
        mixup,
        random_crop,
        random_rotate,
        spec_augment,
    )

__all__ = [
    "AugmentConfig",
    "BatchAugmenter",
    "FeatureAugmenter",
    "ImageAugmenter",
    "SpecAugment",
    "WaveformAugmenter",
    "add_noise",
    "gain",
    "item_rng",
    "mixup",
    "pitch_shift",
    "random_crop",
    "random_rotate",
    "spec_augment",
    "speed_perturb",
    "time_shift",
]

_LAZY = {"SpecAugment", "mixup", "random_crop", "random_rotate", "spec_augment"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module("emoscope.augment.spectrogram"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
