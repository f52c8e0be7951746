"""The store on SQLite and on a real PostgreSQL server, and the database URLs it takes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from emoscope.inference import Segment, Timeline
from emoscope.service import Status, Store, database_url
from emoscope.service.errors import StoreError
from emoscope.service.store import INTERRUPTED, default_database_path

LABELS = ["angry", "happy", "neutral", "sad"]


def _timeline() -> Timeline:
    return Timeline([Segment(0.5, 2.25, "sad", {"angry": 0.1, "happy": 0.2, "neutral": 0.3,
                                                  "sad": 0.4}),
                     Segment(3.0, 4.0, "happy", {"angry": 0.1, "happy": 0.6, "neutral": 0.2,
                                                 "sad": 0.1})],
                    5.5, LABELS)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def test_lifecycle_and_timeline_round_trip(store: Store) -> None:
    before = datetime.now(UTC)
    rec = store.create(filename="talk.flac", model_version="abc123")
    assert rec.status is Status.QUEUED and rec.source == "upload"
    assert before <= rec.created <= datetime.now(UTC)
    got = store.get(rec.id)
    assert got is not None and got.status is Status.QUEUED and got.segments == []
    assert got.created == rec.created and got.created.tzinfo is not None
    store.set_running(rec.id)
    assert store.get(rec.id).status is Status.RUNNING  # type: ignore[union-attr]
    tl = _timeline()
    store.finish(rec.id, tl)
    done = store.get(rec.id)
    assert done is not None
    assert done.status is Status.DONE and done.error is None
    assert done.duration == 5.5 and done.label == tl.label
    assert done.probabilities == pytest.approx(tl.probabilities)
    assert done.segments == tl.segments  # order, times, labels and probabilities
    assert done.to_dict()["segments"][0] == tl.segments[0].to_dict()
    assert done.filename == "talk.flac" and done.model_version == "abc123"


def test_finish_replaces_segments_and_fail_keeps_a_message(store: Store) -> None:
    rec = store.create(filename=None, model_version=None)
    store.finish(rec.id, _timeline())
    store.finish(rec.id, Timeline([], 1.0, LABELS))
    again = store.get(rec.id)
    assert again is not None and again.segments == [] and again.label is None
    assert again.probabilities == {}
    store.fail(rec.id, "not a readable audio file")
    failed = store.get(rec.id)
    assert failed is not None and failed.status is Status.FAILED
    assert failed.error == "not a readable audio file"


def test_listing_newest_first_with_pages(store: Store) -> None:
    ids = [store.create(filename=f"{k}.wav", model_version="v").id for k in range(7)]
    items, total = store.list(limit=3, offset=0)
    assert total == 7 and [r.id for r in items] == ids[::-1][:3]
    items, _ = store.list(limit=3, offset=6)
    assert [r.id for r in items] == [ids[0]]
    assert store.list(limit=3, offset=7) == ([], 7)


def test_recover_interrupted(store: Store) -> None:
    queued = store.create(filename="q", model_version="v")
    running = store.create(filename="r", model_version="v", source="stream",
                           status=Status.RUNNING)
    done = store.create(filename="d", model_version="v")
    store.finish(done.id, _timeline())
    assert store.recover_interrupted() == 2
    for rec in (queued, running):
        got = store.get(rec.id)
        assert got is not None and got.status is Status.FAILED and got.error == INTERRUPTED
    assert store.get(done.id).status is Status.DONE  # type: ignore[union-attr]
    assert store.recover_interrupted() == 0


def test_a_reopened_store_keeps_everything(db_url: str) -> None:
    first = Store.open(db_url)
    rec = first.create(filename="kept.wav", model_version="v")
    first.finish(rec.id, _timeline())
    first.close()
    second = Store.open(db_url)  # tables exist already
    try:
        got = second.get(rec.id)
        assert got is not None and got.segments == _timeline().segments
    finally:
        second.close()


def test_unknown_ids(store: Store) -> None:
    assert store.get("7d0f5a3e-2a8b-4a71-9b55-0d6c6f0f3d11") is None
    assert store.get("../../etc/passwd") is None
    with pytest.raises(StoreError, match="no analysis"):
        store.finish("7d0f5a3e-2a8b-4a71-9b55-0d6c6f0f3d11", _timeline())


def test_app_on_postgresql(postgres_url: str, make_client: Callable[..., TestClient],
                           audio_dir: Path) -> None:
    client = make_client(db_url=postgres_url)
    with open(audio_dir / "speech.wav", "rb") as fh:
        r = client.post("/v1/analyses?vad=energy", files={"file": ("speech.wav", fh)})
    assert r.status_code == 202
    import time

    deadline = time.monotonic() + 30
    while (got := client.get(f"/v1/analyses/{r.json()['id']}").json())["status"] in (
            "queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert got["status"] == "done" and got["segments"]
    assert client.get("/v1/analyses").json()["total"] == 1
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(("given", "expected"), [
    ("postgresql://u:p@db.example:5432/emo", "postgresql+psycopg://u:p@db.example:5432/emo"),
    ("postgres://u@h/emo", "postgresql+psycopg://u@h/emo"),
    ("postgresql+psycopg://u@h/emo", "postgresql+psycopg://u@h/emo"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_urls(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_database_url_from_paths_and_environment(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    assert database_url(tmp_path / "a.db") == f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv("EMOSCOPE_DB", str(tmp_path / "env.db"))
    assert database_url() == f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.delenv("EMOSCOPE_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_database_path() == tmp_path / "xdg" / "emoscope" / "emoscope.db"
    assert database_url() == f"sqlite:///{tmp_path / 'xdg' / 'emoscope' / 'emoscope.db'}"
    store = Store.open()  # creates the data folder
    try:
        assert (tmp_path / "xdg" / "emoscope" / "emoscope.db").is_file()
        assert store.backend == "sqlite"
    finally:
        store.close()


def test_bad_databases_are_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unsupported"):
        database_url("mysql://u@h/db")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        Store.open(blocker / "sub" / "x.db")  # its folder cannot be made
    with pytest.raises(StoreError, match="cannot open"):
        Store.open(f"postgresql://nobody@/nodb?host={tmp_path}")  # no server there


def test_password_is_hidden(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "x.db")
    try:
        assert store.display_url.startswith("sqlite:///")
    finally:
        store.close()
    from sqlalchemy import create_engine

    hidden = Store(create_engine("postgresql+psycopg://u:secret@h/db")).display_url
    assert "secret" not in hidden and "***" in hidden
