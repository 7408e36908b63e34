"""The supervisor's alerts, decided from a snapshot by pure rules (no database, no clock):
an angry customer on a contact that is waiting or in progress, a queue's service level below
its target, a VIP waiting longer than a threshold, a customer who abandoned again and again
today. The console's service gathers the snapshot; the rules here only decide.

Every alert has a stable ``key`` naming what it is about (the event, the task, the queue and
hour, the latest abandoned task), so an acknowledged alert stays acknowledged while the same
fact holds and a new fact raises a new alert.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

KINDS = ("angry", "service_level", "vip_wait", "abandons")
SEVERITY = {"angry": 0, "vip_wait": 1, "service_level": 2, "abandons": 3}


@dataclass(frozen=True, slots=True)
class Thresholds:
    vip_wait_seconds: float = 60.0  # a VIP waiting longer than this raises an alert
    abandons_per_day: int = 3  # a customer abandoning this many times today
    min_answered_for_sl: int = 5  # no service-level alert on the first few contacts


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact waiting (``pending``) or in progress (reserved, assigned, wrapping)."""

    task_id: str
    queue: str
    state: str
    customer_id: str | None
    customer_name: str | None
    vip: bool
    at_risk: bool
    queued_at: datetime


@dataclass(frozen=True, slots=True)
class Mood:
    """An event with negative sentiment about a customer: a chat line, an e-mail or a
    transcript read by Círculo's analysis (``text.analyzed``, ADR 0025) or scored by the
    system that sent it (``properties.sentiment == "negative"``). ``urgent``: the analysis
    also found a threat to leave, a legal threat, fraud, safety, shouting..."""

    event_id: str
    customer_id: str
    occurred_at: datetime
    event_type: str
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class QueueLevel:
    queue: str
    service_level: float | None  # percent, answered within the threshold
    target: float  # percent
    answered: int


@dataclass(frozen=True, slots=True)
class Abandons:
    customer_id: str
    customer_name: str | None
    count: int  # today
    latest_task_id: str


@dataclass(frozen=True, slots=True)
class Alert:
    key: str
    kind: str
    queue: str | None
    customer_id: str | None
    customer_name: str | None
    task_id: str | None
    value: float  # angry events, seconds waited, the service level, abandons
    target: float | None
    since: datetime | None
    urgent: bool = False  # an angry customer whose message was also urgent: listed first


def decide(now: datetime, contacts: Sequence[Contact], moods: Sequence[Mood],
           levels: Sequence[QueueLevel], abandons: Sequence[Abandons],
           thresholds: Thresholds, acknowledged: Collection[str] = ()) -> list[Alert]:
    """The open alerts, most urgent first; those whose key was acknowledged are left out."""
    found: list[Alert] = []
    by_customer: dict[str, Contact] = {}
    for contact in contacts:
        if contact.customer_id:
            known = by_customer.get(contact.customer_id)
            if known is None or contact.queued_at > known.queued_at:
                by_customer[contact.customer_id] = contact
    angry: dict[str, tuple[Contact, list[Mood]]] = {}
    for mood in moods:
        about = by_customer.get(mood.customer_id)
        # the feeling must be about this contact: expressed after it began, or while waiting
        if about is None or mood.occurred_at < about.queued_at:
            continue
        angry.setdefault(about.task_id, (about, []))[1].append(mood)
    for contact, said in angry.values():  # one alert per contact, however often they said it
        found.append(Alert(f"angry:{contact.task_id}", "angry", contact.queue,
                           contact.customer_id, contact.customer_name, contact.task_id,
                           len(said), None, max(m.occurred_at for m in said),
                           urgent=any(m.urgent for m in said)))
    for contact in contacts:
        waited = (now - contact.queued_at).total_seconds()
        if contact.state == "pending" and contact.vip \
                and waited > thresholds.vip_wait_seconds:
            found.append(Alert(f"vip_wait:{contact.task_id}", "vip_wait", contact.queue,
                               contact.customer_id, contact.customer_name, contact.task_id,
                               round(waited), thresholds.vip_wait_seconds,
                               contact.queued_at))
    hour = now.strftime("%Y-%m-%dT%H")
    for level in levels:
        if level.service_level is not None and level.answered >= thresholds.min_answered_for_sl \
                and level.service_level < level.target:
            found.append(Alert(f"service_level:{level.queue}:{hour}", "service_level",
                               level.queue, None, None, None, level.service_level,
                               level.target, None))
    for repeated in abandons:
        if repeated.count >= thresholds.abandons_per_day:
            found.append(Alert(f"abandons:{repeated.latest_task_id}", "abandons", None,
                               repeated.customer_id, repeated.customer_name, None,
                               repeated.count, thresholds.abandons_per_day, None))
    seen: set[str] = set()
    unique = []
    for alert in found:
        if alert.key not in seen and alert.key not in acknowledged:
            seen.add(alert.key)
            unique.append(alert)
    return sorted(unique, key=lambda a: (SEVERITY[a.kind], not a.urgent, -a.value, a.key))
