"""MFCC mean vector: the TESS study's feature (40 coefficients averaged over time)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emoscope.errors import ConfigError, TooShortAudioError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature


@dataclass(frozen=True)
class MFCCMeanConfig(FeatureConfig):
    """Options of :class:`MFCCMean`.

    Attributes
    ----------
    n_mfcc : int
        Coefficients per frame (the study used 40).
    n_mels : int
        Mel bands under the DCT.
    n_fft, hop_length : int
        Frame size and hop in samples (25 ms / 10 ms at 16 kHz by default).
    fmin, fmax : float
        Mel filterbank range in Hz (``fmax=None``: Nyquist).
    with_std : bool
        Append the per-coefficient standard deviation (``2 * n_mfcc`` values).
    """

    n_mfcc: int = 40
    n_mels: int = 128
    n_fft: int = 400
    hop_length: int = 160
    fmin: float = 0.0
    fmax: float | None = None
    with_std: bool = False


@register_feature("mfcc-mean", aliases=("mfcc",))
class MFCCMean(FeatureExtractor):
    """Mean (optionally and standard deviation) of MFCCs over time.

    Output: ``(n_mfcc,)``, or ``(2 * n_mfcc,)`` with ``with_std``.
    """

    Config = MFCCMeanConfig
    kind = "vector"
    config: MFCCMeanConfig

    def validate_config(self) -> None:
        from emoscope.features.functional import check_mel_options

        c = self.config
        if not 1 <= c.n_mfcc <= c.n_mels:
            raise ConfigError(f"n_mfcc must be in [1, n_mels={c.n_mels}], got {c.n_mfcc}")
        check_mel_options(sample_rate=c.sample_rate, n_fft=c.n_fft, hop_length=c.hop_length,
                          n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax)

    def extract(self, y: np.ndarray) -> np.ndarray:
        from emoscope.features.functional import mfcc

        if y.shape[-1] < self.config.n_fft:
            raise TooShortAudioError(f"{self.name}: {y.shape[-1]} samples at "
                                     f"{self.config.sample_rate} Hz is shorter than one "
                                     f"{self.config.n_fft}-sample window")
        m = mfcc(y, self.config.sample_rate, n_mfcc=self.config.n_mfcc,
                 n_mels=self.config.n_mels, n_fft=self.config.n_fft,
                 hop_length=self.config.hop_length, fmin=self.config.fmin,
                 fmax=self.config.fmax)  # (frames, n_mfcc)
        if self.config.with_std:
            return np.concatenate([m.mean(axis=0), m.std(axis=0)])
        return m.mean(axis=0)

    def feature_names(self) -> list[str]:
        names = [f"mfcc{i}_mean" for i in range(self.config.n_mfcc)]
        if self.config.with_std:
            names += [f"mfcc{i}_std" for i in range(self.config.n_mfcc)]
        return names
