"""The app as a whole: health, the model's description, the web page, the OpenAPI docs, the
token, the JSON error shape, and the options of ``create_app``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_helpers import SR, TOKEN, GatedPredictor, assert_error, auth
from starlette.websockets import WebSocketDisconnect

from emoscope import __version__
from emoscope.errors import ConfigError
from emoscope.service import Limits, Store, create_app, model_version


def test_health(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": __version__}


def test_health_reports_a_failing_database(client: TestClient) -> None:
    store = client.app.state.service.store  # type: ignore[attr-defined]
    engine = store.engine
    from sqlalchemy import create_engine

    store.engine = create_engine("sqlite:////nonexistent-folder/x/y.db")
    try:
        assert_error(client.get("/health"), 503, "store_unavailable")
    finally:
        store.engine = engine


def test_models_describes_the_loaded_bundle(client: TestClient, predictor: GatedPredictor,
                                            bundle_dir: Path) -> None:
    r = client.get("/v1/models")
    assert r.status_code == 200
    info = r.json()
    assert info["labels"] == predictor.labels
    assert info["model"] == "mlp" and info["features"]["name"] == "mfcc-mean"
    assert info["sample_rate"] == SR
    assert info["version"] == model_version(predictor) and len(info["version"]) == 12
    assert info["model_card"] == (bundle_dir / "MODEL_CARD.md").read_text()
    assert info["emoscope_version"] == __version__


def test_model_version_follows_the_weights(bundle_dir: Path, tmp_path: Path,
                                           predictor: GatedPredictor) -> None:
    import shutil

    from emoscope.inference import Predictor
    from emoscope.testing.bundles import make_bundle

    copy = Path(shutil.copytree(bundle_dir, tmp_path / "copy"))
    assert model_version(Predictor.from_bundle(copy)) == model_version(predictor)
    other = make_bundle(tmp_path / "other", feature="mfcc-mean", model="mlp", seed=1)
    assert model_version(Predictor.from_bundle(other)) != model_version(predictor)


def test_web_page_and_static_files(client: TestClient, tmp_path: Path,
                                   make_client: Callable[..., TestClient]) -> None:
    from emoscope.service.app import STATIC_DIR

    if not (STATIC_DIR / "index.html").is_file():
        pytest.skip("the web page is not in this checkout")
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text == (STATIC_DIR / "index.html").read_text()
    some = next(p for p in sorted(STATIC_DIR.iterdir()) if p.is_file())
    asset = client.get(f"/static/{some.name}")
    assert asset.status_code == 200 and asset.content == some.read_bytes()
    assert_error(client.get("/static/no-such-file.js"), 404, "not_found")


def test_own_static_folder_and_missing_page(make_client: Callable[..., TestClient],
                                            tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "app.js").write_text("console.log(1)")
    client = make_client(static_dir=site)
    body = assert_error(client.get("/"), 404, "not_found")
    assert "web page" in body["error"]["message"]
    assert client.get("/static/app.js").text == "console.log(1)"
    (site / "index.html").write_text("<!doctype html><title>x</title>")
    assert client.get("/").text == "<!doctype html><title>x</title>"
    assert_error(make_client(static_dir=tmp_path / "none").get("/static/app.js"), 404,
                 "not_found")


def test_openapi_docs(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    # served from the package, not a CDN: the page works offline
    assert "cdn." not in docs.text and "unpkg" not in docs.text
    scripts = re.findall(r'src="([^"]+\.js)"', docs.text)
    assert scripts and all(client.get(s).status_code == 200 for s in scripts)
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/health", "/v1/models", "/v1/predict", "/v1/analyses",
                 "/v1/analyses/{analysis_id}"):
        assert path in paths, path
    predict = paths["/v1/predict"]["post"]
    assert "multipart/form-data" in predict["requestBody"]["content"]
    assert predict["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] \
        .endswith("/PredictResponse")
    assert "413" in predict["responses"] and "415" in predict["responses"]
    assert "429" in paths["/v1/analyses"]["post"]["responses"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing"), 404, "not_found")
    assert_error(client.delete("/v1/models"), 405, "method_not_allowed")


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/v1/models"), ("post", "/v1/predict"), ("post", "/v1/analyses"),
    ("get", "/v1/analyses"), ("get", "/v1/analyses/7d0f5a3e-2a8b-4a71-9b55-0d6c6f0f3d11"),
])
def test_token_is_required_on_every_api_route(make_client: Callable[..., TestClient],
                                              method: str, path: str) -> None:
    client = make_client(token=TOKEN)
    missing = assert_error(getattr(client, method)(path), 401, "unauthorized")
    assert "token" in missing["error"]["message"]
    r = getattr(client, method)(path, headers=auth("wrong"))
    assert_error(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"
    assert_error(getattr(client, method)(path, headers={"Authorization": TOKEN}), 401,
                 "unauthorized")  # not a bearer scheme
    assert getattr(client, method)(path, headers=auth()).status_code != 401


def test_open_routes_need_no_token(make_client: Callable[..., TestClient]) -> None:
    client = make_client(token=TOKEN)
    assert client.get("/health").status_code == 200
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/v1/models", headers=auth()).status_code == 200


def test_websocket_token(make_client: Callable[..., TestClient]) -> None:
    client = make_client(token=TOKEN)
    start = {"type": "start", "sample_rate": SR, "format": "pcm_f32le"}
    for url, headers in ((f"/v1/stream?token={TOKEN}", {}), ("/v1/stream", auth())):
        with client.websocket_connect(url, headers=headers) as ws:
            ws.send_json(start)
            assert ws.receive_json()["type"] == "ready"
    for url in ("/v1/stream", "/v1/stream?token=wrong"):
        with client.websocket_connect(url) as ws:
            m = ws.receive_json()
            assert m["type"] == "error" and m["code"] == "unauthorized"
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive_json()
            assert info.value.code == 1008


def test_create_app_checks_its_options(predictor: GatedPredictor, bundle_dir: Path,
                                       tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        create_app(predictor=predictor, bundle=bundle_dir)
    store = Store.open(tmp_path / "a.db")
    try:
        with pytest.raises(ConfigError, match="not both"):
            create_app(store=store, db_url=tmp_path / "b.db")
    finally:
        store.close()
    with pytest.raises(ConfigError, match="empty"):
        create_app(token=" ")
    with pytest.raises(ConfigError, match="workers"):
        create_app(workers=0)


@pytest.mark.parametrize("kwargs", [
    {"max_upload_mb": 0}, {"max_duration": -1.0}, {"max_jobs": 1.5}, {"max_jobs": True},
    {"request_timeout": float("inf")}, {"max_jobs": 1, "job_workers": 2},
    {"max_streams": "4"},
])
def test_limits_are_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Limits(**kwargs)  # type: ignore[arg-type]


def test_app_loads_its_bundle_and_uses_a_given_store(bundle_dir: Path, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "given.db")
    try:
        with TestClient(create_app(bundle=bundle_dir, store=store, workers=1)) as client:
            assert client.get("/v1/models").json()["model"] == "mlp"
        store.ping()  # the app does not close a store it was given
    finally:
        store.close()


def test_shutdown_removes_uploads_and_restores_threads(predictor: GatedPredictor,
                                                       tmp_path: Path) -> None:
    import torch

    torch.set_num_threads(2)
    try:
        with TestClient(create_app(predictor=predictor, db_url=tmp_path / "x.db",
                                   workers=1)) as c:
            folder = c.app.state.service.upload_dir  # type: ignore[attr-defined]
            assert folder.is_dir() and folder.name.startswith("emoscope-uploads-")
            compute = c.app.state.service.compute  # type: ignore[attr-defined]
            assert c.portal.call(compute.run, torch.get_num_threads) == 1  # type: ignore[union-attr]
        assert not folder.exists()
        assert _in_new_thread(torch.get_num_threads) == 2
    finally:
        torch.set_num_threads(1)


def _in_new_thread(fn: Callable[[], int]) -> int:
    """``fn()`` called in a thread of its own (torch's thread count is read per thread)."""
    import threading

    out: list[int] = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]
