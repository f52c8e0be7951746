"""``WS /v1/stream``: live audio in, labelled events out, as they are decided.

The protocol (JSON text messages, audio in binary messages):

1. The client sends ``{"type": "start", "sample_rate": N, "format": "pcm_s16le" | "pcm_f32le"}``
   (mono, little-endian; ``N`` from 8000 to 384000 Hz), or ``{"type": "start", "format":
   "encoded"}`` for encoded (compressed) audio, with an optional ``"container"``: FFmpeg's name
   of its format (``"webm"``, ``"ogg"``, ``"mp3"``, ``"wav"``, ``"flac"``, ...), else found
   from the bytes. Optional fields: ``"analysis": true`` stores the stream as an analysis
   (listed by ``GET /v1/analyses`` with ``source: "stream"``), ``"name"`` is its display name,
   ``"vad": "energy"`` finds speech by loudness instead of Silero VAD (clean audio only).
2. The server answers ``{"type": "ready"}`` (with ``"analysis_id"`` when stored).
3. The client sends binary messages, ideally in real time: PCM samples, of any length (whole
   samples); or, encoded, the consecutive pieces of one stream (a browser's MediaRecorder
   chunks, ``audio/webm;codecs=opus`` or ``audio/ogg;codecs=opus``, or a file's bytes cut
   anywhere), decoded as they come (:mod:`emoscope.service.encoded`). The server sends
   ``{"type": "event", "time", "start", "end", "label", "probabilities", "speech"}`` for each
   event of the streaming engine (:class:`~emoscope.inference.stream.StreamingPredictor`, with
   ``emoscope live``'s settings: 3 s windows every 0.5 s of speech; ``"silence"`` events with
   ``speech: false`` mark pauses). Times are seconds of stream audio (decoded audio, when
   encoded) since its first sample.
4. The client sends ``{"type": "stop"}``; the server decodes and decides the rest of the audio,
   sends the remaining events, then ``{"type": "end"}`` (with ``"analysis_id"`` when stored),
   and closes the connection (code 1000).

Anything else (a missing or wrong token, a bad or unexpected message, samples that are not
finite, encoded bytes that are not an audio stream (code ``not_audio``) or stop decoding
(``bad_audio``), a stream longer than the server's ``max_duration``, nothing received for the
request timeout) gets ``{"type": "error", "code": ..., "message": ...}`` and the connection is
closed with code 1008 (policy violation); a server already at ``max_streams`` closes with 1013
(try again later), an error of the server's with 1011.

A stored stream's timeline is what was received, however the stream ended (a stop, an error,
a client gone); it is ``failed`` only if no audio came or the server failed. A token goes in
the ``Authorization: Bearer`` header or, from a browser, in the ``token`` query parameter.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import numpy as np
from fastapi import APIRouter
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from emoscope.errors import AudioError
from emoscope.inference.stream import Event, StreamingPredictor
from emoscope.inference.timeline import Timeline, TimelineBuilder
from emoscope.service.auth import check_token, websocket_token
from emoscope.service.encoded import DecodeFailed, EncodedStream
from emoscope.service.errors import UnauthorizedError
from emoscope.service.schemas import StartMessage
from emoscope.service.state import Service
from emoscope.service.store import AnalysisRecord, Status
from emoscope.service.uploads import display_name

__all__ = ["CLOSE_POLICY", "CLOSE_TRY_LATER", "FORMATS", "router"]

log = logging.getLogger("emoscope.service")

router = APIRouter()

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_LATER = 1013

#: Sample formats of binary messages: numpy dtype and the scale to [-1, 1].
FORMATS: dict[str, tuple[str, float]] = {"pcm_s16le": ("<i2", 1 / 32768), "pcm_f32le": ("<f4", 1.0)}
#: The streaming engine's settings (those of ``emoscope live``).
WINDOW, HOP = 3.0, 0.5


class _StreamError(Exception):
    """A client's mistake: sent as an error message, then the connection is closed."""

    def __init__(self, code: str, message: str, close_code: int = CLOSE_POLICY) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


class _Gone(Exception):
    """The client closed the connection."""


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket) -> None:
    """Live emotion recognition over a WebSocket (see the module's docs for the protocol)."""
    svc: Service = websocket.app.state.service
    await websocket.accept()
    try:
        check_token(svc.token, websocket_token(websocket))
    except UnauthorizedError as exc:
        await _close_with_error(websocket, exc.code, exc.message, CLOSE_POLICY)
        return
    if svc.streams >= svc.limits.max_streams:
        await _close_with_error(websocket, "busy", f"the server already serves "
                                f"{svc.limits.max_streams} stream(s); try again later",
                                CLOSE_TRY_LATER)
        return
    svc.streams += 1
    try:
        await _Session(websocket, svc).run()
    finally:
        svc.streams -= 1


