"""Receive an uploaded recording into a temporary file of the server's, within the size limit.

Two ways to send a recording: a multipart form with the file in the field ``file`` (the
browser's way), or the raw body with an ``audio/*``, ``video/*``, ``application/ogg`` or
``application/octet-stream`` content type (its display name then comes from the route, e.g.
a ``filename`` query parameter). Either way the bytes go to a file named by the server in its
own upload folder: nothing the client sends is ever used as a path, and the client's file name
is kept for display only. Whether the bytes are audio is decided later, by decoding them.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message, Receive

from emoscope.service.errors import PayloadTooLargeError, ServiceError, UnsupportedMediaError

__all__ = ["RAW_MEDIA_TYPES", "Upload", "display_name", "receive_upload"]

#: Content types taken as a raw audio body (besides every ``audio/*`` and ``video/*``).
RAW_MEDIA_TYPES = frozenset({"application/octet-stream", "application/ogg"})
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Upload:
    """An upload stored by the server.

    Attributes
    ----------
    path : Path
        The server's temporary file; the caller deletes it.
    filename : str or None
        The client's name for it, for display only.
    size : int
        Bytes.
    """

    path: Path
    filename: str | None
    size: int


def display_name(name: str | None) -> str | None:
    """A client's file name made safe to store and show: the last path component, without
    control characters, at most 255 characters (``None`` when nothing is left)."""
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:255] or None


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"the upload is larger than the server's limit of "
                                f"{limit / 1e6:g} MB")


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that fails with :class:`PayloadTooLargeError` past ``limit`` body bytes."""
    seen = 0

    async def inner() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
        return message

    return inner


async def receive_upload(request: Request, *, folder: Path, max_bytes: int,
                         raw_filename: str | None = None) -> Upload:
    """Store the request's recording in ``folder`` under a name of the server's.

    Parameters
    ----------
    request : Request
    folder : Path
        The server's upload folder.
    max_bytes : int
        Largest request body accepted.
    raw_filename : str, optional
        The client's name for a raw body (a form's file carries its own).

    Raises
    ------
    PayloadTooLargeError
        The body is (or announces itself as) larger than ``max_bytes``.
    UnsupportedMediaError
        Neither a multipart form nor an audio content type.
    ServiceError
        A form without the ``file`` field (422 ``missing_file``); an empty upload (422
        ``empty_audio``).
    """
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(max_bytes)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    path = folder / uuid.uuid4().hex
    try:
        if media_type == "multipart/form-data":
            upload = await _from_form(request, path, max_bytes)
        elif media_type.startswith(("audio/", "video/")) or media_type in RAW_MEDIA_TYPES:
            upload = await _from_body(request, path, max_bytes, raw_filename)
        else:
            raise UnsupportedMediaError(
                f"send the recording as the multipart form field 'file' or as the raw body with "
                f"an audio content type (got {media_type or 'no content type'})")
        if upload.size == 0:
            raise ServiceError("the upload is empty", code="empty_audio", status=422)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return upload


async def _from_form(request: Request, path: Path, max_bytes: int) -> Upload:
    limited = Request(request.scope, _limited(request.receive, max_bytes))
    async with limited.form(max_files=1, max_fields=16) as form:
        item = form.get("file")
        if not isinstance(item, UploadFile):
            raise ServiceError("the form has no file in the field 'file'", code="missing_file",
                               status=422)
        size = 0
        async with await anyio.open_file(path, "wb") as out:
            while chunk := await item.read(_CHUNK):
                size += len(chunk)
                await out.write(chunk)
        return Upload(path, display_name(item.filename), size)


async def _from_body(request: Request, path: Path, max_bytes: int,
                     filename: str | None) -> Upload:
    size = 0
    async with await anyio.open_file(path, "wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            await out.write(chunk)
    return Upload(path, display_name(filename), size)
