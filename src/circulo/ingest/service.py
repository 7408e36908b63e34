"""The ingest pipeline: validate → normalise → deduplicate → resolve → append → fold.

One batch is one transaction: either every accepted event of the batch is stored with its
effects on profiles, records and indicators, or none is (and the caller was not told "ok").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy.orm import Session

from circulo import hooks, jsonshape
from circulo.config import Settings
from circulo.customers import service as customers
from circulo.customers.records import RecordSpec
from circulo.customers.traits import CHANNELS, LANGUAGE_TAG
from circulo.errors import PayloadTooLarge, ValidationFailed
from circulo.identity import service as identity
from circulo.identity import suppression
from circulo.identity.engine import Outcome
from circulo.identity.normalize import (
    Identifier,
    InvalidIdentifier,
    Kind,
    normalize_identifiers,
)
from circulo.ids import new_id
from circulo.ingest.schemas import (
    MAX_NAME_LENGTH,
    MAX_PROPERTIES_BYTES,
    MAX_TRAIT_BYTES,
    MAX_TRAIT_NAME,
    MAX_TRAITS,
    MAX_TRAITS_BYTES,
    ONE_LINE_TRAITS,
    EventIn,
    EventResult,
    IngestResult,
    ItemError,
)
from circulo.observability import count_ingested


@dataclass(slots=True)
class Prepared:
    index: int
    event: EventIn
    occurred_at: datetime
    identifiers: list[Identifier]
    warnings: list[str]
    record: dict[str, Any] | None  # the explicit record, as stored with the event
    record_spec: RecordSpec | None  # the record upsert this event causes, if any
    event_id: str = ""
    anchor: str | None = None


def _error(index: int, field: str, code: str, detail: str) -> ItemError:
    return ItemError(index, field, code, detail)


def split_payload(payload: Any, settings: Settings) -> list[Any]:
    """The body is one event, ``{"events": [...]}``, or a bare list of events."""
    if isinstance(payload, dict) and "events" in payload and "type" not in payload:
        items = payload["events"]
        if not isinstance(items, list):
            raise ValidationFailed("'events' must be a list", errors=[
                {"field": "events", "code": "list_type", "detail": "expected a list of events"}])
    elif isinstance(payload, list):
        items = payload
    elif isinstance(payload, dict):
        items = [payload]
    else:
        raise ValidationFailed("the body must be an event object or {\"events\": [...]}")
    if not items:
        raise ValidationFailed("the batch is empty", errors=[
            {"field": "events", "code": "too_short", "detail": "at least one event is needed"}])
    if len(items) > settings.max_batch_size:
        raise PayloadTooLarge(
            f"a batch holds at most {settings.max_batch_size} events; this one has {len(items)}",
            field="events", limit=settings.max_batch_size,
        )
    return items


def _check_trait_sizes(index: int, traits: dict[str, Any]) -> list[ItemError]:
    if len(traits) > MAX_TRAITS:
        return [_error(index, "traits", "too_many",
                       f"an event sets at most {MAX_TRAITS} traits; this one sets {len(traits)}")]
    errors = []
    for name, value in traits.items():
        field = f"traits.{name[:MAX_TRAIT_NAME]}"
        if len(name) > MAX_TRAIT_NAME:
            errors.append(_error(index, field + "…", "name_too_long",
                                 f"trait names are at most {MAX_TRAIT_NAME} characters"))
        elif name in ONE_LINE_TRAITS and isinstance(value, str) and len(value) > MAX_NAME_LENGTH:
            errors.append(_error(index, field, "too_long",
                                 f"{name} is at most {MAX_NAME_LENGTH} characters"))
        elif len(orjson.dumps(value)) > MAX_TRAIT_BYTES:
            errors.append(_error(index, field, "too_large",
                                 f"a trait value is at most {MAX_TRAIT_BYTES} bytes as JSON"))
    if not errors and len(orjson.dumps(traits)) > MAX_TRAITS_BYTES:
        errors.append(_error(index, "traits", "too_large",
                             f"traits exceed {MAX_TRAITS_BYTES} bytes as JSON"))
    return errors


def _check_traits(index: int, traits: dict[str, Any], may_set_pin: bool) -> list[ItemError]:
    errors = _check_trait_sizes(index, traits)
    if errors:
        return errors
    language = traits.get("language")
    if language is not None and not (isinstance(language, str) and LANGUAGE_TAG.match(language)):
        errors.append(_error(index, "traits.language", "invalid_language",
                             "language must be a language tag such as 'es', 'en' or 'es-MX'"))
    channel = traits.get("preferred_channel")
    if channel is not None and channel not in CHANNELS:
        errors.append(_error(index, "traits.preferred_channel", "invalid_channel",
                             f"preferred_channel must be one of {sorted(CHANNELS)}"))
    churn = traits.get("churn_risk")
    if churn is not None and (isinstance(churn, bool) or not isinstance(churn, int | float)
                              or not 0 <= churn <= 1):
        errors.append(_error(index, "traits.churn_risk", "invalid_probability",
                             "churn_risk must be a number between 0 and 1"))
    pin = traits.get("pin")
    if pin is not None and not (isinstance(pin, str | int) and 4 <= len(str(pin)) <= 12
                                and str(pin).isdigit()):
        errors.append(_error(index, "traits.pin", "invalid_pin", "pin must be 4-12 digits"))
    elif pin is not None and not may_set_pin:
        errors.append(_error(index, "traits.pin", "pin_scope_required",
                             "setting a PIN needs an API key with the 'pins:write' scope"))
    return errors


def prepare(items: list[Any], settings: Settings, now: datetime, *, may_set_pin: bool = False
            ) -> tuple[list[Prepared], list[ItemError]]:
    """Validate and normalise item by item: one bad item never sinks the others. A PIN is
    refused unless the sender ``may_set_pin`` (the ``pins:write`` scope, or the CLI)."""
    prepared: list[Prepared] = []
    errors: list[ItemError] = []
    junk = settings.all_junk_values
    horizon = now + timedelta(seconds=settings.future_tolerance_seconds)
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            errors.append(_error(index, "", "object_type", "each event must be a JSON object"))
            continue
        problem = jsonshape.check(raw)
        if problem is not None:
            errors.append(_error(index, problem.field, problem.code, problem.detail))
            continue
        try:
            event = EventIn.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in err["loc"])
                errors.append(_error(index, field, err["type"], err["msg"]))
            continue
        occurred = event.occurred_at or now
        occurred = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred
        occurred = occurred.astimezone(UTC)
        if occurred > horizon:
            errors.append(_error(index, "occurred_at", "in_future",
                                 f"occurred_at {occurred.isoformat()} is in the future"))
            continue
        item_errors = _check_traits(index, event.traits or {}, may_set_pin)
        if event.properties and len(orjson.dumps(event.properties)) > MAX_PROPERTIES_BYTES:
            item_errors.append(_error(index, "properties", "too_large",
                                      f"properties exceed {MAX_PROPERTIES_BYTES} bytes"))
        if (event.record and event.record.data
                and len(orjson.dumps(event.record.data)) > MAX_PROPERTIES_BYTES):
            item_errors.append(_error(index, "record.data", "too_large",
                                      f"record data exceed {MAX_PROPERTIES_BYTES} bytes"))
        if item_errors:
            errors.extend(item_errors)
            continue
        try:
            normalized = normalize_identifiers(
                event.identifiers.model_dump(exclude_none=True),
                region=settings.default_region, junk=junk,
            )
        except InvalidIdentifier as exc:
            errors.append(_error(index, exc.field, exc.code, exc.detail))
            continue
        record = event.record.model_dump(exclude_none=True) if event.record else None
        prepared.append(Prepared(
            index, event, occurred, normalized.identifiers, normalized.warnings, record,
            customers.spec_for(event.type, event.properties, record),
        ))
    return prepared, errors


def ingest(session: Session, payload: Any, *, settings: Settings,
           policies: customers.Policies, now: datetime, actor: str,
           may_set_pin: bool = False) -> IngestResult:
    items = split_payload(payload, settings)
    prepared, errors = prepare(items, settings, now, may_set_pin=may_set_pin)
    results: list[EventResult] = []

    lock_keys = [i.key for p in prepared for i in p.identifiers]
    lock_keys += [f"event:{p.event.source}:{p.event.id}" for p in prepared if p.event.id]
    lock_keys += [f"record:{p.record_spec.kind}:{p.event.source}:{p.record_spec.key}"
                  for p in prepared if p.record_spec]
    identity.lock(session, lock_keys)

    # Idempotency: (source, id) already stored, or repeated within this batch.
    pairs = [(p.event.source, p.event.id) for p in prepared if p.event.id]
    stored = customers.existing_client_ids(session, pairs) if pairs else {}
    first_in_batch: dict[tuple[str, str], Prepared] = {}
    fresh: list[Prepared] = []
    duplicates: list[tuple[Prepared, tuple[str, str] | Prepared]] = []
    for p in prepared:
        key = (p.event.source, p.event.id) if p.event.id else None
        if key and key in stored:
            duplicates.append((p, key))
        elif key and key in first_in_batch:
            duplicates.append((p, first_in_batch[key]))
        else:
            if key:
                first_in_batch[key] = p
            p.event_id = new_id()
            fresh.append(p)

    # An erased person's identifiers are suppressed: a resent old event is acknowledged (the
    # sender must not retry it) but not stored, so it cannot bring the person back.
    suppressed = suppression.suppressed_items(session, settings, [p.identifiers for p in fresh])
    for n in sorted(suppressed):
        results.append(_suppressed(fresh[n].index))
    fresh = [p for n, p in enumerate(fresh) if n not in suppressed]

    # Explicit customer ids must exist (following merges); read together, not one by one.
    accepted: list[Prepared] = []
    explicit_of = {n: [i.value for i in p.identifiers if i.kind == Kind.CUSTOMER_ID]
                   for n, p in enumerate(fresh)}
    roots = customers.active_roots(session, [ids[0] for ids in explicit_of.values() if ids])
    for n, p in enumerate(fresh):
        explicit = explicit_of[n]
        if explicit:
            if explicit[0] not in roots:
                errors.append(_error(p.index, "identifiers.customer_id", "unknown_customer",
                                     f"customer '{explicit[0]}' does not exist"))
                continue
            p.anchor = roots[explicit[0]]
        accepted.append(p)

    resolved = identity.resolve_batch(
        session,
        [identity.ResolveItem(p.identifiers, p.anchor, p.event.source, p.event_id,
                              p.event.traits) for p in accepted],
        settings, policies, now, actor,
    )
    _store(session, accepted, resolved, settings, policies, now, results)

    customer_of = {r.event_id: r.customer_id for r in results}
    unstored = suppressed_indexes(results)
    for p, original in duplicates:
        if isinstance(original, Prepared):
            if original.index in unstored:
                results.append(_suppressed(p.index))
                continue
            if original.event_id not in customer_of:
                # Its first copy in this batch was refused (unknown customer): so is this one.
                errors.extend([replace(e, index=p.index) for e in errors
                               if e.index == original.index])
                continue
            event_id = original.event_id
            customer_id = customer_of[original.event_id]
            resolution = "duplicate"
        else:
            event_id, customer_id, resolution = stored[original]
        results.append(EventResult(p.index, "duplicate", event_id, customer_id, resolution))
    results.sort(key=lambda r: r.index)
    errors.sort(key=lambda e: (e.index, e.field))
    result = IngestResult(
        accepted=sum(1 for r in results if r.status == "accepted"),
        duplicates=sum(1 for r in results if r.status == "duplicate"),
        suppressed=sum(1 for r in results if r.status == "suppressed"),
        rejected=len({e.index for e in errors}),
        results=results,
        errors=errors,
    )
    count_ingested(result.accepted, result.duplicates, result.rejected)
    return result


def _suppressed(index: int) -> EventResult:
    return EventResult(index, "suppressed", None, None, "suppressed", code=suppression.CODE)


def suppressed_indexes(results: list[EventResult]) -> set[int]:
    return {r.index for r in results if r.status == "suppressed"}


def ingest_translated(session: Session, translated: list[tuple[dict[str, Any] | None,
                                                                dict[str, Any] | None]],
                      *, settings: Settings, policies: customers.Policies, now: datetime,
                      actor: str, may_set_pin: bool = False) -> IngestResult:
    """Ingest items translated from another format (tracking SDKs, inbound webhooks): each
    is ``(event, None)`` or ``(None, error)`` (an error's field, code and detail); indices
    in the answer are the original ones."""
    events: list[dict[str, Any]] = []
    positions: list[int] = []
    errors: list[ItemError] = []
    for index, (event, error) in enumerate(translated):
        if event is None:
            error = error or {}
            errors.append(ItemError(index, str(error.get("field", "")),
                                    str(error.get("code", "")), str(error.get("detail", ""))))
        else:
            events.append(event)
            positions.append(index)
    result = IngestResult(accepted=0, duplicates=0, rejected=0, results=[], errors=[])
    if events:
        result = ingest(session, {"events": events}, settings=settings, policies=policies,
                        now=now, actor=actor, may_set_pin=may_set_pin)
    errors += [replace(e, index=positions[e.index]) for e in result.errors]
    errors.sort(key=lambda e: (e.index, e.field))
    return replace(
        result,
        results=[replace(r, index=positions[r.index]) for r in result.results],
        errors=errors, rejected=len({e.index for e in errors}),
    )


def _store(session: Session, accepted: list[Prepared], resolved: identity.Resolved,
           settings: Settings, policies: customers.Policies, now: datetime,
           results: list[EventResult]) -> None:
    rows: list[dict[str, Any]] = []
    record_work: list[customers.RecordWork] = []
    for p, decision, origin in zip(accepted, resolved.decisions, resolved.origins, strict=True):
        ev = p.event
        extra: dict[str, Any] = {}
        if ev.consent:
            extra["consent"] = [c.model_dump() for c in ev.consent]
        if p.record:
            extra["record"] = p.record
        if p.warnings:
            extra["warnings"] = p.warnings
        rows.append({
            "id": p.event_id, "type": ev.type, "source": ev.source, "client_id": ev.id,
            "channel": ev.channel, "occurred_at": p.occurred_at, "received_at": now,
            "profile_id": decision.profile_id, "origin_profile_id": origin,
            "resolution": decision.outcome.value,
            "identifiers": _group(p.identifiers),
            "traits": _stored_traits(ev.traits), "properties": ev.properties or None,
            "extra": extra or None,
            "candidates": decision.candidates or None,
        })
        results.append(EventResult(
            p.index, "accepted", p.event_id, decision.profile_id, decision.outcome.value,
            candidates=decision.candidates if decision.outcome == Outcome.AMBIGUOUS else None,
            warnings=p.warnings or None,
        ))
        if decision.profile_id is None:
            continue
        incoming = customers.Incoming(
            event_id=p.event_id, type=ev.type, source=ev.source, channel=ev.channel,
            occurred_at=p.occurred_at, traits=dict(ev.traits or {}),
            consent=extra.get("consent", []), properties=dict(ev.properties or {}),
            record=extra.get("record"), identifiers=rows[-1]["identifiers"],
        )
        customers.apply_event(resolved.profiles[decision.profile_id], incoming, policies, now)
        if p.record_spec is not None:
            record_work.append(customers.RecordWork(
                decision.profile_id, origin or decision.profile_id, ev.source, p.occurred_at,
                p.record_spec))
    customers.insert_events(session, rows)
    customers.upsert_records(session, record_work, resolved.profiles, now)
    customers.save(session, resolved.profiles.values())
    # The journeys' inbox and the outbox (webhooks, CRM connectors) subscribe to what was
    # stored: written in this same transaction (at-least-once), without ingest knowing them.
    hooks.publish(session, hooks.Accepted(rows, stored_event_view, settings, now))


def stored_event_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """What webhooks and journeys read of a stored event row."""
    extra = row["extra"] or {}
    return {
        "id": row["id"], "type": row["type"], "source": row["source"],
        "client_id": row["client_id"], "channel": row["channel"],
        "occurred_at": row["occurred_at"].isoformat(), "customer_id": row["profile_id"],
        "resolution": row["resolution"], "identifiers": row["identifiers"],
        "traits": row["traits"], "properties": row["properties"],
        "record": extra.get("record"), "consent": extra.get("consent"),
    }


def _stored_traits(traits: dict[str, Any] | None) -> dict[str, Any] | None:
    """The event's traits as kept in the log: never the PIN (the profile keeps its hash)."""
    if not traits or "pin" not in traits:
        return traits or None
    return {k: v for k, v in traits.items() if k != "pin"} or None


def _group(identifiers: list[Identifier]) -> dict[str, Any]:
    grouped: dict[str, Any] = {}
    for ident in identifiers:
        current = grouped.get(ident.kind.value)
        if current is None:
            grouped[ident.kind.value] = ident.value
        elif isinstance(current, list):
            current.append(ident.value)
        else:
            grouped[ident.kind.value] = [current, ident.value]
    return grouped
