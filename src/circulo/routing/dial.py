"""Click-to-dial: an agent calls a number (from the desk, or from a CRM page through the
widget). The call is an outbound task of the universal queue's model — on the customer's
timeline (``call.dialed``), with what routing knows of them — but it is never offered to
anybody: it is in the agent's hands at once. It ends like any call (``end``, then the
wrap-up, which records ``call.wrapped_up`` for the CRM connectors), carrying the CRM record
it was dialed from, so the outcome is logged on that record.

The same ``request_id`` again (a double click, a retried request) returns the call already
created instead of dialing twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from circulo.config import Settings
from circulo.customers import service as customers
from circulo.errors import Conflict, ValidationFailed
from circulo.identity import service as identity
from circulo.ids import new_id
from circulo.routing import repository as repo
from circulo.routing import service
from circulo.routing.customer_context import snapshots
from circulo.routing.models import TaskRow
from circulo.routing.policy import RoutingConfig

SOURCE = "click_to_dial"
REASON = "click_to_dial"  # every dialed call carries it (reports leave these calls out)
_SEPARATORS = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"\+?[0-9]{6,15}")
_REQUEST = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(frozen=True, slots=True)
class Dial:
    agent_id: str
    phone: str
    request_id: str
    crm_record: str | None = None  # the CRM record the number was clicked on
    crm: str | None = None  # which CRM (connector name), when several are configured


def _invalid(field: str, code: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[
        {"field": field, "code": code, "detail": detail}])


def normalized_phone(text: str) -> str:
    """The number as dialed: separators dropped, an optional leading ``+`` and 6 to 15
    digits (``00`` reads as ``+``); anything else is refused."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not _PHONE.fullmatch(digits):
        raise _invalid("phone", "invalid_phone",
                       "a phone number: an optional '+' and 6 to 15 digits")
    return digits


def voice_queue(config: RoutingConfig, queues: list[str]) -> str:
    """The agent's first queue that takes calls: the outbound call's statistics go there."""
    for name in queues:
        queue = config.queues.get(name)
        if queue is not None and "voice" in queue.channels:
            return name
    raise Conflict("the agent serves no queue that takes calls: click-to-dial needs one",
                   field="agent_id")


def dial(session: Session, request: Dial, config: RoutingConfig, *, settings: Settings,
         policies: customers.Policies, now: datetime) -> tuple[TaskRow, bool]:
    """The outbound call in the agent's hands: (task, created)."""
    phone = normalized_phone(request.phone)
    if not _REQUEST.fullmatch(request.request_id):
        raise _invalid("request_id", "invalid_request_id", "8 to 64 letters, digits, - or _")
    for field, value in (("crm_record", request.crm_record), ("crm", request.crm)):
        if value is not None and not 1 <= len(value) <= 200:
            raise _invalid(field, "invalid_value", "1 to 200 characters")
    external_id = f"{request.agent_id}:{request.request_id}"
    identity.lock(session, [f"task:{SOURCE}:{external_id}"])
    known = repo.tasks_by_external(session, [(SOURCE, external_id)])
    if (SOURCE, external_id) in known:
        return known[(SOURCE, external_id)], False
    agent = service.get_agent(session, request.agent_id, for_update=True)
    queue = voice_queue(config, list(agent.queues))
    on_call = [t for t in repo.tasks_of_agent(session, agent.id, ("assigned",))
               if t.channel == "voice"]
    if on_call:
        raise Conflict("the agent is already on a call: end it before dialing another",
                       field="agent_id", task_id=on_call[0].id)
    attributes = {"direction": "outbound",
                  **{k: v for k, v in (("crm_record", request.crm_record),
                                       ("crm", request.crm)) if v}}
    task = TaskRow(
        id=new_id(), source=SOURCE, external_id=external_id, kind="contact", queue=queue,
        channel="voice", state="assigned", customer_id=None, identifiers={"phone": phone},
        priority=0, skills={}, language=None, attributes=attributes, context={}, team=None,
        boost=0, sl_seconds=config.queues[queue].sl_seconds, not_before=None,
        window_end=None, attempts=1, max_attempts=1, parent_id=None, reason=REASON,
        declined={}, agent_id=agent.id, created_at=now, queued_at=now, assigned_at=now,
        result={}, version=1, changed_at=now)
    customer_id = service.record_event(
        session, task, "call.dialed", "dialed",
        {"agent_id": agent.id, "direction": "outbound", **attributes},
        settings=settings, policies=policies, now=now)
    task.customer_id = customer_id
    if customer_id:
        task.context = snapshots(session, [customer_id], policies, now).get(
            customer_id, {"known": False})
    repo.add(session, task)
    service.take_outbound(session, agent, task, now)
    session.flush()
    return task, True
