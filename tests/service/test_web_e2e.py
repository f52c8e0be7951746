"""The web page at ``/``, end to end in headless Chromium against the real server.

``emoscope serve`` runs in a subprocess with a tiny model bundle and its own SQLite file;
Chromium's fake media device plays real RAVDESS speech as the microphone. The browser is
Debian's ``chromium`` driven by Playwright (no browser is downloaded). Skipped when Chromium or
the shared recordings are absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ACTOR_01 = REPO.parent / "shared" / "data" / "RAVDESS" / "audio_speech_actors_01-24" / "Actor_01"
# Two utterances of actor 1 (strong intensity), angry then happy: about 8 s together.
SPEECH_FILES = ("03-01-05-02-01-01-01.flac", "03-01-03-02-02-01-01.flac")
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
LABELS = ("angry", "happy", "neutral", "sad")
ANY_LABEL = re.compile("^(" + "|".join(LABELS) + ")$")
TOKEN = "e2e-secret-token"
# What Chromium itself logs for a fetch the server answered with an error status.
RESOURCE_ERROR = "Failed to load resource"


def _chromium() -> str:
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 10.0) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=data, headers=headers or {},
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@contextlib.contextmanager
def _serve(workdir: Path, bundle: Path, name: str, *, token: str | None = None) -> Iterator[str]:
    """``emoscope serve`` on a free port with its own SQLite store; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("EMOSCOPE_TOKEN", "EMOSCOPE_DB")}
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "emoscope.cli", "serve", "--host", "127.0.0.1",
           "--port", str(port), "--bundle", str(bundle), "--workers", "1",
           "--db", f"sqlite:///{workdir / f'{name}.sqlite'}"]
    if token is not None:
        cmd += ["--token", token]
    log_path = workdir / f"{name}.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    raise AssertionError("the server exited at start:\n"
                                         + log_path.read_text(errors="replace"))
                with contextlib.suppress(OSError):
                    if _request(f"{base}/health", timeout=1)[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError("the server did not answer /health within 90 s:\n"
                                         + log_path.read_text(errors="replace"))
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-e2e")


@pytest.fixture(scope="module")
def speech_wav(workdir: Path) -> Path:
    """About 8 s of real speech as a 16-bit WAV (Chromium's fake microphone loops it)."""
    import soundfile as sf

    paths = [ACTOR_01 / name for name in SPEECH_FILES]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"the shared RAVDESS recordings are absent ({missing[0]})")
    parts, rate = [], None
    for p in paths:
        y, sr = sf.read(p, dtype="float32", always_2d=True)
        assert rate in (None, sr)
        rate = sr
        parts.append(y.mean(axis=1))
    out = workdir / "speech.wav"
    sf.write(out, np.concatenate(parts), rate, subtype="PCM_16")
    return out


@pytest.fixture(scope="module")
def browser(speech_wav: Path) -> Iterator[Any]:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-audio-capture={speech_wav}"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def bundle(workdir: Path, speech_wav: Path, browser: Any) -> Path:
    # (after the skips: no bundle is built when the test cannot run)
    from emoscope.testing.bundles import make_bundle

    return make_bundle(workdir / "bundle", labels=LABELS)


@pytest.fixture(scope="module")
def server(workdir: Path, bundle: Path) -> Iterator[str]:
    with _serve(workdir, bundle, "open") as base:
        yield base


@pytest.fixture(scope="module")
def token_server(workdir: Path, bundle: Path) -> Iterator[str]:
    with _serve(workdir, bundle, "guarded", token=TOKEN) as base:
        yield base


