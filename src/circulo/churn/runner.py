"""Scheduled re-scoring in ``circulo serve``: every ``CIRCULO_CHURN_SCORE_INTERVAL`` seconds
(a day by default) every customer is scored again with the active model, so risks follow
what happened since. A database lease lets one process score at a time; checking whether a
scoring is due is one query, and nothing is done while no model exists."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta

from circulo.churn import service as churn
from circulo.context import AppContext
from circulo.routing import service as routing

LEASE = "churn-scoring"
LEASE_SECONDS = 900.0  # longer than a scoring of a large base takes
CHECK_SECONDS = 60.0
log = logging.getLogger(__name__)


def run_once(ctx: AppContext, holder: str, stop: threading.Event) -> churn.Scored | None:
    """Score everyone if it is due and this process holds the lease; else None."""
    interval = ctx.settings.churn_score_interval
    now = ctx.clock.now()
    with ctx.db.unit_of_work(write=False) as session:
        if not churn.scoring_due(session, now, timedelta(seconds=interval)):
            return None
    with ctx.db.unit_of_work() as session:
        held = routing.hold_lease(session, LEASE, holder, now,
                                  now + timedelta(seconds=LEASE_SECONDS))
    if not held:
        return None
    try:
        return churn.score_all(ctx.db, ctx.settings, ctx.policies, now,
                               should_stop=stop.is_set)
    finally:
        with ctx.db.unit_of_work() as session:
            routing.drop_lease(session, LEASE, holder)


def run_forever(ctx: AppContext, stop: threading.Event) -> None:
    holder = uuid.uuid4().hex[:12]
    while not stop.is_set():
        try:
            scored = run_once(ctx, holder, stop)
            if scored is not None:
                log.info("churn: %d customer(s) scored with model v%s, %d rose above the "
                         "threshold", scored.customers, scored.model_version, scored.rose)
        except Exception:  # the next check retries; serving goes on
            log.exception("churn scoring failed")
        stop.wait(min(CHECK_SECONDS, ctx.settings.churn_score_interval))


def run_in_thread(ctx: AppContext, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_forever, args=(ctx, stop), name="churn-scoring",
                              daemon=True)
    thread.start()
    return thread
