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

import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from emoscope import __version__
from emoscope.errors import AudioTooLongError, ConfigError
from emoscope.service.compute import ComputePool, configure_threads, usable_cpus
from emoscope.service.errors import install_error_handlers
from emoscope.service.jobs import JobRunner
from emoscope.service.limits import Limits, TimeoutMiddleware
from emoscope.service.store import AnalysisRecord, Store

if TYPE_CHECKING:
    from emoscope.inference.predictor import Prediction, Predictor

__all__ = ["STATIC_DIR", "Service", "create_app", "model_version"]

log = logging.getLogger("emoscope.service")

#: The web page's files, shipped in the package.
STATIC_DIR = Path(__file__).resolve().parent / "static"


def model_version(predictor: Predictor) -> str:
    """A short digest (12 hex digits) of the bundle's files: a new model, a new version."""
    h = hashlib.sha256()
    root = Path(predictor.bundle.path)
    for name in ("bundle.json", "weights.safetensors", "model.pkl"):
        p = root / name
        if p.is_file():
            h.update(name.encode())
            with open(p, "rb") as fh:
                for block in iter(functools.partial(fh.read, 1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:12]


@dataclass
class Service:
    """What a running app holds (``app.state.service``).

    Attributes
    ----------
    predictor : Predictor
        One for every request, warmed up.
    store : Store
    limits : Limits
    token : str or None
    compute : ComputePool
        Predictions and stream pushes.
    jobs : JobRunner
        Background analyses.
    upload_dir : Path
        The server's folder for uploads in progress.
    version : str
        The model's version (:func:`model_version`).
    info : dict
        The model's description (``GET /v1/models``).
    streams : int
        WebSocket streams open now.
    """

    predictor: Predictor
    store: Store
    limits: Limits
    token: str | None
    compute: ComputePool
    jobs: JobRunner
    upload_dir: Path
    version: str
    info: dict[str, Any] = field(default_factory=dict)
    streams: int = 0

    def predict_file(self, path: Path) -> tuple[Prediction, float]:
        """The prediction and duration (seconds) of a clip stored at ``path``.

        Raises
        ------
        AudioError
            Not audio, empty, silent, too short, or longer than ``limits.max_clip_duration``.
        """
        from emoscope.audio.io import audio_info, load_audio

        limit = self.limits.max_clip_duration
        seconds = audio_info(path).duration
        if seconds > limit:
            raise AudioTooLongError(f"the clip is {seconds:.1f} s long, longer than the "
                                    f"{limit:g} s this server takes in one prediction; send "
                                    "long recordings to POST /v1/analyses")
        y, sr = load_audio(path, sample_rate=self.predictor.sample_rate, max_duration=limit)
        probs = self.predictor.predict_proba([y], sr)[0]
        return self.predictor.prediction(probs), y.shape[-1] / sr

    def queue_analysis(self, path: Path, *, filename: str | None, vad: bool,
                       handed_over: threading.Event) -> AnalysisRecord:
        """Store a new analysis and submit its job (in the slot reserved for it), then set
        ``handed_over``: from then on the job owns the slot and the file at ``path``."""
        record = self.store.create(filename=filename, model_version=self.version)
        self.jobs.submit(record.id, path, vad=vad)
        handed_over.set()
        return record

    def check_recording(self, path: Path) -> float:
        """The duration of a recording for a background analysis, read from its header.

        Raises
        ------
        AudioError
            Not audio, empty, or longer than ``limits.max_duration``.
        """
        from emoscope.audio.io import audio_info

        seconds = audio_info(path).duration
        if seconds > self.limits.max_duration:
            raise AudioTooLongError(f"the recording is {seconds:.1f} s long, longer than the "
                                    f"{self.limits.max_duration:g} s this server analyses")
        return seconds


def _warm_up(predictor: Predictor) -> None:
    """The first prediction and the first VAD frames, before any client waits for them."""
    from emoscope.inference.stream import StreamingPredictor

    predictor.warmup()
    engine = StreamingPredictor(predictor, vad=True)
    rng = np.random.default_rng(0)
    engine.push((0.01 * rng.standard_normal(predictor.sample_rate)).astype(np.float32),
                predictor.sample_rate)
    engine.flush()


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
            await compute.run(_warm_up, pred)
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
