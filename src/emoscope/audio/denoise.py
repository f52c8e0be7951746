"""Denoising: a zero-phase band-pass for the speech band, then spectral gating (noisereduce).

:func:`bandpass` removes hum, rumble and hiss outside the speech band with a Butterworth filter
run forwards and backwards (``scipy.signal.sosfiltfilt``: no phase shift, twice the order's
attenuation). :func:`spectral_gate` wraps ``noisereduce.reduce_noise`` (Sainburg et al., 2020):
it estimates a noise threshold per frequency (from the clip itself or a noise-only clip) and
mutes the time-frequency bins below it. :func:`denoise` does both.

All functions return float32 arrays of the input's shape and length.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from emoscope.audio._checks import check_number, check_sample_rate, check_waveform
from emoscope.errors import AudioError, ConfigError

__all__ = ["bandpass", "denoise", "spectral_gate"]

_NYQUIST_MARGIN = 0.95  # `high` is clamped to this fraction of the Nyquist frequency
_FREQ_SMOOTH_HZ = 500.0  # noisereduce's mask smoothing across frequency
_TIME_SMOOTH_MS = 50.0  # ... and across time


def bandpass(
    y: np.ndarray,
    sr: int,
    *,
    low: float | None = 80.0,
    high: float | None = 7600.0,
    order: int = 5,
) -> np.ndarray:
    """Zero-phase Butterworth band-pass (or high-/low-pass) filter.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
    sr : int
        Sample rate in Hz.
    low : float, optional
        Lower cut-off in Hz; ``None`` (or 0) for a low-pass only.
    high : float, optional
        Upper cut-off in Hz, clamped to 0.95 × Nyquist; ``None`` for a high-pass only.
    order : int
        Butterworth order of each edge; filtering forwards and backwards doubles the slope
        (about ``12 * order`` dB per octave outside the band) and halves the gain at the cut-offs
        (-6 dB).

    Returns
    -------
    np.ndarray [shape=y.shape], float32
        The filtered copy (an unfiltered copy when both ``low`` and ``high`` are ``None``).

    Raises
    ------
    AudioError
        Empty, non-finite, wrongly shaped or non-float waveform; bad sample rate.
    ConfigError
        Negative cut-offs, ``low >= high`` (after clamping ``high``), ``low`` at or above the
        Nyquist frequency, or ``order`` not a positive integer.
    """
    from scipy import signal

    y = check_waveform(y, multichannel=True)
    sr = check_sample_rate(sr)
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
        raise ConfigError(f"order must be a positive integer, got {order!r}")
    nyquist = sr / 2
    low = None if low is None else check_number("low", low, low=0.0)
    high = None if high is None else check_number("high", high, low=0.0, low_inclusive=False)
    if low == 0.0:
        low = None
    if high is not None:
        high = min(high, _NYQUIST_MARGIN * nyquist)
    if low is not None and low >= _NYQUIST_MARGIN * nyquist:
        raise ConfigError(f"low={low:g} Hz is too close to the Nyquist frequency ({nyquist:g} Hz)")
    if low is not None and high is not None and low >= high:
        raise ConfigError(f"low={low:g} Hz must be below high={high:g} Hz (after clamping)")
    if low is None and high is None:
        return y.astype(np.float32)

    if low is not None and high is not None:
        sos = signal.butter(order, [low, high], btype="bandpass", fs=sr, output="sos")
    elif low is not None:
        sos = signal.butter(order, low, btype="highpass", fs=sr, output="sos")
    else:
        sos = signal.butter(order, high, btype="lowpass", fs=sr, output="sos")
    # scipy's default edge padding, shortened for clips too short for it
    padlen = 3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
    padlen = min(padlen, y.shape[-1] - 1)
    out = signal.sosfiltfilt(sos, y.astype(np.float64), axis=-1, padlen=padlen)
    return out.astype(np.float32)


def _stft_size(sr: int, n: int) -> int:
    """A power-of-two FFT size near 64 ms, no longer than ``n`` samples."""
    n_fft = 2 ** math.ceil(math.log2(0.064 * sr))
    # noisereduce's mask smoothing needs bins no wider than 500 Hz and hops no longer than 50 ms
    smallest = 2 ** math.ceil(math.log2(2 * sr / _FREQ_SMOOTH_HZ))
    n_fft = min(n_fft, 2 ** math.floor(math.log2(n)))
    if n_fft < max(smallest, 4):
        raise AudioError(
            f"{n} samples are too few for spectral gating at {sr} Hz "
            f"(at least {max(smallest, 4)} are needed)"
        )
    return n_fft


def spectral_gate(
    y: np.ndarray,
    sr: int,
    *,
    stationary: bool = True,
    prop_decrease: float = 1.0,
    noise_clip: np.ndarray | None = None,
    n_std_thresh: float = 1.5,
) -> np.ndarray:
    """Reduce noise by spectral gating (``noisereduce.reduce_noise``, numpy back-end, one job).

    The STFT uses a power-of-two window of about 64 ms (1024 samples at 16 kHz) with a 75 %
    overlap, shortened for clips shorter than that.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
    sr : int
        Sample rate in Hz.
    stationary : bool
        ``True``: one noise threshold per frequency, from ``noise_clip`` or from ``y`` itself
        (mean + ``n_std_thresh`` standard deviations of the dB spectrum), for steady noise (hiss,
        hum, fans). ``False``: a threshold that follows a running (2 s) estimate of the noise
        floor, for changing noise.
    prop_decrease : float
        How much of the noise to remove, in ``[0, 1]`` (1 = mute gated bins completely).
    noise_clip : np.ndarray [shape=(m,) or (channels, m)], optional
        A recording of the noise alone, at ``sr`` (stationary gating only; channels are averaged).
    n_std_thresh : float
        Stationary threshold in standard deviations above the mean noise level (``> 0``).

    Returns
    -------
    np.ndarray [shape=y.shape], float32

    Raises
    ------
    AudioError
        Empty, non-finite, wrongly shaped or non-float waveform or noise clip; bad sample rate;
        a clip (or noise clip) too short for one STFT frame (``sr / 250`` samples, rounded up
        to a power of two: 64 at 16 kHz).
    ConfigError
        ``prop_decrease`` outside ``[0, 1]``, ``n_std_thresh <= 0``, or a ``noise_clip`` given
        with ``stationary=False``.
    """
    y = check_waveform(y, multichannel=True)
    sr = check_sample_rate(sr)
    prop_decrease = check_number("prop_decrease", prop_decrease, low=0.0, high=1.0)
    n_std_thresh = check_number("n_std_thresh", n_std_thresh, low=0.0, low_inclusive=False)
    if noise_clip is not None:
        if not stationary:
            raise ConfigError("noise_clip is only used by stationary gating (stationary=True)")
        noise_clip = check_waveform(noise_clip, multichannel=True, name="noise_clip")
    n_profile = y.shape[-1] if noise_clip is None else min(y.shape[-1], noise_clip.shape[-1])
    n_fft = _stft_size(sr, n_profile)

    import noisereduce

    x = y.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log of empty bins in silent input
        out = noisereduce.reduce_noise(
            x,
            sr,
            stationary=bool(stationary),
            y_noise=None if noise_clip is None else noise_clip.astype(np.float32),
            prop_decrease=prop_decrease,
            n_std_thresh_stationary=n_std_thresh,
            n_fft=n_fft,
            freq_mask_smooth_hz=_FREQ_SMOOTH_HZ,
            time_mask_smooth_ms=_TIME_SMOOTH_MS,
            use_tqdm=False,
            n_jobs=1,
            use_torch=False,
        )
    return np.asarray(out, dtype=np.float32).reshape(y.shape)


def denoise(
    y: np.ndarray,
    sr: int,
    *,
    low: float | None = 80.0,
    high: float | None = 7600.0,
    order: int = 5,
    stationary: bool = True,
    prop_decrease: float = 1.0,
    noise_clip: np.ndarray | None = None,
    n_std_thresh: float = 1.5,
) -> np.ndarray:
    """Band-pass to the speech band, then spectral gating.

    ``noise_clip``, when given, goes through the same band-pass so that its noise profile
    matches the filtered signal. See :func:`bandpass` and :func:`spectral_gate` for the
    parameters.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
    sr : int
        Sample rate in Hz.
    low, high : float, optional
        Band-pass cut-offs in Hz.
    order : int
        Butterworth order.
    stationary : bool
    prop_decrease : float
    noise_clip : np.ndarray [shape=(m,) or (channels, m)], optional
    n_std_thresh : float

    Returns
    -------
    np.ndarray [shape=y.shape], float32

    Raises
    ------
    AudioError
        As :func:`bandpass` and :func:`spectral_gate`.
    ConfigError
        As :func:`bandpass` and :func:`spectral_gate`.
    """
    if noise_clip is not None and not stationary:
        raise ConfigError("noise_clip is only used by stationary gating (stationary=True)")
    filtered = bandpass(y, sr, low=low, high=high, order=order)
    if noise_clip is not None:
        noise_clip = bandpass(noise_clip, sr, low=low, high=high, order=order)
    return spectral_gate(filtered, sr, stationary=stationary, prop_decrease=prop_decrease,
                         noise_clip=noise_clip, n_std_thresh=n_std_thresh)