def _open_page(browser: Any, base: str) -> tuple[Any, Any, list[str]]:
    """A fresh page on ``base``, and the list its console errors and exceptions go to."""
    context = browser.new_context(base_url=base, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console: {m.text} at {m.location['url']}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    return context, page, problems


def _bars(page: Any, testid: str) -> tuple[dict[str, float], list[str]]:
    """The probability bars of one panel: label -> probability, and the texts shown."""
    rows = page.eval_on_selector_all(
        f'[data-testid="{testid}"] [data-testid="prob-row"]',
        "rows => rows.map(r => { const v = r.querySelector('[data-testid=prob-value]');"
        " return [r.dataset.label, v.dataset.value, v.textContent]; })")
    return ({label: float(v) for label, v, _ in rows if v}, [t for _, v, t in rows if v])


def _record_until_speech(page: Any) -> None:
    """Press Record; wait for a labelled speech segment, then for the timeline to grow."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Record", exact=True).click()
    live = page.get_by_test_id("live-panel")
    expect(live).to_have_attribute("data-state", "recording")
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_enabled()
    speech = page.get_by_test_id("live-timeline").locator(
        ", ".join(f'rect[data-label="{label}"]' for label in LABELS))
    expect(speech.first).to_be_attached(timeout=45_000)
    first_end = float(speech.first.get_attribute("data-end"))
    assert first_end > float(speech.first.get_attribute("data-start"))
    page.wait_for_function(
        "end => Math.max(...[...document.querySelectorAll("
        "'[data-testid=live-timeline] rect[data-end]')].map(r => +r.dataset.end)) > end + 1",
        arg=first_end, timeout=30_000)
    expect(page.get_by_test_id("live-label")).to_have_attribute("data-label",
                                                                re.compile(r"^\w+$"))


def _stop(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_test_id("live-panel")).to_have_attribute("data-state", "ended",
                                                                timeout=20_000)
    expect(page.get_by_role("button", name="Record", exact=True)).to_be_enabled()
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_disabled()


def test_web_page_records_analyses_and_lists_history(server: str, browser: Any,
                                                     speech_wav: Path, workdir: Path) -> None:
    from playwright.sync_api import expect

    context, page, problems = _open_page(browser, server)

    # The page loads, asks the server for its model and shows the labels.
    page.goto("/")
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    for label in LABELS:
        expect(page.get_by_test_id("legend").locator(f'li[data-label="{label}"]')).to_be_visible()
    expect(page.get_by_test_id("model-name")).to_contain_text("crnn-asp")
    expect(page.get_by_test_id("model-name")).to_contain_text("4 emotions")
    expect(page.get_by_test_id("live-probs").get_by_test_id("prob-row")).to_have_count(4)
    expect(page.get_by_test_id("token-form")).to_be_hidden()
    expect(page.get_by_test_id("history-empty")).to_be_visible()
    assert problems == []

    # Live: Record streams the fake microphone; labelled events arrive and are drawn.
    _record_until_speech(page)
    live = page.get_by_test_id("live-panel")
    assert int(live.get_attribute("data-events")) >= 2
    assert live.get_attribute("data-capture") == "worklet"  # not the deprecated fallback
    expect(page.get_by_test_id("live-label")).to_have_attribute(
        "data-label", re.compile("^(silence|" + "|".join(LABELS) + ")$"))
    probs, texts = _bars(page, "live-probs")
    assert set(probs) == set(LABELS), probs
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-3), probs
    shown = [float(t.rstrip("%")) for t in texts]
    assert sum(shown) == pytest.approx(100.0, abs=0.5), texts
    _stop(page)
    assert problems == []

    # The live session was stored: the history lists it, done, as a live recording.
    live_id = live.get_attribute("data-analysis-id")
    assert live_id, "the server gave the live session no analysis id"
    live_row = page.locator(f'[data-testid="history-row"][data-id="{live_id}"]')
    expect(live_row).to_contain_text("live recording")
    expect(live_row).to_have_attribute("data-status", "done")

    # A file: uploaded, analysed in the background, its timeline drawn, listed in history.
    page.get_by_test_id("file-input").set_input_files(str(speech_wav))
    expect(page.get_by_test_id("file-panel")).to_have_attribute("data-status", "done",
                                                                timeout=45_000)
    result = page.get_by_test_id("result")
    expect(result).to_be_visible()
    expect(page.get_by_test_id("result-label")).to_have_attribute("data-label", ANY_LABEL)
    analysis_id = result.get_attribute("data-id")
    status, body = _request(f"{server}/v1/analyses/{analysis_id}")
    assert status == 200 and body["status"] == "done" and body["filename"] == "speech.wav"
    segments = page.get_by_test_id("result-timeline").get_by_test_id("segment")
    expect(segments).to_have_count(len(body["segments"]))
    assert len(body["segments"]) >= 1
    assert [s.get_attribute("data-label") for s in segments.all()] == [
        s["label"] for s in body["segments"]]
    overall, _ = _bars(page, "result-probs")
    assert overall == pytest.approx(body["probabilities"], abs=1e-6)
    expect(page.get_by_test_id("result-meta")).to_contain_text("speech.wav")

    row = page.locator(f'[data-testid="history-row"][data-id="{analysis_id}"]')
    expect(row).to_contain_text("speech.wav")
    expect(row).to_contain_text(body["label"])
    expect(row).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("history-row").first).to_have_attribute("data-id", analysis_id)
    assert problems == []

    # A past analysis, shown again from the history: the live session's timeline.
    live_row.get_by_test_id("history-show").click()
    expect(result).to_have_attribute("data-id", live_id)
    expect(live_row).to_have_class(re.compile(r"\bselected\b"))
    status, stored = _request(f"{server}/v1/analyses/{live_id}")
    expect(page.get_by_test_id("result-timeline").get_by_test_id("segment")).to_have_count(
        len(stored["segments"]))
    assert len(stored["segments"]) >= 1
    expect(page.get_by_test_id("result-meta")).to_contain_text("live recording")
    assert problems == []

    # Not audio: the server's own error message is shown; nothing else goes wrong.
    bogus = workdir / "notes.wav"
    bogus.write_text("these are meeting notes, not a recording\n" * 20)
    message = _server_error(server, bogus)
    page.get_by_test_id("file-input").set_input_files(str(bogus))
    expect(page.get_by_test_id("error")).to_be_visible()
    expect(page.get_by_test_id("error-message")).to_have_text(f"notes.wav: {message}")
    expect(page.get_by_test_id("file-panel")).to_have_attribute("data-status", "rejected")
    expect(page.get_by_test_id("file-status")).to_contain_text("notes.wav")
    # Chromium logs the refused upload itself ("Failed to load resource"): nothing else.
    assert [p for p in problems if RESOURCE_ERROR not in p] == []
    assert any("/v1/analyses" in p for p in problems)
    page.get_by_test_id("error-dismiss").click()
    expect(page.get_by_test_id("error")).to_be_hidden()
    context.close()


def test_web_page_asks_for_the_token_and_uses_it(token_server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    context, page, problems = _open_page(browser, token_server)
    page.goto("/")

    # The server answers 401: the page asks for a token and shows the server's reason.
    form = page.get_by_test_id("token-form")
    expect(form).to_be_visible()
    status, body = _request(f"{token_server}/v1/models")
    assert status == 401
    expect(page.get_by_test_id("error-message")).to_contain_text(body["error"]["message"])
    expect(page.get_by_test_id("legend").locator("li")).to_have_count(0)

    # A wrong token is refused, with the server's message.
    page.get_by_label("Token", exact=True).fill("not-the-token")
    page.get_by_role("button", name="Use token", exact=True).click()
    status, body = _request(f"{token_server}/v1/models",
                            headers={"Authorization": "Bearer not-the-token"})
    assert status == 401
    expect(page.get_by_test_id("error-message")).to_contain_text(body["error"]["message"])
    expect(form).to_be_visible()

    # The right one is kept in the browser and used for the API and the live stream.
    page.get_by_label("Token", exact=True).fill(TOKEN)
    page.get_by_role("button", name="Use token", exact=True).click()
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    expect(form).to_be_hidden()
    expect(page.get_by_test_id("error")).to_be_hidden()
    for label in LABELS:
        expect(page.get_by_test_id("legend").locator(f'li[data-label="{label}"]')).to_be_visible()
    assert page.evaluate("localStorage.getItem('emoscope.token')") == TOKEN
    _record_until_speech(page)
    _stop(page)
    expect(page.get_by_test_id("history-row")).to_have_count(1)

    # A reload uses the stored token straight away.
    page.reload()
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    expect(form).to_be_hidden()
    # Only the refused requests were logged, by Chromium itself.
    assert problems and all(RESOURCE_ERROR in p and "401" in p for p in problems), problems
    context.close()


def _server_error(server: str, path: Path) -> str:
    """The message the server answers for this upload, asked directly (not by the page)."""
    boundary = "e2e-boundary-7f3a"
    data = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    status, body = _request(f"{server}/v1/analyses", data=data, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert 400 <= status < 500, (status, body)
    return body["error"]["message"]
