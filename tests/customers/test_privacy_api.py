"""Right of access (export) and right to erasure (DELETE) through the HTTP API. Erasure is
checked in the database itself: no row may still hold the person's phone, email or name."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from circulo.context import AppContext
from circulo.db import Base
from tests.conftest import NOW, Api, assert_problem, make_key, ok, only_customer
from tests.factories import event

PERSONAL_TABLES = ("identifiers", "events", "records", "profiles")

# Distinctive values, so that finding them anywhere in a row means this person's data.
RUTH = {"phone": "+34677889900", "email": "ruth.quintanilla@example.es",
        "name": "Quintanilla", "account": "ES9988776655"}
LEO = {"phone": "+34655443322", "email": "leo.barrenechea@example.es", "name": "Barrenechea"}








def _send_ruth(api: Api) -> tuple[str, set[str]]:
    result = api.send(
        event("customer.updated", source="crm", at=NOW, ago=timedelta(days=20),
              identifiers={"phone": "677 88 99 00", "email": RUTH["email"],
                           "account": RUTH["account"]},
              traits={"first_name": "Ruth", "last_name": RUTH["name"], "city": "Burgos",
                      "pin": "4321"},
              consent=[{"channel": "email", "purpose": "marketing", "granted": False},
                       {"channel": "sms", "purpose": "service", "granted": True}]),
        event("order.placed", source="shop", at=NOW, ago=timedelta(days=15),
              identifiers={"email": RUTH["email"]},
              properties={"order_id": "R-100", "amount": 59.9, "currency": "EUR",
                          "title": f"Pedido de Ruth {RUTH['name']}"}),
        event("call.completed", at=NOW, ago=timedelta(days=2), channel="voice",
              identifiers={"phone": "+34 677 889 900"},
              properties={"reason": f"llama {RUTH['name']} por su pedido"}),
    )
    return only_customer(result), {r["event_id"] for r in result["results"]}


def _send_leo(api: Api) -> str:
    return only_customer(api.send(
        event("customer.updated", source="crm", at=NOW, ago=timedelta(days=3),
              identifiers={"phone": "655 44 33 22", "email": LEO["email"]},
              traits={"first_name": "Leo", "last_name": LEO["name"]}),
        event("ticket.opened", source="helpdesk", at=NOW, ago=timedelta(days=1),
              identifiers={"email": LEO["email"]},
              properties={"ticket_id": "L-1", "subject": "Factura"}),
    ))


def _rows_with(ctx: AppContext, needles: list[str]) -> list[tuple[str, str]]:
    """(table, row) of every row of the personal tables containing one of ``needles``."""
    found = []
    with ctx.db.engine.connect() as conn:
        for name in PERSONAL_TABLES:
            table = Base.metadata.tables[name]
            for row in conn.execute(select(table)):
                text = json.dumps(dict(row._mapping), default=str, ensure_ascii=False)
                if any(n.lower() in text.lower() for n in needles):
                    found.append((name, text))
    return found


def _tables_holding(ctx: AppContext, needles: list[str]) -> set[str]:
    return {name for name, _ in _rows_with(ctx, needles)}


# --- export ---------------------------------------------------------------------------------

def test_export_holds_everything_about_the_person(api: Api) -> None:
    ruth, event_ids = _send_ruth(api)
    _send_leo(api)
    body = ok(api.get(f"/v1/customers/{ruth}/export"))
    assert body["id"] == ruth
    assert body["exported_at"] == NOW.isoformat()
    assert body["name"] == f"Ruth {RUTH['name']}"
    assert body["traits"]["city"] == "Burgos"
    assert "pin" not in body["traits"]
    assert {(i["kind"], i["value"]) for i in body["identifiers"]} == {
        ("phone", RUTH["phone"]), ("email", RUTH["email"]), ("account", RUTH["account"])}
    assert [(r["kind"], r["key"], r["amount"]) for r in body["records"]] == [
        ("order", "R-100", 59.9)]
    assert {e["id"] for e in body["events"]} == event_ids
    assert [e["type"] for e in body["events"]] == [  # newest first
        "call.completed", "order.placed", "customer.updated"]
    assert body["consent"]["email"]["marketing"]["granted"] is False
    assert body["consent"]["sms"]["service"]["granted"] is True
    assert body["merges"] == []
    # Nothing of somebody else.
    assert LEO["email"] not in json.dumps(body)


def test_export_of_a_merged_customer_holds_both_profiles_and_the_merge(api: Api) -> None:
    ruth, ruth_events = _send_ruth(api)
    web = api.send(event("page.viewed", source="web", identifiers={"email": "ruth.q@example.com"},
                         properties={"page": "/ofertas"}))
    alias = only_customer(web)
    link = api.send(event("chat.completed", source="web", channel="chat",
                          identifiers={"email": ["ruth.q@example.com", RUTH["email"]]}))
    assert link["results"][0]["resolution"] == "merged"
    survivor = link["results"][0]["customer_id"]
    absorbed = alias if survivor == ruth else ruth
    body = ok(api.get(f"/v1/customers/{absorbed}/export"))
    assert body["id"] == survivor
    assert {e["id"] for e in body["events"]} == (
        ruth_events | {web["results"][0]["event_id"], link["results"][0]["event_id"]})
    assert ("email", "ruth.q@example.com") in {(i["kind"], i["value"])
                                               for i in body["identifiers"]}
    assert [(m["action"], m["survivor_id"], m["absorbed_id"]) for m in body["merges"]] == [
        ("merge", survivor, absorbed)]


def test_export_of_an_unknown_customer_is_not_found(api: Api) -> None:
    assert_problem(api.get("/v1/customers/nobody/export"), 404, "not_found")


# --- erasure --------------------------------------------------------------------------------

def test_erasure_removes_the_persons_data_from_every_table(api: Api, ctx: AppContext) -> None:
    ruth, _ = _send_ruth(api)
    leo = _send_leo(api)
    needles = [RUTH["phone"], RUTH["email"], RUTH["name"], RUTH["account"], "Burgos"]
    # The check can see the data before it is erased.
    assert _tables_holding(ctx, needles) == set(PERSONAL_TABLES)

    body = ok(api.delete(f"/v1/customers/{ruth}"))
    assert body["customer_id"] == ruth
    assert body["erased_profiles"] == 1
    assert body["removed"]["identifiers"] >= 3
    assert body["removed"]["events"] == 3
    assert body["removed"]["records"] == 1

    assert _rows_with(ctx, needles) == []
    with ctx.db.engine.connect() as conn:
        profiles = Base.metadata.tables["profiles"]
        row = conn.execute(select(profiles).where(profiles.c.id == ruth)).mappings().one()
    assert row["status"] == "erased"
    assert row["pin_hash"] is None
    assert row["display_name"] is None
    assert not row["traits"] and not row["trait_meta"] and not row["consent"]
    assert not row["indicators"] and not row["contacts"]
    # Somebody else's data is untouched (their profile keeps which source gave their email).
    assert _tables_holding(ctx, [LEO["email"]]) == {"identifiers", "events", "profiles"}
    assert api.card(email=LEO["email"])["card"]["customer_id"] == leo
    assert ok(api.get(f"/v1/customers/{leo}/records"))["records"][0]["key"] == "L-1"


def test_after_erasure_the_person_is_unknown(api: Api) -> None:
    ruth, _ = _send_ruth(api)
    ok(api.delete(f"/v1/customers/{ruth}"))
    for query in ({"phone": "677889900"}, {"email": RUTH["email"]},
                  {"account": RUTH["account"]}):
        body = api.card(**query)
        assert body["match"] == "none", query
        assert body["candidates"] == []
    for url in (f"/v1/customers/{ruth}", f"/v1/customers/{ruth}/timeline",
                f"/v1/customers/{ruth}/records", f"/v1/customers/{ruth}/export"):
        assert_problem(api.get(url), 404, "not_found")
    assert_problem(api.get("/v1/cards", params={"customer_id": ruth}), 404, "not_found")
    assert_problem(api.delete(f"/v1/customers/{ruth}"), 404, "not_found")
    # An event naming the erased id is refused rather than attached to a tombstone.
    refused = api.post("/v1/events", json=event(identifiers={"customer_id": ruth}))
    body = assert_problem(refused, 422, "validation_failed")
    assert body["errors"][0]["code"] == "unknown_customer"
    # A resent event with their phone is acknowledged but not stored (suppression)...
    call = event("call.completed", channel="voice", identifiers={"phone": "677 88 99 00"})
    resent = api.send(call)
    assert resent["suppressed"] == 1 and resent["accepted"] == 0
    assert resent["results"][0]["code"] == "erased_identifier"
    assert api.card(phone="677889900")["match"] == "none"
    # ...until the suppression is lifted: if the person comes back, they are a new customer.
    assert ok(api.post("/v1/suppressions/lift",
                       json={"identifiers": {"phone": "677 88 99 00"}}))["lifted"] == 1
    again = api.send(call)
    assert again["results"][0]["resolution"] == "created"
    assert again["results"][0]["customer_id"] != ruth


@pytest.mark.parametrize("erase_by", ["survivor", "absorbed"])
def test_erasing_a_merged_customer_erases_every_profile_merged_into_it(
    api: Api, ctx: AppContext, erase_by: str
) -> None:
    by_phone = only_customer(api.send(event(
        "customer.updated", source="shop", identifiers={"phone": "677 88 99 00"},
        traits={"first_name": "Ruth", "last_name": RUTH["name"]})))
    by_email = only_customer(api.send(event(
        "order.placed", source="shop", identifiers={"email": RUTH["email"]},
        properties={"order_id": "R-200", "amount": 10.0})))
    link = api.send(event("call.completed", channel="voice",
                          identifiers={"phone": "677889900", "email": RUTH["email"]}))
    assert link["results"][0]["resolution"] == "merged"
    survivor = link["results"][0]["customer_id"]
    absorbed = by_phone if survivor == by_email else by_email
    leo = _send_leo(api)
    needles = [RUTH["phone"], RUTH["email"], RUTH["name"]]
    assert _tables_holding(ctx, needles) >= {"identifiers", "events", "profiles"}

    target = survivor if erase_by == "survivor" else absorbed
    body = ok(api.delete(f"/v1/customers/{target}"))
    assert body["customer_id"] == survivor
    assert body["erased_profiles"] == 2
    assert body["removed"]["events"] == 3
    assert body["removed"]["records"] == 1

    assert _rows_with(ctx, needles) == []
    with ctx.db.engine.connect() as conn:
        profiles = Base.metadata.tables["profiles"]
        statuses = dict(conn.execute(select(profiles.c.id, profiles.c.status)).all())
    assert statuses == {survivor: "erased", absorbed: "erased", leo: "active"}
    for pid in (survivor, absorbed):
        assert_problem(api.get(f"/v1/customers/{pid}"), 404, "not_found")
    assert api.card(phone="677889900")["match"] == "none"
    assert api.card(email=RUTH["email"])["match"] == "none"
    # The merge log keeps the ids (no personal data) but no free text or event link.
    merges = ok(api.get("/v1/merges"))["merges"]
    assert [(m["reason"], m["event_id"]) for m in merges] == [("[erased]", None)]
    # The erased merge cannot be undone into a living customer again.
    assert_problem(api.post(f"/v1/merges/{merges[0]['id']}/undo"), 409, "conflict")


def test_erasure_after_an_undone_merge_leaves_the_other_customer(api: Api,
                                                                 ctx: AppContext) -> None:
    ruth, _ = _send_ruth(api)
    leo = _send_leo(api)
    merge = ok(api.post("/v1/merges", json={"survivor_id": leo, "absorbed_id": ruth}), 201)
    ok(api.post(f"/v1/merges/{merge['id']}/undo"))
    body = ok(api.delete(f"/v1/customers/{ruth}"))
    assert body["erased_profiles"] == 1
    assert _rows_with(ctx, [RUTH["phone"], RUTH["email"], RUTH["name"]]) == []
    leo_view = ok(api.get(f"/v1/customers/{leo}"))
    assert leo_view["name"] == f"Leo {LEO['name']}"
    assert {i["value"] for i in leo_view["identifiers"]} == {LEO["phone"], LEO["email"]}


# --- scopes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("scopes", [["read"], ["ingest"], ["read", "ingest"]])
def test_export_and_erasure_need_the_admin_scope(api: Api, ctx: AppContext,
                                                 scopes: list[str]) -> None:
    ruth, _ = _send_ruth(api)
    other = Api(api.client, make_key(ctx, scopes, name="limited"))
    body = assert_problem(other.get(f"/v1/customers/{ruth}/export"), 403, "forbidden")
    assert body["scope"] == "admin"
    assert_problem(other.delete(f"/v1/customers/{ruth}"), 403, "forbidden")
    assert_problem(api.client.delete(f"/v1/customers/{ruth}"), 401, "unauthorized")
    # Nothing was erased.
    assert ok(api.get(f"/v1/customers/{ruth}"))["name"] == f"Ruth {RUTH['name']}"
    assert api.card(phone="677889900")["match"] == "unique"
