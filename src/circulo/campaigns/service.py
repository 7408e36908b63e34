"""Outbound campaigns (S3): a sender (a CRM, usually) posts a named list of customers; each
member is resolved to a profile through the normal ingest pipeline, reached on the channel the
campaign and the customer's consent and preference allow, and handed on as an event:
``campaign.call_requested`` (a call for the campaign's queue) or ``campaign.message_requested``
(an SMS, WhatsApp or email in the customer's language). Those events are on the customer's
timeline and leave through the outbox to whoever subscribes (a dialer, a CPaaS): in the same
transaction as the members, so a campaign is never half-started.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import phonenumbers
from sqlalchemy.orm import Session

from circulo.campaigns import engine
from circulo.campaigns import repository as repo
from circulo.campaigns.models import Campaign
from circulo.campaigns.schemas import CampaignIn, MemberIn
from circulo.config import Settings
from circulo.connectors import service as outbox
from circulo.connectors.crm import CrmReader
from circulo.connectors.registry import connectors_for
from circulo.customers import service as customers
from circulo.errors import Conflict, NotFound, ValidationFailed
from circulo.identity import service as identity
from circulo.ids import new_id
from circulo.ingest import service as ingest

SMS_TYPES = {phonenumbers.PhoneNumberType.MOBILE,
             phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _key(member: MemberIn) -> str:
    if member.key:
        return member.key
    canonical = orjson.dumps(member.identifiers.model_dump(exclude_none=True),
                             option=orjson.OPT_SORT_KEYS)
    return "h:" + hashlib.sha256(canonical).hexdigest()[:40]


def _event_id(campaign: Campaign, key: str, suffix: str = "") -> str:
    """The client id of a member's events: short whatever the key's length, stable."""
    return f"{campaign.id}:{hashlib.sha256(key.encode()).hexdigest()[:32]}{suffix}"


def _definition(body: CampaignIn) -> dict[str, Any]:
    return {"queue": body.queue, "message": body.message, "subject": body.subject,
            "language": body.language, "fallback": body.fallback,
            "crm_list": body.crm_list.model_dump() if body.crm_list else None}


def _fallback(campaign: Campaign) -> tuple[str, ...]:
    given = campaign.definition.get("fallback")
    if given:
        return tuple(given)
    voice = ("voice",) if campaign.definition.get("queue") else ()
    return (*(c for c in engine.DEFAULT_FALLBACK if c != "voice"), *voice)


def start(session: Session, body: CampaignIn, *, settings: Settings,
          policies: customers.Policies, now: datetime, actor: str
          ) -> tuple[dict[str, Any], bool]:
    """Create the campaign and add its members, or (same source + external id) add only the
    members not seen before. Returns (view, created)."""
    definition = _definition(body)
    if body.external_id:
        identity.lock(session, [f"campaign:{body.source}:{body.external_id}"])
        found = repo.by_external_id(session, body.source, body.external_id)
        existing = repo.get(session, found.id, for_update=True) if found else None
        if existing is not None:
            same = (existing.name, existing.channel, existing.purpose, existing.definition) == (
                body.name, body.channel, body.purpose, definition)
            if not same:
                raise Conflict(f"campaign '{body.external_id}' from '{body.source}' exists "
                               "with another definition")
            if body.crm_list:  # read the list again: members who joined since are added
                _request_list(session, existing, body, settings, now)
                existing.status, existing.error, existing.updated_at = "loading", None, now
                return view(session, existing, {"added": 0, "errors": []}), False
            summary = add_members(session, existing, body.members, settings=settings,
                                  policies=policies, now=now, actor=actor)
            return view(session, existing, summary), False
    campaign = Campaign(id="cmp_" + new_id(), name=body.name, source=body.source,
                        external_id=body.external_id, channel=body.channel,
                        purpose=body.purpose, definition=definition,
                        status="loading" if body.crm_list else "running", error=None,
                        created_by=actor, created_at=now, updated_at=now)
    if body.crm_list:
        repo.add(session, campaign)
        _request_list(session, campaign, body, settings, now)
        return view(session, campaign, {"added": 0, "errors": []}), True
    repo.add(session, campaign)
    summary = add_members(session, campaign, body.members, settings=settings,
                          policies=policies, now=now, actor=actor)
    if body.members and not summary["added"] and summary["errors"]:
        raise ValidationFailed("no member could be added", errors=summary["errors"])
    return view(session, campaign, summary), True


def _request_list(session: Session, campaign: Campaign, body: CampaignIn, settings: Settings,
                  now: datetime) -> None:
    """Ask the connector (through the outbox) to read the CRM list into the campaign."""
    assert body.crm_list is not None  # noqa: S101
    spec = connectors_for(settings).get(body.crm_list.connector)
    if spec is None or not isinstance(spec.connector, CrmReader):
        raise ValidationFailed(
            f"crm_list.connector: '{body.crm_list.connector}' is not a configured CRM "
            "connector that can read lists", errors=[{
                "field": "crm_list.connector", "code": "unknown_connector",
                "detail": "configure it in CIRCULO_CRM_CONNECTORS"}])
    outbox.enqueue_request(session, spec.destination, "campaign.list_requested",
                           {"campaign_id": campaign.id, "list_id": body.crm_list.list_id},
                           ordering_key=campaign.id, now=now)


def add_members(session: Session, campaign: Campaign, members: Sequence[MemberIn], *,
                settings: Settings, policies: customers.Policies, now: datetime, actor: str,
                keep_invalid: bool = False) -> dict[str, Any]:
    """Resolve, plan and hand on new members. Refused members are reported (or, for lists
    read from a CRM with ``keep_invalid``, kept as skipped with the reason)."""
    keyed: dict[str, tuple[int, MemberIn]] = {}
    for index, member in enumerate(members):
        keyed.setdefault(_key(member), (index, member))
    known = repo.existing_keys(session, campaign.id, list(keyed))
    fresh = [(key, index, member) for key, (index, member) in keyed.items() if key not in known]
    errors: list[dict[str, Any]] = []
    needed = _placeholders(campaign)
    ready = []
    for key, index, member in fresh:
        missing = sorted(needed - set(member.data or {}))
        if missing:
            errors.append({"index": index, "field": f"members[{index}].data", "code":
                           "missing_placeholder", "detail": f"the message uses {missing}"})
        else:
            ready.append((key, index, member))
    if not ready:
        return {"added": 0, "errors": errors}

    added = ingest.ingest(session, {"events": [{
        "type": "campaign.member_added", "source": campaign.source,
        "id": _event_id(campaign, key), "occurred_at": now.isoformat(),
        "identifiers": member.identifiers.model_dump(exclude_none=True),
        "traits": member.traits or None,
        "properties": {"campaign_id": campaign.id, "campaign": campaign.name},
    } for key, _, member in ready]}, settings=settings, policies=policies, now=now,
        actor=actor)
    refused = {e.index: e for e in added.errors}
    customer_of = {r.index: r.customer_id for r in added.results}
    erased = {r.index for r in added.results if r.status == "suppressed"}
    ids = [c for c in customer_of.values() if c]
    profiles = customers.load_profiles(session, ids)
    points = identity.contact_points_of(session, ids)

    position = repo.next_position(session, campaign.id)
    rows: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for n, (key, index, member) in enumerate(ready):
        row = {"campaign_id": campaign.id, "key": key, "position": position,
               "customer_id": None, "status": "skipped", "channel": None, "reason": None,
               "action_event_id": None, "created_at": now}
        if n in refused:
            error = refused[n]
            errors.append({"index": index, "field": f"members[{index}].{error.field}",
                           "code": error.code, "detail": error.detail})
            if not keep_invalid:
                continue
            row["reason"] = f"invalid:{error.field}"[:200]
        elif n in erased:  # an erased person's identifiers: nobody to reach
            row["reason"] = "erased_identifier"
        elif (customer_id := customer_of.get(n)) is None:
            row["reason"] = "ambiguous"
        else:
            profile = profiles[customer_id]
            plan = engine.choose(campaign.channel, campaign.purpose,
                                 reach_of(profile, points.get(customer_id, []), settings),
                                 _fallback(campaign))
            row.update(customer_id=customer_id, channel=plan.channel, reason=plan.reason)
            if plan.channel:
                row["status"] = "planned"
                actions.append(_action(campaign, key, customer_id, plan, profile.traits,
                                       member, now))
        position += 1
        rows.append(row)
    if actions:
        handed = ingest.ingest(session, {"events": actions}, settings=settings,
                               policies=policies, now=now, actor=actor)
        event_of = {actions[r.index]["id"]: r.event_id for r in handed.results}
        for row in rows:
            row["action_event_id"] = event_of.get(_event_id(campaign, str(row["key"]), ":action"))
    repo.insert_members(session, rows)
    campaign.updated_at = now
    return {"added": len(rows), "errors": sorted(errors, key=lambda e: int(e["index"]))}


def _placeholders(campaign: Campaign) -> set[str]:
    texts = [*(campaign.definition.get("message") or {}).values(),
             *(campaign.definition.get("subject") or {}).values()]
    return set().union(*(engine.placeholders(t) for t in texts)) - engine.PROFILE_FIELDS


def reach_of(profile: Any, points: list[tuple[str, str]], settings: Settings) -> engine.Reach:
    """How a customer can be reached: phones, mobiles, emails, consent, preference."""
    phones = tuple(v for k, v in points if k == "phone")
    return engine.Reach(phones=phones, mobiles=tuple(p for p in phones if _texts_ok(p)),
                        emails=tuple(v for k, v in points if k == "email"),
                        consent=profile.consent or {},
                        preferred_channel=(profile.traits or {}).get("preferred_channel"))


def _texts_ok(phone: str) -> bool:
    try:
        return phonenumbers.number_type(phonenumbers.parse(phone)) in SMS_TYPES
    except phonenumbers.NumberParseException:
        return False


def _action(campaign: Campaign, key: str, customer_id: str, plan: engine.Plan,
            traits: dict[str, Any], member: MemberIn, now: datetime) -> dict[str, Any]:
    definition = campaign.definition
    properties: dict[str, Any] = {"campaign_id": campaign.id, "campaign": campaign.name,
                                  "purpose": campaign.purpose, "to": plan.to}
    message = definition.get("message") or {}
    if message:
        language = engine.pick_language(message, traits.get("language"),
                                        definition["language"])
        values = {"first_name": traits.get("first_name") or (traits.get("name") or "")
                  .split(" ")[0], "last_name": traits.get("last_name"),
                  "name": traits.get("name"), "campaign": campaign.name, **(member.data or {})}
        properties.update(language=language, text=engine.render(message[language], values))
        subject = (definition.get("subject") or {}).get(language)
        if plan.channel == "email" and subject:
            properties["subject"] = engine.render(subject, values)
    if plan.channel == "voice":
        properties["queue"] = definition["queue"]
    return {
        "type": "campaign.call_requested" if plan.channel == "voice"
        else "campaign.message_requested",
        "source": "circulo", "id": _event_id(campaign, key, ":action"), "channel": plan.channel,
        "occurred_at": now.isoformat(), "identifiers": {"customer_id": customer_id},
        "properties": properties,
    }


def get(session: Session, campaign_id: str, *, for_update: bool = False) -> Campaign:
    """``for_update`` before adding members: concurrent pages of one campaign queue up."""
    campaign = repo.get(session, campaign_id, for_update=for_update)
    if campaign is None:
        raise NotFound(f"campaign '{campaign_id}' does not exist")
    return campaign


def recent(session: Session, limit: int) -> list[Campaign]:
    return repo.recent(session, limit)


def view(session: Session, campaign: Campaign, summary: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    return views(session, [campaign], summary)[0]


def views(session: Session, campaigns: Sequence[Campaign],
          summary: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    counts = repo.counts(session, [c.id for c in campaigns])
    out = []
    for campaign in campaigns:
        planned: dict[str, int] = {}
        skipped: dict[str, int] = {}
        for status, channel, reason, n in counts.get(campaign.id, []):
            if status == "planned":
                planned[channel or ""] = planned.get(channel or "", 0) + n
            else:
                skipped[reason or ""] = skipped.get(reason or "", 0) + n
        out.append({
            "id": campaign.id, "name": campaign.name, "source": campaign.source,
            "external_id": campaign.external_id, "channel": campaign.channel,
            "purpose": campaign.purpose, "queue": campaign.definition.get("queue"),
            "status": campaign.status, "error": campaign.error,
            "created_at": campaign.created_at.isoformat(),
            "members": sum(planned.values()) + sum(skipped.values()),
            "planned": planned, "skipped": skipped,
            **(summary or {}),
        })
    return out


def members_page(session: Session, campaign_id: str, *, status: str | None, after: int,
                 limit: int) -> dict[str, Any]:
    get(session, campaign_id)
    rows = repo.members_page(session, campaign_id, status=status, after=after, limit=limit)
    return {"members": [{
        "key": m.key, "position": m.position, "customer_id": m.customer_id,
        "status": m.status, "channel": m.channel, "reason": m.reason,
        "action_event_id": m.action_event_id} for m in rows],
        "next_after": rows[-1].position if len(rows) == limit else None}
