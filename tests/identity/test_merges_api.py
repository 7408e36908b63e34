"""Merges through the HTTP API: an event linking two customers merges them; the merge log;
undo gives both customers back intact and they are never merged again; manual merges;
guardrails (shared identifiers, junk values) and scopes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from circulo.clock import FixedClock
from circulo.context import AppContext
from circulo.db import Database
from tests.conftest import NOW, Api, assert_problem, custom_api, make_key, ok, only_customer
from tests.factories import customer, event

ANA_PHONE = "+34600111222"
ANA_EMAIL = "ana.zaragozano@example.es"








def _customer(api: Api, customer_id: str) -> dict[str, Any]:
    return ok(api.get(f"/v1/customers/{customer_id}"))


def _timeline_ids(api: Api, customer_id: str) -> set[str]:
    body = ok(api.get(f"/v1/customers/{customer_id}/timeline", params={"limit": 500}))
    assert body["customer_id"] == customer_id
    return {e["id"] for e in body["events"]}


def _identifiers(view: dict[str, Any]) -> set[tuple[str, str]]:
    return {(i["kind"], i["value"]) for i in view["identifiers"]}


def _merges(api: Api, **params: str) -> list[dict[str, Any]]:
    merges: list[dict[str, Any]] = ok(api.get("/v1/merges", params=params))["merges"]
    return merges


def _event_ids(result: dict[str, Any]) -> set[str]:
    return {r["event_id"] for r in result["results"]}


class Pair:
    """Ana known by her phone (shop, pbx) and, separately, by her email (web, helpdesk)."""

    def __init__(self, api: Api) -> None:
        by_phone = api.send(
            event("customer.updated", source="shop", at=NOW, ago=timedelta(days=10),
                  identifiers={"phone": "600 111 222"},
                  traits={"first_name": "Ana", "last_name": "Zaragozano", "language": "es",
                          "postal_code": "28001"},
                  consent=[{"channel": "sms", "purpose": "marketing", "granted": True}]),
            event("order.placed", source="shop", at=NOW, ago=timedelta(days=9),
                  identifiers={"phone": "+34 600 11 12 22"},
                  properties={"order_id": "O-1", "amount": 120.0, "currency": "EUR"}),
            event("call.completed", at=NOW, ago=timedelta(days=3), channel="voice",
                  identifiers={"phone": "600111222"}, properties={"reason": "pedido"}),
        )
        by_email = api.send(
            event("customer.updated", source="web", at=NOW, ago=timedelta(days=5),
                  identifiers={"email": ANA_EMAIL},
                  traits={"city": "Madrid", "tier": "vip", "language": "en"}),
            event("ticket.opened", source="helpdesk", at=NOW, ago=timedelta(days=4),
                  identifiers={"email": ANA_EMAIL.upper()},
                  properties={"ticket_id": "T-1", "subject": "No llega el pedido"}),
            event("chat.completed", source="web", at=NOW, ago=timedelta(days=2), channel="chat",
                  identifiers={"email": ANA_EMAIL}),
        )
        self.a = only_customer(by_phone)
        self.b = only_customer(by_email)
        assert self.a != self.b
        self.a_events = _event_ids(by_phone)
        self.b_events = _event_ids(by_email)
        self.link_event: dict[str, Any] = event(
            "email.received", source="mail", at=NOW, ago=timedelta(days=1), channel="email",
            identifiers={"phone": "0034 600 11 12 22", "email": "Ana.Zaragozano@Example.es"},
        )

    def link(self, api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
        """Send the linking event; return its result and the merge log entry."""
        result = api.send(self.link_event)["results"][0]
        merges = [m for m in _merges(api) if m["action"] == "merge"]
        assert len(merges) == 1, merges
        return result, merges[0]


@pytest.fixture
def pair(api: Api) -> Pair:
    return Pair(api)


# --- an event links two customers -----------------------------------------------------------

def test_an_event_with_the_phone_of_one_and_the_email_of_another_merges_them(
    api: Api, pair: Pair
) -> None:
    result, merge = pair.link(api)
    # The email is the stronger identifier: its holder survives.
    assert result["resolution"] == "merged"
    assert result["customer_id"] == pair.b
    assert merge["survivor_id"] == pair.b
    assert merge["absorbed_id"] == pair.a
    assert merge["link_kind"] == "phone"
    assert merge["event_id"] == result["event_id"]
    assert merge["undone"] is False
    assert merge["actor"] == "key:test"
    # The log can be filtered by either customer.
    assert [m["id"] for m in _merges(api, customer_id=pair.a)] == [merge["id"]]
    assert [m["id"] for m in _merges(api, customer_id=pair.b)] == [merge["id"]]


def test_after_a_merge_both_identifiers_show_the_merged_customer(api: Api, pair: Pair) -> None:
    pair.link(api)
    for query in ({"phone": "600 111 222"}, {"email": ANA_EMAIL}, {"customer_id": pair.a}):
        body = api.card(**query)
        assert body["match"] == "unique", query
        assert body["card"]["customer_id"] == pair.b
        assert body["card"]["name"] == "Ana Zaragozano"
    merged = _customer(api, pair.a)
    assert merged["id"] == pair.b
    assert merged["requested_id"] == pair.a
    assert _identifiers(merged) == {("phone", ANA_PHONE), ("email", ANA_EMAIL)}
    assert merged["traits"]["first_name"] == "Ana"
    assert merged["traits"]["city"] == "Madrid"
    assert merged["traits"]["language"] == "en"  # the more recent value wins
    assert merged["consent"]["sms"]["marketing"]["granted"] is True
    indicators = merged["indicators"]
    assert indicators["contacts_total"] == 3  # call + chat + the linking email
    assert indicators["open_records"] == {"order": 1, "ticket": 1}
    assert indicators["lifetime_value"] == 120.0


def test_survivor_timeline_holds_both_customers_events(api: Api, pair: Pair) -> None:
    result, _ = pair.link(api)
    timeline = _timeline_ids(api, pair.b)
    assert timeline == pair.a_events | pair.b_events | {result["event_id"]}
    # The absorbed id answers with the survivor's timeline.
    body = ok(api.get(f"/v1/customers/{pair.a}/timeline"))
    assert body["customer_id"] == pair.b
    records = ok(api.get(f"/v1/customers/{pair.a}/records"))
    assert {(r["kind"], r["key"]) for r in records["records"]} == {("order", "O-1"),
                                                                   ("ticket", "T-1")}


# --- undo -----------------------------------------------------------------------------------

def test_undo_gives_both_customers_back_intact(api: Api, pair: Pair) -> None:
    before_a, before_b = _customer(api, pair.a), _customer(api, pair.b)
    result, merge = pair.link(api)

    undo = ok(api.post(f"/v1/merges/{merge['id']}/undo"))
    assert undo["action"] == "undo"
    assert undo["undoes"] == merge["id"]
    assert (undo["survivor_id"], undo["absorbed_id"]) == (pair.b, pair.a)

    a, b = _customer(api, pair.a), _customer(api, pair.b)
    assert (a["id"], a["requested_id"], b["id"]) == (pair.a, None, pair.b)
    # Identifiers: each their own.
    assert _identifiers(a) == {("phone", ANA_PHONE)}
    assert _identifiers(b) == {("email", ANA_EMAIL)}
    # Traits, consent and name: as before the merge.
    assert a["traits"] == before_a["traits"]
    assert a["traits"]["language"] == "es"
    assert a["name"] == "Ana Zaragozano"
    assert a["consent"] == before_a["consent"]
    assert b["traits"] == before_b["traits"]
    assert "first_name" not in b["traits"]
    assert b["name"] is None
    assert b["consent"] == {}
    # Indicators: rebuilt from each one's own events and records.
    assert a["indicators"]["contacts_total"] == 1
    assert a["indicators"]["open_records"] == {"order": 1}
    assert a["indicators"]["records_total"] == {"order": 1}
    assert a["indicators"]["lifetime_value"] == 120.0
    assert a["indicators"]["last_contact_reason"] == "pedido"
    assert b["indicators"]["contacts_total"] == 2  # chat + the linking email, which stays
    assert b["indicators"]["open_records"] == {"ticket": 1}
    assert b["indicators"]["lifetime_value"] == 0.0
    assert b["indicators"]["last_contact_channel"] == "email"
    # Events and records: each their own.
    assert _timeline_ids(api, pair.a) == pair.a_events
    assert _timeline_ids(api, pair.b) == pair.b_events | {result["event_id"]}
    records_a = ok(api.get(f"/v1/customers/{pair.a}/records"))["records"]
    records_b = ok(api.get(f"/v1/customers/{pair.b}/records"))["records"]
    assert [(r["kind"], r["key"]) for r in records_a] == [("order", "O-1")]
    assert [(r["kind"], r["key"]) for r in records_b] == [("ticket", "T-1")]
    # Cards: each identifier pops its own customer again.
    assert api.card(phone="600111222")["card"]["customer_id"] == pair.a
    assert api.card(email=ANA_EMAIL)["card"]["customer_id"] == pair.b
    # The log shows the merge as undone, and the undo entry.
    log = {m["action"]: m for m in _merges(api)}
    assert log["merge"]["undone"] is True
    assert log["undo"]["undoes"] == merge["id"]


def test_undoing_twice_is_a_conflict(api: Api, pair: Pair) -> None:
    _, merge = pair.link(api)
    ok(api.post(f"/v1/merges/{merge['id']}/undo"))
    assert_problem(api.post(f"/v1/merges/{merge['id']}/undo"), 409, "conflict")
    assert len(_merges(api)) == 2  # the merge and one undo


def test_undo_of_an_unknown_merge_is_not_found(api: Api) -> None:
    assert_problem(api.post("/v1/merges/0000000000000000deadbeef00000000/undo"), 404, "not_found")


def test_undo_of_an_undo_entry_is_not_found(api: Api, pair: Pair) -> None:
    _, merge = pair.link(api)
    undo = ok(api.post(f"/v1/merges/{merge['id']}/undo"))
    assert_problem(api.post(f"/v1/merges/{undo['id']}/undo"), 404, "not_found")


def test_after_undo_the_same_link_never_merges_them_again(api: Api, pair: Pair) -> None:
    _, merge = pair.link(api)
    ok(api.post(f"/v1/merges/{merge['id']}/undo"))

    again = dict(pair.link_event, id="link-again")
    result = api.send(again)["results"][0]
    assert result["resolution"] != "merged"
    assert result["customer_id"] in (pair.b, None)
    assert [m["action"] for m in _merges(api) if m["action"] == "merge"] == ["merge"]
    assert _customer(api, pair.a)["id"] == pair.a
    assert _customer(api, pair.b)["id"] == pair.b
    assert pair.a_events <= _timeline_ids(api, pair.a)
    # Not in a later batch either, nor through an event carrying both in a list.
    later = event("call.completed", at=NOW, channel="voice",
                  identifiers={"phones": ["600111222"], "emails": [ANA_EMAIL]})
    assert api.send(later)["results"][0]["resolution"] != "merged"
    assert _customer(api, pair.a)["id"] == pair.a


def test_undo_of_a_chain_restores_the_middle_customer_with_its_own_absorbed(
    api: Api, pair: Pair
) -> None:
    """A absorbed into B, then B into C: undoing B->C gives back B with A still inside."""
    pair.link(api)
    third = only_customer(api.send(customer("C-9", email="otra@example.es", first_name="Eva")))
    manual = ok(api.post("/v1/merges", json={"survivor_id": third, "absorbed_id": pair.b,
                                               "reason": "confirmed by the customer"}), 201)
    assert _customer(api, pair.a)["id"] == third
    ok(api.post(f"/v1/merges/{manual['id']}/undo"))
    b = _customer(api, pair.b)
    assert b["id"] == pair.b
    assert _identifiers(b) == {("phone", ANA_PHONE), ("email", ANA_EMAIL)}
    assert _customer(api, pair.a)["id"] == pair.b
    c = _customer(api, third)
    assert _identifiers(c) == {("external_id", "crm:C-9"), ("email", "otra@example.es")}
    assert _timeline_ids(api, third).isdisjoint(pair.a_events | pair.b_events)


def test_undo_of_an_older_merge_when_the_survivor_was_merged_again(api: Api, pair: Pair) -> None:
    """A absorbed into B, then B into C: undoing A->B gives back A; B stays inside C."""
    _, first = pair.link(api)
    third = only_customer(api.send(customer("C-9", email="otra@example.es", first_name="Eva")))
    ok(api.post("/v1/merges", json={"survivor_id": third, "absorbed_id": pair.b}), 201)
    ok(api.post(f"/v1/merges/{first['id']}/undo"))
    a = _customer(api, pair.a)
    assert a["id"] == pair.a
    assert _identifiers(a) == {("phone", ANA_PHONE)}
    assert a["traits"]["language"] == "es"
    assert _timeline_ids(api, pair.a) == pair.a_events
    c = _customer(api, pair.b)
    assert c["id"] == third
    assert _identifiers(c) == {("external_id", "crm:C-9"), ("email", "otra@example.es"),
                               ("email", ANA_EMAIL)}
    assert "first_name" in c["traits"] and c["traits"]["first_name"] == "Eva"
    assert c["indicators"]["open_records"] == {"ticket": 1}
    assert _timeline_ids(api, third).isdisjoint(pair.a_events)
    assert api.card(phone="600111222")["card"]["customer_id"] == pair.a
    assert api.card(email=ANA_EMAIL)["card"]["customer_id"] == third


# --- manual merges --------------------------------------------------------------------------

def test_manual_merge_by_an_admin(api: Api) -> None:
    ana = only_customer(api.send(event("customer.updated", source="crm",
                                        identifiers={"email": "ana@example.es"},
                                        traits={"first_name": "Ana"})))
    other = only_customer(api.send(event("call.completed", channel="voice",
                                          identifiers={"phone": "611 222 333"})))
    body = ok(api.post("/v1/merges", json={"survivor_id": ana, "absorbed_id": other,
                                            "reason": "same person, confirmed on the phone"}),
               201)
    assert body["action"] == "merge"
    assert (body["survivor_id"], body["absorbed_id"]) == (ana, other)
    assert body["reason"] == "same person, confirmed on the phone"
    assert body["link_kind"] is None
    assert api.card(phone="611222333")["card"]["customer_id"] == ana
    assert _customer(api, other)["id"] == ana
    assert _customer(api, ana)["indicators"]["contacts_total"] == 1
    # A manual merge can be undone like any other.
    ok(api.post(f"/v1/merges/{body['id']}/undo"))
    assert api.card(phone="611222333")["card"]["customer_id"] == other
    assert _customer(api, ana)["indicators"]["contacts_total"] == 0


def test_manual_merge_of_two_crm_customers_is_refused(api: Api) -> None:
    one = only_customer(api.send(customer("C-1", phone="600 100 100")))
    two = only_customer(api.send(customer("C-2", email="dos@example.es")))
    body = assert_problem(api.post("/v1/merges", json={"survivor_id": one, "absorbed_id": two}),
                    409, "conflict")
    assert "crm" in body["detail"]
    assert _merges(api) == []
    assert _customer(api, two)["id"] == two


def test_manual_merge_of_a_customer_with_itself_or_an_unknown_one(api: Api) -> None:
    one = only_customer(api.send(customer("C-1", phone="600 100 100")))
    assert_problem(api.post("/v1/merges", json={"survivor_id": one, "absorbed_id": one}),
             409, "conflict")
    assert_problem(api.post("/v1/merges", json={"survivor_id": one, "absorbed_id": "nobody"}),
             404, "not_found")
    assert _merges(api) == []


# --- guardrails -----------------------------------------------------------------------------

@pytest.fixture
def strict_api(database: Database, clock: FixedClock) -> Iterator[Api]:
    """An app whose merge limit is one profile per identifier."""
    with custom_api(database, clock, max_profiles_per_identifier=1) as api:
        yield api


def test_a_phone_over_the_limit_never_merges_and_is_listed_as_shared(strict_api: Api) -> None:
    api = strict_api
    family = [only_customer(api.send(customer(crm, phone=phone, first_name=name)))
              for crm, phone, name in (("F-1", "915 550 123", "Antonio"),
                                       ("F-2", "+34915550123", "Pilar"),
                                       ("F-3", "0034 91 555 01 23", "Lucía"))]
    assert len(set(family)) == 3
    solo = only_customer(api.send(event("customer.updated", source="web",
                                         identifiers={"email": "lucia@example.es"})))

    # Only the shared phone: unattributed, with every candidate.
    result = api.send(event("call.abandoned", identifiers={"phone": "915550123"}))["results"][0]
    assert result["resolution"] == "ambiguous"
    assert result["customer_id"] is None
    assert sorted(result["candidates"]) == sorted(family)
    # The phone next to a personal identifier: attached there, never linking the others.
    result = api.send(event("chat.completed", identifiers={"phone": "915550123",
                                                           "email": "lucia@example.es"}))
    assert result["results"][0]["resolution"] == "attached"
    assert result["results"][0]["customer_id"] == solo
    result = api.send(event("call.completed", identifiers={"phone": "915550123",
                                                           "external_ids": {"crm": "F-2"}}))
    assert result["results"][0]["customer_id"] == family[1]

    assert _merges(api) == []
    for pid in (*family, solo):
        assert _customer(api, pid)["id"] == pid
    shared = ok(api.get("/v1/identifiers/shared"))
    assert shared["limit"] == 1
    phone = [s for s in shared["shared"] if (s["kind"], s["value"]) == ("phone", "+34915550123")]
    assert len(phone) == 1, shared
    # The three family members and Lucía's web profile, which took the phone; F-2 held it.
    assert phone[0]["profile_count"] == 4
    assert api.card(phone="915 550 123")["match"] == "ambiguous"


def test_junk_values_never_link_two_customers(api: Api) -> None:
    x = api.send(event("customer.updated", source="crm",
                       identifiers={"phone": "000000000", "email": "x@example.es"},
                       traits={"first_name": "Xavier"}))
    y = api.send(event("customer.updated", source="crm",
                       identifiers={"phone": "000000000", "email": "y@example.es"},
                       traits={"first_name": "Yolanda"}))
    z = api.send(event("customer.updated", source="crm",
                       identifiers={"email": "test@test.com", "phone": "611 222 333"}))
    w = api.send(event("customer.updated", source="crm",
                       identifiers={"email": "TEST@test.com", "phone": "622 333 444"}))
    ids = [only_customer(r) for r in (x, y, z, w)]
    assert len(set(ids)) == 4
    for body in (x, y, z, w):
        assert body["results"][0]["resolution"] == "created"
        assert body["results"][0]["warnings"], body
    # An event carrying nothing but junk belongs to nobody.
    junk_only = api.send(event("call.completed",
                               identifiers={"phone": "000000000", "email": "test@test.com"}))
    assert junk_only["results"][0]["resolution"] == "anonymous"
    assert junk_only["results"][0]["customer_id"] is None
    # Junk next to a real identifier links nobody else.
    linked = api.send(event("call.completed",
                            identifiers={"phone": "000000000", "email": "y@example.es"}))
    assert linked["results"][0]["customer_id"] == ids[1]
    assert linked["results"][0]["resolution"] == "attached"
    assert _merges(api) == []
    assert _identifiers(_customer(api, ids[0])) == {("email", "x@example.es")}
    assert _identifiers(_customer(api, ids[2])) == {("phone", "+34611222333")}
    assert api.card(phone="000000000")["match"] == "none"
    assert api.card(email="test@test.com")["match"] == "none"


# --- scopes ---------------------------------------------------------------------------------

def test_a_read_key_cannot_undo_or_merge(api: Api, ctx: AppContext, pair: Pair) -> None:
    _, merge = pair.link(api)
    reader = Api(api.client, make_key(ctx, ["read"], name="reader"))
    body = assert_problem(reader.post(f"/v1/merges/{merge['id']}/undo"), 403, "forbidden")
    assert body["scope"] == "admin"
    assert_problem(reader.post("/v1/merges", json={"survivor_id": pair.a, "absorbed_id": pair.b}),
             403, "forbidden")
    ingester = Api(api.client, make_key(ctx, ["ingest"], name="ingester"))
    assert_problem(ingester.post(f"/v1/merges/{merge['id']}/undo"), 403, "forbidden")
    # Reading the log is fine with read; and nothing was undone.
    log = ok(reader.get("/v1/merges"))["merges"]
    assert [(m["action"], m["undone"]) for m in log] == [("merge", False)]
    assert _customer(api, pair.a)["id"] == pair.b


def test_the_merge_log_needs_a_key(api: Api) -> None:
    assert_problem(api.client.get("/v1/merges"), 401, "unauthorized")
    assert_problem(api.client.post("/v1/merges/x/undo"), 401, "unauthorized")


def test_undo_of_a_merge_made_within_one_batch(api: Api) -> None:
    """The two customers and the event linking them arrive in the same batch."""
    result = api.send(
        event("customer.updated", source="shop", at=NOW, ago=timedelta(days=3),
              identifiers={"phone": "600 111 222"},
              traits={"first_name": "Ana", "last_name": "Zaragozano"}),
        event("order.placed", source="shop", at=NOW, ago=timedelta(days=2),
              identifiers={"email": ANA_EMAIL}, properties={"order_id": "O-7", "amount": 30}),
        event("call.completed", at=NOW, ago=timedelta(days=1), channel="voice",
              identifiers={"phone": "600111222", "email": ANA_EMAIL}),
    )
    first, second, link = result["results"]
    assert (first["resolution"], second["resolution"], link["resolution"]) == (
        "created", "created", "merged")
    survivor = link["customer_id"]
    assert first["customer_id"] == second["customer_id"] == survivor
    merge = _merges(api)[0]
    absorbed = merge["absorbed_id"]
    assert merge["survivor_id"] == survivor and absorbed != survivor

    ok(api.post(f"/v1/merges/{merge['id']}/undo"))
    by_phone = api.card(phone="600111222")["card"]["customer_id"]
    by_email = api.card(email=ANA_EMAIL)["card"]["customer_id"]
    assert {by_phone, by_email} == {survivor, absorbed}
    phone_view, email_view = _customer(api, by_phone), _customer(api, by_email)
    assert _identifiers(phone_view) == {("phone", ANA_PHONE)}
    assert _identifiers(email_view) == {("email", ANA_EMAIL)}
    assert phone_view["traits"] == {"first_name": "Ana", "last_name": "Zaragozano"}
    assert email_view["traits"] == {}
    assert first["event_id"] in _timeline_ids(api, by_phone)
    assert second["event_id"] in _timeline_ids(api, by_email)
    records = ok(api.get(f"/v1/customers/{by_email}/records"))["records"]
    assert [r["key"] for r in records] == ["O-7"]
