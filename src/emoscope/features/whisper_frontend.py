"""Whisper's log-mel front end, without the padding to 30 s.

Numerically the front end of ``transformers``' ``WhisperFeatureExtractor`` (and of OpenAI's
``whisper.log_mel_spectrogram``): a 400-point STFT with a periodic Hann window every 160 samples
at 16 kHz, the power spectrum through Slaney-normalised mel filters (0-8 kHz), ``log10`` floored
at ``1e-10``, values below the clip's maximum minus 8 raised to it, then ``(x + 4) / 4``.

Where the reference pads every clip with zeros to 30 s first, this computes only the clip's own
``n // hop`` frames, exactly as the reference does for them: the first frame sees the clip
reflected (``center=True``), the last ones see the zeros that follow the clip. A 3 s clip costs a
tenth of a padded one, here and in the encoder.

>>> log_mel(y, n_mels=80).shape            # y: 3 s at 16 kHz           # doctest: +SKIP
(80, 300)
"""

from __future__ import annotations

import functools

import numpy as np

from emoscope.errors import AudioError

__all__ = ["HOP_LENGTH", "N_FFT", "SAMPLE_RATE", "log_mel", "mel_filters"]

#: Whisper's rate, STFT size and hop (10 ms frames).
SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160


@functools.lru_cache(maxsize=4)
def mel_filters(n_mels: int) -> np.ndarray:
    """Whisper's mel filter bank, ``(n_mels, 1 + N_FFT // 2)`` float64 (Slaney scale and
    normalisation, 0-8 kHz)."""
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=n_mels, fmin=0.0,
                               fmax=8000.0, htk=False, norm="slaney").astype(np.float64)


def log_mel(y: np.ndarray, *, n_mels: int = 80) -> np.ndarray:
    """Whisper's normalised log-mel spectrogram of a 16 kHz clip.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
        Mono audio at 16 kHz.
    n_mels : int
        80 (Whisper tiny to large-v2) or 128 (large-v3).

    Returns
    -------
    np.ndarray [shape=(n_mels, n // HOP_LENGTH)], float32

    Raises
    ------
    AudioError
        Not a mono float waveform, or shorter than one frame (160 samples).
    """
    x = np.asarray(y)
    if x.ndim != 1 or not np.issubdtype(x.dtype, np.floating):
        raise AudioError(f"expected a mono float waveform of shape (n,), got {x.dtype} {x.shape}")
    n_frames = x.shape[0] // HOP_LENGTH
    if n_frames < 1:
        raise AudioError(f"{x.shape[0]} samples is shorter than one Whisper frame "
                         f"({HOP_LENGTH} samples, 10 ms)")
    half = N_FFT // 2
    x = x.astype(np.float64)
    # what the reference's 30 s padding puts around the clip: its reflection before the start
    # (center=True), zeros after the end
    tail = np.concatenate([x, np.zeros(half + N_FFT)])
    padded = np.concatenate([tail[1:half + 1][::-1], tail])
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH][:n_frames]
    window = np.hanning(N_FFT + 1)[:-1]  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2  # (frames, 1 + N_FFT // 2)
    mel = mel_filters(n_mels) @ power.T  # (n_mels, frames)
    logm = np.log10(np.maximum(mel, 1e-10))
    logm = np.maximum(logm, logm.max() - 8.0)
    return ((logm + 4.0) / 4.0).astype(np.float32)
