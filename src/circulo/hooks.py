"""Where a lower layer hands work to a higher one without importing it.

Ingest stores events; the outbox (webhooks, CRM connectors) and the journeys' inbox want them,
in the same transaction. Ingest does not know them: it ``publish``-es what it stored, and they
subscribe once at start-up (``circulo.wiring.register_handlers``, run by every entry point:
the app, the CLI, the tests' fixtures, the benchmarks). The same small ``Registry`` serves the
other upward hand-offs (a CRM request kind that campaigns handle, the card's suggestions that
journeys provide); docs/architecture.md draws them.

A registry that is read before anything was registered raises instead of doing nothing: an
entry point that forgot the wiring fails loudly on its first event, not by silently never
sending a webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from circulo.config import Settings

H = TypeVar("H")


class NotWired(RuntimeError):
    """A hand-off was used before ``circulo.wiring.register_handlers()`` ran."""


class Registry(Generic[H]):
    """Handlers by name; registering the same name again replaces it (idempotent wiring)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._handlers: dict[str, H] = {}

    def register(self, name: str, handler: H) -> None:
        self._handlers[name] = handler

    def names(self) -> list[str]:
        return list(self._handlers)

    def handlers(self) -> list[H]:
        if not self._handlers:
            raise NotWired(f"no handler registered for {self.what}: call "
                           "circulo.wiring.register_handlers() when the process starts")
        return list(self._handlers.values())

    def get(self, name: str) -> H | None:
        self.handlers()  # wired at all?
        return self._handlers.get(name)


@dataclass(frozen=True, slots=True)
class Accepted:
    """The events one ingest transaction stored, for its subscribers (same transaction).
    ``rows`` are the stored event rows; ``view`` makes what subscribers read of one (id,
    type, customer_id, occurred_at as ISO text, ...), built only for the rows they want."""

    rows: Sequence[Mapping[str, Any]]
    view: Callable[[Mapping[str, Any]], dict[str, Any]]
    settings: Settings
    now: datetime

    def views(self) -> Iterator[dict[str, Any]]:
        return (self.view(row) for row in self.rows)


IngestHandler = Callable[[Session, Accepted], None]
ingested: Registry[IngestHandler] = Registry("stored events (ingest)")


def publish(session: Session, accepted: Accepted) -> None:
    """Hand the stored events to every subscriber, in the caller's transaction: a subscriber
    that fails fails the batch (nothing is stored that was not also queued)."""
    for handler in ingested.handlers():
        handler(session, accepted)
