"""Spectrogram images: the IEMOCAP study's CNN input (an STFT on a fixed dB scale, as a picture).

The magnitude spectrogram is taken in dB against a fixed reference (0 dB = a full-scale sine,
see :func:`emoscope.features.functional.stft_db`), clipped to ``[db_min, db_max]`` and mapped to
``[0, 1]``. Because the range is fixed and not the loudest pixel of each image, a quieter
recording gives a darker image. The frequency axis can be cropped at ``max_freq`` (the study
dropped the top of the spectrogram), then the picture is resized to ``height x width`` with
antialiased bilinear interpolation, low frequencies on the bottom row, replicated to three
channels and optionally normalised with the ImageNet statistics for pretrained CNNs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emoscope.errors import ConfigError, TooShortAudioError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature

#: Per-channel (RGB) mean and standard deviation of ImageNet, as torchvision's pretrained models.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class SpectrogramImageConfig(FeatureConfig):
    """Options of :class:`SpectrogramImage`.

    Attributes
    ----------
    n_fft, hop_length : int
        FFT size and hop in samples (32 ms / 10 ms at 16 kHz by default).
    win_length : int or None
        Hann window length (``None``: ``n_fft``); at most ``n_fft``.
    mel : bool
        Use ``n_mels`` mel bands (unit-peak triangles, 0 Hz to ``max_freq``) instead of the
        linear FFT bins.
    n_mels : int
        Mel bands when ``mel``.
    max_freq : float or None
        Keep only frequencies up to this many Hz (``None``: up to Nyquist).
    db_min, db_max : float
        The fixed dB range mapped to ``[0, 1]`` (0 dB = a full-scale sine); values outside
        are clipped.
    height, width : int
        Output image size in pixels.
    channels : int
        1, or 3 (the grey image replicated, for RGB CNNs).
    imagenet_norm : bool
        Subtract the ImageNet mean and divide by its std per channel (needs 3 channels).
    """

    n_fft: int = 512
    hop_length: int = 160
    win_length: int | None = None
    mel: bool = False
    n_mels: int = 128
    max_freq: float | None = None
    db_min: float = -80.0
    db_max: float = 0.0
    height: int = 224
    width: int = 224
    channels: int = 3
    imagenet_norm: bool = False


@register_feature("spectrogram-image", aliases=("spectrogram",))
class SpectrogramImage(FeatureExtractor):
    """A spectrogram as a fixed-size image.

    Output: ``(channels, height, width)``, values in ``[0, 1]`` (before ImageNet
    normalisation); row 0 is the highest frequency kept, row ``height - 1`` the lowest; the
    columns span the whole utterance, however long. Inputs shorter than one window raise
    :class:`AudioError`.
    """

    Config = SpectrogramImageConfig
    kind = "image"
    config: SpectrogramImageConfig

    def validate_config(self) -> None:
        c = self.config
        if c.n_fft < 2 or c.hop_length < 1:
            raise ConfigError(f"n_fft must be >= 2 and hop_length >= 1, got {c.n_fft}, "
                              f"{c.hop_length}")
        if c.win_length is not None and not 1 <= c.win_length <= c.n_fft:
            raise ConfigError(f"win_length must be in [1, n_fft={c.n_fft}], got {c.win_length}")
        if c.mel and c.n_mels < 1:
            raise ConfigError(f"n_mels must be >= 1, got {c.n_mels}")
        nyquist = c.sample_rate / 2
        if c.max_freq is not None and not c.sample_rate / c.n_fft <= c.max_freq <= nyquist:
            raise ConfigError(f"max_freq must be in [{c.sample_rate / c.n_fft:g}, {nyquist:g}] "
                              f"Hz (one FFT bin to Nyquist), got {c.max_freq}")
        if c.mel:
            from emoscope.features.functional import empty_mel_bands

            empty = empty_mel_bands(c.sample_rate, n_fft=c.n_fft, n_mels=c.n_mels,
                                    fmax=c.max_freq)
            if empty:
                raise ConfigError(f"{len(empty)} of the {c.n_mels} mel bands below "
                                  f"{c.max_freq or nyquist:g} Hz hold no FFT bin (first: band "
                                  f"{empty[0]}); use fewer n_mels or a larger n_fft")
        if not c.db_min < c.db_max:
            raise ConfigError(f"db_min must be below db_max, got {c.db_min} >= {c.db_max}")
        if c.height <= 0 or c.width <= 0:
            raise ConfigError(f"height and width must be positive, got {c.height}x{c.width}")
        if c.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {c.channels}")
        if c.imagenet_norm and c.channels != 3:
            raise ConfigError("imagenet_norm needs channels=3")

    def extract(self, y: np.ndarray) -> np.ndarray:
        from emoscope.features.functional import mel_db, resize_bilinear, stft_db

        c = self.config
        window = c.n_fft if c.win_length is None else c.win_length
        if y.shape[-1] < window:
            raise TooShortAudioError(f"{self.name}: {y.shape[-1]} samples at {c.sample_rate} Hz is "
                             f"shorter than one {window}-sample window")
        if c.mel:
            s = mel_db(y, c.sample_rate, n_mels=c.n_mels, n_fft=c.n_fft,
                       hop_length=c.hop_length, win_length=c.win_length,
                       fmax=c.max_freq)  # (frames, n_mels)
        else:
            s = stft_db(y, n_fft=c.n_fft, hop_length=c.hop_length,
                        win_length=c.win_length)  # (frames, n_fft // 2 + 1)
            if c.max_freq is not None:
                n_keep = int(np.floor(c.max_freq * c.n_fft / c.sample_rate + 1e-9)) + 1
                s = s[:, :n_keep]  # bins at or below max_freq
        grey = (np.clip(s, c.db_min, c.db_max) - c.db_min) / (c.db_max - c.db_min)
        grey = grey.T[::-1]  # (freq, frames), low frequencies at the bottom
        grey = resize_bilinear(grey, height=c.height, width=c.width)  # (height, width)
        img = np.repeat(grey[None], c.channels, axis=0)  # (channels, height, width)
        if c.imagenet_norm:
            mean = np.asarray(IMAGENET_MEAN, dtype=np.float32)[:, None, None]
            std = np.asarray(IMAGENET_STD, dtype=np.float32)[:, None, None]
            img = (img - mean) / std
        return img
