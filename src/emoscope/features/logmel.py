"""Log-mel spectrogram frames: the usual input of CNN/RNN/transformer emotion models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emoscope.errors import ConfigError, TooShortAudioError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature

NORMALIZE_CHOICES = ("none", "mean", "utterance")


@dataclass(frozen=True)
class LogMelConfig(FeatureConfig):
    """Options of :class:`LogMel`.

    Attributes
    ----------
    n_mels : int
        Mel bands (Slaney mel scale and filter normalisation, as librosa).
    n_fft, hop_length : int
        FFT size and hop in samples (25 ms / 10 ms at 16 kHz by default).
    win_length : int or None
        Hann window length in samples (``None``: ``n_fft``); at most ``n_fft``.
    fmin, fmax : float
        Filterbank range in Hz (``fmax=None``: Nyquist).
    floor : float
        Power floor before the natural log (``1e-10``: about -23.0).
    normalize : str
        ``"none"``; ``"mean"``: zero mean per band over the utterance; ``"utterance"``: zero
        mean and unit variance per band (constant bands are only centred).
    """

    n_mels: int = 64
    n_fft: int = 400
    hop_length: int = 160
    win_length: int | None = None
    fmin: float = 0.0
    fmax: float | None = None
    floor: float = 1e-10
    normalize: str = "none"


@register_feature("logmel", aliases=("log-mel",))
class LogMel(FeatureExtractor):
    """Natural-log mel power spectrogram, ``log(max(mel, floor))``, time-major.

    Output: ``(n_frames, n_mels)`` with ``n_frames = 1 + n // hop_length`` for ``n`` samples
    at ``sample_rate`` (frames are centred). Inputs shorter than one window (``win_length`` or
    ``n_fft`` samples) raise :class:`AudioError`.
    """

    Config = LogMelConfig
    kind = "sequence"
    config: LogMelConfig

    def validate_config(self) -> None:
        c = self.config
        from emoscope.features.functional import check_mel_options

        check_mel_options(sample_rate=c.sample_rate, n_fft=c.n_fft, hop_length=c.hop_length,
                          n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax, win_length=c.win_length)
        if not c.floor > 0:
            raise ConfigError(f"floor must be positive, got {c.floor}")
        if c.normalize not in NORMALIZE_CHOICES:
            raise ConfigError(f"normalize must be one of {', '.join(NORMALIZE_CHOICES)}, got "
                              f"{c.normalize!r}")

    def extract(self, y: np.ndarray) -> np.ndarray:
        from emoscope.features.functional import cmvn, log_mel

        c = self.config
        window = c.n_fft if c.win_length is None else c.win_length
        if y.shape[-1] < window:
            raise TooShortAudioError(f"{self.name}: {y.shape[-1]} samples at {c.sample_rate} Hz is "
                             f"shorter than one {window}-sample window")
        s = log_mel(y, c.sample_rate, n_mels=c.n_mels, n_fft=c.n_fft, hop_length=c.hop_length,
                    win_length=c.win_length, fmin=c.fmin, fmax=c.fmax,
                    floor=c.floor)  # (frames, n_mels)
        if c.normalize != "none":
            s = cmvn(s, variance=c.normalize == "utterance")
        return s
