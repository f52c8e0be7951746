"""Helpers of the service tests (imported by their modules and fixtures)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emoscope.inference import Predictor
from emoscope.testing import speechlike

SR = 16000
TOKEN = "test-token-123"
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
RAVDESS_CLIP = "RAVDESS/audio_speech_actors_01-24/Actor_01/03-01-05-02-01-01-01.flac"


class GatedPredictor(Predictor):
    """A real predictor whose predictions wait for ``gate`` and can be made to fail, so that
    tests can hold a job or a request in flight."""

    def __init__(self, bundle: Any) -> None:
        super().__init__(bundle)
        self.gate = threading.Event()
        self.gate.set()
        self.error: Exception | None = None
        self.calls = 0

    def predict_proba(self, waveforms: Sequence[np.ndarray], sample_rate: int, *,
                      batch_size: int = 16) -> np.ndarray:
        self.calls += 1
        if not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        if self.error is not None:
            raise self.error
        return super().predict_proba(waveforms, sample_rate, batch_size=batch_size)


def speech_signal(seconds: float = 3.0, *, sr: int = SR, seed: int = 0) -> np.ndarray:
    """0.5 s of silence, ``seconds`` of a speech-like signal, 1 s of silence (float32)."""
    return np.concatenate([np.zeros(sr // 2, np.float32),
                           speechlike(seconds=seconds, sr=sr, seed=seed),
                           np.zeros(sr, np.float32)])


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is a JSON error with ``status`` and ``code``; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ravdess_clip() -> Path:
    """A real speech recording from ``../shared/data`` (skip when absent)."""
    path = DATA / RAVDESS_CLIP
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


# ------------------------------------------------------------------------------ PostgreSQL


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit()
                        else 0)
    return candidates[-1] if candidates else None


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL server on a Unix socket in a temporary folder; yield the
    folder of its socket."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed (Debian: apt-get install "
                    "postgresql)")
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="emoscope-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser to start PostgreSQL as 'postgres'")
        as_user = [runuser, "-u", "postgres", "--"]
        shutil.chown(root, "postgres", "postgres")
    data, log = root / "data", root / "server.log"
    env = {**os.environ, "LC_ALL": "C"}
    try:
        subprocess.run([*as_user, initdb, "-D", str(data), "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--no-sync"], check=True, capture_output=True,
                       env=env, timeout=120)
        opts = f"-k {root} -c listen_addresses='' -F"
        started = subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o", opts, "-l", str(log),
                                  "-w", "-t", "60", "start"], capture_output=True, env=env,
                                 timeout=120)
        if started.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr.decode()}\n"
                               f"{log.read_text() if log.is_file() else ''}")
        try:
            yield str(root)
        finally:
            subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, env=env, timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)
