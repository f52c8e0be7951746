"""Voice-activity detection: Silero VAD's frame probabilities, run with onnxruntime.

The Silero VAD model (MIT licence, https://github.com/snakers4/silero-vad) ships inside the
``silero-vad`` package as ``silero_vad/data/silero_vad.onnx``. It is run here directly with
onnxruntime and numpy; neither torch nor silero-vad's Python code is imported.

The model reads 16 kHz audio in frames of 512 samples (32 ms). Each call takes one frame with the
last 64 samples of the previous frame prepended (input ``[batch, 576]`` float32), a recurrent
state ``[2, batch, 128]`` float32 and the rate ``sr`` (int64 scalar), and returns the frame's
speech probability ``[batch, 1]`` and the new state. Other rates are resampled to 16 kHz first
(soxr; Silero's own code instead decimates multiples of 16 kHz and runs 8 kHz natively).

Segments of speech and silence trimming from these probabilities (or from loudness) are in
:mod:`emoscope.audio.speech`.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from emoscope.audio._checks import (
    check_sample_rate,
    check_waveform,
)
from emoscope.audio.dsp import StreamResampler, resample
from emoscope.errors import AudioError, ConfigError

__all__ = ["FRAME_SAMPLES", "SAMPLE_RATE", "SileroVAD", "VADStream", "default_model",
           "default_model_path"]

_SR = 16000  # the model's rate
_FRAME = 512  # samples per frame at 16 kHz (32 ms)
_CONTEXT = 64  # samples of the previous frame prepended to each frame
_STATE = 128  # size of the recurrent state
#: The rate Silero VAD runs at, and the samples of one of its frames (32 ms).
SAMPLE_RATE, FRAME_SAMPLES = _SR, _FRAME
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
    from emoscope.errors import BundleError
    from emoscope.ort import onnx_session

    try:
        return onnx_session(path, intra_op_threads=1)
    except BundleError as exc:
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
def default_model() -> SileroVAD:
    """One shared :class:`SileroVAD` of the packaged model (its session is built once)."""
    return SileroVAD()
