"""`WS /v1/stream`: events as they are decided, the end of a stream, stored live sessions, and
every message the server refuses."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_helpers import SR, GatedPredictor, ravdess_clip, speech_signal
from starlette.websockets import WebSocketDisconnect

from emoscope.audio.io import load_audio
from emoscope.inference import StreamingPredictor
from emoscope.service import Limits


def _pcm(y: np.ndarray, fmt: str) -> bytes:
    if fmt == "pcm_s16le":
        return (np.clip(y, -1, 1) * 32767).astype("<i2").tobytes()
    return y.astype("<f4").tobytes()


def _stream(ws: Any, y: np.ndarray, fmt: str, *, block: int = 1600) -> list[dict[str, Any]]:
    """Send ``y`` in blocks, then stop; return every message after ``ready``, up to ``end``."""
    for i in range(0, y.shape[0], block):
        ws.send_bytes(_pcm(y[i:i + block], fmt))
    ws.send_json({"type": "stop"})
    messages = []
    while True:
        m = ws.receive_json()
        messages.append(m)
        if m["type"] != "event":
            return messages


def _expect_close(ws: Any, code: str, close_code: int = 1008) -> dict[str, Any]:
    m = ws.receive_json()
    assert m["type"] == "error" and m["code"] == code and m["message"], m
    with pytest.raises(WebSocketDisconnect) as info:
        ws.receive_json()
    assert info.value.code == close_code
    return m


@pytest.mark.parametrize("fmt", ["pcm_f32le", "pcm_s16le"])
def test_events_match_the_streaming_engine(client: TestClient, predictor: GatedPredictor,
                                           fmt: str) -> None:
    y = speech_signal(seed=4)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "sample_rate": SR, "format": fmt, "vad": "energy"})
        assert ws.receive_json() == {"type": "ready"}
        messages = _stream(ws, y, fmt)
    assert messages[-1] == {"type": "end"}
    events = messages[:-1]
    assert any(e["speech"] for e in events)
    x = np.frombuffer(_pcm(y, fmt), "<i2").astype(np.float32) / 32768 \
        if fmt == "pcm_s16le" else y
    engine = StreamingPredictor(predictor, window=3.0, hop=0.5, vad=False)
    expected = engine.push(x, SR) + engine.flush()
    assert len(events) == len(expected)
    for got, want in zip(events, expected, strict=True):
        assert set(got) == {"type", "time", "start", "end", "label", "probabilities", "speech"}
        assert got["label"] == want.label and got["speech"] == want.speech
        assert got["time"] == pytest.approx(want.time) and got["end"] == pytest.approx(want.end)
        assert got["probabilities"] == pytest.approx(want.probabilities, abs=1e-5)


def test_real_speech_with_silero_vad(client: TestClient) -> None:
    path = ravdess_clip()
    y, sr = load_audio(path)  # the file's own rate (48 kHz): the server resamples
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "sample_rate": sr, "format": "pcm_s16le"})
        assert ws.receive_json()["type"] == "ready"
        messages = _stream(ws, y, "pcm_s16le", block=sr // 10)
    assert messages[-1]["type"] == "end"
    speech = [m for m in messages if m["type"] == "event" and m["speech"]]
    assert speech, messages
    duration = y.shape[0] / sr
    for e in speech:
        assert 0 <= e["start"] < e["end"] <= duration + 0.05
        assert e["end"] - e["start"] <= 3.0 + 1e-6
        assert sum(e["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_stream_stored_as_analysis(client: TestClient) -> None:
    y = speech_signal(seed=5)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "sample_rate": SR, "format": "pcm_f32le",
                      "vad": "energy", "analysis": True, "name": "my session"})
        ready = ws.receive_json()
        messages = _stream(ws, y, "pcm_f32le")
    analysis_id = ready["analysis_id"]
    assert messages[-1] == {"type": "end", "analysis_id": analysis_id}
    stored = client.get(f"/v1/analyses/{analysis_id}").json()
    assert stored["status"] == "done" and stored["source"] == "stream"
    assert stored["filename"] == "my session"
    assert stored["duration"] == pytest.approx(y.shape[0] / SR)
    assert stored["segments"] and stored["label"] in stored["probabilities"]
    speech_ends = [m["end"] for m in messages if m["type"] == "event" and m["speech"]]
    assert stored["segments"][0]["start"] < speech_ends[0]
    listed = client.get("/v1/analyses").json()["items"]
    assert [a["id"] for a in listed] == [analysis_id]


def test_client_gone_keeps_what_was_streamed(client: TestClient) -> None:
    y = speech_signal(seed=6)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "sample_rate": SR, "format": "pcm_f32le",
                      "vad": "energy", "analysis": True})
        analysis_id = ws.receive_json()["analysis_id"]
        ws.send_bytes(_pcm(y[:3 * SR], "pcm_f32le"))
        ws.receive_json()  # the stream has been processed up to its first event
    stored = _wait_stored(client, analysis_id)
    assert stored["status"] == "done"
    assert stored["duration"] == pytest.approx(3.0)
    assert stored["segments"] and stored["segments"][-1]["end"] <= 3.0 + 1e-6


def _wait_stored(client: TestClient, analysis_id: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 10
    while True:
        got = client.get(f"/v1/analyses/{analysis_id}").json()
        if got["status"] != "running" or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_stream_with_no_audio_is_a_failed_analysis(client: TestClient) -> None:
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "sample_rate": SR, "format": "pcm_f32le",
                      "analysis": True})
        analysis_id = ws.receive_json()["analysis_id"]
        ws.send_json({"type": "stop"})
        assert ws.receive_json() == {"type": "end", "analysis_id": analysis_id}
    stored = client.get(f"/v1/analyses/{analysis_id}").json()
    assert stored["status"] == "failed" and "no audio" in stored["error"]


@pytest.mark.parametrize(("start", "code"), [
    ({"type": "hello"}, "bad_message"),
    ({"type": "start", "sample_rate": SR, "format": "opus"}, "bad_message"),
    ({"type": "start", "format": "encoded", "container": "nope"}, "bad_message"),
    ({"type": "start", "sample_rate": SR, "format": "pcm_f32le", "container": "ogg"},
     "bad_message"),
    ({"type": "start", "sample_rate": 100, "format": "pcm_f32le"}, "bad_message"),
    ({"type": "start", "format": "pcm_f32le"}, "bad_message"),
    ([1, 2, 3], "bad_message"),
])
def test_bad_start_messages(client: TestClient, start: Any, code: str) -> None:
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text(json.dumps(start))
        _expect_close(ws, code)


def test_protocol_errors_close_with_policy_violation(client: TestClient) -> None:
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_bytes(b"\x00\x00")
        assert "start message" in _expect_close(ws, "bad_message")["message"]
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_text("not json")
        _expect_close(ws, "bad_message")
    start = {"type": "start", "sample_rate": SR, "format": "pcm_s16le"}
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json(start)
        ws.receive_json()
        ws.send_bytes(b"\x00\x00\x00")  # 1.5 samples
        _expect_close(ws, "bad_frame")
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json(start)
        ws.receive_json()
        ws.send_json({"type": "start", "sample_rate": SR, "format": "pcm_s16le"})
        _expect_close(ws, "bad_message")
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({**start, "format": "pcm_f32le"})
        ws.receive_json()
        ws.send_bytes(np.array([0.1, np.nan], "<f4").tobytes())
        _expect_close(ws, "bad_audio")


def test_stream_longer_than_the_limit_is_closed(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_duration=1.0))
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "sample_rate": SR, "format": "pcm_f32le",
                      "analysis": True, "vad": "energy"})
        analysis_id = ws.receive_json()["analysis_id"]
        ws.send_bytes(_pcm(np.zeros(SR // 2, np.float32), "pcm_f32le"))
        ws.send_bytes(_pcm(np.zeros(SR, np.float32), "pcm_f32le"))
        messages = []
        while (m := ws.receive_json())["type"] == "event":
            messages.append(m)
        assert m["type"] == "error" and m["code"] == "too_long"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 1008
    stored = _wait_stored(client, analysis_id)
    assert stored["status"] == "done" and stored["duration"] == pytest.approx(0.5)


def test_silent_client_times_out(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(request_timeout=0.3))
    with client.websocket_connect("/v1/stream") as ws:
        _expect_close(ws, "timeout")


def test_streams_past_the_bound_are_refused(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_streams=1))
    start = {"type": "start", "sample_rate": SR, "format": "pcm_f32le"}
    with client.websocket_connect("/v1/stream") as first:
        first.send_json(start)
        assert first.receive_json()["type"] == "ready"
        with client.websocket_connect("/v1/stream") as second:
            _expect_close(second, "busy", 1013)
        first.send_json({"type": "stop"})
        assert first.receive_json()["type"] == "end"
    with client.websocket_connect("/v1/stream") as third:  # the slot is free again
        third.send_json(start)
        assert third.receive_json()["type"] == "ready"


# --------------------------------------------------------------------------- encoded audio

DECODER_THREAD = "emoscope-decoder"


class _LiveSink:
    """A file that can only be written: PyAV muxes into it as a live recorder (a browser's
    MediaRecorder) does, without going back to fill in sizes or an index."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)


