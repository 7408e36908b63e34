"""What the routing policy knows about the customer behind a task: a snapshot taken when the
task is created (tier, value, churn risk, open records and who owns them, the agents who last
served them, any routing override), so decisions never wait on a database read.

Keys without a value are left out, so a policy tests them with CEL's ``has()``:
``has(customer.case_owner)``. An open record's owner is its ``data.owner`` (or ``assignee``),
an agent id, as the CRM or helpdesk sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from circulo.customers import service as customers
from circulo.customers.indicators import view as indicators_view
from circulo.customers.state import ProfileState
from circulo.errors import NotFound
from circulo.routing import repository as repo

CASE_KINDS = ("ticket", "case", "dispute", "complaint", "claim", "incident")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def snapshots(session: Session, customer_ids: Sequence[str], policies: customers.Policies,
              now: datetime, *, full: bool = False) -> dict[str, dict[str, Any]]:
    """The snapshots of several customers, read together (four queries, whatever the count):
    what a batch of tasks needs. ``full`` adds every indicator and the consent (journeys)."""
    wanted = sorted(set(customer_ids))
    loaded = customers.load_profiles(session, wanted)
    profiles: dict[str, ProfileState] = {}
    for customer_id in wanted:
        profile = loaded.get(customer_id)
        if profile is None or profile.status != "active":
            try:  # merged since (follow it), or gone
                profile = customers.active_root(session, customer_id)
            except NotFound:
                continue
        profiles[customer_id] = profile
    roots = sorted({p.id for p in profiles.values()})
    records = customers.open_records_of(session, roots)
    last = repo.last_agents_of(session, roots)
    latest_override: dict[str, Any] = {}
    for row in repo.active_overrides(session, roots, now):  # oldest first: the last one wins
        latest_override[row.customer_id] = row
    result: dict[str, dict[str, Any]] = {}
    for customer_id in wanted:
        profile = profiles.get(customer_id)
        if profile is None:
            result[customer_id] = {"known": False}
            continue
        result[customer_id] = _context(profile, records.get(profile.id, []),
                                       last.get(profile.id, []),
                                       latest_override.get(profile.id), policies, now)
        if full:
            result[customer_id]["indicators"] = indicators_view(profile.indicators,
                                                                policies.indicators, now)
            result[customer_id]["consent"] = dict(profile.consent or {})
    return result


def _context(profile: ProfileState, open_records: Sequence[Any], last_agents: list[str],
             latest: Any, policies: customers.Policies, now: datetime) -> dict[str, Any]:
    traits = profile.traits
    indicators = indicators_view(profile.indicators, policies.indicators, now)
    context: dict[str, Any] = {"known": True, "id": profile.id, "traits": dict(traits)}
    if profile.display_name:
        context["name"] = profile.display_name
    for name in ("tier", "segment", "advisor", "language", "preferred_channel"):
        if traits.get(name) not in (None, ""):
            context[name] = traits[name]
    churn = _number(traits.get("churn_risk"))
    if churn is not None:
        context["churn_risk"] = churn
    context["value"] = float(indicators.get("lifetime_value") or 0.0)
    context["contacts_today"] = int(indicators["contacts"].get("1d", {}).get("total", 0))
    context["abandoned_today"] = int(indicators.get("abandoned_calls_today") or 0)
    records = []
    owner = None
    for record in open_records:
        data = record.data or {}
        item: dict[str, Any] = {"kind": record.kind, "key": record.key, "status": record.status}
        record_owner = data.get("owner") or data.get("assignee")
        if record_owner:
            item["owner"] = str(record_owner)
            if owner is None and record.kind in CASE_KINDS:
                owner = str(record_owner)
        if record.amount is not None:
            item["amount"] = record.amount
        records.append(item)
    context["open_records"] = records
    context["open_kinds"] = sorted({r["kind"] for r in records})
    if owner:
        context["case_owner"] = owner
    context["last_agents"] = last_agents
    if latest is not None:
        context["override"] = {k: v for k, v in {
            "id": latest.id, "queue": latest.queue, "team": latest.team,
            "priority_boost": latest.priority_boost, "reason": latest.reason, "ivr": latest.ivr,
            "expires_at": latest.expires_at.isoformat()}.items() if v not in (None, "")}
    return context
