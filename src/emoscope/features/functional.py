"""Pure feature functions (``waveform -> array``) with keyword-only options.

Time-major outputs: ``(n_frames, n_features)``. Inputs are mono float32 waveforms.
"""

from __future__ import annotations

import numpy as np

__all__ = ["log_mel", "mel_power", "mfcc"]


def mel_power(y: np.ndarray, sr: int, *, n_mels: int = 64, n_fft: int = 400,
              hop_length: int = 160, win_length: int | None = None, fmin: float = 0.0,
              fmax: float | None = None, center: bool = True) -> np.ndarray:
    """Mel power spectrogram (Slaney mel scale, Hann window).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int

    Returns
    -------
    np.ndarray [shape=(n_frames, n_mels)], float32, non-negative
    """
    import librosa

    s = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
        n_mels=n_mels, fmin=fmin, fmax=fmax, center=center, power=2.0,
    )
    return np.ascontiguousarray(s.T, dtype=np.float32)


def log_mel(y: np.ndarray, sr: int, *, n_mels: int = 64, n_fft: int = 400,
            hop_length: int = 160, win_length: int | None = None, fmin: float = 0.0,
            fmax: float | None = None, floor: float = 1e-10) -> np.ndarray:
    """Natural-log mel power spectrogram, ``log(max(mel, floor))``.

    Returns
    -------
    np.ndarray [shape=(n_frames, n_mels)], float32
    """
    s = mel_power(y, sr, n_mels=n_mels, n_fft=n_fft, hop_length=hop_length,
                  win_length=win_length, fmin=fmin, fmax=fmax)
    return np.log(np.maximum(s, floor)).astype(np.float32)


def mfcc(y: np.ndarray, sr: int, *, n_mfcc: int = 40, n_mels: int = 128, n_fft: int = 400,
         hop_length: int = 160, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """MFCCs (DCT-II, orthonormal, of the dB mel spectrogram), as librosa computes them.

    Returns
    -------
    np.ndarray [shape=(n_frames, n_mfcc)], float32
    """
    import librosa

    s = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_mels=n_mels, n_fft=n_fft,
                             hop_length=hop_length, fmin=fmin, fmax=fmax)
    return np.ascontiguousarray(s.T, dtype=np.float32)
