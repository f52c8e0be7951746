"""The service's limits (sizes, durations, concurrency, time) and the request-timeout guard."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, fields
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emoscope.errors import ConfigError
from emoscope.service.errors import RequestTimeoutError, error_body

__all__ = ["Limits", "TimeoutMiddleware"]

log = logging.getLogger("emoscope.service")


@dataclass(frozen=True)
class Limits:
    """What the service accepts, and how much it does at once.

    Attributes
    ----------
    max_upload_mb : float
        Largest request body (an upload) in megabytes (10^6 bytes); larger ones get 413.
    max_duration : float
        Longest recording, in seconds, for a background analysis or a WebSocket stream
        (422 for an upload; the stream is closed).
    max_clip_duration : float
        Longest clip, in seconds, for ``POST /v1/predict`` (422; long recordings go to
        ``POST /v1/analyses``).
    max_jobs : int
        Background analyses queued or running at once; more get 429.
    job_workers : int
        Analyses that run at the same time (the others wait in the queue).
    max_streams : int
        WebSocket streams open at once; more are refused (closed with code 1013).
    request_timeout : float
        Seconds a HTTP request may take, upload included (504 past it); also how long a
        WebSocket may stay silent before it is closed.
    """

    max_upload_mb: float = 200.0
    max_duration: float = 3600.0
    max_clip_duration: float = 600.0
    max_jobs: int = 4
    job_workers: int = 1
    max_streams: int = 16
    request_timeout: float = 120.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"limit {f.name} must be a whole number, got {value!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not math.isfinite(value) or value <= 0:
                raise ConfigError(f"limit {f.name} must be a positive number, got {value!r}")
        if self.job_workers > self.max_jobs:
            raise ConfigError(f"job_workers ({self.job_workers}) cannot exceed max_jobs "
                              f"({self.max_jobs})")

    @property
    def max_upload_bytes(self) -> int:
        """:attr:`max_upload_mb` in bytes."""
        return int(self.max_upload_mb * 1_000_000)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class TimeoutMiddleware:
    """Answer 504 (JSON error body) when a HTTP request takes longer than ``timeout`` seconds.

    The request's task is cancelled; work it handed to a thread pool is cancelled if it has
    not started, and otherwise finishes in the background with its result dropped. A response
    that has already begun cannot be replaced: it is cut off instead.

    Parameters
    ----------
    app : ASGI app
    timeout : float
        Seconds.
    """

    def __init__(self, app: ASGIApp, *, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            with anyio.fail_after(self.timeout):
                await self.app(scope, receive, send_tracked)
        except TimeoutError:
            log.warning("request timed out after %g s: %s %s", self.timeout,
                        scope.get("method"), scope.get("path"))
            if started:
                return
            exc = RequestTimeoutError(f"the request took longer than the server's limit of "
                                      f"{self.timeout:g} s")
            body = json.dumps(error_body(exc.code, exc.message)).encode()
            await send({"type": "http.response.start", "status": exc.status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
