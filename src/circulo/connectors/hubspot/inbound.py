"""HubSpot's contact webhooks (Webhooks API v3, classic ``contact.*`` and generic ``object.*``
subscriptions) turned into Círculo events. Pure. The signature is computed by the official
client's ``Signature`` helper (v3: HMAC-SHA256 of method, URI, body and timestamp with the
app's client secret); the timestamp is checked here, both ways: the client refuses only
requests older than five minutes, so a request stamped in the future would be replayable
until that future plus five minutes.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hubspot.utils.signature import Signature

CONTACT_TYPE_ID = "0-1"
# HubSpot contact property → (Círculo identifier kind | trait name, is identifier)
PROPERTIES: dict[str, tuple[str, bool]] = {
    "email": ("email", True), "phone": ("phone", True), "mobilephone": ("phone", True),
    "firstname": ("first_name", False), "lastname": ("last_name", False),
    "hs_language": ("language", False),
}


MAX_SKEW_SECONDS = 300  # HubSpot: "reject the request if the timestamp is older than 5 min"


def signature_ok(client_secret: str, signature: str | None, timestamp: str | None,
                 method: str, uri: str, body: bytes, *, now: datetime) -> bool:
    """A v3 signature by this secret, stamped (milliseconds) within five minutes of ``now``,
    before or after."""
    if not signature or not timestamp or not timestamp.isdigit() or len(timestamp) > 16:
        return False
    if abs(now.timestamp() * 1000 - int(timestamp)) > MAX_SKEW_SECONDS * 1000:
        return False
    try:
        expected = Signature.get_signature(client_secret, body.decode(), "v3", uri, method,
                                           timestamp)
    except UnicodeDecodeError:
        return False
    return hmac.compare_digest(expected.encode(), signature.encode())


@dataclass
class Translation:
    events: list[dict[str, Any]] = field(default_factory=list)
    fetch: list[dict[str, Any]] = field(default_factory=list)  # contacts to read in full
    ignored: int = 0


def _kind(item: dict[str, Any]) -> str | None:
    """creation | propertyChange | deletion | privacyDeletion for contacts, else None."""
    subscription = str(item.get("subscriptionType") or "")
    scope, _, action = subscription.partition(".")
    if scope == "contact" or (scope == "object" and
                              str(item.get("objectTypeId")) == CONTACT_TYPE_ID):
        return action
    return None


def translate(items: list[Any], *, source: str, namespace: str) -> Translation:
    out = Translation()
    for item in items:
        if not isinstance(item, dict) or "objectId" not in item or "eventId" not in item:
            out.ignored += 1
            continue
        action = _kind(item)
        contact_id = str(item["objectId"])
        occurred = datetime.fromtimestamp(int(item.get("occurredAt") or 0) / 1000, UTC)
        base: dict[str, Any] = {"source": source, "id": f"hubspot-{item['eventId']}-{contact_id}",
                "occurred_at": occurred.isoformat(),
                "identifiers": {"external_ids": {namespace: contact_id}}}
        if action == "creation":
            out.fetch.append({"contact_id": contact_id, "event_id": base["id"],
                              "occurred_at": base["occurred_at"]})
        elif action == "propertyChange" and item.get("propertyName") in PROPERTIES:
            target, is_identifier = PROPERTIES[str(item["propertyName"])]
            value = item.get("propertyValue")
            event: dict[str, Any] = {**base, "type": "crm.contact_updated",
                                     "properties": {"property": item["propertyName"],
                                                    "change_source": item.get("changeSource")}}
            if is_identifier and value:
                event["identifiers"] = {**base["identifiers"], target: str(value)}
            elif not is_identifier:
                event["traits"] = {target: value or None}
            out.events.append(event)
        elif action in ("deletion", "privacyDeletion"):
            # Recorded on the timeline; erasing the customer here is a decision for a person
            # (DELETE /v1/customers/{id}), not a side effect of a CRM clean-up.
            out.events.append({**base, "type": "crm.contact_deleted",
                               "properties": {"privacy": action == "privacyDeletion"}})
        else:
            out.ignored += 1
    return out
