"""Segment/RudderStack tracking messages → Círculo events. Pure.

The Segment HTTP tracking API (identify, track, page, screen, group, alias, batch) is what
the official ``segment-analytics-python`` and ``rudder-sdk-python`` clients speak; each
message becomes one event of the envelope in ``ingest.schemas`` (docs/tracking.md).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from circulo.identity.normalize import InvalidIdentifier, JunkIdentifier, normalize_phone

MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
EVENT_TYPE_OF = {
    "identify": "customer.identified",
    "page": "page.viewed",
    "screen": "screen.viewed",
    "group": "group.joined",
    "alias": "identity.aliased",
}
CHANNEL_OF = {"page": "web", "screen": "mobile"}
# Segment's reserved traits, in Círculo's names (nested address fields included).
TRAIT_NAMES = {
    "firstName": "first_name", "first_name": "first_name", "lastName": "last_name",
    "last_name": "last_name", "name": "name", "title": "title", "birthday": "birthday",
    "gender": "gender", "createdAt": "customer_since", "website": "website",
    "description": "description", "username": "username", "age": "age",
}
ADDRESS_NAMES = {"city": "city", "country": "country", "postalCode": "postal_code",
                 "postal_code": "postal_code", "state": "state", "street": "street"}
_WORD = re.compile(r"[a-z0-9]+")


class MessageError(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def event_type_for_track(name: str) -> str:
    """"Order Completed" → ``order.completed``; "Página Vista" → ``pagina.vista``;
    a single word "Signup" → ``track.signup``."""
    plain = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    words = _WORD.findall(plain)
    if not words:
        raise MessageError("event", "a track call needs an event name")
    if len(words) == 1:
        return f"track.{words[0]}"[:100]
    return f"{'_'.join(words[:-1])}.{words[-1]}"[:100]


def _traits(raw: dict[str, Any], region: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(traits for the profile, identifiers found in them)."""
    traits: dict[str, Any] = {}
    identifiers: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key == "email":
            identifiers["email"] = value
        elif key == "phone":
            try:
                identifiers["phone"] = normalize_phone(str(value), region)
            except (InvalidIdentifier, JunkIdentifier):
                traits["phone_unparsed"] = str(value)[:64]
        elif key == "address" and isinstance(value, dict):
            traits.update({ADDRESS_NAMES[k]: v for k, v in value.items()
                           if k in ADDRESS_NAMES and v is not None})
        elif key == "company" and isinstance(value, dict):
            if value.get("name"):
                traits["company"] = value["name"]
        elif key in TRAIT_NAMES:
            traits[TRAIT_NAMES[key]] = value
        elif key != "id":
            traits[key] = value
    return traits, identifiers


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def to_event(message: Any, *, default_type: str | None, source: str, region: str
             ) -> dict[str, Any]:
    """One tracking message as a Círculo event envelope, or ``MessageError``."""
    if not isinstance(message, dict):
        raise MessageError("", "each message must be a JSON object")
    kind = message.get("type") or default_type
    if kind not in MESSAGE_TYPES:
        raise MessageError("type", f"type must be one of {list(MESSAGE_TYPES)}")
    user_id = message.get("userId")
    anonymous_id = message.get("anonymousId")
    if user_id in (None, "") and anonymous_id in (None, ""):
        raise MessageError("userId", "every message needs a userId or an anonymousId")
    for part in ("context", "properties", "traits"):
        if message.get(part) is not None and not isinstance(message[part], dict):
            raise MessageError(part, f"{part} must be an object")
    context = _object(message.get("context"))
    identifiers: dict[str, Any] = {}
    if user_id not in (None, ""):
        identifiers["external_ids"] = {source: str(user_id)}
    if anonymous_id not in (None, ""):
        identifiers["anonymous_id"] = str(anonymous_id)
    if kind == "alias":
        previous = message.get("previousId")
        if previous in (None, ""):
            raise MessageError("previousId", "an alias call needs a previousId")
        identifiers["anonymous_id"] = str(previous)

    event: dict[str, Any] = {"source": source}
    _, context_ids = _traits(_object(context.get("traits")), region)
    identifiers = {**context_ids, **identifiers}
    properties: dict[str, Any] = dict(message.get("properties") or {})
    if kind == "identify":
        raw_traits = message.get("traits") or {}
        if not isinstance(raw_traits, dict):
            raise MessageError("traits", "traits must be an object")
        traits, trait_ids = _traits(raw_traits, region)
        identifiers = {**trait_ids, **identifiers}
        if traits:
            event["traits"] = traits
        event["type"] = EVENT_TYPE_OF[kind]
    elif kind == "track":
        name = message.get("event")
        if not isinstance(name, str):
            raise MessageError("event", "a track call needs an event name")
        event["type"] = event_type_for_track(name)
        properties["event"] = name
    else:
        event["type"] = EVENT_TYPE_OF[kind]
        for key in ("name", "category"):
            if message.get(key):
                properties[key] = message[key]
        if kind == "group":
            properties["group_id"] = message.get("groupId")
            if isinstance(message.get("traits"), dict):
                properties["group_traits"] = message["traits"]
    if message.get("messageId"):
        event["id"] = str(message["messageId"])[:200]
    timestamp = message.get("timestamp") or message.get("originalTimestamp")
    if timestamp:
        event["occurred_at"] = timestamp
    if kind in CHANNEL_OF:
        event["channel"] = CHANNEL_OF[kind]
    page = _object(context.get("page"))
    if page.get("url"):
        properties.setdefault("url", page["url"])
    event["identifiers"] = identifiers
    if properties:
        event["properties"] = {k: v for k, v in properties.items() if v is not None}
    return event
