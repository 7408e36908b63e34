"""S3 end to end: a CRM posts a segment of customers and an outbound campaign starts; each
member is reached on the channel their consent and preference allow, in their language, and
the requests reach a subscribed dialer/CPaaS signed (verified with ``standardwebhooks``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from circulo.clock import FixedClock
from circulo.connectors.worker import OutboxWorker
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import Api, assert_problem, make_key, ok, only_customer
from tests.connectors.helpers import app_with_connectors, drain
from tests.connectors.receiver import Receiver, receiver
from tests.connectors.vendors import FakeHubSpot, serve
from tests.factories import customer, event


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


def _consent(channel: str, granted: bool, purpose: str = "marketing") -> dict[str, Any]:
    return {"channel": channel, "purpose": purpose, "granted": granted}


def _people(api: Api) -> dict[str, str]:
    ana = event("customer.updated", source="crm", identifiers={
        "external_ids": {"crm": "C-1"}, "phone": "+34 612 345 678"},
        traits={"name": "Ana García", "language": "en", "preferred_channel": "sms"},
        consent=[_consent("sms", True)])
    luis = event("customer.updated", source="crm", identifiers={
        "external_ids": {"crm": "C-2"}, "email": "luis@example.es"},
        traits={"name": "Luis Pérez"}, consent=[_consent("email", True)])
    marta = event("customer.updated", source="crm", identifiers={
        "external_ids": {"crm": "C-3"}, "phone": "+34 915 550 101"},  # a Madrid landline
        traits={"name": "Marta Ruiz"}, consent=[_consent("sms", True), _consent("voice", True)])
    pedro = event("customer.updated", source="crm", identifiers={
        "external_ids": {"crm": "C-4"}, "phone": "+34 633 000 111"},
        traits={"name": "Pedro Sanz"}, consent=[_consent("sms", False)])
    result = api.send(ana, luis, marta, pedro)
    return dict(zip(["ana", "luis", "marta", "pedro"],
                    [r["customer_id"] for r in result["results"]], strict=True))


def _member(crm: str, **data: Any) -> dict[str, Any]:
    return {"key": crm, "identifiers": {"external_ids": {"crm": crm}}, "data": data or None}


CAMPAIGN = {
    "name": "Renovación del seguro de hogar", "source": "crm", "external_id": "SEG-2026-11",
    "channel": "preferred", "purpose": "marketing", "queue": "retencion",
    "fallback": ["sms", "email", "voice"],
    "message": {"es": "Hola {first_name}, renueva con un {offer} de descuento.",
                "en": "Hi {first_name}, renew now with {offer} off."},
    "subject": {"es": "Tu seguro de hogar", "en": "Your home insurance"},
}


def _members() -> list[dict[str, Any]]:
    return [_member("C-1", offer="15%"), _member("C-2", offer="10%"),
            _member("C-3", offer="10%"), _member("C-4", offer="10%"),
            {"key": "C-9", "identifiers": {"external_ids": {"crm": "C-9"},
                                           "phone": "+34 699 888 777"},
             "traits": {"name": "Nuevo Cliente"}, "data": {"offer": "5%"}}]


def _drain_all(ctx: AppContext) -> int:
    async def main() -> int:
        async with OutboxWorker(ctx) as worker:
            total = 0
            while n := await worker.run_once():
                total += n
            return total
    return asyncio.run(main())


def test_s3_a_crm_segment_starts_the_campaign_on_each_customers_channel(
        api: Api, ctx: AppContext, hook: Receiver) -> None:
    subscription = ok(api.post("/v1/webhooks", json={"url": hook.url, "event_types": [
        "campaign.call_requested", "campaign.message_requested"]}), 201)
    people = _people(api)
    started = ok(api.post("/v1/campaigns", json={**CAMPAIGN, "members": _members()}), 201)
    assert started["status"] == "running" and started["added"] == 5
    assert started["members"] == 5
    # Ana prefers SMS (mobile, consented); Luis has only email; Marta's landline cannot take
    # an SMS and she has no email: she gets a call; Pedro said no to SMS and has nothing else
    # consented; the new customer from the CRM never consented to marketing.
    assert started["planned"] == {"sms": 1, "email": 1, "voice": 1}
    assert started["skipped"] == {"sms:consent_denied,email:no_email,voice:no_consent": 1,
                                  "sms:no_consent,email:no_email,voice:no_consent": 1}
    members = {m["key"]: m for m in ok(api.get(
        f"/v1/campaigns/{started['id']}/members"))["members"]}
    assert members["C-1"]["customer_id"] == people["ana"]
    assert [members[k]["channel"] for k in ("C-1", "C-2", "C-3", "C-4")] == [
        "sms", "email", "voice", None]
    assert members["C-9"]["customer_id"] not in people.values()  # a new profile

    assert _drain_all(ctx) == 3
    secret = subscription["secret"]
    received = {r["data"]["customer_id"]: r for r in
                (Webhook(secret).verify(h.body, h.headers) for h in hook.requests)}
    sms = received[people["ana"]]
    assert sms["type"] == "campaign.message_requested"
    assert sms["data"]["channel"] == "sms"
    assert sms["data"]["properties"] == {
        "campaign_id": started["id"], "campaign": CAMPAIGN["name"], "purpose": "marketing",
        "to": "+34612345678", "language": "en", "text": "Hi Ana, renew now with 15% off."}
    email = received[people["luis"]]["data"]["properties"]
    assert (email["to"], email["subject"], email["text"]) == (
        "luis@example.es", "Tu seguro de hogar", "Hola Luis, renueva con un 10% de descuento.")
    call = received[people["marta"]]
    assert call["type"] == "campaign.call_requested"
    assert call["data"]["properties"]["queue"] == "retencion"
    assert call["data"]["properties"]["to"] == "+34915550101"
    # The agent sees it on the customer's timeline.
    timeline = ok(api.get(f"/v1/customers/{people['ana']}/timeline"))["events"]
    assert [e["type"] for e in timeline[:2]] == ["campaign.message_requested",
                                                 "campaign.member_added"]

    # The CRM sends the segment again (a retry), with one more member: only that one is new.
    again = api.post("/v1/campaigns", json={**CAMPAIGN, "members": [
        *_members(), _member("C-2b")]})
    assert again.status_code == 200
    assert ok(again)["added"] == 0 and ok(again)["errors"] == [
        {"index": 5, "field": "members[5].data", "code": "missing_placeholder",
         "detail": "the message uses ['offer']"}]
    assert _drain_all(ctx) == 0
    listed = ok(api.get("/v1/campaigns"))
    assert [c["id"] for c in listed] == [started["id"]]


def test_service_messages_need_no_opt_in_but_respect_a_refusal(api: Api) -> None:
    people = _people(api)
    # Pedro refused marketing SMS only: for service he must say so too.
    api.send(event("consent.updated", source="crm", identifiers={"external_ids": {"crm": "C-4"}},
                   consent=[_consent("sms", False, "service")]))
    started = ok(api.post("/v1/campaigns", json={
        "name": "Retraso de entregas", "source": "crm", "channel": "sms", "purpose": "service",
        "message": {"es": "Tu pedido llega con retraso."},
        "members": [_member("C-1"), _member("C-3"), {"key": "C-4", "identifiers": {
            "customer_id": people["pedro"]}}]}), 201)
    assert started["planned"] == {"sms": 1}
    assert started["skipped"] == {"no_mobile": 1, "consent_denied": 1}


def test_the_customers_language_or_the_campaigns_default(api: Api, ctx: AppContext) -> None:
    api.send(customer("C-7", phone="611000777", language="fr"))
    started = ok(api.post("/v1/campaigns", json={
        "name": "Aviso", "source": "crm", "channel": "sms", "purpose": "service",
        "message": {"es": "Hola {first_name}", "en": "Hi {first_name}"}, "language": "es",
        "members": [_member("C-7")]}), 201)
    [member] = ok(api.get(f"/v1/campaigns/{started['id']}/members"))["members"]
    timeline = ok(api.get(f"/v1/customers/{member['customer_id']}/timeline"))["events"]
    assert timeline[0]["properties"]["language"] == "es"
    assert timeline[0]["properties"]["text"] == "Hola "  # no name known: left empty


@pytest.mark.parametrize(("body", "status", "field"), [
    ({**CAMPAIGN, "members": [_member("C-1")]}, 422, "members[0].data"),
    ({"name": "x", "source": "crm", "channel": "voice", "members": []}, 422, "queue"),
    ({"name": "x", "source": "crm", "channel": "sms", "members": []}, 422, "message"),
    ({"name": "x", "source": "crm", "channel": "fax", "members": []}, 422, "channel"),
    ({"name": "x", "source": "crm", "channel": "sms", "message": {"en": "Hi"}}, 422,
     "message"),
    ({"name": "x", "source": "crm", "channel": "voice", "queue": "q",
      "crm_list": {"connector": "nope", "list_id": "1"}}, 422, "crm_list.connector"),
    ({"name": "x", "source": "crm", "channel": "voice", "queue": "q",
      "members": [{"identifiers": {"phone": "not a phone"}}]}, 422, "members[0].identifiers"),
])
def test_bad_campaigns_are_refused_naming_the_field(api: Api, body: dict[str, Any],
                                                    status: int, field: str) -> None:
    problem = assert_problem(api.post("/v1/campaigns", json=body), status,
                             "validation_failed")
    assert field in str(problem), problem


def test_a_different_campaign_under_the_same_id_is_a_conflict(api: Api) -> None:
    _people(api)
    ok(api.post("/v1/campaigns", json={**CAMPAIGN, "members": _members()}), 201)
    assert_problem(api.post("/v1/campaigns", json={**CAMPAIGN, "channel": "sms",
                                                   "members": []}), 409, "conflict")


def test_too_many_members_and_the_scope_are_checked(api: Api, ctx: AppContext) -> None:
    many = [_member(f"C-{n}") for n in range(ctx.settings.max_batch_size + 1)]
    assert_problem(api.post("/v1/campaigns", json={
        "name": "x", "source": "crm", "channel": "voice", "queue": "q", "members": many}),
        413, "payload_too_large")
    reader = Api(api.client, make_key(ctx, ["ingest", "read"], name="web"))
    assert_problem(reader.post("/v1/campaigns", json={
        "name": "x", "source": "crm", "channel": "voice", "queue": "q"}), 403, "forbidden")
    assert_problem(api.get("/v1/campaigns/cmp_nope"), 404, "not_found")


def test_members_are_added_page_by_page(api: Api) -> None:
    _people(api)
    started = ok(api.post("/v1/campaigns", json={
        "name": "Llamadas", "source": "crm", "channel": "voice", "purpose": "service",
        "queue": "q", "members": [_member("C-3")]}), 201)
    more = ok(api.post(f"/v1/campaigns/{started['id']}/members",
                       json={"members": [_member("C-4"), _member("C-1")]}))
    assert more["added"] == 2 and more["planned"] == {"voice": 3}
    first = ok(api.get(f"/v1/campaigns/{started['id']}/members", params={"limit": 2}))
    rest = ok(api.get(f"/v1/campaigns/{started['id']}/members",
                      params={"after": first["next_after"]}))
    assert [m["key"] for m in first["members"] + rest["members"]] == ["C-3", "C-4", "C-1"]


# -- from a CRM list ------------------------------------------------------------------------------
@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    with serve(fake) as url:
        fake.url = url
        yield fake


def test_s3_a_hubspot_list_becomes_a_campaign(database: Database, clock: FixedClock,
                                              tmp_path: Path, hubspot: FakeHubSpot) -> None:
    connectors = {"hubspot": {"type": "hubspot", "event_types": ["call.wrapped_up"],
                              "config": {"access_token": hubspot.token, "host": hubspot.url}}}
    for n in range(130):
        hubspot.contacts[str(2000 + n)] = {"firstname": f"Cliente{n}", "lastname": "Prueba",
                                           "mobilephone": f"+3461100{n:04d}"}
    hubspot.lists["77"] = [str(2000 + n) for n in range(130)]
    with app_with_connectors(database, clock, tmp_path, connectors) as (api, ctx):
        existing = only_customer(api.send(event(
            "customer.updated", source="hubspot", identifiers={
                "external_ids": {"hubspot": "2005"}}, traits={"tier": "gold"})))
        started = ok(api.post("/v1/campaigns", json={
            "name": "Lista VIP", "source": "hubspot", "external_id": "list-77",
            "channel": "voice", "purpose": "service", "queue": "vip",
            "crm_list": {"connector": "hubspot", "list_id": "77"}}), 201)
        assert started["status"] == "loading" and started["members"] == 0
        drain(ctx)
        loaded = ok(api.get(f"/v1/campaigns/{started['id']}"))
        assert loaded["status"] == "running"
        assert loaded["planned"] == {"voice": 130}
        members = ok(api.get(f"/v1/campaigns/{started['id']}/members",
                             params={"limit": 1000}))["members"]
        by_key = {m["key"]: m for m in members}
        assert by_key["2005"]["customer_id"] == existing  # the known customer, not a new one
        profile = ok(api.get(f"/v1/customers/{existing}"))
        assert profile["traits"]["name"] == "Cliente5 Prueba"
        # Delivering the list request again (at-least-once) adds nobody twice.
        from circulo.campaigns import crm_lists
        from circulo.connectors.registry import connectors_for
        crm_lists.load(ctx, connectors_for(ctx.settings)["hubspot"],
                       {"campaign_id": started["id"], "list_id": "77"})
        assert ok(api.get(f"/v1/campaigns/{started['id']}"))["members"] == 130
        # The list changed in HubSpot; posting the campaign again reads it again.
        hubspot.contacts["3000"] = {"firstname": "Nueva", "mobilephone": "+34611009999"}
        hubspot.lists["77"].append("3000")
        again = api.post("/v1/campaigns", json={
            "name": "Lista VIP", "source": "hubspot", "external_id": "list-77",
            "channel": "voice", "purpose": "service", "queue": "vip",
            "crm_list": {"connector": "hubspot", "list_id": "77"}})
        assert again.status_code == 200 and ok(again)["status"] == "loading"
        drain(ctx)
        refreshed = ok(api.get(f"/v1/campaigns/{started['id']}"))
        assert (refreshed["status"], refreshed["members"]) == ("running", 131)


def test_a_missing_crm_list_fails_the_campaign_with_the_reason(
        database: Database, clock: FixedClock, tmp_path: Path, hubspot: FakeHubSpot) -> None:
    connectors = {"hubspot": {"type": "hubspot", "event_types": ["call.wrapped_up"],
                              "config": {"access_token": hubspot.token, "host": hubspot.url}}}
    with app_with_connectors(database, clock, tmp_path, connectors) as (api, ctx):
        started = ok(api.post("/v1/campaigns", json={
            "name": "Lista", "source": "hubspot", "channel": "voice", "queue": "q",
            "crm_list": {"connector": "hubspot", "list_id": "404"}}), 201)
        drain(ctx)
        failed = ok(api.get(f"/v1/campaigns/{started['id']}"))
        assert failed["status"] == "failed" and "404" in failed["error"]


def test_the_longest_member_key_fits(api: Api) -> None:
    _people(api)
    long_key = "K" * 200
    started = ok(api.post("/v1/campaigns", json={
        "name": "x" * 200, "source": "crm", "external_id": "E" * 200, "channel": "voice",
        "purpose": "service", "queue": "q", "members": [
            {"key": long_key, "identifiers": {"external_ids": {"crm": "C-3"}}}]}), 201)
    [member] = ok(api.get(f"/v1/campaigns/{started['id']}/members"))["members"]
    assert member["key"] == long_key and member["status"] == "planned"


def test_an_erased_persons_member_is_skipped_as_erased_not_ambiguous(api: Api) -> None:
    # Found in review: a suppressed member (customer_id None) was reported as "ambiguous".
    first = api.send(event("customer.updated", source="crm", identifiers={
        "external_ids": {"crm": "C-7"}, "email": "olvido@example.es"}))
    ok(api.delete(f"/v1/customers/{only_customer(first)}"))
    started = ok(api.post("/v1/campaigns", json={**CAMPAIGN, "external_id": "ERASED-1",
                                                   "members": [{
        "key": "C-7", "identifiers": {"external_ids": {"crm": "C-7"},
                                      "email": "olvido@example.es"},
        "data": {"offer": "5%", "first_name": "x"}}]}), 201)
    [member] = ok(api.get(f"/v1/campaigns/{started['id']}/members"))["members"]
    assert (member["status"], member["reason"]) == ("skipped", "erased_identifier")
    assert member["customer_id"] is None
