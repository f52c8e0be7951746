"""Emotion timelines of long recordings (minutes to hours), in bounded memory.

:func:`timeline` reads a file block by block (:func:`emoscope.audio.io.iter_blocks`, never the
whole file) and pushes the blocks, as fast as they decode, through the streaming engine
(:class:`~emoscope.inference.stream.StreamingPredictor`): the same VAD, windows and smoothing as
live input, so a file and its live playback agree. Consecutive windows of one utterance with
the same (smoothed) label merge into a :class:`Segment`.

Each labelled window stands for the stretch of its utterance since the previous window (the
first one from the utterance's start); the last one reaches the utterance's end, and windows
decided after the speech ended (while the engine waited ``min_silence`` to be sure) are
dropped. So segments cover the detected speech and never a pause.

>>> tl = timeline("meeting.flac", Predictor.from_bundle(b))                 # doctest: +SKIP
>>> [s.to_dict() for s in tl.segments][:1]                                   # doctest: +SKIP
[{'start': 1.02, 'end': 4.35, 'label': 'neutral', 'probabilities': {...}}]
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from emoscope.errors import ConfigError, EmptyAudioError
from emoscope.inference.stream import Event, StreamingPredictor

if TYPE_CHECKING:
    from emoscope.inference.predictor import Predictor

__all__ = ["Segment", "Timeline", "TimelineBuilder", "timeline"]


@dataclass(frozen=True)
class Segment:
    """A stretch of speech with one label.

    Attributes
    ----------
    start, end : float
        Seconds from the start of the recording.
    label : str
    probabilities : dict of str to float
        The smoothed probabilities of the merged windows, averaged weighted by the time each
        window stands for.
    """

    start: float
    end: float
    label: str
    probabilities: dict[str, float]

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label,
                "probabilities": dict(self.probabilities)}


@dataclass(frozen=True)
class Timeline:
    """Labelled speech segments of a recording.

    Attributes
    ----------
    segments : list of Segment
        In time order, non-overlapping; empty when no speech was found.
    duration : float
        Length of the recording in seconds.
    labels : list of str
        The model's labels.
    """

    segments: list[Segment]
    duration: float
    labels: list[str] = field(default_factory=list)

    @property
    def speech_duration(self) -> float:
        """Seconds covered by segments."""
        return float(sum(s.duration for s in self.segments))

    @property
    def probabilities(self) -> dict[str, float]:
        """Mean probabilities over the speech, weighted by segment duration (empty: none)."""
        total = self.speech_duration
        if total <= 0:
            return {}
        return {lab: float(sum(s.probabilities[lab] * s.duration for s in self.segments)
                           / total) for lab in self.labels}

    @property
    def label(self) -> str | None:
        """The label of :attr:`probabilities`; ``None`` when there is no speech."""
        probs = self.probabilities
        return max(probs, key=probs.__getitem__) if probs else None

    def to_dict(self) -> dict[str, Any]:
        return {"duration": self.duration, "label": self.label,
                "probabilities": self.probabilities,
                "segments": [s.to_dict() for s in self.segments]}


class TimelineBuilder:
    """Turn the streaming engine's events into merged segments, incrementally.

    Feed :meth:`add` every event in order, then call :meth:`build`. Only the current
    utterance's windows are held (one row per ``hop``).
    """

    def __init__(self, labels: list[str]) -> None:
        self.labels = list(labels)
        self.segments: list[Segment] = []
        self._spans: list[tuple[float, float, str, np.ndarray]] = []  # current utterance

    def add(self, events: Iterable[Event]) -> None:
        """Take events in stream order (speech windows and the no-speech events closing them)."""
        for e in events:
            if e.speech:
                begin = self._spans[-1][1] if self._spans else e.start
                probs = np.array([e.probabilities[lab] for lab in self.labels])
                self._spans.append((begin, e.end, e.label, probs))
            elif self._spans:
                self._close(e.start)

    def build(self, duration: float) -> Timeline:
        """The timeline so far; an utterance still open is closed at ``duration``."""
        if self._spans:
            self._close(duration)
        return Timeline(list(self.segments), float(duration), list(self.labels))

    def _close(self, end: float) -> None:
        """Merge the current utterance's windows, which ended at ``end`` seconds."""
        spans = [(b, min(e, end), lab, p) for b, e, lab, p in self._spans if b < end]
        self._spans = []
        if not spans:
            return
        b, _, lab, p = spans[-1]
        spans[-1] = (b, end, lab, p)  # the last window covers the utterance's tail
        run: list[tuple[float, float, str, np.ndarray]] = []
        for span in [*spans, None]:
            if run and (span is None or span[2] != run[-1][2]):
                weights = np.array([e - b for b, e, _, _ in run])
                mean = np.average(np.stack([p for *_, p in run]), axis=0,
                                  weights=weights if weights.sum() > 0 else None)
                self.segments.append(Segment(run[0][0], run[-1][1], run[0][2],
                                             {k: float(v) for k, v in zip(self.labels, mean,
                                                                          strict=True)}))
                run = []
            if span is not None:
                run.append(span)


