"""CRM connectors: what Círculo asks of a CRM when an interaction is wrapped up (S2).

A connector is reached only through this small protocol; each implementation (generic REST
now; HubSpot and Salesforce with their official clients next) has a config model, and its
deliveries go through the outbox like webhooks (destination ``crm:<name>``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")


def expand_env(value: str) -> str:
    """``${VAR}`` in a configured secret is read from the environment."""
    return _ENV.sub(lambda m: os.environ.get(m.group(1), ""), value)


@dataclass(frozen=True, slots=True)
class CrmContact:
    """The customer as the CRM should know them."""

    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    crm_id: str | None  # the customer's id in this CRM, when Círculo knows it


@dataclass(frozen=True, slots=True)
class CrmActivity:
    """One interaction to log on the contact's record."""

    event_id: str
    kind: str  # call | email | chat | other
    occurred_at: str
    channel: str | None = None  # the Círculo channel: voice, email, chat, sms, whatsapp…
    disposition: str | None = None
    duration_seconds: int | None = None
    notes: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CrmPerson:
    """A contact as read from the CRM (inbound webhooks, campaign lists)."""

    crm_id: str
    name: str | None = None
    email: str | None = None
    phones: list[str] = field(default_factory=list)
    language: str | None = None

    def identifiers(self, namespace: str) -> dict[str, Any]:
        """As event identifiers: the CRM id as ``namespace:id``, email, up to ten phones."""
        found: dict[str, Any] = {"external_ids": {namespace: self.crm_id}}
        if self.email:
            found["email"] = self.email
        if self.phones:
            found["phones"] = self.phones[:10]
        return found

    def traits(self) -> dict[str, Any] | None:
        found = {k: v for k, v in {"name": self.name, "language": self.language}.items() if v}
        return found or None


class CrmError(Exception):
    """A failed CRM call; ``status_code`` drives the retry policy like a webhook answer."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class CrmConnector(Protocol):
    name: str

    def find_contact(self, contact: CrmContact) -> str | None: ...

    def create_contact(self, contact: CrmContact) -> str: ...

    def log_activity(self, contact_id: str, activity: CrmActivity) -> str: ...


@runtime_checkable
class CrmReader(Protocol):
    """What a CRM offers to read back: one contact, and the members of a list or campaign."""

    def get_contact(self, contact_id: str) -> CrmPerson: ...

    def list_members(self, list_id: str) -> Iterator[CrmPerson]: ...


KIND_OF_CHANNEL = {"voice": "call", "email": "email", "chat": "chat", "whatsapp": "chat",
                   "sms": "chat"}


def activity_from_event(event: dict[str, Any]) -> CrmActivity:
    """The webhook view of a wrap-up event as a CRM activity."""
    properties = event.get("properties") or {}
    duration = properties.get("duration")
    known = {"disposition", "duration", "notes"}
    return CrmActivity(
        event_id=str(event["id"]),
        kind=KIND_OF_CHANNEL.get(str(event.get("channel")), "other"),
        occurred_at=str(event["occurred_at"]),
        channel=str(event["channel"]) if event.get("channel") else None,
        disposition=properties.get("disposition"),
        duration_seconds=int(duration) if isinstance(duration, int | float) else None,
        notes=properties.get("notes"),
        data={k: v for k, v in properties.items() if k not in known},
    )


def log_wrap_up(connector: CrmConnector, contact: CrmContact, activity: CrmActivity
                ) -> tuple[str, str]:
    """Find (or create) the contact and log the activity on it: (contact id, activity id)."""
    contact_id = contact.crm_id or connector.find_contact(contact)
    if contact_id is None:
        contact_id = connector.create_contact(contact)
    return contact_id, connector.log_activity(contact_id, activity)