def _encode(y: np.ndarray, sr: int, container: str, codec: str, rate: int, *,
            live: bool) -> bytes:
    """Mono float32 ``y`` encoded with PyAV: as a live recording (``live``) or a file."""
    import av

    sink: Any = _LiveSink() if live else io.BytesIO()
    with av.open(sink, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(y[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts = sr, 0
        for f in (frame, None):
            for packet in stream.encode(f):
                out.mux(packet)
    return b"".join(sink.parts) if live else sink.getvalue()


def _stream_encoded(ws: Any, data: bytes, *, block: int) -> list[dict[str, Any]]:
    """Send ``data`` in ``block``-byte messages, then stop; every message up to the end."""
    for i in range(0, len(data), block):
        ws.send_bytes(data[i:i + block])
    ws.send_json({"type": "stop"})
    messages = []
    while (m := ws.receive_json())["type"] == "event":
        messages.append(m)
    return [*messages, m]


def _decoder_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == DECODER_THREAD}


def _no_decoder_thread_after(before: set[threading.Thread], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while _decoder_threads() - before:
        assert time.monotonic() < deadline, f"decoder threads left: {_decoder_threads()}"
        time.sleep(0.01)


@pytest.mark.parametrize(("container", "codec", "rate", "live", "block", "reference"), [
    # Opus at 48 kHz, as browsers record it; a MediaRecorder's chunks, cut at 1000 bytes
    ("webm", "libopus", 48000, True, 1000, "encoded"),
    ("ogg", "libopus", 48000, True, 1 << 30, "encoded"),  # one message
    # a file's bytes: lossless FLAC decodes to the original clip's very samples
    ("flac", "flac", SR, False, 1000, "original"),
    ("mp3", "libmp3lame", SR, False, 1 << 30, "encoded"),
])
def test_encoded_stream_matches_its_decoded_pcm(
        client: TestClient, tmp_path: Path, container: str, codec: str, rate: int,
        live: bool, block: int, reference: str) -> None:
    """The events of an encoded stream are those of the same audio sent as PCM after decoding
    it with ``load_audio``: the original clip for FLAC (lossless), else the encoded file
    itself, decoded at its own rate (48 kHz for Opus) and resampled by the server.

    The server decodes with FFmpeg; ``load_audio`` reads WebM with FFmpeg too (the very same
    samples), but Ogg/Opus and MP3 with libsndfile (libopus, mpg123), whose samples differ by
    at most ~1e-6. So the events must agree one for one, with the same label, speech flag and
    times (the engine decides on a fixed 32 ms grid), and probabilities within 1e-4."""
    original, sr = load_audio(ravdess_clip())
    assert sr == SR
    data = _encode(original, sr, container, codec, rate, live=live)
    path = tmp_path / f"clip.{container}"
    path.write_bytes(data)
    y, y_sr = (original, sr) if reference == "original" else load_audio(path)

    start = {"type": "start", "format": "encoded"}
    if container != "ogg":  # Ogg is found from the bytes
        start["container"] = container
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json(start)
        assert ws.receive_json() == {"type": "ready"}
        got = _stream_encoded(ws, data, block=block)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "sample_rate": y_sr, "format": "pcm_f32le"})
        assert ws.receive_json() == {"type": "ready"}
        want = _stream(ws, y, "pcm_f32le", block=y_sr // 10)

    assert got[-1] == want[-1] == {"type": "end"}
    assert any(e["speech"] for e in got[:-1])
    assert len(got) == len(want)
    for g, w in zip(got[:-1], want[:-1], strict=True):
        assert (g["label"], g["speech"]) == (w["label"], w["speech"])
        for key in ("time", "start", "end"):
            assert g[key] == pytest.approx(w[key], abs=1e-9)
        assert g["probabilities"] == pytest.approx(w["probabilities"], abs=1e-4)


def test_encoded_stream_of_random_bytes_is_not_audio(client: TestClient) -> None:
    before = _decoder_threads()
    junk = np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "format": "encoded"})
        assert ws.receive_json() == {"type": "ready"}
        for i in range(0, len(junk), 1000):
            ws.send_bytes(junk[i:i + 1000])
        ws.send_json({"type": "stop"})
        m = _expect_close(ws, "not_audio")
    assert "Traceback" not in m["message"]
    _no_decoder_thread_after(before)


