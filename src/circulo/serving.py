"""What a serving process runs, for ``circulo serve`` and ``circulo demo`` alike: the HTTP API
and, beside it, the background loops (the routing dispatcher, the journeys runner and the
outbox worker). One function starts them, so the demo shows what production runs."""

from __future__ import annotations

import errno
import os
import socket
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from circulo.context import AppContext


def start_background(ctx: AppContext, stop: threading.Event, *, outbox: bool = False
                     ) -> list[threading.Thread]:
    """The routing loop (offers time out, callbacks come due, silent agents go offline) and
    the journeys runner (events and timers become actions within a second); with ``outbox``,
    the worker that delivers webhooks and notifications. Database leases let one process
    work at a time, so every API process may run them. With ``event_retention_days``, the
    hourly purge of older events too."""
    from circulo.connectors.worker import run_in_thread as run_outbox
    from circulo.journeys.runner import run_in_thread as run_journeys
    from circulo.privacy.retention import run_in_thread as run_retention
    from circulo.routing.dispatcher import run_in_thread as run_routing

    threads = [run_routing(ctx, stop), run_journeys(ctx, stop)]
    if outbox:
        threads.append(run_outbox(ctx, stop))
    if ctx.settings.event_retention_days:
        threads.append(run_retention(ctx, stop))
    return threads


class PortUnavailable(Exception):
    """The address cannot be listened on (taken, or not ours to bind)."""


def check_port(host: str, port: int) -> None:
    """Fail early, with the reason, when ``host:port`` cannot be listened on: before a
    command creates keys or loads data it would then not serve."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The same option uvicorn sets: a port left in TIME_WAIT by a previous run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
            raise PortUnavailable(f"{host}:{port}: {reason}") from exc


def serve(ctx: AppContext, *, host: str, port: int, workers: int = 1,
          outbox: bool = True) -> None:
    """Serve the API with its background loops until stopped (``circulo serve`` and
    ``circulo demo``). The app starts them (``start_background`` in its lifespan); with
    several worker processes, each runs the routing loop and the journeys runner (leases let
    one work at a time) and this process alone runs the outbox worker."""
    import uvicorn

    from circulo.app import create_app
    from circulo.observability import configure_logging

    configure_logging(json_lines=ctx.settings.log_json, access_log=ctx.settings.access_log)
    os.environ["CIRCULO_ROUTING_BACKGROUND"] = "true"  # read by each worker process's app
    ctx.settings = ctx.settings.with_overrides(routing_background=True)
    if workers == 1:
        uvicorn.run(create_app(ctx.settings, ctx=ctx, outbox=outbox), host=host, port=port,
                    log_level="warning")
        return
    from circulo.connectors.worker import run_in_thread

    stop = threading.Event()
    if outbox:
        run_in_thread(ctx, stop)
    try:
        uvicorn.run("circulo.app:create_app", factory=True, host=host, port=port,
                    workers=workers, log_level="warning")
    finally:
        stop.set()
