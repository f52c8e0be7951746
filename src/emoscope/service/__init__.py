"""The emoscope service: HTTP and WebSocket API, the web page, stored analyses.

Start it with ``emoscope serve`` (or :func:`create_app` and uvicorn). Every route of the API is
documented at ``/docs`` (OpenAPI at ``/openapi.json``):

==========================  ===================================================================
``GET /``                   the web page (``static/index.html``; ``/static/...`` its files)
``GET /health``             ``{"status": "ok", "version"}`` (503 when the database fails)
``GET /v1/models``          the loaded model: ``version``, ``labels``, ``model``, ``features``,
                            ``sample_rate``, ``metrics``, ``model_card``, ...
``POST /v1/predict``        a clip (multipart field ``file``, or the raw body with an audio
                            content type) -> ``{"label", "probabilities", "duration"}``
``POST /v1/analyses``       a long recording -> 202 ``{"id", "status": "queued"}``; analysed
                            in the background (query ``filename`` names a raw body,
                            ``vad=energy`` finds speech by loudness)
``GET /v1/analyses/{id}``   ``status`` (``queued|running|done|failed``), ``error``, and when
                            done ``duration``, ``label``, ``probabilities`` and ``segments``
                            (``[{"start", "end", "label", "probabilities"}]``)
``GET /v1/analyses``        ``{"items", "total", "limit", "offset"}``: past analyses, newest
                            first, without segments (``?limit=1..100&offset=N``)
``WS /v1/stream``           live PCM or encoded audio in, events out (protocol:
                            :mod:`emoscope.service.websocket`; ``"analysis": true`` in the
                            start message stores the stream as an analysis)
==========================  ===================================================================

With a token (``--token`` or ``EMOSCOPE_TOKEN``) every ``/v1`` route needs
``Authorization: Bearer <token>``; the WebSocket also takes ``?token=<token>``. ``/``,
``/static``, ``/health`` and ``/docs`` are open. Every error is
``{"error": {"code": ..., "message": ...}}`` with a 4xx/5xx status (see
:mod:`emoscope.service.errors`); limits are in :class:`Limits`.
"""

from emoscope.service.app import create_app
from emoscope.service.errors import ServiceError
from emoscope.service.limits import Limits
from emoscope.service.state import Service, model_version
from emoscope.service.store import AnalysisRecord, Status, Store, database_url

__all__ = [
    "AnalysisRecord",
    "Limits",
    "Service",
    "ServiceError",
    "Status",
    "Store",
    "create_app",
    "database_url",
    "model_version",
]