def test_encoded_client_gone_leaves_no_thread(client: TestClient) -> None:
    original, sr = load_audio(ravdess_clip())
    data = _encode(original, sr, "webm", "libopus", 48000, live=True)
    before = _decoder_threads()
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "format": "encoded", "container": "webm"})
        ws.receive_json()
        for i in range(0, len(data) // 2, 1000):
            ws.send_bytes(data[i:i + 1000])
        assert ws.receive_json()["type"] == "event"  # decoding is under way
        assert _decoder_threads() - before
    _no_decoder_thread_after(before)


def test_encoded_stream_stored_as_analysis(client: TestClient) -> None:
    original, sr = load_audio(ravdess_clip())
    data = _encode(original, sr, "flac", "flac", sr, live=False)
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "format": "encoded", "analysis": True,
                      "name": "encoded session"})
        analysis_id = ws.receive_json()["analysis_id"]
        messages = _stream_encoded(ws, data, block=4096)
    assert messages[-1] == {"type": "end", "analysis_id": analysis_id}
    stored = client.get(f"/v1/analyses/{analysis_id}").json()
    assert stored["status"] == "done" and stored["source"] == "stream"
    assert stored["filename"] == "encoded session"
    assert stored["duration"] == pytest.approx(original.shape[0] / sr)
    assert stored["segments"] and stored["label"] in stored["probabilities"]


