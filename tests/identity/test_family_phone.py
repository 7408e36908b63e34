"""S1 with a family landline and no CRM ids: the evidence tells Jordi and Montse apart, a
call from the landline gives both candidates, and nobody is merged."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, assert_problem, ok
from tests.factories import event

LANDLINE = "93 555 01 23"


def crm_contact(name: str, email: str, *, phone: str = LANDLINE, **traits: Any
                ) -> dict[str, Any]:
    """A CRM contact with no CRM id: only what the contact record carries."""
    return event("customer.updated", source="crm",
                 identifiers={"phone": phone, "email": email}, traits={"name": name, **traits})


def shop_account(email: str) -> dict[str, Any]:
    return event("order.placed", source="shop", identifiers={"email": email},
                 properties={"order_id": f"O-{email}", "amount": 20.0, "currency": "EUR"})


def customers_of(result: dict[str, Any]) -> list[str]:
    return [r["customer_id"] for r in result["results"]]


def assert_family_apart(api: Api) -> tuple[str, str]:
    jordi = api.card(email="jordi.pujol@example.cat")
    montse = api.card(email="montse.riera@example.cat")
    assert jordi["match"] == montse["match"] == "unique"
    assert jordi["card"]["name"] == "Jordi Pujol Riera"
    assert montse["card"]["name"] == "Montserrat Riera"
    call = api.card(phone=LANDLINE)
    assert call["match"] == "ambiguous"
    assert sorted(c["name"] for c in call["candidates"]) == ["Jordi Pujol Riera",
                                                              "Montserrat Riera"]
    assert ok(api.get("/v1/merges"))["merges"] == []
    return jordi["card"]["customer_id"], montse["card"]["customer_id"]


def test_montse_after_jordi_gets_a_profile_of_her_own(api: Api) -> None:
    first = api.send(crm_contact("Jordi Pujol Riera", "jordi.pujol@example.cat"))
    second = api.send(crm_contact("Montserrat Riera", "montse.riera@example.cat"))
    assert customers_of(first) != customers_of(second)
    assert second["results"][0]["resolution"] == "created"
    jordi, montse = assert_family_apart(api)

    # A call from the landline is kept with both candidates; nobody is merged.
    call = api.send(event("call.completed", identifiers={"phone": "+34935550123"}))
    assert call["results"][0]["resolution"] == "ambiguous"
    assert sorted(call["results"][0]["candidates"]) == sorted([jordi, montse])

    shared = ok(api.get("/v1/identifiers/shared"))["shared"]
    assert [(s["kind"], s["value"], s["reason"]) for s in shared] == [
        ("phone", "+34935550123", "declined")]

    # Later events from each of them still go to the right person.
    again = api.send(crm_contact("Montserrat Riera", "montse.riera@example.cat"),
                     crm_contact("Jordi Pujol Riera", "jordi.pujol@example.cat"))
    assert customers_of(again) == [montse, jordi]
    assert ok(api.get("/v1/merges"))["merges"] == []


def test_two_shoppers_sharing_the_landline_are_not_merged(api: Api) -> None:
    shop = api.send(shop_account("jordi.pujol@example.cat"),
                    shop_account("montse.riera@example.cat"))
    jordi_shop, montse_shop = customers_of(shop)
    api.send(crm_contact("Jordi Pujol Riera", "jordi.pujol@example.cat"))
    result = api.send(crm_contact("Montserrat Riera", "montse.riera@example.cat"))
    assert customers_of(result) == [montse_shop]
    assert result["results"][0]["resolution"] == "attached"
    assert assert_family_apart(api) == (jordi_shop, montse_shop)


def test_the_family_in_one_batch(api: Api) -> None:
    result = api.send(crm_contact("Jordi Pujol Riera", "jordi.pujol@example.cat"),
                      crm_contact("Montserrat Riera", "montse.riera@example.cat"),
                      event("call.completed", identifiers={"phone": LANDLINE}))
    assert result["results"][2]["resolution"] == "ambiguous"
    assert_family_apart(api)


def test_the_declined_link_is_suggested_for_review_with_its_evidence(api: Api) -> None:
    api.send(crm_contact("Jordi Pujol Riera", "jordi.pujol@example.cat"))
    api.send(crm_contact("Montserrat Riera", "montse.riera@example.cat"))
    jordi, montse = assert_family_apart(api)
    suggestions = ok(api.get("/v1/identity/suggestions"))["suggestions"]
    assert len(suggestions) == 1
    found = suggestions[0]
    assert found["origin"] == "ingest" and found["status"] == "open"
    assert [c["customer_id"] for c in found["customers"]] == [montse, jordi]
    assert found["score"] <= -4
    by_field = {f["field"]: f for f in found["evidence"]}
    assert by_field["name"]["verdict"] == "disagrees"
    assert by_field["name"]["values"] == [
        {"customer_id": montse, "value": "Montserrat Riera", "source": "crm"},
        {"customer_id": jordi, "value": "Jordi Pujol Riera", "source": "crm"},
    ]
    assert by_field["email"]["verdict"] == "disagrees"
    assert found["shared_identifiers"] == [{"kind": "phone", "value": "+34935550123"}]


def test_agreement_or_silence_links_as_before(api: Api) -> None:
    # A phone-only caller joins the shopper who later gives the same phone and email.
    caller = api.send(event("call.completed", identifiers={"phone": "611 222 333"}))
    shopper = api.send(shop_account("ana@example.es"))
    linked = api.send(event("customer.updated", source="shop",
                            identifiers={"phone": "611222333", "email": "ana@example.es"},
                            traits={"name": "Ana García"}))
    assert linked["results"][0]["resolution"] == "merged"
    assert customers_of(linked)[0] in customers_of(caller) + customers_of(shopper)
    # "J. Pujol" from the landline is Jordi: the initial and the surname agree.
    api.send(crm_contact("Jordi Pujol Riera", "jordi.pujol@example.cat"))
    jordi = api.card(email="jordi.pujol@example.cat")["card"]["customer_id"]
    result = api.send(event("customer.updated", source="helpdesk",
                            identifiers={"phone": LANDLINE}, traits={"name": "J. Pujol"}))
    assert customers_of(result) == [jordi]
    assert ok(api.get("/v1/identity/suggestions"))["suggestions"] == []


def family_with_orders(api: Api) -> tuple[str, str]:
    api.send(crm_contact("Jordi Pujol Riera", "jordi.pujol@example.cat"))
    api.send(crm_contact("Montserrat Riera", "montse.riera@example.cat"))
    api.send(event("order.placed", source="shop",
                   identifiers={"email": "montse.riera@example.cat"},
                   properties={"order_id": "O-77", "amount": 45.0, "currency": "EUR"}))
    return assert_family_apart(api)


def test_the_ambiguous_card_helps_to_ask_without_revealing(api: Api) -> None:
    jordi, montse = family_with_orders(api)
    body = api.card(lang="en", phone=LANDLINE)
    assert body["hint"] == "Several customers share this identifier: confirm who is calling."
    by_id = {c["customer_id"]: c for c in body["candidates"]}
    assert by_id[montse]["email"] == "m****@example.cat"
    assert by_id[jordi]["email"] == "j****@example.cat"
    assert (by_id[montse]["open_records"], by_id[jordi]["open_records"]) == (1, 0)
    assert set(by_id[montse]) == {"customer_id", "name", "email", "open_records",
                                  "last_contact_at", "badges"}
    assert "montse.riera" not in str(body) and "93 555" not in str(body)


def test_the_agent_confirms_who_is_calling(api: Api) -> None:
    jordi, montse = family_with_orders(api)
    call = api.send(event("call.completed", channel="voice", identifiers={"phone": LANDLINE},
                          properties={"reason": "pedido O-77"}))
    call_id = call["results"][0]["event_id"]
    assert call["results"][0]["resolution"] == "ambiguous"

    answer = ok(api.post("/v1/cards/resolve", json={"event_id": call_id,
                                                     "customer_id": montse}))
    assert answer["customer_id"] == montse and answer["event_id"] == call_id
    assert answer["card"]["name"] == "Montserrat Riera" and answer["candidates"] == 2
    timeline = ok(api.get(f"/v1/customers/{montse}/timeline"))["events"]
    types = [e["type"] for e in timeline]
    assert "call.completed" in types and "identity.confirmed" in types
    confirmed = next(e for e in timeline if e["type"] == "identity.confirmed")
    assert confirmed["properties"]["event_id"] == call_id
    assert confirmed["properties"]["confirmed_by"] == "key:test"
    # Her indicators count the call; nothing was merged; the landline is still shared.
    profile = ok(api.get(f"/v1/customers/{montse}"))
    assert profile["indicators"]["contacts"]["7d"]["by_channel"] == {"voice": 1}
    assert "call.completed" not in [e["type"] for e in ok(
        api.get(f"/v1/customers/{jordi}/timeline"))["events"]]
    assert ok(api.get("/v1/merges"))["merges"] == []
    assert api.card(phone=LANDLINE)["match"] == "ambiguous"

    # Said twice, the same answer and no second confirmation; someone else is a conflict.
    again = ok(api.post("/v1/cards/resolve", json={"event_id": call_id, "customer_id": montse}))
    assert again["confirmation_event_id"] is None
    assert_problem(api.post("/v1/cards/resolve", json={"event_id": call_id,
                                                        "customer_id": jordi}),
                   409, "conflict")


def test_confirming_from_a_lookup_and_the_refusals(api: Api) -> None:
    jordi, montse = family_with_orders(api)
    answer = ok(api.post("/v1/cards/resolve", json={"phone": "+34 93 555 01 23",
                                                     "customer_id": jordi}))
    assert answer["event_id"] is None and answer["confirmation_event_id"]
    stranger = api.send(crm_contact("Pere Vidal", "pere@example.cat", phone="600 999 888"))
    pere = stranger["results"][0]["customer_id"]
    problem = assert_problem(api.post("/v1/cards/resolve",
                                      json={"phone": LANDLINE, "customer_id": pere}),
                             409, "conflict")
    assert "not one of the candidates" in problem["detail"]
    unique_event = stranger["results"][0]["event_id"]
    assert_problem(api.post("/v1/cards/resolve", json={"event_id": unique_event,
                                                        "customer_id": pere}),
                   409, "conflict")
    assert_problem(api.post("/v1/cards/resolve", json={"event_id": "nope", "customer_id": pere}),
                   404, "not_found")
    assert_problem(api.post("/v1/cards/resolve", json={"customer_id": pere}),
                   422, "validation_failed")
    assert_problem(api.post("/v1/cards/resolve", json={"customer_id": pere, "event_id": "x",
                                                        "phone": LANDLINE}),
                   422, "validation_failed")
    assert montse


def test_confirming_needs_the_routing_scope(api: Api, ctx: Any) -> None:
    from tests.conftest import make_key

    jordi, _ = family_with_orders(api)
    body = {"phone": LANDLINE, "customer_id": jordi}
    reader = {"Authorization": f"Bearer {make_key(ctx, ['read'], name='reader')}"}
    assert_problem(api.client.post("/v1/cards/resolve", json=body, headers=reader),
                   403, "forbidden")
    agent = {"Authorization": f"Bearer {make_key(ctx, ['routing'], name='desk')}"}
    assert api.client.post("/v1/cards/resolve", json=body, headers=agent).status_code == 200
