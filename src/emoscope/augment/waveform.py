"""Waveform augmentation: noise at a set SNR, gain, time shift, speed and pitch perturbation.

Every function is pure: it takes a mono floating-point waveform ``y`` of shape ``(n,)``, never
modifies it, and returns a new float32 array. Random choices come from an explicit
:class:`numpy.random.Generator` passed as ``rng``, so the same generator state gives the same
output (see :mod:`emoscope.augment.pipeline` for how to seed one per epoch and item).

Bad waveforms or sample rates raise :class:`~emoscope.errors.AudioError`; bad options raise
:class:`~emoscope.errors.ConfigError`.

Measured costs on a 3 s clip at 16 kHz (median of repeated calls, one process, 2-core machine):

- :func:`speed_perturb`: ~1.1 ms (one soxr HQ resample);
- :func:`pitch_shift`: ~22 ms warm (librosa phase-vocoder time stretch + soxr resample), about
  20 times the cost of speed perturbation; the first call in a process costs 4-5 s more
  (importing ``librosa.effects``, which pulls in ``scipy.signal`` and scikit-learn, ~3 s, and
  numba compiling librosa's kernels, ~2 s), so warm it up before forking data-loader workers;
- :func:`add_noise`, :func:`gain`, :func:`time_shift`: ~1 ms or less.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from emoscope.audio._checks import (
    check_choice,
    check_number,
    check_sample_rate,
    check_waveform,
    db_to_amplitude,
)
from emoscope.audio.dsp import resample
from emoscope.audio.loudness import DEFAULT_MAX_PEAK
from emoscope.augment._checks import check_rng
from emoscope.errors import AudioError

__all__ = [
    "MAX_SEMITONES",
    "SPEED_RANGE",
    "add_noise",
    "gain",
    "pitch_shift",
    "speed_perturb",
    "time_shift",
]

#: Accepted speed factors ``(low, high]``: beyond them it is no longer speech augmentation.
SPEED_RANGE = (0.25, 4.0)
#: Largest pitch shift accepted, in semitones (either direction).
MAX_SEMITONES = 24.0
_MIN_FFT = 16



def _check_max_peak(max_peak: Any) -> float | None:
    if max_peak is None:
        return None
    return check_number("max_peak", max_peak, low=0.0, low_inclusive=False)


def add_noise(
    y: np.ndarray,
    *,
    snr_db: float,
    rng: np.random.Generator,
    noise: np.ndarray | None = None,
    max_peak: float | None = DEFAULT_MAX_PEAK,
) -> np.ndarray:
    """Add noise at an exact signal-to-noise ratio.

    The noise is white Gaussian noise, or the clip ``noise`` read from a random offset and
    looped (or cropped) to the length of ``y``. It is scaled so that, over the whole clip,
    ``10 * log10(mean(y**2) / mean(noise**2)) == snr_db``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
    snr_db : float
        Target SNR in dB (any finite value; lower is noisier).
    rng : np.random.Generator
        Draws the white noise, or the offset into ``noise``.
    noise : np.ndarray [shape=(m,)], optional
        A noise recording at the sample rate of ``y`` (resample it first); any length.
    max_peak : float or None
        Clipping protection: if the noisy mixture's peak exceeds this, the *whole mixture* is
        scaled down to it, which keeps the SNR exact (the level drops instead). ``None`` never
        rescales (samples may then exceed 1).

    Returns
    -------
    np.ndarray [shape=(n,)], float32
        A copy of ``y`` unchanged when ``y`` is silent (all zeros): there is no level to set
        the noise against.

    Raises
    ------
    AudioError
        Bad ``y`` or ``noise``, or a silent ``noise`` clip.
    ConfigError
        Non-finite ``snr_db``, bad ``max_peak`` or ``rng``.
    """
    y = check_waveform(y)
    snr = check_number("snr_db", snr_db)
    peak_limit = _check_max_peak(max_peak)
    check_rng(rng)
    x = y.astype(np.float64)
    p_signal = float(np.mean(np.square(x)))
    if p_signal == 0.0:
        return y.astype(np.float32, copy=True)
    n = x.shape[0]
    if noise is None:
        nz = rng.standard_normal(n)
    else:
        clip = check_waveform(noise, name="noise").astype(np.float64)
        start = int(rng.integers(0, clip.shape[0]))
        nz = np.take(clip, np.arange(start, start + n), mode="wrap")
    p_noise = float(np.mean(np.square(nz)))
    if p_noise == 0.0:
        raise AudioError("the noise clip is silent where it was read; no SNR can be set")
    nz *= np.sqrt(p_signal / (p_noise * 10.0 ** (snr / 10.0)))
    out = x + nz
    if peak_limit is not None:
        peak = float(np.max(np.abs(out)))
        if peak > peak_limit:
            out *= peak_limit / peak
    return out.astype(np.float32)


def gain(y: np.ndarray, *, db: float, max_peak: float | None = DEFAULT_MAX_PEAK) -> np.ndarray:
    """Multiply by ``10 ** (db / 20)``, with clipping protection.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
    db : float
        Gain in dB (positive is louder).
    max_peak : float or None
        Clipping protection: the gain is lowered, if needed, so that the output's sample peak
        stays at or below ``max_peak`` (so a loud clip may come out less loud than asked,
        never distorted; a clip already above ``max_peak`` is brought down to it even for
        ``db=0``). ``None``: the exact gain, whatever the peak.

    Returns
    -------
    np.ndarray [shape=(n,)], float32

    Raises
    ------
    AudioError
        Bad ``y``.
    ConfigError
        Non-finite ``db`` or bad ``max_peak``.
    """
    y = check_waveform(y)
    g = db_to_amplitude(check_number("db", db))
    peak_limit = _check_max_peak(max_peak)
    x = y.astype(np.float64)
    if peak_limit is not None:
        peak = float(np.max(np.abs(x)))
        if peak * g > peak_limit:
            g = peak_limit / peak
    out = (x * g).astype(np.float32)
    if peak_limit is not None:  # float32 rounding can land one ulp above the ceiling
        np.clip(out, -peak_limit, peak_limit, out=out)
    return out


def time_shift(
    y: np.ndarray,
    *,
    max_shift_s: float,
    sr: int,
    rng: np.random.Generator,
    mode: Literal["roll", "pad"] = "roll",
) -> np.ndarray:
    """Shift in time by a random whole number of samples, keeping the length.

    The shift is drawn uniformly from ``[-k, k]`` samples with
    ``k = min(round(max_shift_s * sr), n - 1)``; positive shifts delay the signal.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
    max_shift_s : float
        Largest shift in seconds, ``>= 0``.
    sr : int
        Sample rate of ``y`` in Hz.
    rng : np.random.Generator
    mode : {"roll", "pad"}
        ``"roll"``: circular (what leaves one end re-enters at the other; energy is kept).
        ``"pad"``: what leaves is dropped and the gap is filled with zeros.

    Returns
    -------
    np.ndarray [shape=(n,)], float32

    Raises
    ------
    AudioError
        Bad ``y`` or ``sr``.
    ConfigError
        Negative ``max_shift_s``, unknown ``mode``, bad ``rng``.
    """
    y = check_waveform(y)
    sr = check_sample_rate(sr)
    max_s = check_number("max_shift_s", max_shift_s, low=0.0)
    check_choice("mode", mode, ("roll", "pad"))
    check_rng(rng)
    n = y.shape[0]
    k = min(round(max_s * sr), n - 1)
    shift = int(rng.integers(-k, k + 1))
    x = y.astype(np.float32)
    if mode == "roll":
        return np.roll(x, shift)
    out = np.zeros_like(x)
    if shift >= 0:
        out[shift:] = x[: n - shift]
    else:
        out[:shift] = x[-shift:]
    return out


def speed_perturb(y: np.ndarray, *, sr: int, factor: float) -> np.ndarray:
    """Speed perturbation (Kaldi's 0.9/1.0/1.1): play ``factor`` times faster.

    As sox's ``speed`` effect: the waveform is resampled as if it had been recorded at
    ``sr * factor`` Hz, so duration *and* pitch change together (length ``≈ n / factor``,
    every frequency times ``factor``). One soxr resample (~1 ms for 3 s at 16 kHz).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
    sr : int
        Sample rate of ``y`` (and of the output) in Hz.
    factor : float
        Speed factor in ``(0.25, 4]``; ``> 1`` is faster and higher, ``1`` returns a copy.

    Returns
    -------
    np.ndarray [shape=(≈ n / factor,)], float32

    Raises
    ------
    AudioError
        Bad ``y`` or ``sr``.
    ConfigError
        ``factor`` out of range.
    """
    y = check_waveform(y)
    sr = check_sample_rate(sr)
    f = check_number("factor", factor, low=SPEED_RANGE[0], high=SPEED_RANGE[1],
                     low_inclusive=False)
    x = y.astype(np.float32)  # a copy
    virtual_sr = round(sr * f)  # rounding moves the factor by at most 0.5 / sr
    if virtual_sr == sr:
        return x
    return np.asarray(resample(x, virtual_sr, sr), dtype=np.float32)


def pitch_shift(y: np.ndarray, *, sr: int, semitones: float) -> np.ndarray:
    """Shift the pitch by ``semitones`` and keep the duration.

    :func:`librosa.effects.pitch_shift`: a phase-vocoder time stretch by
    ``2 ** (semitones / 12)`` followed by a soxr (HQ) resample back to the original length.
    About 22 ms for 3 s at 16 kHz, ~20 times :func:`speed_perturb`, plus 4-5 s once per
    process for the first call (imports and numba compilation; see the module docstring).
    The STFT is 2048 points, halved until it fits shorter clips (clips under 16 samples are
    zero-padded). Phase-vocoder artefacts ("phasiness") grow with the shift; a few semitones
    are typical for augmentation.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
    sr : int
        Sample rate in Hz.
    semitones : float
        Shift in ``[-24, 24]`` semitones (``+12`` = an octave up); ``0`` returns a copy.

    Returns
    -------
    np.ndarray [shape=(n,)], float32

    Raises
    ------
    AudioError
        Bad ``y`` or ``sr``.
    ConfigError
        ``semitones`` out of range.
    """
    y = check_waveform(y)
    sr = check_sample_rate(sr)
    steps = check_number("semitones", semitones, low=-MAX_SEMITONES, high=MAX_SEMITONES)
    x = y.astype(np.float32)  # a copy
    if steps == 0.0:
        return x
    import librosa.effects  # slow import (~3 s); only pitch shifting needs it

    n = x.shape[0]
    n_fft = 2048
    while n_fft > _MIN_FFT and n_fft > n:
        n_fft //= 2
    padded = np.pad(x, (0, max(0, n_fft - n)))  # clips shorter than the smallest FFT
    out = librosa.effects.pitch_shift(padded, sr=sr, n_steps=steps, n_fft=n_fft,
                                      res_type="soxr_hq")
    return np.asarray(out[:n], dtype=np.float32)
