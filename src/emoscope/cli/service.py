"""The HTTP and WebSocket service: ``serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from emoscope.cli.common import err


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine "
                                           "only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    bundle: Annotated[Path | None, typer.Option(help="A model bundle folder (default: the "
                                                     "shipped model).")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="EMOSCOPE_DB", show_envvar=True,
        help="Where analyses are stored: sqlite:///FILE, postgresql://USER@HOST/DB or a file "
             "path (default: emoscope.db in the user's data folder).")] = None,
    token: Annotated[str | None, typer.Option(
        envvar="EMOSCOPE_TOKEN", show_envvar=True,
        help="Require this bearer token on every API route and the WebSocket.")] = None,
    max_upload_mb: Annotated[float, typer.Option(min=0.001, help="Largest upload, in "
                                                                 "MB.")] = 200.0,
    max_duration: Annotated[float, typer.Option(min=1.0, help="Longest recording analysed or "
                                                              "streamed, in seconds.")] = 3600.0,
    max_clip_duration: Annotated[float, typer.Option(min=1.0, help="Longest clip for "
                                                     "/v1/predict, in seconds.")] = 600.0,
    max_jobs: Annotated[int, typer.Option(min=1, help="Background analyses queued or running "
                                                      "at once (429 past it).")] = 4,
    max_streams: Annotated[int, typer.Option(min=1, help="WebSocket streams open at "
                                                         "once.")] = 16,
    timeout: Annotated[float, typer.Option(min=0.1, help="Request timeout in seconds (504 past "
                                                         "it).")] = 120.0,
    workers: Annotated[int | None, typer.Option(min=1, help="Threads computing predictions "
                                                            "(default: the usable CPUs).")] = None,
    trusted: Annotated[bool, typer.Option(help="Allow a pickled sklearn model (only for "
                                               "bundles you made).")] = False,
) -> None:
    """Serve the HTTP and WebSocket API and the web page (open http://HOST:PORT/ and speak).

    Binds 127.0.0.1 unless told otherwise; set a token before listening on other addresses.
    Analyses are stored in SQLite by default, or in PostgreSQL with --db postgresql://...;
    the API is documented at /docs.
    """
    import copy

    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from emoscope.inference import Predictor
    from emoscope.service import Limits, Store, create_app

    if token is not None and not token.strip():
        raise typer.BadParameter("--token must not be empty")
    limits = Limits(max_upload_mb=max_upload_mb, max_duration=max_duration,
                    max_clip_duration=max_clip_duration, max_jobs=max_jobs,
                    max_streams=max_streams, request_timeout=timeout)
    predictor = Predictor.from_bundle(bundle, trusted=trusted)
    store = Store.open(db)
    if token is None and host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"warning: listening on {host} without a token: anyone who can reach it can "
                  "use the API (set --token or EMOSCOPE_TOKEN)", highlight=False)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"emoscope serve: http://{shown}:{port}/ (model {bundle or 'shipped default'}, "
              f"analyses in {store.display_url})", highlight=False)
    log_config = copy.deepcopy(LOGGING_CONFIG)  # the service's own log lines, uvicorn's way
    log_config["loggers"]["emoscope"] = {"handlers": ["default"], "level": "INFO",
                                         "propagate": False}
    try:
        uvicorn.run(create_app(predictor=predictor, store=store, token=token, limits=limits,
                               workers=workers),
                    host=host, port=port, log_level="info", log_config=log_config)
    finally:
        store.close()
