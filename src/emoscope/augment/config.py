"""The augmentation config: what to apply, how often, and how strongly. Everything is off by
default.

Each augmentation has a probability (``*_prob``, the chance it is applied to one item, in
``[0, 1]``) and its parameters; ranges are ``(low, high)`` pairs drawn uniformly. The
``augment`` section of an experiment YAML maps onto it::

    augment:
      noise_prob: 0.5
      snr_db: [10, 30]
      speed_prob: 1.0            # Kaldi-style 0.9 / 1.0 / 1.1
      specaugment_prob: 1.0
      mixup_alpha: 0.2

Which augmenter uses which options:

- :class:`~emoscope.augment.pipeline.WaveformAugmenter`: speed, pitch, shift, gain and noise,
  in that order, on mono waveforms;
- :class:`~emoscope.augment.pipeline.FeatureAugmenter`: SpecAugment on ``(T, F)`` sequences;
- :class:`~emoscope.augment.pipeline.ImageAugmenter`: crop, then rotation, on ``(C, H, W)``
  images;
- :class:`~emoscope.augment.pipeline.BatchAugmenter`: SpecAugment on padded ``(B, T, F)``
  batches (instead of the item-level one) and mixup (``mixup_alpha > 0``), in the training
  loop.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from emoscope.audio._checks import check_number
from emoscope.augment._checks import check_count, check_range
from emoscope.augment.waveform import MAX_SEMITONES, SPEED_RANGE
from emoscope.errors import ConfigError
from emoscope.schema import options_from_dict

__all__ = ["AugmentConfig"]

_PROBS = ("noise_prob", "gain_prob", "shift_prob", "speed_prob", "pitch_prob",
          "specaugment_prob", "crop_prob", "rotate_prob")


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and parameters of every augmentation (all off by default).

    Attributes
    ----------
    noise_prob : float
        Chance of adding noise (:func:`~emoscope.augment.waveform.add_noise`).
    snr_db : (float, float)
        SNR range in dB; white noise unless the augmenter was given noise clips.
    gain_prob : float
    gain_db : (float, float)
        Gain range in dB (clipping-protected, see :func:`~emoscope.augment.waveform.gain`).
    shift_prob : float
    shift_s : float
        Largest time shift in seconds.
    shift_mode : {"roll", "pad"}
    speed_prob : float
    speed_factors : tuple of float
        Speed factors chosen from uniformly (Kaldi: 0.9, 1.0, 1.1); changes duration and pitch.
    pitch_prob : float
    pitch_semitones : (float, float)
        Pitch-shift range in semitones (duration kept; ~20x the cost of speed perturbation).
    waveform_variants : int
        How many augmented copies of each training file the trainer makes when a waveform
        augmentation is on. Features are cached, so waveform augmentation happens once per
        copy (Kaldi-style offline perturbation): each copy is the file through
        :class:`~emoscope.augment.pipeline.WaveformAugmenter` with its own seed, extracted and
        cached like the original, and every epoch draws, per item, the original or one copy.
    specaugment_prob : float
        Chance of SpecAugment masking of a ``(T, F)`` feature sequence.
    freq_masks, freq_width, time_masks, time_width : int
        SpecAugment: masks per item and their largest widths (bins, frames).
    mask_value : float
        SpecAugment fill value (0 = the mean of standardised features).
    mixup_alpha : float
        Mixup Beta parameter for training batches; ``0`` = off.
    crop_prob : float
    crop_pixels : int
        Largest margin cropped from each border of an image before resizing back.
    rotate_prob : float
    rotate_degrees : float
        Largest image rotation, in degrees.
    """

    noise_prob: float = 0.0
    snr_db: tuple[float, float] = (5.0, 20.0)
    gain_prob: float = 0.0
    gain_db: tuple[float, float] = (-6.0, 6.0)
    shift_prob: float = 0.0
    shift_s: float = 0.5
    shift_mode: Literal["roll", "pad"] = "roll"
    speed_prob: float = 0.0
    speed_factors: tuple[float, ...] = (0.9, 1.0, 1.1)
    pitch_prob: float = 0.0
    pitch_semitones: tuple[float, float] = (-2.0, 2.0)
    waveform_variants: int = 4
    specaugment_prob: float = 0.0
    freq_masks: int = 2
    freq_width: int = 8
    time_masks: int = 2
    time_width: int = 20
    mask_value: float = 0.0
    mixup_alpha: float = 0.0
    crop_prob: float = 0.0
    crop_pixels: int = 10
    rotate_prob: float = 0.0
    rotate_degrees: float = 10.0

    def __post_init__(self) -> None:
        for name in _PROBS:
            check_number(name, getattr(self, name), low=0.0, high=1.0)
        for name in ("snr_db", "gain_db", "pitch_semitones", "speed_factors"):
            value = getattr(self, name)
            if isinstance(value, list):  # frozen: lists (from YAML) become tuples
                object.__setattr__(self, name, tuple(value))
        check_range("snr_db", self.snr_db)
        check_range("gain_db", self.gain_db)
        check_range("pitch_semitones", self.pitch_semitones, low=-MAX_SEMITONES,
                    high=MAX_SEMITONES)
        check_number("shift_s", self.shift_s, low=0.0)
        if self.shift_mode not in ("roll", "pad"):
            raise ConfigError(f"shift_mode must be 'roll' or 'pad', got {self.shift_mode!r}")
        if not isinstance(self.speed_factors, tuple) or not self.speed_factors:
            raise ConfigError(f"speed_factors must be a non-empty list of numbers, got "
                              f"{self.speed_factors!r}")
        for f in self.speed_factors:
            check_number("speed_factors", f, low=SPEED_RANGE[0], high=SPEED_RANGE[1],
                         low_inclusive=False)
        for name in ("freq_masks", "freq_width", "time_masks", "time_width", "crop_pixels"):
            check_count(name, getattr(self, name))
        check_count("waveform_variants", self.waveform_variants, low=1)
        check_number("mask_value", self.mask_value)
        check_number("mixup_alpha", self.mixup_alpha, low=0.0)
        check_number("rotate_degrees", self.rotate_degrees, low=0.0, high=180.0)

    @property
    def waveform_enabled(self) -> bool:
        """Whether any waveform augmentation can happen."""
        return any(getattr(self, f"{k}_prob") > 0
                   for k in ("noise", "gain", "shift", "speed", "pitch"))

    @property
    def feature_enabled(self) -> bool:
        """Whether SpecAugment can happen on feature sequences."""
        return self.specaugment_prob > 0 and (self.freq_masks > 0 or self.time_masks > 0)

    @property
    def image_enabled(self) -> bool:
        """Whether crops or rotations can happen on images."""
        return self.crop_prob > 0 or self.rotate_prob > 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (tuples become lists, YAML/JSON-ready)."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentConfig:
        """Build from a dict (an experiment's ``augment`` section).

        Raises
        ------
        ConfigError
            Not a mapping, unknown keys (all named), a value of the wrong type, or a value out
            of range (see :func:`emoscope.schema.options_from_dict`).
        """
        return options_from_dict(cls, data, numbers_from_strings=False)

    @classmethod
    def from_section(cls, data: Any, *, where: str = "augment") -> AugmentConfig:
        """The ``augment`` section of an experiment config (``None`` or ``{}``: all off)."""
        return cls() if data is None else cls.from_dict(data)

