"""Cut waveforms into fixed-length segments, padding or cropping to an exact length.

Many emotion models take fixed-length input (e.g. 3 s windows); clips shorter than a window are
padded. The padding can be digital silence, repeated signal, or low-level white noise: the IEMOCAP
studies padded short clips with noise so that a model cannot learn "zeros follow the speech".

Noise levels (``noise_db``) are **absolute**: the noise's RMS in dBFS (its standard deviation is
``10 ** (noise_db / 20)``), so -60 dBFS gives a noise floor of about 0.001. For a level relative
to the clip, pass ``noise_db = 20 * log10(rms(y)) + offset`` yourself.

Randomness (noise, random positions) comes from ``numpy.random.default_rng(seed)``: the same seed
gives the same output.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from emoscope.audio._checks import (
    check_choice,
    check_number,
    check_sample_rate,
    check_waveform,
    db_to_amplitude,
    make_rng,
)
from emoscope.errors import ConfigError

__all__ = ["PAD_MODES", "fixed_segments", "pad_or_crop"]

#: How :func:`fixed_segments` fills the end of a segment that runs past the signal.
PAD_MODES = ("zero", "noise", "none", "repeat")
_POSITIONS = ("end", "center", "random")

PadMode = Literal["zero", "noise", "none", "repeat"]


def _noise(n: int, noise_db: float, rng: np.random.Generator) -> np.ndarray:
    return (db_to_amplitude(noise_db) * rng.standard_normal(n)).astype(np.float32)


def fixed_segments(
    y: np.ndarray,
    sr: int,
    *,
    seconds: float = 3.0,
    hop: float | None = None,
    pad: PadMode = "zero",
    noise_db: float = -60.0,
    min_fraction: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Cut a waveform into segments of exactly ``seconds``, starting every ``hop`` seconds.

    Segments start at ``0, hop, 2*hop, ...`` for as long as they fit; if the signal does not end
    on a segment boundary, one more segment covers its end and is padded (a *partial* segment).
    A clip shorter than one segment gives one padded segment.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
        A mono waveform.
    sr : int
        Sample rate in Hz.
    seconds : float
        Segment length; a segment has ``round(seconds * sr)`` samples.
    hop : float, optional
        Distance between segment starts in seconds; ``None`` means ``seconds`` (no overlap).
        A hop larger than ``seconds`` skips the audio between segments.
    pad : {"zero", "noise", "none", "repeat"}
        How a partial segment is filled: digital silence; white noise at ``noise_db``; not at
        all (partial segments are dropped, so a clip shorter than a segment gives none); or by
        repeating the segment's own samples from its start.
    noise_db : float
        RMS level of the padding noise in dBFS (absolute, see the module notes).
    min_fraction : float
        Drop a trailing partial segment holding less than this fraction of a segment of signal,
        in ``[0, 1]``. The first segment is never dropped (except with ``pad="none"``), so every
        clip gives at least one segment.
    seed : int or np.random.Generator, optional
        Seed of the padding noise.

    Returns
    -------
    np.ndarray [shape=(n_segments, round(seconds * sr))], float32
        With ``hop <= seconds``, ``n_segments`` is ``1 + ceil((n - L) / H)`` for ``n > L``
        (``L``, ``H``: segment and hop lengths in samples) and 1 otherwise, less the partial
        segment when it is dropped.

    Raises
    ------
    AudioError
        Empty, non-finite, non-mono or non-float waveform; bad sample rate.
    ConfigError
        Non-positive ``seconds`` or ``hop``, segments shorter than one sample, an unknown
        ``pad``, or ``min_fraction`` outside ``[0, 1]``.
    """
    y = check_waveform(y)
    sr = check_sample_rate(sr)
    seconds = check_number("seconds", seconds, low=0.0, low_inclusive=False)
    hop = seconds if hop is None else check_number("hop", hop, low=0.0, low_inclusive=False)
    pad = check_choice("pad", pad, PAD_MODES)
    noise_db = check_number("noise_db", noise_db)
    min_fraction = check_number("min_fraction", min_fraction, low=0.0, high=1.0)
    length, step = round(seconds * sr), round(hop * sr)
    if length < 1 or step < 1:
        raise ConfigError(
            f"seconds={seconds:g} and hop={hop:g} must each span at least one sample at {sr} Hz"
        )
    rng = make_rng(seed)

    n = y.shape[0]
    starts = list(range(0, max(n - length, 0) + 1, step))
    if n < length:
        starts = [0]  # one partial segment
    elif starts[-1] + length < n:
        tail = starts[-1] + step
        if tail < n and (n - tail) / length >= min_fraction:
            starts.append(tail)
    if pad == "none":
        starts = [s for s in starts if s + length <= n]

    out = np.empty((len(starts), length), dtype=np.float32)
    for i, s in enumerate(starts):
        piece = y[s : s + length]
        k = piece.shape[0]
        out[i, :k] = piece
        if k == length:
            continue
        if pad == "zero":
            out[i, k:] = 0.0
        elif pad == "noise":
            out[i, k:] = _noise(length - k, noise_db, rng)
        else:  # repeat
            out[i] = np.resize(piece, length)
    return out


def pad_or_crop(
    y: np.ndarray,
    length: int,
    *,
    pad: Literal["zero", "noise"] = "zero",
    position: Literal["end", "center", "random"] = "end",
    noise_db: float = -60.0,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Bring a waveform to exactly ``length`` samples by padding or cropping.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)], floating point
        A mono waveform.
    length : int
        Output length in samples, ``>= 1``.
    pad : {"zero", "noise"}
        Fill with digital silence or with white noise at ``noise_db`` dBFS RMS.
    position : {"end", "center", "random"}
        Where padding goes, or what is cut: ``"end"`` pads / crops at the end (the signal keeps
        its start), ``"center"`` splits the padding evenly / keeps the middle, ``"random"`` places
        the signal (or the kept window) at a random offset drawn from ``seed``.
    noise_db : float
        RMS level of the padding noise in dBFS (absolute, see the module notes).
    seed : int or np.random.Generator, optional
        Seed of the noise and of the random position.

    Returns
    -------
    np.ndarray [shape=(length,)], float32

    Raises
    ------
    AudioError
        Empty, non-finite, non-mono or non-float waveform.
    ConfigError
        A non-positive or non-integer ``length``, an unknown ``pad`` or ``position``.
    """
    y = check_waveform(y)
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        raise ConfigError(f"length must be a positive integer number of samples, got {length!r}")
    length = int(length)
    pad = check_choice("pad", pad, ("zero", "noise"))
    position = check_choice("position", position, _POSITIONS)
    noise_db = check_number("noise_db", noise_db)
    rng = make_rng(seed)

    n = y.shape[0]
    extra = abs(n - length)
    if position == "end":
        offset = 0
    elif position == "center":
        offset = extra // 2
    else:
        offset = int(rng.integers(0, extra + 1))

    if n >= length:
        return y[offset : offset + length].astype(np.float32)
    out = np.zeros(length, dtype=np.float32) if pad == "zero" else _noise(length, noise_db, rng)
    out[offset : offset + n] = y
    return out
