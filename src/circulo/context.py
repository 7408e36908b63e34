"""What every request and job needs: settings, database, clock, policies, card templates."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from circulo.auth import service as auth
from circulo.auth.throttle import Throttle
from circulo.clock import Clock, SystemClock
from circulo.config import Settings
from circulo.customers.cards import Templates, load_templates
from circulo.customers.service import Policies, policies_for
from circulo.db import Database
from circulo.ingest.mapping import SourceMapping, load_mappings

KEY_CACHE_SECONDS = 30.0


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock
    policies: Policies
    templates: Templates
    mappings: dict[str, SourceMapping]
    throttle: Throttle  # failures per client (auth.throttle)
    routing: Any = None  # the routing dispatcher, created on first use (circulo.routing)
    journeys: Any = None  # the journeys runner, created on first use (circulo.journeys)
    speech: Any = None  # the transcription worker, created on first use (circulo.speech)

    textan: Any = None  # the text-analysis worker, created on first use (circulo.textan)
    _keys: dict[str, tuple[auth.Principal, float]] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None,
              db: Database | None = None) -> AppContext:
        return cls(
            settings=settings,
            db=db or Database(settings.resolved_database_url),
            clock=clock or SystemClock(),
            policies=policies_for(settings),
            templates=load_templates(settings.card_templates),
            mappings=load_mappings(settings.inbound_mappings) if settings.inbound_mappings
            else {},
            throttle=Throttle(settings.auth_failure_limit, settings.pin_failure_limit,
                              settings.survey_failure_limit),
        )

    def authenticate(self, secret: str | None) -> auth.Principal:
        """Verified keys are cached briefly: a revocation takes effect within 30 s."""
        cached = self._keys.get(secret or "")
        if cached and cached[1] > time.monotonic():
            return cached[0]
        with self.db.unit_of_work(write=False) as session:
            principal = auth.authenticate(session, secret)
        self._keys[secret or ""] = (principal, time.monotonic() + KEY_CACHE_SECONDS)
        return principal

    def forget_keys(self) -> None:
        self._keys.clear()
