"""The service's errors and how every error becomes a JSON answer.

Every error a client can see is ``{"error": {"code": ..., "message": ...}}`` with a 4xx/5xx
status, never a stack trace. The service's own errors are :class:`ServiceError` subclasses (part
of emoscope's one exception tree); audio errors map to status and code by kind:

===========================================  ======  =========================
error                                        status  code
===========================================  ======  =========================
:class:`~emoscope.errors.AudioDecodeError`   415     ``not_audio``
:class:`~emoscope.errors.EmptyAudioError`    422     ``empty_audio``
:class:`~emoscope.errors.SilentAudioError`   422     ``silent_audio``
:class:`~emoscope.errors.TooShortAudioError` 422     ``too_short``
:class:`~emoscope.errors.AudioTooLongError`  422     ``too_long``
other :class:`~emoscope.errors.AudioError`   422     ``bad_audio``
request body or parameters that fail checks  422     ``invalid_request``
anything unexpected (logged)                 500     ``internal_error``
===========================================  ======  =========================
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from emoscope.errors import (
    AudioDecodeError,
    AudioError,
    AudioTooLongError,
    EmoscopeError,
    EmptyAudioError,
    SilentAudioError,
    TooShortAudioError,
)

__all__ = [
    "BusyError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RequestTimeoutError",
    "ServiceError",
    "StoreError",
    "UnauthorizedError",
    "UnsupportedMediaError",
    "error_body",
    "error_for",
    "install_error_handlers",
]

log = logging.getLogger("emoscope.service")


class ServiceError(EmoscopeError):
    """An error the service answers with ``status`` and a machine-readable ``code``.

    Parameters
    ----------
    message : str
        What went wrong, for a person.
    code, status : optional
        Override the class's code and HTTP status.
    """

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class UnauthorizedError(ServiceError):
    """A missing or wrong bearer token."""

    status, code = 401, "unauthorized"


class NotFoundError(ServiceError):
    """No such analysis, page or route."""

    status, code = 404, "not_found"


class PayloadTooLargeError(ServiceError):
    """An upload larger than the server accepts."""

    status, code = 413, "too_large"


class UnsupportedMediaError(ServiceError):
    """A request body of a content type the route does not take."""

    status, code = 415, "unsupported_media_type"


class BusyError(ServiceError):
    """Too many background analyses (or streams) at once: try again later."""

    status, code = 429, "busy"


class StoreError(ServiceError):
    """The database cannot be reached or used."""

    status, code = 503, "store_unavailable"


class RequestTimeoutError(ServiceError):
    """The request took longer than the server's request timeout."""

    status, code = 504, "timeout"


_AUDIO_CODES: tuple[tuple[type[AudioError], int, str], ...] = (
    (AudioDecodeError, 415, "not_audio"),
    (EmptyAudioError, 422, "empty_audio"),
    (SilentAudioError, 422, "silent_audio"),
    (TooShortAudioError, 422, "too_short"),
    (AudioTooLongError, 422, "too_long"),
    (AudioError, 422, "bad_audio"),
)


def error_for(exc: EmoscopeError) -> tuple[int, str, str]:
    """The HTTP status, code and message a client gets for one of emoscope's errors.

    Audio errors give their reason only: the path they name is the server's temporary file.
    """
    if isinstance(exc, ServiceError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, AudioError):
        for kind, status, code in _AUDIO_CODES:
            if isinstance(exc, kind):
                return status, code, exc.reason
    return 400, "bad_request", str(exc)


def error_body(code: str, message: str) -> dict[str, Any]:
    """The JSON body of every error answer."""
    return {"error": {"code": code, "message": message}}


def _json_error(status: int, code: str, message: str,
                headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "too_large",
               415: "unsupported_media_type", 422: "invalid_request", 429: "busy"}


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with the JSON error body."""

    async def on_emoscope_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, EmoscopeError)
        status, code, message = error_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return _json_error(status, code, message, headers)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error" if exc.status_code < 500 else
                               "server_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such route: {request.url.path}"
        return _json_error(exc.status_code, code, message, exc.headers)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for e in exc.errors()[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            problems.append(f"{where}: {e.get('msg', 'invalid')}" if where else
                            str(e.get("msg", "invalid")))
        return _json_error(422, "invalid_request", "; ".join(problems) or "invalid request")

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path,
                  exc_info=exc)
        return _json_error(500, "internal_error", "the server failed to handle this request; "
                                                  "the error is in its log")

    app.add_exception_handler(EmoscopeError, on_emoscope_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