async def _close_with_error(ws: WebSocket, code: str, message: str, close_code: int) -> None:
    try:
        await ws.send_json({"type": "error", "code": code, "message": message})
        await ws.close(code=close_code, reason=code)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client is already gone


class _Session:
    """One stream: its engine, and the analysis it is stored as (if asked)."""

    def __init__(self, ws: WebSocket, svc: Service) -> None:
        self.ws, self.svc = ws, svc
        self.timeout = svc.limits.request_timeout
        self.engine: StreamingPredictor | None = None
        self.decoder: EncodedStream | None = None  # an encoded stream's
        self.builder: TimelineBuilder | None = None
        self.record: AnalysisRecord | None = None
        self.rate = 0
        self.dtype, self.scale = "<f4", 1.0
        self.samples = 0  # received (decoded, when encoded), at self.rate
        self.max_samples = 0
        self.flushed = False  # the engine has decided the whole stream
        self.saved = False  # the analysis (if any) is stored
        self.lock = threading.Lock()  # one engine call at a time, even after a cancellation

    async def run(self) -> None:
        error: _StreamError | None = None
        failed: str | None = None
        try:
            await self._serve()
        except _StreamError as exc:
            error = exc
        except (_Gone, WebSocketDisconnect):
            pass
        except Exception:
            log.exception("stream failed")
            failed = "the stream failed because of an error in the server; see its log"
            error = _StreamError("internal_error", "the server failed to handle this stream",
                                 CLOSE_SERVER_ERROR)
        finally:
            if self.decoder is not None:
                self.decoder.abort()  # its thread ends, however the stream did
            # stored even when the connection's task is cancelled (server shutdown)
            with anyio.CancelScope(shield=True):
                await self._save(failed=failed)
        if error is not None:
            await _close_with_error(self.ws, error.code, error.message, error.close_code)

    # ---------------------------------------------------------------------------- protocol

    async def _serve(self) -> None:
        await self._start(await self._receive())
        ready: dict[str, Any] = {"type": "ready"}
        if self.record is not None:
            ready["analysis_id"] = self.record.id
        await self._send(ready)
        if self.decoder is None:
            await self._receive_audio(self._audio)
        else:
            await self._encoded(self.decoder)
        await self._events(await self.svc.compute.run(self._decide, None))
        await self._save()
        end: dict[str, Any] = {"type": "end"}
        if self.record is not None:
            end["analysis_id"] = self.record.id
        await self._send(end)
        await self.ws.close(code=CLOSE_NORMAL)

    async def _receive_audio(self, audio: Callable[[bytes], Awaitable[None]]) -> None:
        """Hand every binary message to ``audio``, up to the stop message."""
        while True:
            message = await self._receive()
            data = message.get("bytes")
            if data is not None:
                await audio(data)
                continue
            request = _json(message.get("text"))
            if request.get("type") != "stop":
                raise _StreamError("bad_message", f"expected audio (binary) or a stop message, "
                                   f"got a {request.get('type')!r} message")
            return

    async def _encoded(self, decoder: EncodedStream) -> None:
        """Receive an encoded stream while its decoded samples go through the engine; return
        once all of it is pushed (the first error of either side stops both)."""

        async def receive() -> None:
            await self._receive_audio(decoder.write)
            decoder.close()

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._push_decoded, decoder)
                await receive()
        except BaseExceptionGroup as group:
            exc: BaseException = group
            while isinstance(exc, BaseExceptionGroup):
                exc = exc.exceptions[0]
            raise exc from None

    async def _push_decoded(self, decoder: EncodedStream) -> None:
        while True:
            try:
                chunk = await decoder.read()
            except DecodeFailed as exc:
                raise _StreamError(exc.code, exc.message) from None
            if chunk is None:
                return
            await self._push(chunk)

    async def _start(self, message: dict[str, Any]) -> None:
        if message.get("bytes") is not None:
            raise _StreamError("bad_message", "send a start message (JSON text) before audio")
        request = _json(message.get("text"))
        if request.get("type") != "start":
            raise _StreamError("bad_message", f"expected a start message, got a "
                               f"{request.get('type')!r} message")
        try:
            start = StartMessage.model_validate(request)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" if e["loc"]
                                 else e["msg"] for e in exc.errors()[:5])
            raise _StreamError("bad_message", f"bad start message: {problems}") from None
        if start.format == "encoded":
            self.rate = self.svc.predictor.sample_rate  # the decoder resamples to it
        else:
            assert start.sample_rate is not None
            self.rate = start.sample_rate
            self.dtype, self.scale = FORMATS[start.format]
        self.max_samples = int(self.svc.limits.max_duration * self.rate)
        self.engine = StreamingPredictor(self.svc.predictor, window=WINDOW, hop=HOP,
                                         vad=start.vad == "silero")
        if start.analysis:
            name = start.name if start.name is not None else "live recording"
            self.record = await run_in_threadpool(
                self.svc.store.create, filename=display_name(name), source="stream",
                model_version=self.svc.version, status=Status.RUNNING)
            self.builder = TimelineBuilder(self.svc.predictor.labels)
        if start.format == "encoded":
            self.decoder = EncodedStream(self.rate, container=start.container)
            self.decoder.start()

    async def _audio(self, data: bytes) -> None:
        """One binary message of PCM samples."""
        width = np.dtype(self.dtype).itemsize
        if len(data) % width:
            raise _StreamError("bad_frame", f"a binary message must hold whole {width}-byte "
                               f"samples, got {len(data)} bytes")
        await self._push(np.frombuffer(data, dtype=self.dtype).astype(np.float32)
                         * np.float32(self.scale))

    async def _push(self, chunk: np.ndarray) -> None:
        """Push samples (float32 at ``self.rate``) into the engine; send the events."""
        if self.samples + chunk.shape[0] > self.max_samples:
            raise _StreamError("too_long", f"the stream is longer than the "
                               f"{self.svc.limits.max_duration:g} s this server analyses")
        if not np.isfinite(chunk).all():
            raise _StreamError("bad_audio", "the audio holds NaN or infinite samples")
        self.samples += chunk.shape[0]
        try:
            events = await self.svc.compute.run(self._decide, chunk)
        except AudioError as exc:
            raise _StreamError("bad_audio", exc.reason) from None
        await self._events(events)

    def _decide(self, chunk: np.ndarray | None) -> list[Event]:
        """Push ``chunk`` into the engine (``None``: flush it), and the events into the
        timeline; one call at a time, in a worker thread."""
        with self.lock:
            return self._decide_locked(chunk)

    def _decide_locked(self, chunk: np.ndarray | None) -> list[Event]:
        if chunk is None:
            events = self._engine.flush()
            self.flushed = True
        else:
            events = self._engine.push(chunk, self.rate)
        if self.builder is not None:
            self.builder.add(events)
        return events

    def _timeline(self) -> Timeline:
        """The timeline of everything received (the engine flushed first if need be)."""
        assert self.builder is not None
        with self.lock:
            if not self.flushed:
                self._decide_locked(None)
            return self.builder.build(self.samples / self.rate)

    async def _events(self, events: list[Event]) -> None:
        for e in events:
            await self._send({"type": "event", **e.to_dict()})

    # ------------------------------------------------------------------------------ helpers

    @property
    def _engine(self) -> StreamingPredictor:
        assert self.engine is not None
        return self.engine

    async def _receive(self) -> dict[str, Any]:
        try:
            message = await asyncio.wait_for(self.ws.receive(), self.timeout)
        except TimeoutError:
            raise _StreamError("timeout", f"nothing received for {self.timeout:g} s") from None
        if message["type"] == "websocket.disconnect":
            raise _Gone
        return message

    async def _send(self, obj: dict[str, Any]) -> None:
        try:
            await self.ws.send_json(obj)
        except (WebSocketDisconnect, RuntimeError, OSError):
            raise _Gone from None

    async def _save(self, *, failed: str | None = None) -> None:
        """Store the analysis (once): the timeline of the audio received, or why not."""
        if self.saved or self.record is None or self.builder is None:
            return
        self.saved = True
        try:
            if failed is None and self.samples == 0:
                failed = "no audio was received"
            if failed is not None:
                await run_in_threadpool(self.svc.store.fail, self.record.id, failed)
                return
            result = await self.svc.compute.run(self._timeline)
            await run_in_threadpool(self.svc.store.finish, self.record.id, result)
        except Exception:
            log.exception("cannot store stream analysis %s", self.record.id)


def _json(text: str | None) -> dict[str, Any]:
    try:
        obj = json.loads(text or "")
    except json.JSONDecodeError:
        raise _StreamError("bad_message", "a text message must be a JSON object") from None
    if not isinstance(obj, dict):
        raise _StreamError("bad_message", "a text message must be a JSON object")
    return obj
