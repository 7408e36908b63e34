"""A small contact center for the console's tests: the routing test policy, customers of
each priority class, supervisors and agents who sign in."""

from __future__ import annotations

from datetime import datetime

from circulo.auth import users
from circulo.db import Database
from tests.conftest import Api
from tests.factories import event

PASSWORD = "correct horse battery"
AGENT = {"skills": {"billing": 3}, "languages": ["es", "en"], "site": "madrid",
         "queues": ["general", "callbacks", "vip"]}
VIP, RISK, NORMAL = "+34600000001", "+34600000002", "+34600000003"


def customers(api: Api) -> dict[str, str]:
    """Vera (VIP), Rita (at risk of leaving), Nico (everyone else): phone -> customer id."""
    result = api.send(
        event("customer.updated", source="crm", identifiers={"phone": VIP},
              traits={"name": "Vera Vip", "tier": "vip"}),
        event("customer.updated", source="crm", identifiers={"phone": RISK},
              traits={"name": "Rita Risk", "churn_risk": 0.85}),
        event("customer.updated", source="crm", identifiers={"phone": NORMAL},
              traits={"name": "Nico Normal", "tier": "standard"}))
    return {phone: r["customer_id"] for phone, r in zip((VIP, RISK, NORMAL),
                                                         result["results"], strict=True)}


def person(db: Database, username: str, role: str, now: datetime, *,
           agent_id: str | None = None, language: str = "es") -> None:
    with db.unit_of_work() as session:
        users.create_user(session, users.UserSpec(
            username=username, name=username.title(), role=role, agent_id=agent_id,
            language=language, time_zone="Europe/Madrid"), PASSWORD, now)
