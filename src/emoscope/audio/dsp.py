"""Channel mixing and sample-rate conversion (soxr)."""

from __future__ import annotations

import numpy as np
import soxr

from emoscope.errors import AudioError

__all__ = ["MAX_CHANNELS", "StreamResampler", "resample", "to_mono"]

#: More channels than this means the array is probably (n, channels), not (channels, n).
MAX_CHANNELS = 64


def to_mono(y: np.ndarray) -> np.ndarray:
    """Mix a multi-channel waveform down to one channel by averaging.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)]

    Returns
    -------
    np.ndarray [shape=(n,)]
    """
    if y.ndim == 1:
        return y
    if y.ndim != 2 or y.shape[0] > MAX_CHANNELS:  # (n, channels) would average over time
        raise AudioError(f"expected a waveform of shape (n,) or (channels, n) with at most "
                         f"{MAX_CHANNELS} channels, got {y.shape}")
    return y.mean(axis=0, dtype=np.float64).astype(y.dtype, copy=False)


def resample(y: np.ndarray, orig_sr: int, target_sr: int, *, quality: str = "HQ") -> np.ndarray:
    """Resample with soxr.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)]
    orig_sr, target_sr : int
        Rates in Hz.
    quality : str
        soxr quality: ``"QQ"``, ``"LQ"``, ``"MQ"``, ``"HQ"`` or ``"VHQ"``.

    Returns
    -------
    np.ndarray [shape=(m,) or (channels, m)] with ``m ≈ n * target_sr / orig_sr``
    """
    if orig_sr <= 0 or target_sr <= 0:
        raise AudioError(f"sample rates must be positive, got {orig_sr} -> {target_sr}")
    if orig_sr == target_sr or y.shape[-1] == 0:
        return y
    if y.ndim == 1:
        return soxr.resample(y, orig_sr, target_sr, quality=quality)
    # soxr wants (n, channels)
    return np.ascontiguousarray(soxr.resample(y.T, orig_sr, target_sr, quality=quality).T)


class StreamResampler:
    """Resample a stream chunk by chunk; the concatenated output equals a one-shot resample.

    Parameters
    ----------
    orig_sr, target_sr : int
    channels : int
        Number of channels of every chunk.
    """

    def __init__(self, orig_sr: int, target_sr: int, *, channels: int = 1) -> None:
        if orig_sr <= 0 or target_sr <= 0 or channels <= 0:
            raise AudioError(f"sample rates and channels must be positive, got {orig_sr} -> "
                             f"{target_sr} Hz, {channels} channel(s)")
        self.orig_sr, self.target_sr, self.channels = orig_sr, target_sr, channels
        self._stream = (
            None
            if orig_sr == target_sr
            else soxr.ResampleStream(orig_sr, target_sr, channels, dtype="float32", quality="HQ")
        )

    def __call__(self, chunk: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Resample one chunk, shape ``(n,)`` for one channel or ``(channels, n)``."""
        if self._stream is None:
            return chunk
        x = chunk.astype(np.float32, copy=False)
        x = x if x.ndim == 1 else np.ascontiguousarray(x.T)
        out = self._stream.resample_chunk(x, last=last)
        return out if out.ndim == 1 else np.ascontiguousarray(out.T)
