"""Delivering a wrapped-up interaction to a CRM, and writing the CRM's id back.

Runs in the outbox worker (a thread per CRM call). The customer as the CRM should know them
is read at delivery time, so the CRM gets today's name and contact data.
"""

from __future__ import annotations

from typing import Any

from circulo.connectors.crm import CrmContact, CrmError, activity_from_event, log_wrap_up
from circulo.connectors.registry import ConnectorSpec
from circulo.context import AppContext
from circulo.customers import views
from circulo.errors import NotFound
from circulo.ingest import service as ingest


def contact_for(ctx: AppContext, customer_id: str, namespace: str) -> CrmContact:
    with ctx.db.unit_of_work(write=False) as session:
        try:
            profile = views.profile_view(session, customer_id, ctx.policies, ctx.clock.now())
        except NotFound as exc:
            raise CrmError(f"customer {customer_id} no longer exists", 410) from exc
    first: dict[str, str] = {}
    for ident in profile["identifiers"]:
        kind, value = ident["kind"], ident["value"]
        if kind == "external_id" and value.startswith(f"{namespace}:"):
            first.setdefault("crm_id", value.split(":", 1)[1])
        elif kind in ("email", "phone"):
            first.setdefault(kind, value)
    return CrmContact(customer_id=profile["id"], name=profile["name"],
                      email=first.get("email"), phone=first.get("phone"),
                      crm_id=first.get("crm_id"))


def log_interaction(ctx: AppContext, spec: ConnectorSpec, event: dict[str, Any]) -> None:
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
