"""Text analysis on ingest (ADR 0025): the inbox writer ingest calls for every batch it
stores, and one batch of analysis in the worker's transaction.

The writer costs a row per text-bearing event and no analysis: reading text waits for the
worker. The batch stores each result on its event (redacted text only), records one
``text.analyzed`` event per message through the ingest pipeline (so the customer's
indicators fold it, and journeys and webhooks see it), and hands routing the signal for the
customer's waiting task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from circulo import hooks
from circulo.config import Settings
from circulo.customers import service as customers
from circulo.ingest import service as ingest
from circulo.routing.policy import RoutingConfig
from circulo.routing.signals import TextSignal, apply_text_signals
from circulo.text.model import LANGUAGES, Analyzer
from circulo.textan import engine, extract
from circulo.textan import repository as repo
from circulo.textan.models import TextInbox

ACTOR = "text-analysis"
WORKER = "text_worker"  # in ``Session.info``: the worker's own sessions
log = logging.getLogger(__name__)
_last_ingest = 0.0  # when this process last stored text from a source (not the worker)


def ingest_active(within: float) -> bool:
    return time.monotonic() - _last_ingest < within


def on_events_stored(session: Session, accepted: hooks.Accepted) -> None:
    """The ingest subscriber: an inbox row for each stored event that carries text."""
    global _last_ingest
    settings = accepted.settings
    if not settings.text_analysis:
        return
    types = settings.text_event_types
    rows = [{"event_id": row["id"], "customer_id": row["profile_id"],
             "created_at": accepted.now, "attempts": 0, "failed_at": None, "error": None}
            for row in accepted.rows
            if row["type"] in types and extract.has_text(row["properties"])]
    if rows:
        repo.enqueue(session, rows)
        if not session.info.get(WORKER):
            _last_ingest = time.monotonic()


@dataclass
class BatchResult:
    seqs: list[int] = field(default_factory=list)  # inbox rows done (to delete)
    analysed: int = 0
    skipped: int = 0  # the event is gone (erased, purged) or has no text any more
    derived: int = 0  # text.analyzed events recorded
    changed_tasks: list[str] = field(default_factory=list)


def analyse(session: Session, rows: Sequence[TextInbox], analyzer: Analyzer, *,
            settings: Settings, policies: customers.Policies, config: RoutingConfig,
            now: datetime) -> BatchResult:
    """Analyse these inbox rows in the caller's transaction; the caller deletes
    ``result.seqs`` in the same commit."""
    result = BatchResult()
    events = customers.events_by_ids(session, [r.event_id for r in rows])
    analyses: dict[str, dict[str, object]] = {}
    derived = []
    signals = []
    for row in rows:
        result.seqs.append(row.seq)
        event = events.get(row.event_id)
        text = extract.text_of(event.properties, settings.text_max_chars) if event else None
        if event is None or text is None:
            result.skipped += 1
            continue
        language = (event.properties or {}).get("language")
        analysis = analyzer.analyze(text, language=language if language in LANGUAGES
                                    else None)
        analyses[event.id] = analysis.as_dict()
        result.analysed += 1
        message = engine.Message(event.id, event.type, event.channel, event.profile_id,
                                 event.occurred_at)
        made = engine.derived_event(message, analysis)
        if made is not None:
            derived.append(made)
        signal = engine.task_signal(message, analysis, settings.text_intent_min_confidence)
        if signal is not None:
            signals.append(TextSignal(signal.customer_id, signal.channel, signal.urgent,
                                      signal.sentiment, signal.reasons, signal.intent,
                                      signal.queue, signal.skill))
    customers.store_analyses(session, analyses)
    if derived:
        recorded = ingest.ingest(session, {"events": derived}, settings=settings,
                                 policies=policies, now=now, actor=ACTOR)
        result.derived = recorded.accepted
        for error in recorded.errors:  # an erased or unknown customer: nothing to tell
            log.info("text.analyzed not recorded for item %s: %s", error.index, error.detail)
    result.changed_tasks = apply_text_signals(session, signals, config, now)
    return result
