"""Live emotion recognition from a microphone, or from a file played through the same path.

:func:`run_live` feeds audio blocks (0.1 s by default) into a
:class:`~emoscope.inference.stream.StreamingPredictor` and shows its events: on a terminal, a
continuously updated display (current emotion, a bar per label, elapsed time, speech or
silence); otherwise (pipes, logs, tests) one line per event. Ctrl-C stops cleanly; either way a
summary of the session ends the output.

The microphone is read with ``sounddevice`` (PortAudio), imported only when needed, at the
device's default rate (the engine resamples). A file source plays at real-time speed (the
blocks are paced by the clock, as a microphone would deliver them) or, with ``fast``, as fast
as it decodes.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from emoscope.errors import ConfigError, EmoscopeError
from emoscope.inference.stream import Event, StreamingPredictor
from emoscope.inference.timeline import Timeline, TimelineBuilder

if TYPE_CHECKING:
    from emoscope.inference.predictor import Predictor

__all__ = ["LiveResult", "format_event", "run_live"]

_NO_PORTAUDIO = ("live microphone input needs PortAudio and sounddevice: install libportaudio2 "
                 "(e.g. apt-get install libportaudio2), or use --from-file FILE")


@dataclass(frozen=True)
class LiveResult:
    """What a live session saw.

    Attributes
    ----------
    timeline : Timeline
        The session's labelled speech segments (as :func:`~emoscope.inference.timeline.timeline`
        would give for the same audio).
    events : int
        Events emitted.
    interrupted : bool
        Stopped by Ctrl-C.
    dropped : float
        Seconds of microphone audio dropped because processing fell behind.
    """

    timeline: Timeline
    events: int
    interrupted: bool
    dropped: float


def run_live(
    predictor: Predictor,
    *,
    source: str | os.PathLike[str] | None = None,
    fast: bool = False,
    device: int | str | None = None,
    window: float = 3.0,
    hop: float = 0.5,
    vad: bool = True,
    block_seconds: float = 0.1,
    console: Console | None = None,
) -> LiveResult:
    """Run the streaming engine on the microphone (or ``source``) and show its events.

    Parameters
    ----------
    predictor : Predictor
    source : path, optional
        Play this file instead of listening to the microphone.
    fast : bool
        With ``source``: as fast as possible instead of in real time.
    device : int or str, optional
        Input device index or name (sounddevice's); the system default when ``None``.
    window, hop : float
        As in :class:`~emoscope.inference.stream.StreamingPredictor`.
    vad : bool
        Silero VAD (``True``) or an energy threshold (``False``) finds the speech.
    block_seconds : float
        Seconds of audio per block read.
    console : rich.console.Console, optional
        Where to write (stdout by default). A terminal gets the live display, anything else
        one line per event.

    Returns
    -------
    LiveResult

    Raises
    ------
    EmoscopeError
        PortAudio or sounddevice missing, or the device cannot be opened.
    AudioError
        An unreadable ``source``.
    ConfigError
        ``fast`` without ``source``; bad options.
    """
    if fast and source is None:
        raise ConfigError("--fast plays a file as fast as possible: it needs --from-file")
    if not block_seconds > 0:
        raise ConfigError(f"block_seconds must be positive, got {block_seconds}")
    console = console or Console()
    engine = StreamingPredictor(predictor, window=window, hop=hop, vad=vad)
    _warm_up(predictor)
    mic = None if source is not None else _Microphone(device, block_seconds)
    blocks = _file_blocks(source, block_seconds, realtime=not fast) if mic is None \
        else mic.blocks()
    builder = TimelineBuilder(predictor.labels)
    view = _View(predictor.labels, console)
    n_events, seconds, interrupted = 0, 0.0, False
    with view:
        try:
            for block, rate in blocks:
                seconds += block.shape[-1] / rate
                events = engine.push(block, rate)
                builder.add(events)
                n_events += len(events)
                view.show(events, seconds, engine.in_speech)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if mic is not None:
                mic.close()
        events = engine.flush()
        builder.add(events)
        n_events += len(events)
        view.show(events, seconds, False)
    result = LiveResult(builder.build(seconds), n_events, interrupted,
                        0.0 if mic is None else mic.dropped)
    _print_summary(result, console)
    return result


def _warm_up(predictor: Predictor) -> None:
    """Classify one second of faint noise, so that lazy imports and the first forward pass
    do not delay the first live label."""
    with contextlib.suppress(EmoscopeError):  # a model refusing noise will say so on speech
        predictor.warmup()


def _file_blocks(path: str | os.PathLike[str], block_seconds: float, *, realtime: bool
                 ) -> Iterator[tuple[np.ndarray, int]]:
    """A file's blocks at its own rate and channels, paced by the clock when ``realtime``."""
    from emoscope.audio.io import audio_info, iter_blocks

    rate = audio_info(path).sample_rate
    start = time.monotonic()
    played = 0
    for block in iter_blocks(path, block_seconds=block_seconds, mono=False):
        played += block.shape[-1]
        if realtime:  # a block is there once its last sample has been "recorded"
            time.sleep(max(0.0, start + played / rate - time.monotonic()))
        yield block, rate


class _Microphone:
    """An input stream whose PortAudio callback queues blocks for the main thread."""

    def __init__(self, device: int | str | None, block_seconds: float) -> None:
        try:
            import sounddevice as sd
        except (ImportError, OSError):  # OSError: the PortAudio library is not installed
            raise EmoscopeError(_NO_PORTAUDIO) from None
        self.dropped = 0.0
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=max(1, round(
            30 / block_seconds)))  # 30 s of backlog at most
        try:
            info = sd.query_devices(device, kind="input")
            self.rate = int(info["default_samplerate"])
            self._stream = sd.InputStream(
                device=device, channels=1, samplerate=self.rate, dtype="float32",
                blocksize=max(1, round(block_seconds * self.rate)), callback=self._callback)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise EmoscopeError(f"cannot open the microphone {device or '(default)'}: "
                                f"{str(exc).splitlines()[0]}; pick one with --device "
                                "(python -m sounddevice lists them)") from None

    def _callback(self, indata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        try:
            self._queue.put_nowait(np.ascontiguousarray(indata.T))  # (channels, frames)
        except queue.Full:
            self.dropped += frames / self.rate

    def blocks(self) -> Iterator[tuple[np.ndarray, int]]:
        while True:
            try:
                yield self._queue.get(timeout=0.5), self.rate
            except queue.Empty:
                continue

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class _View:
    """A rich live display on a terminal, one line per event elsewhere."""

    def __init__(self, labels: list[str], console: Console) -> None:
        self.labels, self.console = labels, console
        self.interactive = console.is_terminal
        self.last: Event | None = None
        self._live = Live(console=console, refresh_per_second=8, transient=False) \
            if self.interactive else None

    def __enter__(self) -> _View:
        if self._live is not None:
            self._live.update(self._render(0.0, False))
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def show(self, events: list[Event], seconds: float, speech: bool) -> None:
        for e in events:
            if e.speech:
                self.last = e
            if self._live is None:
                self.console.print(format_event(e), highlight=False)
        if self._live is not None:
            self._live.update(self._render(seconds, speech))

    def _render(self, seconds: float, speech: bool) -> Group:
        minutes, secs = divmod(seconds, 60)
        state = "[green]speech[/green]" if speech else "[dim]silence[/dim]"
        head = Text.from_markup(f"[bold]emoscope live[/bold]  {int(minutes):02d}:{secs:04.1f}  "
                                f"{state}   (Ctrl-C to stop)")
        e = self.last
        probs = e.probabilities if e is not None else {}
        if e is None:
            now = Text("emotion: –  (waiting for speech)")
        elif speech:
            now = Text.from_markup(f"emotion: [bold]{e.label}[/bold]")
        else:
            now = Text.from_markup(f"emotion: –  [dim](last: {e.label} at {e.time:.1f} s)[/dim]")
        table = Table.grid(padding=(0, 1))
        for lab in self.labels:
            p = probs.get(lab, 0.0)
            bar = "█" * round(30 * p) + "·" * (30 - round(30 * p))
            style = ("bold" if e is not None and lab == e.label else "") if speech else "dim"
            table.add_row(Text(lab, style=style), Text(bar, style=style), f"{p:5.2f}")
        return Group(head, now, table)


def format_event(e: Event) -> str:
    """One line for an event: time, label and (for speech) every probability."""
    if not e.speech:
        return f"{e.time:9.2f} s  {e.label}  (since {e.start:.2f} s)"
    probs = "  ".join(f"{lab} {p:.2f}" for lab, p in e.probabilities.items())
    return f"{e.time:9.2f} s  {e.label:<10}  {probs}  (window {e.start:.2f}-{e.end:.2f} s)"


def _print_summary(result: LiveResult, console: Console) -> None:
    tl = result.timeline
    how = "stopped" if result.interrupted else "done"
    console.print(f"{how}: {tl.duration:.1f} s of audio, {len(tl.segments)} speech segment(s), "
                  f"{tl.speech_duration:.1f} s of speech, {result.events} event(s)",
                  highlight=False)
    if tl.label is not None:
        share: dict[str, float] = {}
        for s in tl.segments:
            share[s.label] = share.get(s.label, 0.0) + s.duration / tl.speech_duration
        parts = ", ".join(f"{lab} {100 * v:.0f}%" for lab, v in
                          sorted(share.items(), key=lambda kv: -kv[1]))
        console.print(f"overall: {tl.label}  (share of speech time: {parts})", highlight=False)
    if result.dropped:
        console.print(f"warning: {result.dropped:.1f} s of microphone audio dropped "
                      "(processing fell behind)", highlight=False)
