"""Voice-activity detection: Silero VAD run with onnxruntime, and an energy fallback.

The Silero VAD model (MIT licence, https://github.com/snakers4/silero-vad) ships inside the
``silero-vad`` package as ``silero_vad/data/silero_vad.onnx``. It is run here directly with
onnxruntime and numpy; neither torch nor silero-vad's Python code is imported.

The model reads 16 kHz audio in frames of 512 samples (32 ms). Each call takes one frame with the
last 64 samples of the previous frame prepended (input ``[batch, 576]`` float32), a recurrent
state ``[2, batch, 128]`` float32 and the rate ``sr`` (int64 scalar), and returns the frame's
speech probability ``[batch, 1]`` and the new state. Other rates are resampled to 16 kHz first
(soxr; Silero's own code instead decimates multiples of 16 kHz and runs 8 kHz natively).

:func:`speech_segments` turns frame probabilities into segments with Silero's hysteresis: speech
starts when a frame reaches ``threshold`` and ends after ``min_silence`` seconds below
``neg_threshold``; short segments are dropped and the rest padded (as Silero's
``get_speech_timestamps`` does without a maximum segment length).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from emoscope.audio._checks import (
    check_choice,
    check_number,
    check_sample_rate,
    check_waveform,
)
from emoscope.audio.dsp import StreamResampler, resample
from emoscope.errors import AudioError, ConfigError

__all__ = [
    "SileroVAD",
    "VADStream",
    "default_model_path",
    "energy_segments",
    "speech_segments",
    "trim_silence",
]

_SR = 16000  # the model's rate
_FRAME = 512  # samples per frame at 16 kHz (32 ms)
_CONTEXT = 64  # samples of the previous frame prepended to each frame
_STATE = 128  # size of the recurrent state
_MODEL_FILE = ("silero_vad", "data", "silero_vad.onnx")


def default_model_path() -> Path:
    """Where the installed ``silero-vad`` package keeps ``silero_vad.onnx``.

    The package is located without importing it (its ``__init__`` imports torch).

    Raises
    ------
    ConfigError
        ``silero-vad`` is not installed or its model file is missing.
    """
    spec = importlib.util.find_spec(_MODEL_FILE[0])
    candidates: list[Path] = []
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p).joinpath(*_MODEL_FILE[1:]) for p in spec.submodule_search_locations]
    try:
        dist = importlib.metadata.distribution("silero-vad")
        candidates.append(Path(str(dist.locate_file("/".join(_MODEL_FILE)))))
    except importlib.metadata.PackageNotFoundError:
        pass
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError(
        "the Silero VAD model was not found: install the silero-vad package "
        "(it ships silero_vad/data/silero_vad.onnx) or pass model_path="
    )


@functools.lru_cache(maxsize=4)
def _session(path: str) -> Any:
    """One onnxruntime session per model file, shared by every SileroVAD (run() is thread-safe)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own, unexported exception types
        raise ConfigError(f"{path}: cannot load the VAD model ({exc})") from None


