"""/metrics: Prometheus text, for a key with the ``metrics`` scope (or anyone with
``CIRCULO_METRICS_PUBLIC``). Counters and histograms live in the process; the backlog gauges
are read from the database at scrape time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from circulo import observability as obs
from circulo import ops
from circulo.api_deps import get_ctx, key_from_request
from circulo.context import AppContext

router = APIRouter(tags=["ops"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    if not ctx.settings.metrics_public:
        ctx.authenticate(key_from_request(request)).require("metrics")
    with ctx.db.unit_of_work(write=False) as session:
        backlog = ops.backlog(session, ctx.clock.now())
    obs.OUTBOX_BACKLOG.set(backlog.outbox)
    obs.OUTBOX_OLDEST.set(backlog.outbox_oldest_seconds)
    obs.JOURNEYS_INBOX.set(backlog.journeys_inbox)
    obs.JOURNEYS_INBOX_LAG.set(backlog.journeys_lag_seconds)
    obs.TEXT_INBOX.set(backlog.text_inbox)
    obs.TEXT_INBOX_LAG.set(backlog.text_lag_seconds)
    obs.TEXT_FAILED.set(backlog.text_failed)
    obs.ROUTING_WAITING.clear()
    obs.ROUTING_OLDEST.clear()
    for queue in backlog.queues:
        obs.ROUTING_WAITING.labels(queue.queue).set(queue.waiting)
        obs.ROUTING_OLDEST.labels(queue.queue).set(queue.oldest_seconds)
    return Response(generate_latest(obs.REGISTRY), media_type=CONTENT_TYPE_LATEST)