def test_encoded_stream_longer_than_the_limit_is_closed(
        make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits=Limits(max_duration=1.0))
    original, sr = load_audio(ravdess_clip())
    data = _encode(original, sr, "ogg", "libopus", 48000, live=True)
    before = _decoder_threads()
    with client.websocket_connect("/v1/stream") as ws:
        ws.send_json({"type": "start", "format": "encoded", "analysis": True})
        analysis_id = ws.receive_json()["analysis_id"]
        ws.send_bytes(data)
        while (m := ws.receive_json())["type"] == "event":
            assert m["time"] <= 1.0
        assert m["type"] == "error" and m["code"] == "too_long", m
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 1008
    stored = _wait_stored(client, analysis_id)
    assert stored["status"] == "done" and stored["duration"] <= 1.0
    _no_decoder_thread_after(before)


def test_encoded_decoder_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples nobody takes stop the decoder, then the bytes it has not read stop the writer
    (backpressure); once read, every sample arrives, exactly (lossless, at the model's rate)."""
    from emoscope.service import encoded

    monkeypatch.setattr(encoded, "MAX_BUFFERED", 4096)
    monkeypatch.setattr(encoded, "MAX_QUEUED", 0.25)
    original, sr = load_audio(ravdess_clip())
    data = _encode(original, sr, "flac", "flac", sr, live=False)
    block = 1000

    async def main() -> encoded.EncodedStream:
        decoder = encoded.EncodedStream(SR, container="flac")
        decoder.start()
        try:
            sent = 0
            with pytest.raises(TimeoutError):  # nothing is read: the writer ends up waiting
                while sent < len(data):
                    await asyncio.wait_for(decoder.write(data[sent:sent + block]), 0.5)
                    sent += block
            assert sent < len(data) // 2

            async def feed() -> None:
                for i in range(sent, len(data), block):
                    await decoder.write(data[i:i + block])
                decoder.close()

            writer = asyncio.create_task(feed())
            parts = [await decoder.read()]
            assert parts[0] is not None and parts[0].shape[0] <= 0.25 * SR + 8192
            while (y := await decoder.read()) is not None:
                parts.append(y)
            await writer
            np.testing.assert_array_equal(np.concatenate(parts), original)
        finally:
            decoder.abort()
        return decoder

    assert asyncio.run(main()).join(timeout=10)
