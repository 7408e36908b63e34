"""``circulo serve`` and ``circulo demo``: uvicorn serving the API, whose lifespan starts the
background loops (``serving.start_background``)."""

from __future__ import annotations

import os
import threading

import uvicorn

from circulo.app import create_app
from circulo.connectors.worker import run_in_thread as run_outbox
from circulo.context import AppContext
from circulo.observability import configure_logging


def serve(ctx: AppContext, *, host: str, port: int, workers: int = 1,
          outbox: bool = True) -> None:
    """Serve the API with its background loops until stopped (``circulo serve`` and
    ``circulo demo``). The app starts them (``start_background`` in its lifespan); with
    several worker processes, each runs the routing loop and the journeys runner (leases let
    one work at a time) and this process alone runs the outbox worker."""
    configure_logging(json_lines=ctx.settings.log_json, access_log=ctx.settings.access_log)
    os.environ["CIRCULO_ROUTING_BACKGROUND"] = "true"  # read by each worker process's app
    ctx.settings = ctx.settings.with_overrides(routing_background=True)
    if workers == 1:
        uvicorn.run(create_app(ctx.settings, ctx=ctx, outbox=outbox), host=host, port=port,
                    log_level="warning")
        return
    stop = threading.Event()
    if outbox:
        run_outbox(ctx, stop)
    try:
        uvicorn.run("circulo.app:create_app", factory=True, host=host, port=port,
                    workers=workers, log_level="warning")
    finally:
        stop.set()
