"""`WS /v1/stream`: events as they are decided, the end of a stream, stored live sessions, and
every message the server refuses."""

from __future__ import annotations

import json
from collections.abc import Callable
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
    ({"type": "start", "sample_rate": SR, "format": "encoded"}, "bad_message"),
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
