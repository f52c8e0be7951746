"""The FastAPI application: :func:`create_app` and what it holds while it runs.

>>> app = create_app(bundle="runs/x/bundle", db_url="sqlite:///a.db")   # doctest: +SKIP
>>> uvicorn.run(app, host="127.0.0.1", port=8000)                      # doctest: +SKIP

At start-up (the ASGI lifespan) the app opens the store and marks analyses left unfinished by a
previous run as failed, loads the model (unless given one), sets torch and BLAS to one thread
per worker, warms the model and the voice-activity detector up, and makes its upload folder;
at shutdown it drops queued analyses (marked failed), removes the folder and restores the
thread settings.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from emoscope import __version__
from emoscope.errors import ConfigError
from emoscope.service.compute import ComputePool, configure_threads, usable_cpus
from emoscope.service.errors import install_error_handlers
from emoscope.service.jobs import JobRunner
from emoscope.service.limits import Limits, TimeoutMiddleware
from emoscope.service.state import Service, model_version, warm_up
from emoscope.service.store import Store

if TYPE_CHECKING:
    from emoscope.inference.predictor import Predictor

__all__ = ["STATIC_DIR", "create_app"]

log = logging.getLogger("emoscope.service")

#: The web page's files, shipped in the package.
STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    *,
    predictor: Predictor | None = None,
    bundle: str | os.PathLike[str] | None = None,
    trusted: bool = False,
    db_url: str | os.PathLike[str] | None = None,
    store: Store | None = None,
    token: str | None = None,
    limits: Limits | None = None,
    workers: int | None = None,
    static_dir: str | os.PathLike[str] | None = None,
) -> FastAPI:
    """The emoscope service as an ASGI app (run it with uvicorn).

    Parameters
    ----------
    predictor : Predictor, optional
        The model to serve; loaded from ``bundle`` at start-up when ``None``.
    bundle : path, optional
        A bundle folder (``None`` with no ``predictor``: the shipped default model).
    trusted : bool
        Allow a pickled scikit-learn model in ``bundle``.
    db_url : str or path, optional
        Where analyses are stored (see :func:`emoscope.service.store.database_url`; ``None``:
        ``$EMOSCOPE_DB`` or the SQLite file in the user's data folder). Opened at start-up.
    store : Store, optional
        An open store instead of ``db_url`` (the app does not close it).
    token : str, optional
        When set, every ``/v1`` route and the WebSocket need it as a bearer token.
    limits : Limits, optional
        Sizes, durations, concurrency and the request timeout (defaults: :class:`Limits`).
    workers : int, optional
        Threads computing predictions and stream pushes (default: the usable CPUs).
    static_dir : path, optional
        The web page's folder (default: the one shipped in the package).

    Returns
    -------
    FastAPI

    Raises
    ------
    ConfigError
        Both ``predictor`` and ``bundle``, or both ``db_url`` and ``store``; an empty token;
        ``workers`` below 1.
    """
    if predictor is not None and bundle is not None:
        raise ConfigError("give a predictor or a bundle, not both")
    if store is not None and db_url is not None:
        raise ConfigError("give a store or a database URL, not both")
    if token is not None and not token.strip():
        raise ConfigError("the token must not be empty")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ConfigError(f"workers must be a whole number >= 1, got {workers!r}")
    limits = limits or Limits()
    n_workers = workers or usable_cpus()
    static = Path(static_dir) if static_dir is not None else STATIC_DIR

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from emoscope.inference.predictor import Predictor

        own_store = store is None
        st = store if store is not None else await run_in_threadpool(Store.open, db_url)
        compute = None
        jobs = None
        upload_dir = None
        restore_threads = configure_threads()
        try:
            failed = await run_in_threadpool(st.recover_interrupted)
            if failed:
                log.warning("marked %d unfinished analysis(es) of a previous run as failed",
                            failed)
            pred = predictor if predictor is not None else await run_in_threadpool(
                Predictor.from_bundle, bundle, trusted=trusted)
            compute = ComputePool(n_workers)
            await compute.run(warm_up, pred)
            version = await run_in_threadpool(model_version, pred)
            upload_dir = Path(tempfile.mkdtemp(prefix="emoscope-uploads-"))
            jobs = JobRunner(pred, st, max_jobs=limits.max_jobs, workers=limits.job_workers)
            app.state.service = Service(pred, st, limits, token, compute, jobs, upload_dir,
                                        version, info=pred.info)
            log.info("serving %r (version %s), analyses in %s", pred, version, st.display_url)
            yield
        finally:
            if jobs is not None:
                jobs.shutdown()
            if compute is not None:
                compute.shutdown()
            if upload_dir is not None:
                shutil.rmtree(upload_dir, ignore_errors=True)
            if own_store:
                st.close()
            restore_threads()

    from emoscope.service.routes import router as http_router
    from emoscope.service.routes import web_router
    from emoscope.service.websocket import router as ws_router

    # FastAPIOffline serves the Swagger UI / ReDoc assets from the installed package, so
    # /docs works without internet access (FastAPI's default loads them from a CDN)
    app = FastAPIOffline(
        title="emoscope",
        version=__version__,
        summary="Speech emotion recognition: clips, long recordings and live streams.",
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.token = token
    app.state.static_dir = static
    install_error_handlers(app)
    app.add_middleware(TimeoutMiddleware, timeout=limits.request_timeout)
    app.include_router(web_router)
    app.include_router(http_router)
    app.include_router(ws_router)
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")
    return app


_DESCRIPTION = """\
Recognise the emotion in speech with an emoscope model bundle.

* `POST /v1/predict`: one clip (multipart field `file`, or the raw body with an audio content
  type) -> its label and probabilities.
* `POST /v1/analyses`: a long recording -> a background analysis; poll
  `GET /v1/analyses/{id}` for its timeline.
* `WS /v1/stream`: live PCM or encoded audio in, labelled events out (see the package docs of
  `emoscope.service`).

When the server has a token, every `/v1` route needs `Authorization: Bearer <token>` (the
WebSocket also takes `?token=`). Every error is `{"error": {"code": ..., "message": ...}}`.
"""
