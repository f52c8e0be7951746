"""Level normalisation: ITU-R BS.1770 integrated loudness (LUFS), RMS level and sample peak.

Every function scales the waveform by one gain and never clips: the gain is limited so that the
sample peak stays at or below ``max_peak`` (``<= 1``), so a very peaky clip may come out quieter
than asked rather than distorted. Silent input is returned unchanged (amplifying silence only
amplifies noise); see each function for what counts as silent.

Outputs are float32 copies with the input's shape; inputs are never modified in place.
"""

from __future__ import annotations

import warnings

import numpy as np

from emoscope.audio._checks import (
    check_number,
    check_sample_rate,
    check_waveform,
    db_to_amplitude,
)
from emoscope.errors import AudioError, SilentAudioError

__all__ = [
    "ABSOLUTE_GATE_LUFS",
    "BLOCK_SECONDS",
    "DEFAULT_MAX_PEAK",
    "SILENCE_DBFS",
    "check_not_silent",
    "integrated_loudness",
    "normalize_loudness",
    "normalize_peak",
    "normalize_rms",
]

#: Default ceiling for the sample peak after any gain (a little headroom below full scale).
DEFAULT_MAX_PEAK = 0.99
#: Length of one BS.1770 gating block, in seconds; shorter clips have no integrated loudness.
BLOCK_SECONDS = 0.4
#: BS.1770 absolute gate: blocks quieter than this are ignored; wholly quieter clips are "silent".
ABSOLUTE_GATE_LUFS = -70.0
#: Clips whose RMS level stays below this (dB relative to full scale) count as silent.
SILENCE_DBFS = -70.0

_MAX_LOUDNESS_CHANNELS = 5  # pyloudnorm's limit (L, R, C, Ls, Rs)


def _rms_dbfs(y: np.ndarray) -> float:
    ms = float(np.mean(np.square(y, dtype=np.float64)))
    return -np.inf if ms == 0.0 else 10.0 * np.log10(ms)


def _apply_gain(y: np.ndarray, gain: float, max_peak: float) -> np.ndarray:
    """Scale by ``gain``, lowered if needed so that the peak stays <= ``max_peak``; float32."""
    peak = float(np.max(np.abs(y)))
    if peak > 0.0:
        gain = min(gain, max_peak / peak)
    out = (y.astype(np.float64) * gain).astype(np.float32)
    # float32 rounding can push a sample one ulp above the ceiling
    return np.clip(out, -max_peak, max_peak, out=out)


def integrated_loudness(y: np.ndarray, sr: int) -> float:
    """Integrated, gated loudness per ITU-R BS.1770-4 (pyloudnorm), in LUFS.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
        At most 5 channels, in the order L, R, C, Ls, Rs.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    float
        Loudness in LUFS; ``-inf`` when every 400 ms block is below the -70 LUFS absolute gate.

    Raises
    ------
    AudioError
        Bad waveform or sample rate, more than 5 channels, or shorter than one 400 ms block.
    """
    import pyloudnorm

    y = check_waveform(y, multichannel=True)
    sr = check_sample_rate(sr)
    if y.ndim == 2 and y.shape[0] > _MAX_LOUDNESS_CHANNELS:
        raise AudioError(f"loudness is defined for at most 5 channels, got {y.shape[0]}")
    n = y.shape[-1]
    if n < BLOCK_SECONDS * sr:
        raise AudioError(
            f"{n / sr:.3f} s is shorter than one {BLOCK_SECONDS:g} s BS.1770 loudness block"
        )
    data = y.astype(np.float64)
    data = data if data.ndim == 1 else np.ascontiguousarray(data.T)  # pyloudnorm: (n, channels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(pyloudnorm.Meter(sr).integrated_loudness(data))


