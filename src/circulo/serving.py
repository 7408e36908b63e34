"""What a serving process runs, for ``circulo serve`` and ``circulo demo`` alike: the HTTP API
and, beside it, the background loops (the routing dispatcher, the journeys runner and the
outbox worker). One function starts them, so the demo shows what production runs."""

from __future__ import annotations

import errno
import socket
import threading

from circulo.churn.runner import run_in_thread as run_churn_scoring
from circulo.connectors.worker import run_in_thread as run_outbox
from circulo.context import AppContext
from circulo.demo.traffic import run_in_thread as run_demo_traffic
from circulo.journeys.runner import run_in_thread as run_journeys
from circulo.privacy.retention import run_in_thread as run_retention
from circulo.routing.dispatcher import run_in_thread as run_routing
from circulo.speech.worker import run_in_thread as run_speech
from circulo.textan.worker import run_in_thread as run_text_analysis


def start_background(ctx: AppContext, stop: threading.Event, *, outbox: bool = False
                     ) -> list[threading.Thread]:
    """The routing loop (offers time out, callbacks come due, silent agents go offline), the
    journeys runner (events and timers become actions within a second), the text-analysis
    worker (stored messages read within a second) and the speech worker (recorded calls
    become transcripts, one at a time); with ``outbox``, the worker that delivers webhooks
    and notifications. Database leases let one process work at a time, so every API process
    may run them. With ``event_retention_days``, the hourly purge of older events too; with
    ``churn_score_interval``, the churn re-scoring; with ``demo_traffic``, the demo's
    simulated contacts and agents (docs/demo.md)."""
    threads = [run_routing(ctx, stop), run_journeys(ctx, stop), run_speech(ctx, stop)]
    if ctx.settings.text_analysis:  # messages read as they arrive (ADR 0025)
        threads.append(run_text_analysis(ctx, stop))
    if outbox:
        threads.append(run_outbox(ctx, stop))
    if ctx.settings.event_retention_days:
        threads.append(run_retention(ctx, stop))
    if ctx.settings.churn_score_interval:  # every day by default; idle without a model
        threads.append(run_churn_scoring(ctx, stop))
    if ctx.settings.demo_traffic:  # circulo demo, or CIRCULO_DEMO_TRAFFIC=1 (make demo)
        threads.append(run_demo_traffic(ctx, stop))
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
