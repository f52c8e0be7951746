"""`emoscope serve`: its help, its refusals, and the real server (uvicorn in a subprocess) that
keeps its analyses across a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from service_helpers import TOKEN, auth, free_port

from emoscope.cli import main


def test_serve_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--host", "--port", "--bundle", "--db", "--token", "--max-upload-mb",
                   "--max-duration", "--max-jobs", "--timeout", "EMOSCOPE_TOKEN"):
        assert option in text, option


def test_serve_refuses_bad_options(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   bundle_dir: Path) -> None:
    assert main(["serve", "--bundle", str(tmp_path / "nothing")]) == 1
    assert capsys.readouterr().err.count("\n") == 1  # one line: error: ...
    assert main(["serve", "--bundle", str(bundle_dir), "--db", "mysql://u@h/db"]) == 1
    assert "unsupported database URL" in capsys.readouterr().err
    assert main(["serve", "--token", ""]) == 2
    assert main(["serve", "--max-jobs", "0"]) == 2
    assert main(["serve", "--port", "70000"]) == 2


@contextmanager
def _server(args: list[str], log: Path) -> Iterator[str]:
    """``emoscope serve`` in a subprocess on a free port; yields its base URL once healthy."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EMOSCOPE_TOKEN": TOKEN}
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "emoscope.cli", "serve", "--port",
                                 str(port), *args], stdout=out, stderr=subprocess.STDOUT,
                                env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the server exited ({proc.returncode}):\n"
                                     f"{log.read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_real_server_keeps_analyses_across_a_restart(tmp_path: Path, bundle_dir: Path,
                                                     audio_dir: Path) -> None:
    db = tmp_path / "served.db"
    args = ["--bundle", str(bundle_dir), "--db", f"sqlite:///{db}"]
    log = tmp_path / "server.log"
    with _server(args, log) as base:
        assert httpx.get(f"{base}/v1/models").status_code == 401  # the token from the env
        with open(audio_dir / "speech.wav", "rb") as fh:
            r = httpx.post(f"{base}/v1/analyses?vad=energy", headers=auth(),
                           files={"file": ("speech.wav", fh)}, timeout=30)
        assert r.status_code == 202, r.text
        analysis_id = r.json()["id"]
        deadline = time.monotonic() + 60
        while (got := httpx.get(f"{base}/v1/analyses/{analysis_id}", headers=auth(),
                                timeout=10).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert got["status"] == "done" and got["segments"]
        with open(audio_dir / "speech.wav", "rb") as fh:
            predicted = httpx.post(f"{base}/v1/predict", headers=auth(),
                                   files={"file": ("speech.wav", fh)}, timeout=30)
        assert predicted.status_code == 200 and predicted.json()["duration"] > 4
    with _server(args, log) as base:
        again = httpx.get(f"{base}/v1/analyses/{analysis_id}", headers=auth(), timeout=10)
        assert again.json() == got
        assert httpx.get(f"{base}/v1/analyses", headers=auth(), timeout=10).json()["total"] == 1
