"""`POST /v1/predict`: uploads in both shapes, and every way an upload can be refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_helpers import GatedPredictor, assert_error, speech_signal

from emoscope.audio.io import load_audio
from emoscope.service import Limits
from emoscope.testing import write_audio


def _post_file(client: TestClient, path: Path, name: str | None = None) -> object:
    with open(path, "rb") as fh:
        return client.post("/v1/predict", files={"file": (name or path.name, fh)})


def test_multipart_upload_gives_label_probabilities_and_duration(
        client: TestClient, audio_dir: Path, predictor: GatedPredictor) -> None:
    r = _post_file(client, audio_dir / "speech.wav")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"label", "probabilities", "duration"}
    assert list(body["probabilities"]) == predictor.labels
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert body["label"] == max(body["probabilities"], key=body["probabilities"].get)
    assert body["duration"] == pytest.approx(4.5, abs=1e-3)
    # the same numbers as the library's own prediction of the decoded file
    y, sr = load_audio(audio_dir / "speech.wav", sample_rate=predictor.sample_rate)
    expected = predictor.predict(y, sr)
    assert body["label"] == expected.label
    for lab, p in expected.probabilities.items():
        assert body["probabilities"][lab] == pytest.approx(p, abs=1e-6)


@pytest.mark.parametrize("content_type", ["audio/wav", "audio/x-wav", "application/octet-stream",
                                          "video/mp4"])
def test_raw_body_upload(client: TestClient, audio_dir: Path, content_type: str) -> None:
    data = (audio_dir / "speech.wav").read_bytes()
    r = client.post("/v1/predict", content=data, headers={"Content-Type": content_type})
    assert r.status_code == 200, r.text
    assert r.json()["duration"] == pytest.approx(4.5, abs=1e-3)


def test_content_decides_not_the_name(client: TestClient, audio_dir: Path) -> None:
    flac = _post_file(client, audio_dir / "speech.flac", name="recording.mp3")
    aiff = _post_file(client, audio_dir / "aiff-named.wav", name="x")
    wav = _post_file(client, audio_dir / "speech.wav")
    assert flac.status_code == aiff.status_code == 200
    assert flac.json()["probabilities"] == pytest.approx(wav.json()["probabilities"], abs=1e-3)
    assert aiff.json()["probabilities"] == pytest.approx(wav.json()["probabilities"], abs=1e-3)


def test_client_path_is_never_used(client: TestClient, audio_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "must-not-exist.wav"
    r = _post_file(client, audio_dir / "speech.wav", name=str(target))
    assert r.status_code == 200
    assert not target.exists()
    # and the server's upload folder is empty once the request is answered
    folder = client.app.state.service.upload_dir  # type: ignore[attr-defined]
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_not_audio_is_415(client: TestClient, audio_dir: Path) -> None:
    body = assert_error(_post_file(client, audio_dir / "not-audio.wav"), 415, "not_audio")
    assert "not a readable audio" in body["error"]["message"]
    assert "emoscope-uploads" not in body["error"]["message"]  # no server path leaks
    folder = client.app.state.service.upload_dir  # type: ignore[attr-defined]
    assert list(folder.iterdir()) == []


def test_silent_audio_is_422(client: TestClient, audio_dir: Path) -> None:
    body = assert_error(_post_file(client, audio_dir / "silent.wav"), 422, "silent_audio")
    assert "no signal" in body["error"]["message"]


def test_too_short_audio_is_422(client: TestClient, audio_dir: Path) -> None:
    body = assert_error(_post_file(client, audio_dir / "short.wav"), 422, "too_short")
    assert "shorter" in body["error"]["message"]


def test_empty_upload_is_422(client: TestClient) -> None:
    assert_error(client.post("/v1/predict", files={"file": ("a.wav", b"")}), 422, "empty_audio")
    assert_error(client.post("/v1/predict", content=b"", headers={"Content-Type": "audio/wav"}),
                 422, "empty_audio")


def test_clip_longer_than_the_limit_is_422(make_client: Callable[..., TestClient],
                                           audio_dir: Path) -> None:
    client = make_client(limits=Limits(max_clip_duration=5.0))
    assert _post_file(client, audio_dir / "speech.wav").status_code == 200  # 4.5 s
    body = assert_error(_post_file(client, audio_dir / "long.wav"), 422, "too_long")  # 8 s
    assert "/v1/analyses" in body["error"]["message"]


def test_upload_larger_than_the_limit_is_413(make_client: Callable[..., TestClient],
                                             audio_dir: Path) -> None:
    client = make_client(limits=Limits(max_upload_mb=0.1))  # 100 kB; speech.wav is 144 kB
    data = (audio_dir / "speech.wav").read_bytes()
    assert len(data) > 100_000
    assert_error(_post_file(client, audio_dir / "speech.wav"), 413, "too_large")
    assert_error(client.post("/v1/predict", content=data,
                             headers={"Content-Type": "audio/wav"}), 413, "too_large")

    def chunks(blob: bytes) -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for i in range(0, len(blob), 8192):
            yield blob[i:i + 8192]

    assert_error(client.post("/v1/predict", content=chunks(data),
                             headers={"Content-Type": "audio/wav"}), 413, "too_large")
    boundary = "xYzBoundary"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    assert_error(client.post("/v1/predict", content=chunks(form), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"}), 413, "too_large")
    folder = client.app.state.service.upload_dir  # type: ignore[attr-defined]
    assert list(folder.iterdir()) == []


def test_wrong_content_type_and_missing_field(client: TestClient, audio_dir: Path) -> None:
    body = assert_error(client.post("/v1/predict", json={"file": "x"}), 415,
                        "unsupported_media_type")
    assert "multipart" in body["error"]["message"]
    assert_error(client.post("/v1/predict", content=b"abc", headers={"Content-Type":
                                                                      "text/plain"}),
                 415, "unsupported_media_type")
    with open(audio_dir / "speech.wav", "rb") as fh:
        r = client.post("/v1/predict", files={"audio": ("speech.wav", fh)})
    assert_error(r, 422, "missing_file")
    assert_error(client.post("/v1/predict", data={"file": "not a file"},
                             files={"other": ("x.txt", b"abc")}), 422, "missing_file")
    assert_error(client.post("/v1/predict", data={"file": "x"}), 415,  # url-encoded form
                 "unsupported_media_type")


def test_slow_prediction_is_504(make_client: Callable[..., TestClient], audio_dir: Path,
                                gated: GatedPredictor) -> None:
    client = make_client(limits=Limits(request_timeout=0.5))
    gated.gate.clear()
    try:
        body = assert_error(_post_file(client, audio_dir / "speech.wav"), 504, "timeout")
        assert "0.5 s" in body["error"]["message"]
    finally:
        gated.gate.set()
    assert _post_file(client, audio_dir / "speech.wav").status_code == 200


def test_unexpected_error_is_500_json_without_details(make_client: Callable[..., TestClient],
                                                      audio_dir: Path,
                                                      gated: GatedPredictor) -> None:
    client = make_client(raise_server_exceptions=False)
    gated.error = RuntimeError("secret internal detail")
    r = _post_file(client, audio_dir / "speech.wav")
    assert_error(r, 500, "internal_error")
    assert "secret internal detail" not in r.text


def test_resampled_input_rates(client: TestClient, tmp_path: Path) -> None:
    path = write_audio(tmp_path / "44k.wav", speech_signal(sr=44100), 44100)
    r = _post_file(client, path)
    assert r.status_code == 200
    assert r.json()["duration"] == pytest.approx(4.5, abs=1e-3)
