"""Delivering a wrapped-up interaction to a CRM, and writing the CRM's id back.

Runs in the outbox worker (a thread per CRM call). The customer as the CRM should know them
is read at delivery time, so the CRM gets today's name and contact data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from circulo import hooks
from circulo.connectors.crm import (
    CrmContact,
    CrmError,
    CrmPerson,
    CrmReader,
    activity_from_event,
    log_wrap_up,
)
from circulo.connectors.registry import ConnectorSpec
from circulo.context import AppContext
from circulo.customers import service as customers
from circulo.errors import NotFound
from circulo.identity import service as identity
from circulo.ingest import service as ingest

CrmRequestHandler = Callable[[AppContext, ConnectorSpec, dict[str, Any]], None]
# Requests that packages above the connectors handle (``campaign.list_requested``: campaigns
# read a CRM list into a campaign), registered at start-up by circulo.wiring.
request_handlers: hooks.Registry[CrmRequestHandler] = hooks.Registry("CRM requests")


def deliver(ctx: AppContext, spec: ConnectorSpec, payload: dict[str, Any]) -> None:
    """One outbox message for a CRM: a request to read something, or an interaction to log."""
    kind, data = payload.get("type"), payload["data"]
    handler = request_handlers.get(str(kind))
    if handler is not None:
        handler(ctx, spec, data)
    elif kind == "crm.contact_sync_requested":
        sync_contact(ctx, spec, data)
    elif kind == "connector.action_requested":
        act(ctx, spec, data)
    else:
        log_interaction(ctx, spec, data)


def act(ctx: AppContext, spec: ConnectorSpec, data: dict[str, Any]) -> None:
    """A journey's request (a refund, say) made to the connected system; its answer is
    recorded on the customer as ``connector.action_completed``."""
    act_on = getattr(spec.connector, "act", None)
    if act_on is None:
        raise CrmError(f"{spec.name}: a {spec.kind} connector takes no actions", 400)
    reference = act_on(data["action"], {**data.get("params", {}),
                                        "customer_id": data.get("customer_id")})
    if not data.get("customer_id"):
        return
    with ctx.db.unit_of_work() as session:
        ingest.ingest(session, {"events": [{
            "type": "connector.action_completed", "source": "circulo",
            "id": f"action:{data['request_id']}", "occurred_at": ctx.clock.now().isoformat(),
            "identifiers": {"customer_id": data["customer_id"]},
            "properties": {"connector": spec.name, "action": data["action"],
                           "reference": reference, "journey": data.get("journey"),
                           "params": data.get("params", {})}}]},
            settings=ctx.settings, policies=customers.policies_for(ctx.settings),
            now=ctx.clock.now(), actor=f"connector:{spec.name}")


def person_event(person: CrmPerson, spec: ConnectorSpec, event_type: str, event_id: str,
                 occurred_at: str | None) -> dict[str, Any]:
    """A CRM contact as a Círculo event: its id, contact points and name."""
    return {"type": event_type, "source": spec.name, "id": event_id,
            "occurred_at": occurred_at, "identifiers": person.identifiers(spec.namespace),
            "traits": person.traits(), "properties": {"connector": spec.name}}


def sync_contact(ctx: AppContext, spec: ConnectorSpec, data: dict[str, Any]) -> None:
    """Read a contact the CRM told us about (a creation webhook carries only its id)."""
    if not isinstance(spec.connector, CrmReader):
        raise CrmError(f"{spec.name} cannot read contacts", 422)
    person = spec.connector.get_contact(str(data["contact_id"]))
    with ctx.db.unit_of_work() as session:
        ingest.ingest(session, person_event(person, spec, "crm.contact_synced",
                                            str(data["event_id"]), data.get("occurred_at")),
                      settings=ctx.settings, policies=ctx.policies, now=ctx.clock.now(),
                      actor=f"crm:{spec.name}")


def contact_for(ctx: AppContext, customer_id: str, namespace: str) -> CrmContact:
    """The customer as the CRM should know them: two small reads, not the whole profile."""
    with ctx.db.unit_of_work(write=False) as session:
        try:
            profile = customers.active_root(session, customer_id)
        except NotFound as exc:
            raise CrmError(f"customer {customer_id} no longer exists", 410) from exc
        first: dict[str, str] = {}
        for ident in identity.identifiers_of(session, profile.id):
            kind, value = ident.kind, ident.value
            if kind == "external_id" and value.startswith(f"{namespace}:"):
                first.setdefault("crm_id", value.split(":", 1)[1])
            elif kind in ("email", "phone"):
                first.setdefault(kind, value)
    return CrmContact(customer_id=profile.id, name=profile.display_name,
                      email=first.get("email"), phone=first.get("phone"),
                      crm_id=first.get("crm_id"))


def log_interaction(ctx: AppContext, spec: ConnectorSpec, event: dict[str, Any]) -> None:
    properties = event.get("properties") or {}
    record = properties.get("crm_record")
    if isinstance(record, str) and record and properties.get("crm") in (None, spec.name):
        # Wrapped up from a CRM page (the widget): logged on that record, no search.
        spec.connector.log_activity(record, activity_from_event(event))
        return
    customer_id = event.get("customer_id")
    if not customer_id:
        raise CrmError("the interaction is not attributed to a customer (ambiguous or "
                       "anonymous): nothing to log it on", 422)
    contact = contact_for(ctx, customer_id, spec.namespace)
    contact_id, _ = log_wrap_up(spec.connector, contact, activity_from_event(event))
    if contact.crm_id != contact_id:
        # Remember the CRM's id: the next wrap-up skips the search, the card gets its link.
        with ctx.db.unit_of_work() as session:
            ingest.ingest(session, {
                "type": "crm.contact_linked", "source": "circulo",
                "identifiers": {"customer_id": contact.customer_id,
                                "external_ids": {spec.namespace: contact_id}},
                "properties": {"connector": spec.name},
            }, settings=ctx.settings, policies=ctx.policies, now=ctx.clock.now(),
                actor=f"crm:{spec.name}")
