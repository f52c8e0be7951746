"""Streaming emotion recognition: push audio chunks of any size, get labelled events.

:class:`StreamingPredictor` is the one engine behind live microphone input
(:mod:`emoscope.inference.live`) and long-recording timelines
(:mod:`emoscope.inference.timeline`). It works on a fixed grid of 32 ms frames (Silero VAD's
frame) in stream time, so its output depends only on the audio, never on how it was cut into
chunks: the same samples pushed 1 at a time or all at once give the same events.

How it works, per 32 ms frame:

1. Speech activity: Silero VAD's speech probability (``vad=True``), or the frame's RMS level
   above ``energy_db`` dBFS (``vad=False``; for clean recordings and synthetic signals).
2. Hysteresis (as :func:`emoscope.audio.speech.speech_segments`): an utterance starts at a frame
   with probability ``>= threshold`` and ends once ``min_silence`` seconds stay below
   ``threshold - 0.15``; the utterance ends where that silence began.
3. Inside an utterance, once ``min_speech`` seconds of it have passed, and then every ``hop``
   seconds (both rounded to whole frames: ``hop`` down, ``min_speech`` up), the last
   ``window`` seconds of the utterance (fewer at its start) are classified by the
   :class:`~emoscope.inference.predictor.Predictor`. Probabilities are smoothed by a **moving
   average** over the last ``smooth`` windows of the same utterance (reset at every new
   utterance) and reported as a speech :class:`Event`.
4. A pause of ``min_silence`` seconds (and the start of a stream that opens with one) gives one
   no-speech event labelled ``"silence"``, at most once per pause: utterances too short to be
   labelled do not interrupt a pause.

Latency, in stream time: the first label of an utterance comes ``ceil(min_speech / 0.032)``
frames after the first frame the detector calls speech (0.512 s for ``min_speech=0.5``), plus
the detector's own reaction time (a frame or two for Silero), then at least every
``floor(hop / 0.032)`` frames (0.48 s for ``hop=0.5``). An utterance's end is reported
``min_silence`` seconds after it. Live, add the time to classify one window (about 0.1 s for a
small CNN on a CPU) and the audio device's block.

Memory is bounded whatever the stream's length: a ring buffer of ``window + 2.5`` seconds at the
model's rate, less than one frame of pending samples, and ``smooth`` probability rows.

>>> sp = StreamingPredictor(Predictor.from_bundle(b))                       # doctest: +SKIP
>>> for chunk in chunks:                                                     # doctest: +SKIP
...     for event in sp.push(chunk, 44100):
...         print(event.time, event.label)
>>> events = sp.flush()                                                      # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from emoscope.audio.dsp import MAX_CHANNELS, StreamResampler, to_mono
from emoscope.audio.vad import SileroVAD, VADStream
from emoscope.errors import AudioError, ConfigError

if TYPE_CHECKING:
    from emoscope.inference.predictor import Predictor

__all__ = ["FRAME_SECONDS", "SILENCE_LABEL", "Event", "StreamingPredictor"]

#: The grid the engine decides on: Silero VAD's 32 ms frame.
FRAME_SECONDS = 0.032
#: The label of no-speech events.
SILENCE_LABEL = "silence"

_FRAME_MS = 32
_SLICE_FRAMES = 31  # frames handled per inner step (~1 s): bounds the ring buffer's slack
_RING_SLACK = 2.5  # seconds kept beyond the window: one slice, VAD resampler delay, margin


@dataclass(frozen=True)
class Event:
    """One output of the streaming engine.

    Attributes
    ----------
    time : float
        Stream time (seconds since the first sample) at which the event was decided.
    start, end : float
        Speech events: the span of audio classified (``end == time``). No-speech events: the
        pause so far, from the end of the last speech (0 at the stream's start) to ``time``.
    label : str
        The most probable label after smoothing, or ``"silence"``.
    probabilities : dict of str to float
        Smoothed per-label probabilities (summing to 1); empty for no-speech events.
    speech : bool
    """

    time: float
    start: float
    end: float
    label: str
    probabilities: dict[str, float]
    speech: bool

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "start": self.start, "end": self.end, "label": self.label,
                "probabilities": dict(self.probabilities), "speech": self.speech}


class _Ring:
    """The last ``capacity`` samples of a stream, addressed by absolute sample index."""

    def __init__(self, capacity: int) -> None:
        self.data = np.zeros(capacity, dtype=np.float32)
        self.total = 0  # samples written since the start

    def write(self, x: np.ndarray) -> None:
        """Append samples ``x`` (shape ``(m,)``); only the last ``capacity`` are kept."""
        cap = self.data.shape[0]
        keep = x[-cap:]
        pos = (self.total + x.shape[0] - keep.shape[0]) % cap
        first = min(cap - pos, keep.shape[0])
        self.data[pos:pos + first] = keep[:first]
        self.data[:keep.shape[0] - first] = keep[first:]
        self.total += x.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of the stream (a copy); they must still be held."""
        cap = self.data.shape[0]
        assert self.total - cap <= start <= stop <= self.total, "ring buffer too small"
        idx = np.arange(start, stop) % cap
        return self.data[idx]


class StreamingPredictor:
    """Emotion labels from an audio stream pushed in chunks of any size.

    Parameters
    ----------
    predictor : Predictor
    window : float
        Seconds of audio (at most; less early in an utterance) classified per event.
    hop : float
        Seconds between events while speech goes on (rounded down to whole 32 ms frames).
    min_speech : float
        Seconds of an utterance before its first label (rounded up to whole frames);
        shorter utterances are ignored. At most ``window``.
    min_silence : float
        Seconds below the speech threshold that end an utterance.
    smooth : int
        Moving average over this many of the utterance's latest windows (1: none).
    vad : bool
        Silero VAD (``True``) or an energy threshold (``False``) decides what is speech.
    threshold : float
        Speech-probability threshold in ``(0, 1)`` (Silero only).
    energy_db : float
        Frames louder than this RMS level (dBFS) are speech (``vad=False`` only).
    vad_model : SileroVAD, optional
        The VAD model (a shared default when ``None``).

    Attributes
    ----------
    labels : list of str
    sample_rate : int
        The model's rate; the stream is resampled to it.
    buffer_seconds : float
        Length of the ring buffer of recent audio.
    """

    def __init__(self, predictor: Predictor, *, window: float = 3.0, hop: float = 0.5,
                 min_speech: float = 0.5, min_silence: float = 0.5, smooth: int = 3,
                 vad: bool = True, threshold: float = 0.5, energy_db: float = -45.0,
                 vad_model: SileroVAD | None = None) -> None:
        for name, value in (("window", window), ("hop", hop)):
            if not (math.isfinite(value) and value >= FRAME_SECONDS):
                raise ConfigError(f"{name} must be at least {FRAME_SECONDS} s, got {value}")
        if not (0 <= min_speech <= window) or not (0 <= min_silence < math.inf):
            raise ConfigError(f"need 0 <= min_speech <= window and min_silence >= 0 (got "
                              f"min_speech={min_speech}, window={window}, "
                              f"min_silence={min_silence})")
        if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth < 1:
            raise ConfigError(f"smooth must be a whole number of windows >= 1, got {smooth!r}")
        if not 0 < threshold < 1:
            raise ConfigError(f"threshold must be in (0, 1), got {threshold}")
        self.predictor = predictor
        self.labels: list[str] = list(predictor.labels)
        self.sample_rate: int = int(predictor.sample_rate)
        self.window, self.hop, self.smooth = float(window), float(hop), smooth
        self.min_speech, self.min_silence = float(min_speech), float(min_silence)
        self.vad, self.threshold, self.energy_db = bool(vad), float(threshold), float(energy_db)
        self.neg_threshold = min(max(threshold - 0.15, 0.01), threshold)
        self._vad_model = vad_model
        self._hop_frames = max(1, math.floor(hop / FRAME_SECONDS + 1e-9))
        self._speech_frames = max(1, math.ceil(min_speech / FRAME_SECONDS - 1e-9))
        self._silence_frames = max(1, math.ceil(min_silence / FRAME_SECONDS - 1e-9))
        self._window_samples = round(window * self.sample_rate)
        self.buffer_seconds = window + _RING_SLACK
        self.reset()

    # ------------------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget all audio and state: the next push starts a new stream at time 0."""
        self._ring = _Ring(math.ceil(self.buffer_seconds * self.sample_rate))
        self._pending = np.zeros(0, dtype=np.float32)  # samples after the last whole frame
        self._frames_in = 0  # frames whose samples are in the ring
        self._frames_done = 0  # frames decided
        self._probs: deque[float] = deque()  # activity of frames in the ring, not yet decided
        self._input: tuple[int, int] | None = None  # (rate, channels) of the pushed chunks
        self._resampler: StreamResampler | None = None
        self._vad_stream: VADStream | None = None
        if self.vad:
            model = self._vad_model or _shared_vad()
            self._vad_stream = model.stream(self.sample_rate)
        self._in_speech = False
        self._utt_start = 0  # first frame of the current utterance
        self._silence_from: int | None = None  # first frame of the current silence run
        self._next_label = 0  # frame at whose end the next label is due
        self._labelled = False  # the current utterance has a label
        self._pause_start = 0  # frame where the current pause began
        self._pause_reported = False
        self._history: deque[np.ndarray] = deque(maxlen=self.smooth)

    @property
    def time(self) -> float:
        """Stream time decided so far, in seconds."""
        return min(self._boundary(self._frames_done), self._ring.total) / self.sample_rate

    @property
    def in_speech(self) -> bool:
        """Whether the last decided frame is inside an utterance."""
        return self._in_speech

    @property
    def held_samples(self) -> int:
        """Samples of audio held in memory (ring buffer and pending partial frame)."""
        return self._ring.data.shape[0] + self._pending.shape[0]

    def _boundary(self, k: int) -> int:
        """First sample (at the model's rate) of frame ``k``."""
        return (k * _FRAME_MS * self.sample_rate + 500) // 1000

    # -------------------------------------------------------------------------- pushing

    def push(self, chunk: np.ndarray, sample_rate: int) -> list[Event]:
        """Feed the next chunk of the stream; return the events it completes.

        Parameters
        ----------
        chunk : np.ndarray [shape=(n,) or (channels, n)], floating point
            Any ``n >= 0``. Channels are averaged. Every chunk of a stream has the same rate
            and channel count.
        sample_rate : int
            Rate of ``chunk`` in Hz; resampled (streaming soxr) to :attr:`sample_rate`.

        Returns
        -------
        list of Event
            In time order; often empty.

        Raises
        ------
        AudioError
            Non-float, non-finite or badly shaped chunk; a rate or channel count that changes
            within a stream.
        """
        x = self._check_chunk(chunk, sample_rate)
        return self._feed(x, last=False)

    def flush(self) -> list[Event]:
        """End the stream: decide the remaining audio and close an open utterance.

        An utterance still open at the end is closed there, with a no-speech event marking
        where its speech ended (``start``). The engine then resets for a new stream.

        Returns
        -------
        list of Event
        """
        events = self._feed(np.zeros(0, np.float32), last=True) if self._input else []
        tail = self._pending  # the last, partial frame
        if tail.shape[0]:
            self._ring.write(tail)
            self._frames_in += 1
            if self._vad_stream is None:
                self._probs.append(self._energy(tail))
        if self._vad_stream is not None and self._input:  # zero-pads the tail, flushes
            self._probs.extend(self._vad_stream(tail, last=True).tolist())
        self._pending = tail[:0]
        while len(self._probs) < self._frames_in - self._frames_done:
            self._probs.append(0.0)  # the VAD resampler's delay swallowed the stream's end
        events += self._decide_ready(end=self._ring.total)
        end = self._ring.total
        if self._in_speech:
            stop = end if self._silence_from is None else self._boundary(self._silence_from)
            self._in_speech = False
            if self._labelled:
                t = end / self.sample_rate
                events.append(Event(t, stop / self.sample_rate, t, SILENCE_LABEL, {}, False))
        self.reset()
        return events

    def _check_chunk(self, chunk: np.ndarray, sample_rate: int) -> np.ndarray:
        x = np.asarray(chunk)
        if not np.issubdtype(x.dtype, np.floating):
            raise AudioError(f"chunk must hold floating-point samples, got dtype {x.dtype}")
        if x.ndim not in (1, 2) or (x.ndim == 2 and not 0 < x.shape[0] <= MAX_CHANNELS):
            raise AudioError(f"chunk must have shape (n,) or (channels, n) with at most "
                             f"{MAX_CHANNELS} channels, got {x.shape}")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer) or \
                sample_rate <= 0:
            raise AudioError(f"the sample rate must be a positive integer, got {sample_rate!r}")
        if not np.isfinite(x).all():
            raise AudioError("chunk holds NaN or infinite samples")
        key = (int(sample_rate), 1 if x.ndim == 1 else x.shape[0])
        if self._input is None:
            self._input = key
            if key[0] != self.sample_rate:
                self._resampler = StreamResampler(key[0], self.sample_rate)
        elif key != self._input:
            raise AudioError(f"the stream changed from {self._input[0]} Hz, {self._input[1]} "
                             f"channel(s) to {key[0]} Hz, {key[1]} channel(s); call reset() "
                             "to start a new stream")
        return to_mono(x).astype(np.float32, copy=False)

    def _feed(self, x: np.ndarray, *, last: bool) -> list[Event]:
        if self._resampler is not None:
            x = self._resampler(x, last=last)
        if x.shape[0] == 0 and not len(self._pending):
            return []
        buf = np.concatenate([self._pending, x]) if len(self._pending) else x
        consumed = 0  # samples of buf moved into the ring
        events: list[Event] = []
        while True:
            k0 = self._frames_in
            k1 = k0 + _SLICE_FRAMES
            stop = self._boundary(k1) - self._boundary(k0)
            if consumed + stop > buf.shape[0]:  # fewer than a slice left: whole frames only
                k1 = k0
                while consumed + self._boundary(k1 + 1) - self._boundary(k0) <= buf.shape[0]:
                    k1 += 1
                stop = self._boundary(k1) - self._boundary(k0)
                if k1 == k0:
                    break
            part = buf[consumed:consumed + stop]
            consumed += stop
            self._ring.write(part)
            self._frames_in = k1
            self._probs.extend(self._activity(part, k0, k1))
            events += self._decide_ready()
        self._pending = buf[consumed:].copy()
        return events

    # -------------------------------------------------------------------- speech activity

    def _activity(self, part: np.ndarray, k0: int, k1: int) -> list[float]:
        """Activity of frames ``k0..k1-1`` (samples ``part``); VAD values may lag behind."""
        if self._vad_stream is not None:
            return self._vad_stream(part).tolist()
        base = self._boundary(k0)
        return [self._energy(part[self._boundary(k) - base:self._boundary(k + 1) - base])
                for k in range(k0, k1)]

    def _energy(self, frame: np.ndarray) -> float:
        power = float(np.mean(np.square(frame, dtype=np.float64))) if frame.size else 0.0
        return 1.0 if power > 0 and 10 * math.log10(power) > self.energy_db else 0.0

    # ---------------------------------------------------------------------- decisions

    def _decide_ready(self, *, end: int | None = None) -> list[Event]:
        events: list[Event] = []
        while self._probs and self._frames_done < self._frames_in:
            k = self._frames_done
            stop = self._boundary(k + 1)
            if end is not None:
                stop = min(stop, end)
            events += self._decide(k, self._probs.popleft(), stop)
            self._frames_done += 1
        return events

    def _decide(self, k: int, p: float, stop: int) -> list[Event]:
        """Advance the state machine by frame ``k`` (activity ``p``, ending at sample ``stop``)."""
        events: list[Event] = []
        t = stop / self.sample_rate
        if not self._in_speech and p >= self.threshold:
            self._in_speech, self._utt_start, self._silence_from = True, k, None
            self._labelled = False
            self._next_label = k + self._speech_frames - 1
            self._history.clear()
        if self._in_speech:
            if p >= self.threshold:
                self._silence_from = None
            elif p < self.neg_threshold and self._silence_from is None:
                self._silence_from = k
            if self._silence_from is not None and \
                    k + 1 - self._silence_from >= self._silence_frames:
                self._in_speech = False
                if self._labelled:  # a new pause; a blip's end only continues the last one
                    self._pause_start, self._pause_reported = self._silence_from, False
            elif k >= self._next_label:
                if not self._labelled and self._silence_from is not None:
                    self._next_label = k + 1  # the first label waits for a speech frame
                else:
                    self._next_label = k + self._hop_frames
                    event = self._label(stop, t)
                    if event is not None:
                        events.append(event)
        if not self._in_speech and not self._pause_reported and \
                k + 1 - self._pause_start >= self._silence_frames:
            self._pause_reported = True
            start = self._boundary(self._pause_start) / self.sample_rate
            events.append(Event(t, start, t, SILENCE_LABEL, {}, False))
        return events

    def _label(self, stop: int, t: float) -> Event | None:
        start = max(self._boundary(self._utt_start), stop - self._window_samples)
        y = self._ring.read(start, stop)
        try:
            probs = self.predictor.predict_proba([y], self.sample_rate)[0]
        except AudioError:  # far too quiet to classify: no label this time
            return None
        self._history.append(np.asarray(probs, dtype=np.float64))
        mean = np.mean(np.stack(self._history), axis=0)
        self._labelled = True
        return Event(t, start / self.sample_rate, t, self.labels[int(np.argmax(mean))],
                     {lab: float(v) for lab, v in zip(self.labels, mean, strict=True)}, True)


_VAD: SileroVAD | None = None


def _shared_vad() -> SileroVAD:
    """One SileroVAD per process (its ONNX session is created on first use)."""
    global _VAD
    if _VAD is None:
        _VAD = SileroVAD()
    return _VAD
