"""The HTTP routes: health, the model, predictions, analyses, and the web page."""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from emoscope import __version__
from emoscope.service.auth import require_token
from emoscope.service.errors import NotFoundError
from emoscope.service.schemas import (
    AnalysisCreated,
    AnalysisOut,
    AnalysisPage,
    ErrorResponse,
    Health,
    ModelInfo,
    PredictResponse,
)
from emoscope.service.state import Service
from emoscope.service.store import AnalysisRecord
from emoscope.service.uploads import receive_upload

__all__ = ["router", "web_router"]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse} for s in statuses}


#: The request body of the upload routes, for the OpenAPI docs (the routes read it themselves,
#: streaming it to disk within the size limit).
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The recording: the multipart form field `file`, or the raw body with "
                       "an audio content type. Any format emoscope decodes (WAV, FLAC, OGG, "
                       "MP3, AIFF, M4A/AAC, or a video's sound track); the content decides, not "
                       "the name.",
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}}}},
            "audio/*": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

web_router = APIRouter()
router = APIRouter(prefix="/v1", dependencies=[Depends(require_token)],
                   responses=_errors(401, 500))


def _service(request: Request) -> Service:
    return request.app.state.service


@web_router.get("/health", response_model=Health, tags=["service"],
                responses=_errors(503))
def health(request: Request) -> dict[str, Any]:
    """The server is up and its database answers (no token needed)."""
    _service(request).store.ping()
    return {"status": "ok", "version": __version__}


@web_router.get("/", include_in_schema=False, response_model=None)
def index(request: Request) -> FileResponse:
    """The web page."""
    page = request.app.state.static_dir / "index.html"
    if not page.is_file():
        raise NotFoundError("the web page is not installed with this server; the API is at "
                            "/v1 (see /docs)")
    return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/models", response_model=ModelInfo, tags=["model"])
def models(request: Request) -> dict[str, Any]:
    """The loaded model: labels, version, features, metrics and model card."""
    svc = _service(request)
    info = svc.info
    return {"version": svc.version, "labels": info["labels"], "model": info["model"],
            "features": info["features"], "sample_rate": svc.predictor.sample_rate,
            "metrics": info.get("metrics"), "emoscope_version": info.get("emoscope_version"),
            "created": info.get("created"), "model_card": info.get("model_card")}


@router.post("/predict", response_model=PredictResponse, tags=["predict"],
             openapi_extra=_UPLOAD_BODY, responses=_errors(413, 415, 422, 504))
async def predict(request: Request) -> dict[str, Any]:
    """The emotion of one clip: its label and every label's probability.

    413: larger than the upload limit; 415: not audio; 422: empty, silent, too short, or
    longer than the clip limit (use `POST /v1/analyses` for long recordings); 504: too slow.
    """
    svc = _service(request)
    upload = await receive_upload(request, folder=svc.upload_dir,
                                  max_bytes=svc.limits.max_upload_bytes)
    try:
        prediction, seconds = await svc.compute.run(svc.predict_file, upload.path)
    finally:
        upload.path.unlink(missing_ok=True)
    return {"label": prediction.label, "probabilities": prediction.probabilities,
            "duration": seconds}


@router.post("/analyses", status_code=202, response_model=AnalysisCreated, tags=["analyses"],
             openapi_extra=_UPLOAD_BODY, responses=_errors(413, 415, 422, 429, 504))
async def create_analysis(
    request: Request,
    filename: Annotated[str | None, Query(
        max_length=1000, description="The recording's name, for display (raw bodies; a "
                                     "form's file name is used otherwise).")] = None,
    vad: Annotated[Literal["silero", "energy"], Query(
        description="What finds the speech: Silero VAD, or loudness (clean recordings "
                    "only).")] = "silero",
) -> JSONResponse:
    """Analyse a long recording in the background; poll `GET /v1/analyses/{id}`.

    429: the server is already analysing as many recordings as it allows.
    """
    svc = _service(request)
    svc.jobs.reserve()
    handed_over = threading.Event()  # the job owns the slot and the upload from then on
    try:
        upload = await receive_upload(request, folder=svc.upload_dir,
                                      max_bytes=svc.limits.max_upload_bytes,
                                      raw_filename=filename)
        try:
            await svc.compute.run(svc.check_recording, upload.path)
            record = await run_in_threadpool(svc.queue_analysis, upload.path,
                                             filename=upload.filename, vad=vad == "silero",
                                             handed_over=handed_over)
        finally:
            if not handed_over.is_set():
                upload.path.unlink(missing_ok=True)
    finally:
        if not handed_over.is_set():
            svc.jobs.release()
    return JSONResponse({"id": record.id, "status": "queued"}, status_code=202,
                        headers={"Location": f"/v1/analyses/{record.id}"})


@router.get("/analyses", response_model=AnalysisPage, tags=["analyses"])
def list_analyses(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100, description="Analyses per page.")] = 20,
    offset: Annotated[int, Query(ge=0, description="Analyses to skip.")] = 0,
) -> dict[str, Any]:
    """Past analyses, newest first (without their segments)."""
    items, total = _service(request).store.list(limit=limit, offset=offset)
    return {"items": [_summary(r) for r in items], "total": total, "limit": limit,
            "offset": offset}


@router.get("/analyses/{analysis_id}", response_model=AnalysisOut, tags=["analyses"],
            responses=_errors(404))
def get_analysis(request: Request, analysis_id: str) -> dict[str, Any]:
    """An analysis's status and, when done, its timeline."""
    record = _service(request).store.get(analysis_id)
    if record is None:
        raise NotFoundError(f"no analysis {analysis_id}")
    return {**_summary(record), "segments": [s.to_dict() for s in record.segments]}


def _summary(r: AnalysisRecord) -> dict[str, Any]:
    d = r.to_dict()
    d.pop("segments")
    d["created"] = r.created
    return d
