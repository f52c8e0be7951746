"""Shared checks for waveforms, sample rates and options (private to :mod:`emoscope.audio`).

Bad waveforms and sample rates raise :class:`~emoscope.errors.AudioError` (as
:func:`emoscope.audio.dsp.resample` does); bad options raise :class:`~emoscope.errors.ConfigError`.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np

from emoscope.errors import AudioError, ConfigError, EmptyAudioError

__all__ = [
    "check_choice",
    "check_number",
    "check_sample_rate",
    "check_waveform",
    "db_to_amplitude",
    "make_rng",
]


def check_sample_rate(sr: Any) -> int:
    """Return ``sr`` as a positive ``int``; raise :class:`AudioError` otherwise."""
    if isinstance(sr, bool) or not isinstance(sr, int | float | np.integer | np.floating):
        raise AudioError(f"the sample rate must be a positive integer, got {sr!r}")
    if not math.isfinite(float(sr)) or not float(sr).is_integer() or sr <= 0:
        raise AudioError(f"the sample rate must be a positive integer, got {sr!r}")
    return int(sr)


def check_waveform(y: Any, *, multichannel: bool = False, name: str = "y") -> np.ndarray:
    """Check a waveform and return it as an array (not copied, dtype unchanged).

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or, when ``multichannel``, (channels, n)], floating point
    multichannel : bool
        Accept ``(channels, n)``. A 2-D array with more rows than columns is refused, as it is
        almost surely ``(n, channels)``.
    name : str
        How the waveform is called in error messages.

    Raises
    ------
    EmptyAudioError
        No samples.
    AudioError
        Not a floating-point array, a wrong number of dimensions, NaN or infinite samples.
    """
    if not isinstance(y, np.ndarray):
        try:
            y = np.asarray(y)
        except (TypeError, ValueError):
            raise AudioError(f"{name} is not an array of samples") from None
    if not np.issubdtype(y.dtype, np.floating):
        raise AudioError(
            f"{name} must hold floating-point samples in [-1, 1], got dtype {y.dtype}"
        )
    if multichannel and y.ndim == 2:
        if y.shape[0] > y.shape[1] and y.shape[1] > 0:
            raise AudioError(
                f"{name} must have shape (channels, n), got {y.shape}; "
                "is it (n, channels)? transpose it"
            )
    elif y.ndim != 1:
        wanted = "(n,) or (channels, n)" if multichannel else "(n,) (mono; mix down with to_mono)"
        raise AudioError(f"{name} must have shape {wanted}, got {y.shape}")
    if y.size == 0:
        raise EmptyAudioError(f"{name} is empty (0 samples)")
    if not np.isfinite(y).all():
        raise AudioError(f"{name} holds NaN or infinite samples")
    return y


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """``value`` as a finite float within the bounds; raise :class:`ConfigError` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (v < low if low_inclusive else v <= low)
    too_high = high is not None and (v > high if high_inclusive else v >= high)
    if too_low or too_high:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        interval = f"{'[' if low_inclusive else '('}{lo}, {hi}{']' if high_inclusive else ')'}"
        raise ConfigError(f"{name} must be in {interval}, got {value!r}")
    return v


def check_choice(name: str, value: Any, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise :class:`ConfigError` otherwise."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{name} must be one of {options}, got {value!r}")
    return value


def db_to_amplitude(db: float) -> float:
    """Decibels to a linear amplitude ratio: ``10 ** (db / 20)``."""
    return float(10.0 ** (db / 20.0))


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed, an existing Generator (used as is) or ``None`` (fresh)."""
    if seed is not None and not isinstance(seed, int | np.integer | np.random.Generator):
        raise ConfigError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed < 0:
        raise ConfigError(f"seed must be non-negative, got {seed!r}")
    return np.random.default_rng(seed)
