"""Background analyses: submit, poll, list, the job bound, refusals, and crash recovery."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import GatedPredictor, assert_error

from emoscope.inference import timeline
from emoscope.service import Limits, Status, Store


def _submit(client: TestClient, path: Path, *, name: str | None = None,
            vad: str = "energy") -> Any:
    with open(path, "rb") as fh:
        return client.post(f"/v1/analyses?vad={vad}", files={"file": (name or path.name, fh)})


def _wait(client: TestClient, analysis_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/v1/analyses/{analysis_id}")
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("done", "failed"):
            return r.json()
        time.sleep(0.05)
    raise AssertionError(f"analysis {analysis_id} did not finish in {timeout} s")


def test_analysis_runs_in_the_background_and_gives_the_timeline(
        client: TestClient, audio_dir: Path, predictor: GatedPredictor) -> None:
    r = _submit(client, audio_dir / "long.wav")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    analysis_id = r.json()["id"]
    assert r.headers["location"] == f"/v1/analyses/{analysis_id}"
    done = _wait(client, analysis_id)
    assert done["status"] == "done" and done["error"] is None
    assert done["filename"] == "long.wav" and done["source"] == "upload"
    assert done["model_version"] == client.get("/v1/models").json()["version"]
    assert done["duration"] == pytest.approx(8.0, abs=1e-3)
    # the library's own timeline of the same file, with the same settings
    expected = timeline(audio_dir / "long.wav", predictor, vad=False).to_dict()
    assert len(done["segments"]) == len(expected["segments"]) >= 1
    for got, want in zip(done["segments"], expected["segments"], strict=True):
        assert got["label"] == want["label"]
        assert got["start"] == pytest.approx(want["start"])
        assert got["end"] == pytest.approx(want["end"])
        assert got["probabilities"] == pytest.approx(want["probabilities"])
    assert done["label"] == expected["label"]
    assert done["probabilities"] == pytest.approx(expected["probabilities"])
    folder = client.app.state.service.upload_dir  # type: ignore[attr-defined]
    assert list(folder.iterdir()) == []  # the upload is deleted after processing


def test_raw_body_analysis_takes_its_name_from_the_query(client: TestClient,
                                                         audio_dir: Path) -> None:
    r = client.post("/v1/analyses?vad=energy&filename=C:%5Cusers%5Cme%5Ctalk.flac",
                    content=(audio_dir / "speech.flac").read_bytes(),
                    headers={"Content-Type": "audio/flac"})
    assert r.status_code == 202, r.text
    done = _wait(client, r.json()["id"])
    assert done["status"] == "done" and done["filename"] == "talk.flac"


def test_no_speech_is_done_without_segments(client: TestClient, audio_dir: Path) -> None:
    done = _wait(client, _submit(client, audio_dir / "silent.wav").json()["id"])
    assert done["status"] == "done"
    assert done["segments"] == [] and done["label"] is None and done["probabilities"] == {}
    assert done["duration"] == pytest.approx(1.0)


def test_refused_uploads(make_client: Callable[..., TestClient], audio_dir: Path) -> None:
    client = make_client(limits=Limits(max_duration=5.0, max_upload_mb=0.3))  # long.wav: 256 kB
    assert_error(_submit(client, audio_dir / "not-audio.wav"), 415, "not_audio")
    body = assert_error(_submit(client, audio_dir / "long.wav"), 422, "too_long")
    assert "5 s" in body["error"]["message"]
    assert_error(client.post("/v1/analyses", content=b"x" * 400_000,
                             headers={"Content-Type": "audio/wav"}), 413, "too_large")
    assert_error(client.post("/v1/analyses?vad=loud", content=b"x",
                             headers={"Content-Type": "audio/wav"}), 422, "invalid_request")
    # nothing was stored, no slot is left taken, no upload is left behind
    assert client.get("/v1/analyses").json()["total"] == 0
    svc = client.app.state.service  # type: ignore[attr-defined]
    assert svc.jobs.in_flight == 0
    assert list(svc.upload_dir.iterdir()) == []


def test_jobs_past_the_bound_get_429(make_client: Callable[..., TestClient], audio_dir: Path,
                                     gated: GatedPredictor) -> None:
    client = make_client(limits=Limits(max_jobs=2, job_workers=1))
    gated.gate.clear()  # the first job blocks in its first prediction
    first = _submit(client, audio_dir / "speech.wav")
    second = _submit(client, audio_dir / "speech.wav")
    assert first.status_code == second.status_code == 202
    body = assert_error(_submit(client, audio_dir / "speech.wav"), 429, "busy")
    assert "2 recording" in body["error"]["message"]
    assert client.get(f"/v1/analyses/{second.json()['id']}").json()["status"] == "queued"
    deadline = time.monotonic() + 10
    while client.get(f"/v1/analyses/{first.json()['id']}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    gated.gate.set()
    assert _wait(client, first.json()["id"])["status"] == "done"
    assert _wait(client, second.json()["id"])["status"] == "done"
    third = _submit(client, audio_dir / "speech.wav")
    assert third.status_code == 202
    assert _wait(client, third.json()["id"])["status"] == "done"


def test_a_job_that_fails_is_stored_as_failed(client: TestClient, audio_dir: Path,
                                              gated: GatedPredictor) -> None:
    gated.error = RuntimeError("secret internal detail")
    failed = _wait(client, _submit(client, audio_dir / "speech.wav").json()["id"])
    assert failed["status"] == "failed"
    assert "error in the server" in failed["error"] and "secret" not in failed["error"]
    assert failed["segments"] == []


def test_listing_is_newest_first_and_paginated(client: TestClient, audio_dir: Path) -> None:
    ids = []
    for k in range(5):
        ids.append(_submit(client, audio_dir / "speech.wav", name=f"take{k}.wav").json()["id"])
        _wait(client, ids[-1])
    page = client.get("/v1/analyses?limit=2").json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 0
    assert [a["id"] for a in page["items"]] == ids[::-1][:2]
    assert all("segments" not in a for a in page["items"])
    rest = client.get("/v1/analyses?limit=2&offset=2").json()
    assert [a["id"] for a in rest["items"]] == ids[::-1][2:4]
    last = client.get("/v1/analyses?limit=2&offset=4").json()
    assert [a["filename"] for a in last["items"]] == ["take0.wav"]
    assert client.get("/v1/analyses?offset=10").json()["items"] == []
    assert_error(client.get("/v1/analyses?limit=0"), 422, "invalid_request")
    assert_error(client.get("/v1/analyses?limit=101"), 422, "invalid_request")
    assert_error(client.get("/v1/analyses?offset=-1"), 422, "invalid_request")


def test_unknown_analysis_is_404(client: TestClient) -> None:
    assert_error(client.get("/v1/analyses/7d0f5a3e-2a8b-4a71-9b55-0d6c6f0f3d11"), 404,
                 "not_found")
    assert_error(client.get("/v1/analyses/not-a-uuid"), 404, "not_found")


def test_unfinished_analyses_of_a_crashed_run_are_failed_at_start(
        make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crashed.db'}"
    store = Store.open(url)
    running = store.create(filename="a.wav", model_version="v", status=Status.RUNNING)
    queued = store.create(filename="b.wav", model_version="v")
    done = store.create(filename="c.wav", model_version="v")
    store.finish(done.id, timeline_of_nothing())
    store.close()
    client = make_client(db_url=url)
    for rec in (running, queued):
        got = client.get(f"/v1/analyses/{rec.id}").json()
        assert got["status"] == "failed"
        assert "server stopped" in got["error"]
    assert client.get(f"/v1/analyses/{done.id}").json()["status"] == "done"


def timeline_of_nothing() -> Any:
    from emoscope.inference import Timeline

    return Timeline([], 2.0, ["angry", "happy", "neutral", "sad"])
