"""S1: an inbound call pops the right card, whatever the phone format; unknown numbers get a
new-caller card; a shared number gives the candidates, never a wrong pop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW, Api
from tests.factories import customer, event


def _maria(api: Api) -> str:
    result = api.send(
        customer("CRM-1", phone="600 123 456", email="maria.lopez@example.es",
                 first_name="María", last_name="López", title="Sra.", tier="vip",
                 language="es"),
        event("dispute.opened", source="billing", at=NOW, ago=timedelta(days=2),
              identifiers={"email": "Maria.Lopez@example.es"},
              properties={"dispute_id": "D-1", "amount": 89.0, "currency": "EUR",
                          "title": "Cargo duplicado"}),
        event("call.completed", at=NOW, ago=timedelta(days=1), channel="voice",
              identifiers={"phone": "+34 600 12 34 56"},
              properties={"reason": "cargo no reconocido"}),
    )
    ids = {r["customer_id"] for r in result["results"]}
    assert len(ids) == 1, result
    return ids.pop()


@pytest.mark.parametrize("number", ["600 123 456", "+34600123456", "0034 600 12 34 56"])
def test_every_format_pops_marias_card(api: Api, number: str) -> None:
    maria = _maria(api)
    body = api.card(phone=number, role="support")
    assert body["match"] == "unique"
    card = body["card"]
    assert card["customer_id"] == maria
    assert card["name"] == "María López"
    codes = [b["code"] for b in card["badges"]]
    assert "vip" in codes and "open_dispute" in codes
    assert card["open_records"][0]["kind"] == "dispute"
    assert card["open_records"][0]["kind_label"] == "Reclamación de cargo"
    assert card["history"][0]["type"] == "call.completed"
    assert card["history"][0]["label"] == "Llamada atendida"
    assert list(card).index("open_records") < list(card).index("history")


def test_card_labels_follow_accept_language(api: Api) -> None:
    _maria(api)
    card = api.card(lang="en-GB,en;q=0.9", phone="600123456")["card"]
    assert card["language"] == "en"
    assert card["open_records"][0]["kind_label"] == "Dispute"
    assert card["history"][0]["label"] == "Call answered"
    assert {b["label"] for b in card["badges"]} >= {"VIP", "Open dispute"}


def test_unknown_number_gets_a_new_caller_card(api: Api) -> None:
    _maria(api)
    body = api.card(phone="611 000 111")
    assert body["match"] == "none"
    assert body["card"]["badges"][0]["code"] == "new_caller"
    assert body["card"]["badges"][0]["label"] == "Nuevo llamante"


def test_shared_number_gives_both_candidates(api: Api) -> None:
    api.send(customer("CRM-2", phone="915 550 123", first_name="Antonio", last_name="Ruiz",
                      postal_code="28003"),
             customer("CRM-3", phone="+34915550123", first_name="Pilar", last_name="Ruiz",
                      postal_code="28039"))
    body = api.card(phone="91 555 01 23")
    assert body["match"] == "ambiguous"
    assert body["card"] is None
    assert sorted(c["name"] for c in body["candidates"]) == ["Antonio Ruiz", "Pilar Ruiz"]
    # A call from the shared number is kept, unattributed, with its candidates.
    result = api.send(event("call.abandoned", identifiers={"phone": "915550123"}))
    assert result["results"][0]["resolution"] == "ambiguous"
    assert len(result["results"][0]["candidates"]) == 2
    # The postal code is a weak hint: it may narrow an ambiguous match, never create one.
    narrowed = api.card(phone="915550123", postal_code="28039")
    assert narrowed["match"] == "unique"
    assert narrowed["card"]["name"] == "Pilar Ruiz"
    assert api.card(phone="611000111", postal_code="28039")["match"] == "none"


def test_card_needs_a_read_key(api: Api) -> None:
    response = api.client.get("/v1/cards", params={"phone": "600123456"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"
