"""Profiles through the API: traits with provenance and reconciliation, consent, records,
lifetime value, the paginated timeline, and the PIN."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from circulo.clock import FixedClock
from circulo.db import Database
from tests.conftest import NOW, Api, custom_api
from tests.factories import event

ANA = {"external_ids": {"crm": "CRM-1"}, "email": "ana@example.es"}


def days(n: float) -> timedelta:
    return timedelta(days=n)


def traits_event(source: str, ago: timedelta, **traits: Any) -> dict[str, Any]:
    return event("customer.updated", source=source, at=NOW, ago=ago, identifiers=ANA,
                 traits=traits)


def profile(api: Api, customer_id: str) -> dict[str, Any]:
    response = api.get(f"/v1/customers/{customer_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def send_for_one(api: Api, *events: dict[str, Any]) -> str:
    results = api.send(*events)["results"]
    ids = {r["customer_id"] for r in results}
    assert len(ids) == 1 and None not in ids, results
    return str(ids.pop())


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- traits and provenance ---------------------------------------------------------------------

def test_traits_carry_their_source_and_time(api: Api) -> None:
    ana = send_for_one(api, traits_event("crm", days(2), first_name="Ana", tier="gold"),
                       traits_event("shop", days(1), city="Sevilla"))
    body = profile(api, ana)
    assert body["traits"] == {"first_name": "Ana", "tier": "gold", "city": "Sevilla"}
    assert body["name"] == "Ana"
    prov = body["provenance"]
    assert prov["first_name"]["source"] == "crm"
    assert at(prov["first_name"]["at"]) == NOW - days(2)
    assert prov["city"]["source"] == "shop"
    assert at(prov["city"]["at"]) == NOW - days(1)


def test_the_most_recent_value_wins_by_default(api: Api) -> None:
    ana = send_for_one(api, traits_event("crm", days(2), tier="gold"))
    send_for_one(api, traits_event("shop", days(1), tier="silver"))
    body = profile(api, ana)
    assert body["traits"]["tier"] == "silver"
    assert body["provenance"]["tier"]["source"] == "shop"
    assert at(body["provenance"]["tier"]["at"]) == NOW - days(1)


def test_an_older_event_does_not_overwrite_a_newer_value(api: Api) -> None:
    ana = send_for_one(api, traits_event("shop", days(1), tier="silver", city="Sevilla"))
    send_for_one(api, traits_event("crm", days(3), tier="gold", city=None,
                                   postal_code="41001"))
    body = profile(api, ana)
    assert body["traits"]["tier"] == "silver"
    assert body["traits"]["city"] == "Sevilla"   # a late null does not unset either
    assert body["traits"]["postal_code"] == "41001"  # a field nobody else set is taken
    assert body["provenance"]["tier"] == {"source": "shop",
                                          "at": (NOW - days(1)).isoformat()}


def test_a_newer_null_unsets_a_trait(api: Api) -> None:
    ana = send_for_one(api, traits_event("crm", days(2), advisor="Luis"))
    send_for_one(api, traits_event("crm", days(1), advisor=None))
    body = profile(api, ana)
    assert "advisor" not in body["traits"]
    assert body["provenance"]["advisor"]["source"] == "crm"


def test_out_of_order_arrival_within_a_batch(api: Api) -> None:
    ana = send_for_one(api, traits_event("shop", days(1), tier="silver"),
                       traits_event("crm", days(5), tier="gold"))
    assert profile(api, ana)["traits"]["tier"] == "silver"


@pytest.fixture
def ranked_api(database: Database, clock: FixedClock) -> Iterator[Api]:
    with custom_api(database, clock, source_ranking=["crm"]) as api:
        yield api


def test_a_ranked_source_outranks_a_more_recent_value(ranked_api: Api) -> None:
    api = ranked_api
    ana = send_for_one(api, traits_event("crm", days(3), tier="gold"))
    send_for_one(api, traits_event("shop", days(1), tier="silver", city="Sevilla"))
    body = profile(api, ana)
    assert body["traits"]["tier"] == "gold"
    assert body["provenance"]["tier"]["source"] == "crm"
    assert body["traits"]["city"] == "Sevilla"  # crm never said: the shop's value stands
    # Among equals (crm and crm) the most recent still wins...
    send_for_one(api, traits_event("crm", days(2), tier="platinum"))
    assert profile(api, ana)["traits"]["tier"] == "platinum"
    # ...and the ranked source replaces an unranked one whatever its age.
    send_for_one(api, traits_event("crm", days(30), city="Cádiz"))
    assert profile(api, ana)["traits"]["city"] == "Cádiz"


def test_without_ranking_the_same_events_give_the_recent_value(api: Api) -> None:
    ana = send_for_one(api, traits_event("crm", days(3), tier="gold"))
    send_for_one(api, traits_event("shop", days(1), tier="silver"))
    assert profile(api, ana)["traits"]["tier"] == "silver"


# --- consent -----------------------------------------------------------------------------------

def consent_event(source: str, ago: timedelta, *statements: tuple[str, str, bool]
                  ) -> dict[str, Any]:
    return event("consent.updated", source=source, at=NOW, ago=ago, identifiers=ANA,
                 consent=[{"channel": c, "purpose": p, "granted": g} for c, p, g in statements])


def test_consent_per_channel_and_purpose_most_recent_wins(api: Api) -> None:
    ana = send_for_one(
        api,
        consent_event("crm", days(5), ("sms", "marketing", True), ("email", "marketing", True),
                      ("sms", "service", True)),
    )
    send_for_one(api, consent_event("web", days(2), ("sms", "marketing", False)))
    # Arrives last: older than the web's sms statement (ignored), newer than the first email
    # statement (applied).
    send_for_one(api, consent_event("crm", days(4), ("sms", "marketing", True),
                                    ("email", "marketing", False)))
    consent = profile(api, ana)["consent"]
    assert consent["sms"]["marketing"]["granted"] is False
    assert consent["sms"]["marketing"]["source"] == "web"
    assert at(consent["sms"]["marketing"]["at"]) == NOW - days(2)
    assert consent["sms"]["service"]["granted"] is True
    assert consent["email"]["marketing"]["granted"] is False
    assert consent["email"]["marketing"]["source"] == "crm"
    assert at(consent["email"]["marketing"]["at"]) == NOW - days(4)
    assert "voice" not in consent


def test_consent_ignores_source_ranking(ranked_api: Api) -> None:
    ana = send_for_one(ranked_api, consent_event("crm", days(3), ("email", "marketing", True)))
    send_for_one(ranked_api, consent_event("web", days(1), ("email", "marketing", False)))
    assert profile(ranked_api, ana)["consent"]["email"]["marketing"]["granted"] is False


# --- records and lifetime value ----------------------------------------------------------------

def order(verb: str, key: str, ago: timedelta, **props: Any) -> dict[str, Any]:
    return event(f"order.{verb}", source="shop", at=NOW, ago=ago, identifiers=ANA,
                 properties={"order_id": key, **props})


def records(api: Api, customer_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(f"/v1/customers/{customer_id}/records", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["records"]
    return found


def test_events_of_one_order_upsert_one_record(api: Api) -> None:
    ana = send_for_one(api, order("placed", "O-1", days(3), amount=59.9, currency="eur",
                                  title="Zapatillas"))
    [record] = records(api, ana)
    assert (record["kind"], record["key"], record["status"], record["open"]) == (
        "order", "O-1", "placed", True)
    assert record["currency"] == "EUR"
    assert record["closed_at"] is None

    send_for_one(api, order("delivered", "O-1", days(1)))
    [record] = records(api, ana)
    assert (record["status"], record["open"]) == ("delivered", False)
    assert at(record["closed_at"]) == NOW - days(1)
    assert at(record["opened_at"]) == NOW - days(3)
    assert record["amount"] == pytest.approx(59.9)  # kept from the first event
    assert record["title"] == "Zapatillas"
    assert profile(api, ana)["indicators"]["open_records"] == {}


def test_a_late_placed_event_does_not_reopen_a_delivered_order(api: Api) -> None:
    ana = send_for_one(api, order("placed", "O-1", days(3), amount=20),
                       order("delivered", "O-1", days(1)))
    send_for_one(api, order("placed", "O-1", days(2)))  # arrives late, happened earlier
    [record] = records(api, ana)
    assert (record["status"], record["open"]) == ("delivered", False)
    assert records(api, ana, open="true") == []
    indicators = profile(api, ana)["indicators"]
    assert indicators["open_records"] == {}
    assert indicators["records_total"] == {"order": 1}
    assert indicators["lifetime_value"] == pytest.approx(20)


def test_delivered_before_placed_in_one_batch(api: Api) -> None:
    ana = send_for_one(api, order("delivered", "O-9", days(1)),
                       order("placed", "O-9", days(2), amount=15))
    [record] = records(api, ana)
    assert (record["status"], record["open"]) == ("delivered", False)
    assert profile(api, ana)["indicators"]["open_records"] == {}


def test_open_records_by_kind_and_lifetime_value(api: Api) -> None:
    ana = send_for_one(
        api,
        order("placed", "O-1", days(10), amount=100),
        order("placed", "O-2", days(9), amount=40),
        order("delivered", "O-2", days(8)),
        order("placed", "O-3", days(7), amount=70),
        order("canceled", "O-3", days(6)),
        event("ticket.opened", source="helpdesk", at=NOW, ago=days(2), identifiers=ANA,
              properties={"ticket_id": "T-1", "subject": "Talla"}),
        event("dispute.opened", source="billing", at=NOW, ago=days(1), identifiers=ANA,
              properties={"dispute_id": "D-1", "amount": 70.0}),
        event("record.changed", source="erp", at=NOW, ago=days(1), identifiers=ANA,
              record={"kind": "invoice", "key": "F-1", "status": "paid", "amount": 12.0}),
    )
    indicators = profile(api, ana)["indicators"]
    assert indicators["open_records"] == {"order": 1, "ticket": 1, "dispute": 1}
    assert indicators["records_total"] == {"order": 3, "ticket": 1, "dispute": 1,
                                           "invoice": 1}
    # Orders count, the canceled one does not; disputes and invoices are not orders.
    assert indicators["lifetime_value"] == pytest.approx(140)
    assert {r["key"] for r in records(api, ana, open="true")} == {"O-1", "T-1", "D-1"}
    assert [r["key"] for r in records(api, ana, kind="order")] == ["O-3", "O-2", "O-1"]


def test_a_canceled_order_stops_counting(api: Api) -> None:
    ana = send_for_one(api, order("placed", "O-1", days(3), amount=80),
                       order("placed", "O-2", days(3), amount=20))
    assert profile(api, ana)["indicators"]["lifetime_value"] == pytest.approx(100)
    send_for_one(api, order("canceled", "O-1", days(1)))
    indicators = profile(api, ana)["indicators"]
    assert indicators["lifetime_value"] == pytest.approx(20)
    assert indicators["open_records"] == {"order": 1}


def test_the_same_key_from_two_sources_is_two_records(api: Api) -> None:
    ana = send_for_one(api, order("placed", "100", days(2), amount=10),
                       event("order.placed", source="marketplace", at=NOW, ago=days(1),
                             identifiers=ANA, properties={"order_id": "100", "amount": 5}))
    assert len(records(api, ana)) == 2
    assert profile(api, ana)["indicators"]["lifetime_value"] == pytest.approx(15)


# --- timeline ----------------------------------------------------------------------------------

def test_timeline_pages_newest_first_without_gaps_or_repeats(api: Api) -> None:
    same_moment = NOW - days(2)
    events = [
        event("call.completed", at=NOW, ago=days(5), identifiers=ANA, channel="voice"),
        event("email.received", at=same_moment, identifiers=ANA),
        event("chat.completed", at=same_moment, identifiers=ANA),
        event("call.abandoned", at=same_moment, identifiers=ANA),
        event("order.placed", source="shop", at=NOW, ago=days(1), identifiers=ANA,
              properties={"order_id": "O-1"}),
        event("page.viewed", source="web", at=NOW, ago=timedelta(hours=1), identifiers=ANA),
        event("call.completed", at=NOW, ago=days(30), identifiers=ANA),
    ]
    results = api.send(*events)["results"]
    ana = results[0]["customer_id"]
    sent = {r["event_id"] for r in results}

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = api.get(f"/v1/customers/{ana}/timeline", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["customer_id"] == ana
        assert 1 <= len(page["events"]) <= 2
        seen.extend(page["events"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"
    assert pages == 4
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "an event was repeated"
    assert set(ids) == sent, "an event was missed"
    stamps = [at(e["occurred_at"]) for e in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert seen[0]["type"] == "page.viewed"
    assert seen[-1]["type"] == "call.completed"


def test_timeline_limit_bigger_than_the_history(api: Api) -> None:
    ana = send_for_one(api, event(at=NOW, identifiers=ANA))
    page = api.get(f"/v1/customers/{ana}/timeline", params={"limit": 50}).json()
    assert len(page["events"]) == 1
    assert page["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["not-a-cursor", "2026-13-45T00:00:00~x"])
def test_an_invalid_cursor_is_a_422_problem(api: Api, cursor: str) -> None:
    ana = send_for_one(api, event(at=NOW, identifiers=ANA))
    response = api.get(f"/v1/customers/{ana}/timeline", params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_failed"
    assert body["errors"][0]["field"] == "cursor"


def test_an_unknown_customer_is_a_404_problem(api: Api) -> None:
    for path in ("", "/timeline", "/records"):
        response = api.get(f"/v1/customers/nobody{path}")
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"


# --- PIN ---------------------------------------------------------------------------------------

def _mentions_pin(data: Any, pin: str) -> list[str]:
    """Paths in a JSON document where the PIN, or a trait named 'pin', appear."""
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pin" and path.endswith(".traits"):
                    found.append(f"{path}.{key}")
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")
        elif str(node) == pin:
            found.append(path)

    walk(data, "$")
    return found


def test_the_pin_is_hashed_and_never_shown(api: Api) -> None:
    ana = send_for_one(api, event("customer.updated", source="crm", at=NOW, identifiers=ANA,
                                  traits={"first_name": "Ana", "pin": "1234"}))
    body = profile(api, ana)
    assert body["has_pin"] is True
    assert body["traits"] == {"first_name": "Ana"}
    assert _mentions_pin(body, "1234") == []
    # When and by whom it was set may be shown; the PIN itself never.
    assert body["provenance"]["pin"] == {"source": "crm", "at": NOW.isoformat()}

    export = api.get(f"/v1/customers/{ana}/export")
    assert export.status_code == 200, export.text
    assert export.json()["events"], "the export lists the events"
    assert export.json()["events"][0]["traits"] == {"first_name": "Ana"}
    assert _mentions_pin(export.json(), "1234") == []

    timeline = api.get(f"/v1/customers/{ana}/timeline").json()
    assert _mentions_pin(timeline, "1234") == []


def test_a_customer_without_pin(api: Api) -> None:
    ana = send_for_one(api, traits_event("crm", days(1), first_name="Ana"))
    assert profile(api, ana)["has_pin"] is False
    body = api.card(customer_id=ana, pin="1234")
    assert body["pin_verified"] is False


def test_the_card_verifies_the_pin(api: Api) -> None:
    send_for_one(api, event("customer.updated", source="crm", at=NOW, identifiers=ANA,
                            traits={"pin": 1234}))
    right = api.card(email="ana@example.es", pin="1234")
    assert right["match"] == "unique"
    assert right["pin_verified"] is True
    assert api.card(email="ana@example.es", pin="4321")["pin_verified"] is False
    assert api.card(email="ana@example.es", pin="12345")["pin_verified"] is False
    assert "pin_verified" not in api.card(email="ana@example.es")


def test_a_new_pin_replaces_the_old_one(api: Api) -> None:
    send_for_one(api, event("customer.updated", source="crm", at=NOW, ago=days(2),
                            identifiers=ANA, traits={"pin": "1234"}))
    send_for_one(api, event("customer.updated", source="crm", at=NOW, ago=days(1),
                            identifiers=ANA, traits={"pin": "9876"}))
    assert api.card(email="ana@example.es", pin="9876")["pin_verified"] is True
    assert api.card(email="ana@example.es", pin="1234")["pin_verified"] is False


def test_an_older_pin_arriving_late_does_not_replace_a_newer_one(api: Api) -> None:
    send_for_one(api, event("customer.updated", source="crm", at=NOW, ago=days(1),
                            identifiers=ANA, traits={"pin": "9876"}))
    send_for_one(api, event("customer.updated", source="crm", at=NOW, ago=days(2),
                            identifiers=ANA, traits={"pin": "1234"}))
    assert api.card(email="ana@example.es", pin="9876")["pin_verified"] is True
    assert api.card(email="ana@example.es", pin="1234")["pin_verified"] is False