def normalize_loudness(
    y: np.ndarray,
    sr: int,
    *,
    target_lufs: float = -23.0,
    max_peak: float = DEFAULT_MAX_PEAK,
) -> np.ndarray:
    """Scale a waveform to a target integrated loudness (ITU-R BS.1770 / EBU R128).

    Clips shorter than one 400 ms BS.1770 block have no integrated loudness; they are scaled to
    an RMS level of ``target_lufs`` dBFS instead (the two agree for a 1 kHz tone, where the
    K-weighting is flat, and stay within a few dB for speech).

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
        At most 5 channels; all channels get the same gain.
    sr : int
        Sample rate in Hz.
    target_lufs : float
        Target loudness in LUFS (EBU R128 broadcast: -23; podcasts: about -16).
    max_peak : float
        Ceiling for the output's sample peak, in ``(0, 1]``. When reaching the target would
        exceed it, the gain is lowered and the output is quieter than ``target_lufs``.

    Returns
    -------
    np.ndarray [shape=y.shape], float32
        The scaled copy. Silent input (below the -70 LUFS absolute gate, or -70 dBFS RMS for
        short clips) is returned unchanged, as float32.

    Raises
    ------
    AudioError
        Empty, non-finite, wrongly shaped or non-float waveform; bad sample rate; > 5 channels.
    ConfigError
        ``target_lufs`` not finite, or ``max_peak`` outside ``(0, 1]``.
    """
    y = check_waveform(y, multichannel=True)
    sr = check_sample_rate(sr)
    target = check_number("target_lufs", target_lufs)
    max_peak = check_number("max_peak", max_peak, low=0.0, high=1.0, low_inclusive=False)
    if y.ndim == 2 and y.shape[0] > _MAX_LOUDNESS_CHANNELS:
        raise AudioError(f"loudness is defined for at most 5 channels, got {y.shape[0]}")
    short = y.shape[-1] < BLOCK_SECONDS * sr
    level = _rms_dbfs(y) if short else integrated_loudness(y, sr)
    if not level > ABSOLUTE_GATE_LUFS:
        return y.astype(np.float32)
    return _apply_gain(y, db_to_amplitude(target - level), max_peak)


def normalize_peak(y: np.ndarray, *, peak: float = 0.95) -> np.ndarray:
    """Scale a waveform so that its largest absolute sample equals ``peak``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
    peak : float
        Target sample peak, in ``(0, 1]``.

    Returns
    -------
    np.ndarray [shape=y.shape], float32
        The scaled copy; an all-zero input is returned unchanged.

    Raises
    ------
    AudioError
        Empty, non-finite, wrongly shaped or non-float waveform.
    ConfigError
        ``peak`` outside ``(0, 1]``.
    """
    y = check_waveform(y, multichannel=True)
    peak = check_number("peak", peak, low=0.0, high=1.0, low_inclusive=False)
    current = float(np.max(np.abs(y)))
    if current == 0.0:
        return y.astype(np.float32)
    return _apply_gain(y, peak / current, peak)


def normalize_rms(
    y: np.ndarray,
    *,
    target_dbfs: float = -20.0,
    max_peak: float = DEFAULT_MAX_PEAK,
) -> np.ndarray:
    """Scale a waveform to a target RMS level in dBFS (0 dBFS = RMS of a full-scale square wave).

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
        The RMS is taken over all samples of all channels; all channels get the same gain.
    target_dbfs : float
        Target RMS level, ``<= 0``. A full-scale sine is at -3.01 dBFS.
    max_peak : float
        Ceiling for the output's sample peak, in ``(0, 1]``; the gain is lowered (and the output
        is quieter than ``target_dbfs``) when reaching the target would exceed it.

    Returns
    -------
    np.ndarray [shape=y.shape], float32
        The scaled copy; an all-zero input is returned unchanged.

    Raises
    ------
    AudioError
        Empty, non-finite, wrongly shaped or non-float waveform.
    ConfigError
        ``target_dbfs`` above 0 or not finite, or ``max_peak`` outside ``(0, 1]``.
    """
    y = check_waveform(y, multichannel=True)
    target = check_number("target_dbfs", target_dbfs, high=0.0)
    max_peak = check_number("max_peak", max_peak, low=0.0, high=1.0, low_inclusive=False)
    level = _rms_dbfs(y)
    if level == -np.inf:
        return y.astype(np.float32)
    return _apply_gain(y, db_to_amplitude(target - level), max_peak)


def check_not_silent(y: np.ndarray, *, threshold_dbfs: float = SILENCE_DBFS) -> None:
    """Raise :class:`SilentAudioError` when ``y`` holds no signal worth analysing.

    Parameters
    ----------
    y : np.ndarray [shape=(n,) or (channels, n)], floating point
    threshold_dbfs : float
        RMS level (dB relative to a full-scale sine's peak of 1.0) below which a clip is silent.
    """
    x = np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return  # emptiness is the extractor's error to raise
    rms = float(np.sqrt(np.mean(np.square(x))))
    level = -np.inf if rms == 0.0 else 20.0 * np.log10(rms)
    if level < threshold_dbfs:
        shown = "digital silence" if rms == 0.0 else f"level {level:.0f} dBFS"
        raise SilentAudioError(f"no signal to analyse ({shown}, below {threshold_dbfs:.0f} "
                               "dBFS)")
