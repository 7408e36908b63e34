"""After an erasure: subscribers get a signed ``customer.erased`` (GDPR article 19) with the
ids and nothing personal, and resent old events carrying the person's identifiers are
acknowledged per item (``suppressed``, ``erased_identifier``) instead of re-creating them,
until an administrator lifts the suppression."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from circulo.config import Settings
from circulo.context import AppContext
from circulo.identity import suppression
from circulo.identity.models import ErasedIdentifier
from tests.conftest import NOW, Api, assert_problem, ok, only_customer
from tests.connectors.helpers import drain
from tests.connectors.receiver import Receiver, receiver
from tests.factories import event

PHONE, EMAIL = "+34 622 33 44 55", "olvido.arrieta@example.org"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


def _olvido(api: Api) -> str:
    return only_customer(api.send(
        event("customer.updated", source="crm", id="c-1",
              identifiers={"phone": PHONE, "email": EMAIL,
                           "external_ids": {"crm": "C-501", "shop": "S-9"}},
              traits={"first_name": "Olvido", "last_name": "Arrieta"}),
        event("call.completed", source="pbx", id="call-1", channel="voice",
              identifiers={"phone": PHONE}, properties={"notes": "Olvido Arrieta llama"})))


def test_subscribers_get_a_signed_customer_erased_with_ids_only(
        api: Api, ctx: AppContext, hook: Receiver) -> None:
    subscription = ok(api.post("/v1/webhooks", json={"url": hook.url,
                                                     "event_types": ["customer.*"]}), 201)
    olvido = _olvido(api)
    body = ok(api.delete(f"/v1/customers/{olvido}"))
    assert body["webhooks"] == 1
    drain(ctx)
    [received] = hook.requests
    payload = Webhook(subscription["secret"]).verify(received.body, received.headers)
    assert payload["type"] == "customer.erased"
    assert payload["timestamp"] == NOW.isoformat()
    data = payload["data"]
    assert data["customer_id"] == olvido and data["erased_ids"] == [olvido]
    assert data["erased_at"] == NOW.isoformat()
    assert data["external_ids"] == {"crm": ["C-501"], "shop": ["S-9"]}
    text = received.body.decode().lower()
    for personal in ("olvido", "arrieta", "622334455", "example.org"):
        assert personal not in text


def test_resent_old_events_are_acknowledged_but_do_not_bring_the_person_back(
        api: Api, ctx: AppContext) -> None:
    olvido = _olvido(api)
    other = only_customer(api.send(event("customer.updated", source="crm", id="c-2",
                                         identifiers={"email": "otro@example.org"})))
    body = ok(api.delete(f"/v1/customers/{olvido}"))
    assert body["suppressed_identifiers"] == 4  # phone, e-mail, two external ids
    with ctx.db.unit_of_work(write=False) as session:
        kept = set(session.scalars(select(ErasedIdentifier.digest)))
    assert len(kept) == 4 and all(len(d) == 64 for d in kept)  # hashes, not values

    # The source resends its history, with one new event of somebody else in the batch.
    response = api.post("/v1/events", json={"events": [
        event("customer.updated", source="crm", id="c-1",
              identifiers={"phone": PHONE, "email": EMAIL},
              traits={"first_name": "Olvido", "last_name": "Arrieta"}),
        event("order.placed", source="shop", id="o-7", identifiers={"external_ids": {
            "shop": "S-9"}}, properties={"order_id": "O-7"}),
        event("call.completed", source="pbx", id="call-1", channel="voice",
              identifiers={"phone": "622 334 455"}),
        event("call.completed", source="pbx", id="call-1", channel="voice",
              identifiers={"phone": "622 334 455"}),  # repeated within the batch
        event("page.viewed", source="web", identifiers={"email": "otro@example.org"}),
    ]})
    result = ok(response)  # 200: nothing for an at-least-once sender to retry
    assert (result["accepted"], result["suppressed"], result["rejected"]) == (1, 4, 0)
    assert [r["status"] for r in result["results"]] == ["suppressed"] * 4 + ["accepted"]
    assert {r["code"] for r in result["results"][:4]} == {"erased_identifier"}
    assert all(r["customer_id"] is None and r["event_id"] is None
               for r in result["results"][:4])
    assert result["results"][4]["customer_id"] == other
    for query in ({"phone": "622334455"}, {"email": EMAIL}):
        assert api.card(**query)["match"] == "none"

    # The person comes back: an administrator lifts the suppression of their e-mail.
    lifted = ok(api.post("/v1/suppressions/lift", json={"identifiers": {"email": EMAIL}}))
    assert lifted == {"lifted": 1}
    again = api.send(event("customer.updated", source="crm", id="c-1b",
                           identifiers={"email": EMAIL}, traits={"first_name": "Olvido"}))
    assert again["results"][0]["resolution"] == "created"
    # The phone is still suppressed.
    assert api.send(event(identifiers={"phone": PHONE}))["suppressed"] == 1


def test_an_identifier_somebody_else_still_holds_is_not_suppressed(api: Api) -> None:
    """A family's shared landline: erasing one of them must not silence the other."""
    first = only_customer(api.send(event("customer.updated", source="crm", identifiers={
        "phone": "+34 915 550 101", "email": "ana.casa@example.org"},
        traits={"first_name": "Ana", "last_name": "Casa"})))
    api.send(event("customer.updated", source="crm", identifiers={
        "phone": "+34 915 550 101", "email": "pedro.casa@example.org"},
        traits={"first_name": "Pedro", "last_name": "Lopez"}))
    body = ok(api.delete(f"/v1/customers/{first}"))
    assert body["suppressed_identifiers"] == 1  # her e-mail only
    result = api.send(event("call.completed", identifiers={"phone": "915550101"}))
    assert result["accepted"] == 1 and result["results"][0]["customer_id"] is not None


def test_lifting_needs_identifiers_and_the_admin_scope(api: Api) -> None:
    assert_problem(api.post("/v1/suppressions/lift", json={"identifiers": {}}), 422,
                   "validation_failed")
    body = assert_problem(api.post("/v1/suppressions/lift",
                                   json={"identifiers": {"email": "not an email"}}),
                          422, "validation_failed")
    assert "email" in body["errors"][0]["field"]
    assert_problem(api.client.post("/v1/suppressions/lift",
                                   json={"identifiers": {"email": EMAIL}}), 401, "unauthorized")


def test_without_a_configured_key_one_is_generated_once_and_kept_private(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, erasure_key=None)
    key = suppression.key_of(settings)
    path = tmp_path / suppression.KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(key) == 64 and suppression.key_of(Settings(data_dir=tmp_path,
                                                          erasure_key=None)) == key
    # A keyed hash: the same identifier under another key is another digest.
    other = Settings(data_dir=tmp_path, erasure_key="k" * 32)
    assert suppression.digest(key, "email", EMAIL) != suppression.digest(
        suppression.key_of(other), "email", EMAIL)
