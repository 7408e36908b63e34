"""Reading a campaign's members from a CRM list (HubSpot list, Salesforce Campaign).

Runs in the outbox worker, as the delivery of a ``campaign.list_requested`` request to the
connector: a failure is retried like any delivery, and members already added are skipped on the
next try (they are keyed by the CRM's id), so a retry never contacts anyone twice.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from circulo.campaigns import repository as repo
from circulo.campaigns import service
from circulo.campaigns.schemas import MemberIn
from circulo.connectors.crm import CrmError, CrmPerson, CrmReader
from circulo.connectors.policy import RETRYABLE_4XX
from circulo.connectors.registry import ConnectorSpec
from circulo.context import AppContext
from circulo.ingest.schemas import Identifiers

CHUNK = 500


def member_of(person: CrmPerson, namespace: str) -> MemberIn:
    return MemberIn(key=person.crm_id, identifiers=Identifiers(**person.identifiers(namespace)),
                    traits=person.traits())


def load(ctx: AppContext, spec: ConnectorSpec, data: dict[str, Any]) -> None:
    campaign_id, list_id = str(data["campaign_id"]), str(data["list_id"])
    reader = spec.connector
    try:
        if not isinstance(reader, CrmReader):
            raise CrmError(f"{spec.name} cannot read lists", 422)
        people = iter(reader.list_members(list_id))
        while chunk := list(islice(people, CHUNK)):
            with ctx.db.unit_of_work() as session:
                campaign = repo.get(session, campaign_id, for_update=True)
                if campaign is None:
                    return  # erased meanwhile
                service.add_members(session, campaign,
                                    [member_of(p, spec.namespace) for p in chunk],
                                    settings=ctx.settings, policies=ctx.policies,
                                    now=ctx.clock.now(), actor=f"crm:{spec.name}",
                                    keep_invalid=True)
    except CrmError as exc:
        permanent = exc.status_code is not None and 400 <= exc.status_code < 500 and \
            exc.status_code not in RETRYABLE_4XX
        if permanent:
            _finish(ctx, campaign_id, "failed", str(exc)[:500])
        raise
    _finish(ctx, campaign_id, "running", None)


def _finish(ctx: AppContext, campaign_id: str, status: str, error: str | None) -> None:
    with ctx.db.unit_of_work() as session:
        campaign = repo.get(session, campaign_id, for_update=True)
        if campaign is not None:
            campaign.status, campaign.error = status, error
            campaign.updated_at = ctx.clock.now()
