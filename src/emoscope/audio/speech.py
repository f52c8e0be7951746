"""Where speech is: segments from Silero VAD's probabilities or from loudness, and silence trim.

:func:`speech_segments` turns frame probabilities into segments with Silero's hysteresis: speech
starts when a frame reaches ``threshold`` and ends after ``min_silence`` seconds below
``neg_threshold``; short segments are dropped and the rest padded (as Silero's
``get_speech_timestamps`` does without a maximum segment length). :func:`energy_segments` is
the fallback for clean audio (no model), and :func:`trim_silence` cuts leading and trailing
silence with either.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from emoscope.audio._checks import (
    check_choice,
    check_number,
    check_sample_rate,
    check_waveform,
)
from emoscope.audio.vad import FRAME_SAMPLES as _FRAME
from emoscope.audio.vad import SAMPLE_RATE as _SR
from emoscope.audio.vad import SileroVAD, default_model
from emoscope.errors import ConfigError

__all__ = ["energy_segments", "speech_segments", "trim_silence"]


def _hysteresis(
    probs: np.ndarray,
    *,
    hop: int,
    n_samples: int,
    rate: int,
    threshold: float,
    neg_threshold: float,
    min_speech: float,
    min_silence: float,
    pad: float,
) -> list[tuple[int, int]]:
    """Silero's segmentation of frame probabilities, in samples (frame ``i`` starts at ``i * hop``).

    Returns (start, end) sample pairs, padded, within ``[0, n_samples]``.
    """
    min_speech_n = rate * min_speech
    min_silence_n = rate * min_silence
    pad_n = rate * pad
    segments: list[list[int]] = []
    start: int | None = None  # start of the current speech segment
    temp_end: int | None = None  # where the current silence run began
    for i, p in enumerate(probs):
        cur = hop * i
        if p >= threshold and temp_end is not None:
            temp_end = None
        if p >= threshold and start is None:
            start = cur
            continue
        if start is not None and p < neg_threshold:
            if temp_end is None:
                temp_end = cur
            if cur - temp_end < min_silence_n:
                continue
            if temp_end - start > min_speech_n:
                segments.append([start, temp_end])
            start = temp_end = None
    if start is not None and n_samples - start > min_speech_n:
        segments.append([start, n_samples])

    for i, seg in enumerate(segments):
        if i == 0:
            seg[0] = int(max(0, seg[0] - pad_n))
        if i < len(segments) - 1:
            gap = segments[i + 1][0] - seg[1]
            if gap < 2 * pad_n:
                seg[1] += int(gap // 2)
                segments[i + 1][0] = int(max(0, segments[i + 1][0] - gap // 2))
            else:
                seg[1] = int(min(n_samples, seg[1] + pad_n))
                segments[i + 1][0] = int(max(0, segments[i + 1][0] - pad_n))
        else:
            seg[1] = int(min(n_samples, seg[1] + pad_n))
    return [(s, e) for s, e in segments]


def _check_timing(min_speech: float, min_silence: float, pad: float) -> tuple[float, float, float]:
    return (
        check_number("min_speech", min_speech, low=0.0),
        check_number("min_silence", min_silence, low=0.0),
        check_number("pad", pad, low=0.0),
    )


def speech_segments(
    y: np.ndarray,
    sr: int,
    *,
    threshold: float = 0.5,
    neg_threshold: float | None = None,
    min_speech: float = 0.25,
    min_silence: float = 0.1,
    pad: float = 0.03,
    vad: SileroVAD | None = None,
) -> list[tuple[float, float]]:
    """Find the speech in a waveform with Silero VAD.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
        A mono waveform.
    sr : int
        Sample rate in Hz.
    threshold : float
        A frame with speech probability ``>= threshold`` starts (or continues) speech; in
        ``(0, 1)``.
    neg_threshold : float, optional
        Inside speech, only frames below this count as silence; ``max(threshold - 0.15, 0.01)``
        (at most ``threshold``) by default (hysteresis).
    min_speech : float
        Segments shorter than this many seconds (before padding) are dropped.
    min_silence : float
        Speech ends only after this many seconds below ``neg_threshold``.
    pad : float
        Seconds added to each side of a segment (halving gaps shorter than ``2 * pad``).
    vad : SileroVAD, optional
        The model to use; a shared default instance when ``None``.

    Returns
    -------
    list of (start, end)
        Speech segments in seconds, in order, non-overlapping, within ``[0, n / sr]``; empty when
        no speech is found.

    Raises
    ------
    AudioError
        Empty, non-finite, non-mono or non-float waveform; bad sample rate.
    ConfigError
        Thresholds outside ``(0, 1)`` or ``neg_threshold > threshold``; negative durations.
    """
    y = check_waveform(y)
    sr = check_sample_rate(sr)
    threshold = check_number("threshold", threshold, low=0.0, high=1.0, low_inclusive=False,
                             high_inclusive=False)
    if neg_threshold is None:
        neg_threshold = min(max(threshold - 0.15, 0.01), threshold)
    neg_threshold = check_number("neg_threshold", neg_threshold, low=0.0, high=threshold,
                                 low_inclusive=False)
    min_speech, min_silence, pad = _check_timing(min_speech, min_silence, pad)
    probs = (vad or default_model()).frame_probabilities(y, sr)
    duration = y.shape[0] / sr
    n16 = y.shape[0] if sr == _SR else round(duration * _SR)
    segments = _hysteresis(probs, hop=_FRAME, n_samples=n16, rate=_SR, threshold=threshold,
                           neg_threshold=neg_threshold, min_speech=min_speech,
                           min_silence=min_silence, pad=pad)
    return [(s / _SR, min(e / _SR, duration)) for s, e in segments]


def energy_segments(
    y: np.ndarray,
    sr: int,
    *,
    top_db: float = 40.0,
    frame: float = 0.032,
    min_speech: float = 0.25,
    min_silence: float = 0.1,
    pad: float = 0.03,
) -> list[tuple[float, float]]:
    """Find the loud parts of a waveform: a model-free fallback for :func:`speech_segments`.

    Non-overlapping frames of ``frame`` seconds are active when their RMS is within ``top_db`` of
    the loudest frame's; the same hysteresis as :func:`speech_segments` (minimum speech and
    silence durations, padding) turns them into segments. It finds sound, not speech: steady
    noise is "active" throughout.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
        A mono waveform.
    sr : int
        Sample rate in Hz.
    top_db : float
        Frames more than this many dB below the loudest frame are inactive; ``> 0``.
    frame : float
        Frame length (and hop) in seconds.
    min_speech, min_silence, pad : float
        As in :func:`speech_segments`, in seconds.

    Returns
    -------
    list of (start, end)
        Segments in seconds; empty for an all-zero waveform.

    Raises
    ------
    AudioError
        Empty, non-finite, non-mono or non-float waveform; bad sample rate.
    ConfigError
        Non-positive ``top_db`` or ``frame``, a frame shorter than one sample, negative durations.
    """
    y = check_waveform(y)
    sr = check_sample_rate(sr)
    top_db = check_number("top_db", top_db, low=0.0, low_inclusive=False)
    frame = check_number("frame", frame, low=0.0, low_inclusive=False)
    min_speech, min_silence, pad = _check_timing(min_speech, min_silence, pad)
    hop = round(frame * sr)
    if hop < 1:
        raise ConfigError(f"frame={frame:g} s is shorter than one sample at {sr} Hz")
    n = y.shape[0]
    n_frames = -(-n // hop)
    frames = np.zeros((n_frames, hop), dtype=np.float64)
    frames.reshape(-1)[:n] = y
    power = np.mean(frames**2, axis=1)  # [n_frames]
    loudest = float(power.max())
    if loudest == 0.0:
        return []
    active = (power > 0) & (10 * np.log10(np.maximum(power, 1e-300) / loudest) > -top_db)
    segments = _hysteresis(active.astype(np.float32), hop=hop, n_samples=n, rate=sr,
                           threshold=0.5, neg_threshold=0.5, min_speech=min_speech,
                           min_silence=min_silence, pad=pad)
    return [(s / sr, e / sr) for s, e in segments]


def trim_silence(
    y: np.ndarray,
    sr: int,
    *,
    method: Literal["vad", "energy"] = "vad",
    top_db: float = 40.0,
    pad: float = 0.03,
    threshold: float = 0.5,
    vad: SileroVAD | None = None,
) -> np.ndarray:
    """Cut leading and trailing silence (the inner pauses stay).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
        A mono waveform.
    sr : int
        Sample rate in Hz.
    method : {"vad", "energy"}
        ``"vad"``: keep from the start of the first to the end of the last
        :func:`speech_segments` segment. ``"energy"``: :func:`librosa.effects.trim` (32 ms frames,
        8 ms hop), which keeps everything within ``top_db`` of the loudest frame.
    top_db : float
        Silence threshold below the loudest frame, in dB (``"energy"`` only).
    pad : float
        Seconds of margin kept on each side (within the signal).
    threshold : float
        Speech-probability threshold (``"vad"`` only).
    vad : SileroVAD, optional
        The model to use (``"vad"`` only).

    Returns
    -------
    np.ndarray [shape=(m,)], float32
        The trimmed copy, ``m <= n``. When nothing is found (no speech, or an all-zero
        signal), the input is returned unchanged: trimming never gives an empty waveform.

    Raises
    ------
    AudioError
        Empty, non-finite, non-mono or non-float waveform; bad sample rate.
    ConfigError
        An unknown ``method``, a non-positive ``top_db``, a negative ``pad``, a bad threshold.
    """
    y = check_waveform(y)
    sr = check_sample_rate(sr)
    method = check_choice("method", method, ("vad", "energy"))
    pad = check_number("pad", pad, low=0.0)
    top_db = check_number("top_db", top_db, low=0.0, low_inclusive=False)
    n = y.shape[0]
    if method == "vad":
        segments = speech_segments(y, sr, threshold=threshold, pad=pad, vad=vad)
        if not segments:
            return y.astype(np.float32)
        start = int(np.floor(segments[0][0] * sr))
        end = int(np.ceil(segments[-1][1] * sr))
    else:
        import librosa

        frame_length = max(1, round(0.032 * sr))
        hop_length = max(1, frame_length // 4)
        if not np.any(y):
            return y.astype(np.float32)
        _, (start, end) = librosa.effects.trim(
            y, top_db=top_db, frame_length=frame_length, hop_length=hop_length
        )
        margin = round(pad * sr)
        start, end = int(start) - margin, int(end) + margin
    start, end = max(0, start), min(n, end)
    if end <= start:
        return y.astype(np.float32)
    return y[start:end].astype(np.float32)
