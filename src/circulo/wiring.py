"""Start-up wiring: who listens to whom. Every entry point builds its context here (the app,
the CLI, the tests' fixtures, the benchmarks), so none can forget a subscriber; a hand-off
used before this ran raises ``hooks.NotWired``."""

from __future__ import annotations

from circulo import hooks
from circulo.campaigns import crm_lists
from circulo.churn import service as churn
from circulo.clock import Clock
from circulo.config import Settings
from circulo.connectors import crm_delivery
from circulo.connectors import service as outbox
from circulo.context import AppContext
from circulo.customers import card_service
from circulo.customers import privacy as customer_privacy
from circulo.db import Database
from circulo.journeys import runtime as journeys_runtime
from circulo.journeys import service as journeys
from circulo.speech import service as speech
from circulo.surveys import service as surveys
from circulo.textan import service as textan


def register_handlers() -> None:
    """Subscribe the packages above ingest and the connectors to what they hand upward.
    Idempotent: registering again replaces each handler by name."""
    # What ingest stored reaches the outbox (webhooks, CRM connectors), the journeys' inbox
    # and the text-analysis inbox, in the ingest transaction.
    hooks.ingested.register("outbox", outbox.on_events_stored)
    hooks.ingested.register("journeys", journeys_runtime.on_events_stored)
    # An interaction an agent finished gets its survey invitation (circulo.surveys).
    hooks.ingested.register("surveys", surveys.on_events_stored)

    # Stored messages with text wait in the analysis inbox for its worker (ADR 0025).
    hooks.ingested.register("text", textan.on_events_stored)
    # A CRM list requested for a campaign is read by campaigns when the outbox delivers it.
    crm_delivery.request_handlers.register("campaign.list_requested", crm_lists.load)
    # The card shows the journeys' open suggestions.
    card_service.suggestion_sources.register("journeys", journeys.card_suggestions)
    # A person's export includes their recorded calls and transcripts.
    customer_privacy.export_sections.register("recordings", speech.export_of)

    # The card shows the churn risk's reasons, the model and when it was scored.
    card_service.card_sections.register("churn", churn.card_section)


def build_context(settings: Settings, clock: Clock | None = None,
                  db: Database | None = None) -> AppContext:
    """The context of a process (or a test), with every handler registered."""
    register_handlers()
    surveys.catalogue_of(settings)  # a broken surveys file stops the start, naming its line
    return AppContext.build(settings, clock, db)
