"""What an operator watches: an access log line per request with its request id, and
Prometheus metrics (docs/operations.md).

The middleware is plain ASGI (no extra task per request, nothing read from the body): a
clock read, a context variable, two metric updates and, when the access log is on, one
log line.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is kept when it is short and plain (a UUID, a trace id, a proxy's id);
# anything else could forge or break log lines, so it is replaced.
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
request_id: ContextVar[str] = ContextVar("request_id", default="-")
ACCESS = logging.getLogger("circulo.access")

# One registry per process (several uvicorn workers: scrape each, docs/operations.md).
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
HTTP_REQUESTS = Counter(
    "circulo_http_requests", "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"], registry=REGISTRY)
HTTP_LATENCY = Histogram(
    "circulo_http_request_duration_seconds", "Time to answer, by route template and method",
    ["route", "method"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
EVENTS_INGESTED = Counter(
    "circulo_events_ingested", "Events through ingestion, by outcome "
    "(accepted, duplicate, rejected)", ["outcome"], registry=REGISTRY)
OUTBOX_BACKLOG = Gauge(
    "circulo_outbox_backlog", "Outbox messages not yet delivered (pending or delivering)",
    registry=REGISTRY)
OUTBOX_OLDEST = Gauge(
    "circulo_outbox_oldest_seconds", "Age of the oldest undelivered outbox message",
    registry=REGISTRY)
JOURNEYS_INBOX = Gauge(
    "circulo_journeys_inbox", "Events waiting for the journeys runner", registry=REGISTRY)
JOURNEYS_INBOX_LAG = Gauge(
    "circulo_journeys_inbox_lag_seconds", "Age of the oldest event waiting for the journeys "
    "runner (0 when the inbox is empty)", registry=REGISTRY)
TEXT_INBOX = Gauge(
    "circulo_text_inbox", "Messages waiting for text analysis", registry=REGISTRY)
TEXT_INBOX_LAG = Gauge(
    "circulo_text_inbox_lag_seconds", "Age of the oldest message waiting for text analysis "
    "(0 when none waits)", registry=REGISTRY)
TEXT_FAILED = Gauge(
    "circulo_text_failed", "Messages whose analysis kept failing (skipped)", registry=REGISTRY)
ROUTING_WAITING = Gauge(
    "circulo_routing_waiting_tasks", "Tasks waiting for an agent, by queue", ["queue"],
    registry=REGISTRY)
ROUTING_OLDEST = Gauge(
    "circulo_routing_oldest_wait_seconds", "How long the oldest waiting task of each queue "
    "has waited", ["queue"], registry=REGISTRY)


def count_ingested(accepted: int, duplicates: int, rejected: int) -> None:
    for outcome, count in (("accepted", accepted), ("duplicate", duplicates),
                           ("rejected", rejected)):
        if count:
            EVENTS_INGESTED.labels(outcome).inc(count)


def sane_request_id(value: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is plain and short, else a new one."""
    if value and _SANE_ID.fullmatch(value):
        return value
    return secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    """Puts the request being answered (``-`` outside a request) on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and the extra
    fields of an access line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-")}
        line.update(getattr(record, "access", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


_handler: logging.Handler | None = None


def configure_logging(*, json_lines: bool, access_log: bool) -> None:
    """Círculo's log lines (the access log among them) to stderr, each with its request id:
    as text, or JSON lines. Called by a serving process before it serves."""
    global _handler  # one handler per process, replaced if called again
    root = logging.getLogger("circulo")
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(sys.stderr)
    _handler.addFilter(RequestIdFilter())
    _handler.setFormatter(JsonLines() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.addHandler(_handler)
    root.setLevel(logging.INFO)
    ACCESS.disabled = not access_log


class RequestObserver:
    """Request id in, out and in the logs; request count and latency by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        rid = sane_request_id(given)
        token = request_id.set(rid)
        status = 500
        header = (b"x-request-id", rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(template, method, str(status)).inc()
            HTTP_LATENCY.labels(template, method).observe(elapsed)
            if not ACCESS.disabled and ACCESS.isEnabledFor(logging.INFO):
                client = scope.get("client")
                ACCESS.info("%s %s %d %.1fms", method, scope["path"], status, elapsed * 1000,
                            extra={"access": {
                                "method": method, "path": scope["path"], "route": template,
                                "status": status, "duration_ms": round(elapsed * 1000, 2),
                                "client": client[0] if client else None}})
            request_id.reset(token)
