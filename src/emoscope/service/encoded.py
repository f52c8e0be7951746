"""Encoded audio for ``WS /v1/stream``: one compressed stream, cut anywhere, decoded as it comes.

:class:`EncodedStream` takes the bytes of a client's binary messages (a browser's MediaRecorder
chunks, or a file's bytes cut anywhere) and gives back mono float32 samples at the model's rate.
A thread reads the bytes as a file that can only be read forward, with PyAV (FFmpeg's demuxers
and decoders: WebM/Matroska, Ogg, MP3, FLAC, WAV, ADTS AAC, ...), mixes every decoded frame to
mono, resamples it (soxr, as the engine does for PCM) and hands the samples to the event loop.
The bytes are read forward only, so an MP4 (or M4A) works when fragmented, as recorders write
it, not as a file with its index at the end.
Nothing is decoded twice, and memory is bounded both ways: :meth:`EncodedStream.write` waits
while :data:`MAX_BUFFERED` bytes wait for the decoder, and the decoder waits while
:data:`MAX_QUEUED` seconds of samples wait for the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from emoscope.audio.dsp import StreamResampler, to_mono
from emoscope.audio.io import _reason
from emoscope.errors import AudioError

__all__ = ["MAX_BUFFERED", "MAX_QUEUED", "DecodeFailed", "EncodedStream", "check_container"]

#: Bytes received and not yet read by the decoder before :meth:`EncodedStream.write` waits.
MAX_BUFFERED = 1 << 20
#: Seconds of decoded samples not yet read by the session before the decoder waits.
MAX_QUEUED = 2.0
#: Damaged packets skipped before the first decoded sample; more: not audio.
MAX_BAD_PACKETS = 32


class DecodeFailed(Exception):
    """The stream cannot be decoded.

    Attributes
    ----------
    code : str
        ``"not_audio"`` (no audio could be decoded) or ``"bad_audio"`` (it stopped decoding).
    message : str
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class _Aborted(Exception):
    """The session is over: the decoder stops."""


@dataclass(frozen=True)
class _End:
    """The decoder's last word: ``None`` for the stream's end, or why it stopped."""

    error: BaseException | None = None