def timeline(
    source: str | os.PathLike[str] | np.ndarray,
    predictor: Predictor,
    *,
    sample_rate: int | None = None,
    window: float = 3.0,
    hop: float = 1.0,
    smooth: int = 3,
    min_speech: float = 0.5,
    min_silence: float = 0.5,
    vad: bool = True,
    energy_db: float = -45.0,
    block_seconds: float = 10.0,
    progress: bool = False,
) -> Timeline:
    """Label the speech of a long recording, window by window, merged into segments.

    Parameters
    ----------
    source : path or np.ndarray [shape=(n,) or (channels, n)], floating point
        An audio (or video) file, read block by block, or a waveform.
    predictor : Predictor
    sample_rate : int, optional
        The waveform's rate (required for a waveform, ignored for a file).
    window, hop, smooth, min_speech, min_silence, vad, energy_db
        As in :class:`~emoscope.inference.stream.StreamingPredictor` (``smooth``: a moving
        average over this many windows).
    block_seconds : float
        Seconds read and pushed at a time; memory holds a few blocks at most.
    progress : bool
        Show a progress bar (blocks) on stderr when it is a terminal.

    Returns
    -------
    Timeline
        Empty (no segments) when the recording holds no speech.

    Raises
    ------
    AudioError
        Missing, unreadable, corrupt or empty file (:class:`~emoscope.errors.AudioDecodeError`,
        :class:`~emoscope.errors.EmptyAudioError`); a bad waveform.
    ConfigError
        Bad options; a waveform without ``sample_rate``.
    """
    if not (math.isfinite(block_seconds) and block_seconds > 0):
        raise ConfigError(f"block_seconds must be positive, got {block_seconds}")
    engine = StreamingPredictor(predictor, window=window, hop=hop, smooth=smooth,
                                min_speech=min_speech, min_silence=min_silence, vad=vad,
                                energy_db=energy_db)
    blocks, rate, total_blocks = _blocks(source, sample_rate, predictor.sample_rate,
                                         block_seconds)
    if progress:
        from emoscope.progress import track

        blocks = track(blocks, total=total_blocks, description="timeline", unit="blocks")
    builder = TimelineBuilder(predictor.labels)
    n = 0
    for block in blocks:
        n += block.shape[-1]
        builder.add(engine.push(block, rate))
    if n == 0:
        raise EmptyAudioError("no audio samples", path=None if isinstance(source, np.ndarray)
                              else source)
    builder.add(engine.flush())
    return builder.build(n / rate)


def _blocks(source: str | os.PathLike[str] | np.ndarray, sample_rate: int | None,
            model_rate: int, block_seconds: float
            ) -> tuple[Iterator[np.ndarray], int, int | None]:
    """The source's blocks, their rate, and how many there will be (when known)."""
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise ConfigError("a waveform needs its sample_rate")
        step = max(1, round(block_seconds * sample_rate))
        n = source.shape[-1]
        return ((source[..., i:i + step] for i in range(0, n, step)), int(sample_rate),
                -(-n // step))
    from emoscope.audio.io import audio_info, iter_blocks

    info = audio_info(source)
    total = max(1, math.ceil(info.duration / block_seconds))
    return (iter_blocks(source, block_seconds=block_seconds, sample_rate=model_rate),
            model_rate, total)