class SileroVAD:
    """Silero VAD speech probabilities, one per 32 ms frame of 16 kHz audio.

    The onnxruntime session (one intra-op thread) is created on first use and shared by every
    instance using the same model file. An instance holds no audio state, so one can serve many
    threads and streams; streaming state lives in the :class:`VADStream` objects it makes.

    Parameters
    ----------
    model_path : str or PathLike, optional
        An ONNX export of Silero VAD v5 or later with the interface above; the model shipped in
        the installed ``silero-vad`` package by default (found on first use).

    Attributes
    ----------
    sample_rate : int
        16000: the rate the model runs at.
    frame_length : int
        512: samples per frame at ``sample_rate``.
    frame_seconds : float
        0.032: the hop between probabilities, in seconds.
    """

    sample_rate: int = _SR
    frame_length: int = _FRAME
    frame_seconds: float = _FRAME / _SR

    def __init__(self, model_path: str | os.PathLike[str] | None = None) -> None:
        if model_path is not None and not Path(model_path).is_file():
            raise ConfigError(f"{model_path}: no such VAD model file")
        self.model_path = Path(model_path) if model_path is not None else None
        self._sr_input = np.array(_SR, dtype=np.int64)

    def __repr__(self) -> str:
        return f"SileroVAD(model_path={self.model_path and str(self.model_path)!r})"

    @property
    def session(self) -> Any:
        """The onnxruntime ``InferenceSession`` (created on first access, then cached)."""
        if self.model_path is None:
            self.model_path = default_model_path()
        return _session(str(self.model_path))

    def initial_state(self) -> np.ndarray:
        """A zero recurrent state. Returns np.ndarray [shape=(2, 1, 128)], float32."""
        return np.zeros((2, 1, _STATE), dtype=np.float32)

    def run_frames(
        self,
        frames: np.ndarray,
        state: np.ndarray,
        context: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the model over consecutive frames, carrying the recurrent state.

        Parameters
        ----------
        frames : np.ndarray [shape=(n_frames, 512)], float32
            Consecutive 16 kHz frames.
        state : np.ndarray [shape=(2, 1, 128)], float32
            Recurrent state before the first frame (:meth:`initial_state` at the start).
        context : np.ndarray [shape=(64,)], float32
            The last 64 samples before the first frame (zeros at the start).

        Returns
        -------
        probs : np.ndarray [shape=(n_frames,)], float32
        state : np.ndarray [shape=(2, 1, 128)], float32
            The state after the last frame.
        context : np.ndarray [shape=(64,)], float32
            The last 64 samples of the last frame.
        """
        n_frames = frames.shape[0]
        probs = np.empty(n_frames, dtype=np.float32)
        if n_frames == 0:
            return probs, state, context
        inputs = np.empty((n_frames, _CONTEXT + _FRAME), dtype=np.float32)  # [n_frames, 576]
        inputs[:, _CONTEXT:] = frames
        inputs[0, :_CONTEXT] = context
        inputs[1:, :_CONTEXT] = frames[:-1, -_CONTEXT:]
        session = self.session
        for i in range(n_frames):
            out, state = session.run(
                None, {"input": inputs[i : i + 1], "state": state, "sr": self._sr_input}
            )
            probs[i] = out[0, 0]
        return probs, state, inputs[-1, -_CONTEXT:].copy()

    def frame_probabilities(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Speech probability of every 32 ms frame of a waveform.

        Parameters
        ----------
        y : np.ndarray [shape=(n,)], floating point
            A mono waveform; resampled to 16 kHz when ``sr`` differs.
        sr : int
            Sample rate of ``y`` in Hz.

        Returns
        -------
        np.ndarray [shape=(n_frames,)], float32
            Probability that frame ``i`` (16 kHz samples ``512*i`` to ``512*(i+1)``, i.e. seconds
            ``0.032*i`` onwards) holds speech; ``n_frames = ceil(n16 / 512)`` where ``n16`` is
            the length at 16 kHz. The last frame is zero-padded.

        Raises
        ------
        AudioError
            Empty, non-finite, non-mono or non-float waveform; bad sample rate.
        """
        y = check_waveform(y)
        sr = check_sample_rate(sr)
        x = resample(y.astype(np.float32), sr, _SR) if sr != _SR else y
        n = x.shape[0]
        n_frames = -(-n // _FRAME)
        frames = np.zeros((n_frames, _FRAME), dtype=np.float32)
        frames.reshape(-1)[:n] = x
        probs, _, _ = self.run_frames(
            frames, self.initial_state(), np.zeros(_CONTEXT, dtype=np.float32)
        )
        return probs

    def stream(self, sr: int = _SR) -> VADStream:
        """Start a stream that takes chunks of any size at ``sr`` Hz; see :class:`VADStream`."""
        return VADStream(self, sr)


class VADStream:
    """Streaming speech probabilities: feed chunks of any size, get one value per finished frame.

    The concatenated outputs equal :meth:`SileroVAD.frame_probabilities` of the concatenated
    input (exactly at 16 kHz; up to resampler rounding at other rates).

    Parameters
    ----------
    vad : SileroVAD
    sr : int
        Sample rate of the chunks in Hz.

    Attributes
    ----------
    frames : int
        Probabilities returned so far; frame ``i`` starts at ``i * vad.frame_seconds`` seconds.
    """

    def __init__(self, vad: SileroVAD, sr: int = _SR) -> None:
        self.vad = vad
        self.sr = check_sample_rate(sr)
        self.reset()

    def reset(self) -> None:
        """Forget all audio and state: the next chunk starts a new stream."""
        self._resampler = StreamResampler(self.sr, _SR) if self.sr != _SR else None
        self._state = self.vad.initial_state()
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._buffer = np.zeros(0, dtype=np.float32)
        self.frames = 0

    def __call__(self, chunk: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Feed one chunk; return the probabilities of the frames it completed.

        Parameters
        ----------
        chunk : np.ndarray [shape=(m,)], floating point
            The next ``m >= 0`` samples at ``sr``.
        last : bool
            End of the stream: the remaining samples are zero-padded to a last frame, then the
            stream resets itself for the next utterance.

        Returns
        -------
        np.ndarray [shape=(k,)], float32
            ``k >= 0`` probabilities, continuing the previous calls' frames.

        Raises
        ------
        AudioError
            Non-finite, non-mono or non-float chunk.
        """
        chunk = np.asarray(chunk)
        if chunk.size:
            chunk = check_waveform(chunk, name="chunk")
        elif chunk.ndim != 1:
            raise AudioError(f"chunk must have shape (m,), got {chunk.shape}")
        x = chunk.astype(np.float32)
        if self._resampler is not None:
            x = self._resampler(x, last=last)
        buf = np.concatenate([self._buffer, x]) if self._buffer.size else x
        n_full = buf.shape[0] // _FRAME
        frames = buf[: n_full * _FRAME].reshape(n_full, _FRAME)
        rest = buf[n_full * _FRAME :]
        if last and rest.size:
            tail = np.zeros((1, _FRAME), dtype=np.float32)
            tail[0, : rest.size] = rest
            frames = np.concatenate([frames, tail])
            rest = rest[:0]
        probs, self._state, self._context = self.vad.run_frames(
            frames, self._state, self._context
        )
        self._buffer = rest.copy()
        self.frames += probs.shape[0]
        if last:
            self.reset()
        return probs


@functools.lru_cache(maxsize=1)
def _default_vad() -> SileroVAD:
    return SileroVAD()


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
    probs = (vad or _default_vad()).frame_probabilities(y, sr)
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