class _File:
    """The stream's bytes as PyAV sees them: a file read forward only (no ``seek``)."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self.read = read


def check_container(name: str) -> None:
    """Raise :class:`ValueError` unless FFmpeg has a demuxer called ``name``."""
    from av.format import ContainerFormat

    try:
        if ContainerFormat(name, "r").is_input:
            return
    except ValueError:
        pass
    raise ValueError(f"no container format {name!r} (FFmpeg's names: webm, ogg, mp3, wav, "
                     "flac, aac, ...)")


class EncodedStream:
    """One encoded audio stream, decoded by a thread as its bytes arrive.

    From the event loop: :meth:`start`, then :meth:`write` every binary message and
    :meth:`close` after the last, while another task takes the samples with :meth:`read`
    until it returns ``None``; :meth:`abort` in every case at the end.

    Parameters
    ----------
    sample_rate : int
        The rate of the samples given back (the model's).
    container : str, optional
        FFmpeg's name of the container (``webm``, ``ogg``, ``mp3``, ...); found from the bytes
        when ``None``.
    name : str
        The thread's name.

    Attributes
    ----------
    received : int
        Bytes written so far.
    """

    def __init__(self, sample_rate: int, *, container: str | None = None,
                 name: str = "emoscope-decoder") -> None:
        self.sample_rate = sample_rate
        self.container = container
        self.received = 0
        self._cond = threading.Condition()
        # guarded by _cond: input, output bound, and the state of both sides
        self._chunks: deque[memoryview] = deque()
        self._buffered = 0  # bytes in _chunks
        self._eof = False  # close() was called
        self._aborted = False  # abort() was called
        self._abort_raised = False  # _Aborted was raised in the thread (raised once only)
        self._done = False  # the thread has finished
        self._writer_waiting = False
        self._queued = 0  # samples handed to the event loop, not yet read
        self._max_queued = max(1, round(MAX_QUEUED * sample_rate))
        # event loop side
        self._loop: asyncio.AbstractEventLoop | None = None
        self._out: asyncio.Queue[np.ndarray | _End] = asyncio.Queue()
        self._room = asyncio.Event()
        self._end: _End | None = None
        # thread side
        self._decoded = 0  # samples handed over
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    # ------------------------------------------------------------------- event loop side

    def start(self) -> None:
        """Start the decoder thread (call from the event loop)."""
        self._loop = asyncio.get_running_loop()
        self._thread.start()

    async def write(self, data: bytes) -> None:
        """Hand over the stream's next bytes; waits while the decoder is behind by
        :data:`MAX_BUFFERED` bytes. Ignored once the decoder has stopped (:meth:`read` says
        why)."""
        while True:
            with self._cond:
                if self._done or self._aborted or self._eof:
                    return
                if self._buffered < MAX_BUFFERED:
                    if data:
                        self._chunks.append(memoryview(bytes(data)))
                        self._buffered += len(data)
                        self.received += len(data)
                        self._cond.notify_all()
                    return
                self._room.clear()
                self._writer_waiting = True
            await self._room.wait()

    def close(self) -> None:
        """The stream's end: the decoder decodes what it holds, then ends."""
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def abort(self) -> None:
        """Stop the decoder (at its next read or hand-over) and drop what it holds."""
        with self._cond:
            self._aborted = True
            self._chunks.clear()
            self._buffered = 0
            self._cond.notify_all()

    async def read(self) -> np.ndarray | None:
        """The samples decoded since the last call (waits for some), shape ``(n,)``;
        ``None`` at the stream's end.

        Raises
        ------
        DecodeFailed
            The bytes are not an audio stream, or stopped decoding.
        """
        if self._end is None:
            parts: list[np.ndarray] = []
            item = await self._out.get()
            while True:
                if isinstance(item, _End):
                    self._end = item
                    break
                parts.append(item)
                if self._out.empty():
                    break
                item = self._out.get_nowait()
            if parts:
                with self._cond:
                    self._queued -= sum(p.shape[0] for p in parts)
                    self._cond.notify_all()
                return parts[0] if len(parts) == 1 else np.concatenate(parts)
        if self._end.error is not None:
            raise self._end.error
        return None

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; whether it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # ----------------------------------------------------------------------- thread side

    def _post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` in the event loop (nothing once the loop is closed)."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(fn, *args)

    def _stop_if_aborted(self) -> None:
        """Raise :class:`_Aborted` once after :meth:`abort`; hold ``_cond`` to call."""
        if self._aborted and not self._abort_raised:
            self._abort_raised = True
            raise _Aborted

    def _read(self, size: int) -> bytes:
        """PyAV's ``read``: up to ``size`` bytes, waiting for some; ``b""`` at the end."""
        with self._cond:
            while not self._chunks and not self._eof and not self._aborted:
                self._cond.wait()
            self._stop_if_aborted()
            if self._aborted or not self._chunks:
                return b""
            chunk = self._chunks.popleft()
            if len(chunk) > size:
                self._chunks.appendleft(chunk[size:])
                chunk = chunk[:size]
            self._buffered -= len(chunk)
            if self._writer_waiting and self._buffered < MAX_BUFFERED:
                self._writer_waiting = False
                self._post(self._room.set)
            return bytes(chunk)

    def _emit(self, y: np.ndarray) -> None:
        """Hand samples to the event loop; waits while :data:`MAX_QUEUED` seconds wait."""
        if y.shape[0] == 0:
            return
        with self._cond:
            while self._queued >= self._max_queued and not self._aborted:
                self._cond.wait()
            self._stop_if_aborted()
            if self._aborted:
                return
            self._queued += y.shape[0]
        self._decoded += y.shape[0]
        self._post(self._out.put_nowait, y)

    def _run(self) -> None:
        end = _End()
        try:
            self._decode()
        except _Aborted:
            pass
        except DecodeFailed as exc:
            end = _End(exc)
        except AudioError as exc:  # more channels than emoscope mixes, ...
            end = _End(DecodeFailed("bad_audio", exc.reason))
        except Exception as exc:  # a bug: the session logs it (with this traceback)
            end = _End(exc)
        finally:
            with self._cond:
                self._done = True
                self._chunks.clear()
                self._buffered = 0
            self._post(self._out.put_nowait, end)
            self._post(self._room.set)

    def _decode(self) -> None:
        import av

        try:
            container = av.open(_File(self._read), mode="r", format=self.container)
        except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
            if self.received == 0:  # the stream ended before its first byte: no audio
                return
            raise DecodeFailed("not_audio", f"the binary messages are not an encoded audio "
                               f"stream ({_reason(exc)})") from None
        with container:
            if not container.streams.audio:
                raise DecodeFailed("not_audio", "the stream has no audio track")
            stream = container.streams.audio[0]
            formatter: Any = None  # PyAV's AudioResampler, to float32 planar samples
            resampler: StreamResampler | None = None
            key: tuple[int, int] | None = None  # the frames' rate and channels
            bad = 0
            try:
                for packet in container.demux(stream):
                    try:
                        frames = packet.decode()
                    except av.FFmpegError as exc:  # a damaged packet: skipped, as players do
                        bad += 1
                        if self._decoded == 0 and bad >= MAX_BAD_PACKETS:
                            raise DecodeFailed("not_audio", f"no audio could be decoded from "
                                               f"the stream ({_reason(exc)})") from None
                        continue
                    for frame in frames:
                        frame_key = (int(frame.sample_rate), len(frame.layout.channels))
                        if key is None:
                            key = frame_key
                            formatter = av.AudioResampler(format="fltp")
                            resampler = StreamResampler(key[0], self.sample_rate)
                        elif frame_key != key:
                            raise DecodeFailed("bad_audio", f"the stream changed from {key[0]} "
                                               f"Hz, {key[1]} channel(s) to {frame_key[0]} Hz, "
                                               f"{frame_key[1]} channel(s)")
                        assert resampler is not None
                        for out in formatter.resample(frame):
                            self._emit(resampler(to_mono(out.to_ndarray())))
            except av.FFmpegError as exc:
                if self._decoded == 0:
                    raise DecodeFailed("not_audio", f"the binary messages are not an encoded "
                                       f"audio stream ({_reason(exc)})") from None
                raise DecodeFailed("bad_audio", f"the encoded stream is corrupt after "
                                   f"{self._decoded / self.sample_rate:.1f} s of audio "
                                   f"({_reason(exc)})") from None
            if resampler is not None:
                tail = [to_mono(out.to_ndarray()) for out in formatter.resample(None)]
                self._emit(resampler(np.concatenate(tail) if tail else np.zeros(0, np.float32),
                                     last=True))
        if self._decoded == 0:
            raise DecodeFailed("not_audio", f"no audio could be decoded from the "
                               f"{self.received} bytes received")
