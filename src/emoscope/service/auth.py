"""The optional bearer token that guards every ``/v1`` route and the WebSocket."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.websockets import WebSocket

from emoscope.service.errors import UnauthorizedError

__all__ = ["bearer_scheme", "check_token", "require_token", "websocket_token"]

#: Reads ``Authorization: Bearer <token>`` (and shows the "Authorize" button in ``/docs``).
bearer_scheme = HTTPBearer(auto_error=False, description="The token given to `emoscope serve "
                                                         "--token` (or EMOSCOPE_TOKEN).")


def check_token(expected: str | None, given: str | None) -> None:
    """Raise :class:`UnauthorizedError` unless ``given`` is ``expected`` (nothing to check when
    ``expected`` is ``None``); compared in constant time."""
    if expected is None:
        return
    if not given:
        raise UnauthorizedError("this server needs a bearer token (Authorization: Bearer "
                                "<token>)")
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise UnauthorizedError("wrong bearer token")


def require_token(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> None:
    """Check a HTTP request's bearer token against the app's (``app.state.token``)."""
    given = credentials.credentials if credentials is not None else None
    check_token(request.app.state.token, given)


def websocket_token(websocket: WebSocket) -> str | None:
    """The token a WebSocket client sent: ``Authorization: Bearer`` or, since browsers cannot
    set headers on a WebSocket, the ``token`` query parameter."""
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return websocket.query_params.get("token")
