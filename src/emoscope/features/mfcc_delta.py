"""MFCC frames with deltas and delta-deltas: the classic sequence input of HMM/RNN models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emoscope.errors import ConfigError, TooShortAudioError
from emoscope.features.base import FeatureConfig, FeatureExtractor, register_feature

NORMALIZE_CHOICES = ("none", "mean", "utterance")


@dataclass(frozen=True)
class MFCCDeltaConfig(FeatureConfig):
    """Options of :class:`MFCCDelta`.

    Attributes
    ----------
    n_mfcc : int
        Static coefficients per frame (13: the classic 39-dimensional vector with deltas).
    n_mels : int
        Mel bands under the DCT; at least ``n_mfcc``.
    n_fft, hop_length : int
        Frame size and hop in samples (25 ms / 10 ms at 16 kHz by default).
    fmin, fmax : float
        Mel filterbank range in Hz (``fmax=None``: Nyquist).
    deltas : int
        0 (static only), 1 (+ deltas) or 2 (+ deltas and delta-deltas).
    delta_width : int
        Odd regression window in frames (5: +-2 frames, as HTK and Kaldi).
    normalize : str
        Per-utterance CMVN of every output column, applied after the deltas: ``"none"``,
        ``"mean"`` (CMN) or ``"utterance"`` (mean and variance).
    """

    n_mfcc: int = 13
    n_mels: int = 40
    n_fft: int = 400
    hop_length: int = 160
    fmin: float = 0.0
    fmax: float | None = None
    deltas: int = 2
    delta_width: int = 5
    normalize: str = "none"


@register_feature("mfcc-delta", aliases=("mfcc-deltas",))
class MFCCDelta(FeatureExtractor):
    """MFCCs (as :func:`emoscope.features.functional.mfcc`) with regression deltas.

    Output: ``(n_frames, (deltas + 1) * n_mfcc)``, columns ``[mfcc, delta, delta-delta]``,
    ``n_frames = 1 + n // hop_length`` (frames are centred). Inputs shorter than one
    ``n_fft`` window raise :class:`AudioError`.
    """

    Config = MFCCDeltaConfig
    kind = "sequence"
    config: MFCCDeltaConfig

    def validate_config(self) -> None:
        c = self.config
        if not 1 <= c.n_mfcc <= c.n_mels:
            raise ConfigError(f"n_mfcc must be in [1, n_mels={c.n_mels}], got {c.n_mfcc}")
        from emoscope.features.functional import check_mel_options

        check_mel_options(sample_rate=c.sample_rate, n_fft=c.n_fft, hop_length=c.hop_length,
                          n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax)
        if isinstance(c.deltas, bool) or c.deltas not in (0, 1, 2):
            raise ConfigError(f"deltas must be 0, 1 or 2, got {c.deltas!r}")
        if c.delta_width < 3 or c.delta_width % 2 == 0:
            raise ConfigError(f"delta_width must be odd and >= 3, got {c.delta_width}")
        if c.normalize not in NORMALIZE_CHOICES:
            raise ConfigError(f"normalize must be one of {', '.join(NORMALIZE_CHOICES)}, got "
                              f"{c.normalize!r}")

    def extract(self, y: np.ndarray) -> np.ndarray:
        from emoscope.features.functional import cmvn, mfcc, stack_deltas

        c = self.config
        if y.shape[-1] < c.n_fft:
            raise TooShortAudioError(f"{self.name}: {y.shape[-1]} samples at {c.sample_rate} Hz is "
                             f"shorter than one {c.n_fft}-sample window")
        m = mfcc(y, c.sample_rate, n_mfcc=c.n_mfcc, n_mels=c.n_mels, n_fft=c.n_fft,
                 hop_length=c.hop_length, fmin=c.fmin, fmax=c.fmax)  # (frames, n_mfcc)
        out = stack_deltas(m, order=c.deltas, width=c.delta_width)  # (frames, (deltas+1)*n_mfcc)
        if c.normalize != "none":
            out = cmvn(out, variance=c.normalize == "utterance")
        return out

    def feature_names(self) -> list[str]:
        """Column names: ``mfcc0 .. mfccN``, then ``d_mfcc*`` and ``dd_mfcc*``."""
        prefixes = ["", "d_", "dd_"][: self.config.deltas + 1]
        return [f"{p}mfcc{i}" for p in prefixes for i in range(self.config.n_mfcc)]
