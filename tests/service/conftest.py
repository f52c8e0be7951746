"""Fixtures of the service tests: a tiny bundle, generated recordings, apps on temporary
databases, and a throwaway PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_helpers import SR, GatedPredictor, postgres_server, speech_signal

from emoscope.service import create_app
from emoscope.testing import speechlike, write_audio
from emoscope.testing.bundles import make_bundle


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny untrained bundle (MLP on MFCC means: fast)."""
    return make_bundle(tmp_path_factory.mktemp("service") / "bundle", feature="mfcc-mean",
                       model="mlp")


@pytest.fixture(scope="session")
def predictor(bundle_dir: Path) -> GatedPredictor:
    return GatedPredictor.from_bundle(bundle_dir)  # type: ignore[return-value]


@pytest.fixture
def gated(predictor: GatedPredictor) -> Iterator[GatedPredictor]:
    """The shared predictor, gate open and no error again after the test."""
    yield predictor
    predictor.error = None
    predictor.gate.set()


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated files: ``speech.wav`` (4.5 s), ``speech.flac``, ``silent.wav``,
    ``short.wav`` (100 samples), ``long.wav`` (8 s), ``aiff-named.wav`` (AIFF data),
    ``not-audio.wav`` (text)."""
    d = tmp_path_factory.mktemp("audio")
    y = speech_signal()
    write_audio(d / "speech.wav", y, SR)
    write_audio(d / "speech.flac", y, SR)
    write_audio(d / "silent.wav", np.zeros(SR, np.float32), SR)
    write_audio(d / "short.wav", speechlike(seconds=0.00625, seed=1), SR)
    write_audio(d / "long.wav", speech_signal(6.5, seed=2), SR)
    write_audio(d / "aiff-named.wav", y, SR, format="AIFF")
    (d / "not-audio.wav").write_text("this is a text file, not a recording\n" * 20)
    return d


@pytest.fixture
def make_client(tmp_path: Path, gated: GatedPredictor
                ) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**create_app_kwargs)``: a started app (lifespan run) on a temporary SQLite
    database, with the shared predictor; closed after the test."""
    stack: list[TestClient] = []

    def make(*, raise_server_exceptions: bool = True, **kwargs: Any) -> TestClient:
        kwargs.setdefault("predictor", gated)
        if "store" not in kwargs:
            kwargs.setdefault("db_url", f"sqlite:///{tmp_path / 'analyses.db'}")
        kwargs.setdefault("workers", 1)
        client = TestClient(create_app(**kwargs), raise_server_exceptions=raise_server_exceptions)
        client.__enter__()
        stack.append(client)
        return client

    yield make
    for client in reversed(stack):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """An app without a token, default limits."""
    return make_client()


@pytest.fixture(scope="session")
def postgres_socket() -> Iterator[str]:
    """The socket folder of a PostgreSQL server started for this test session."""
    with postgres_server() as sockdir:
        yield sockdir


@pytest.fixture
def postgres_url(postgres_socket: str) -> str:
    """A new, empty database on the session's PostgreSQL server."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=postgres_socket, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@/{name}?host={postgres_socket}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")
