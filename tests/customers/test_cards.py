"""Card templates (loading and checking the YAML) and cards by role and language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from circulo.clock import FixedClock
from circulo.config import Settings
from circulo.customers.cards import (
    DEFAULT_TEMPLATES,
    TemplateError,
    evaluate_badges,
    load_templates,
)
from circulo.db import Database
from tests.conftest import NOW, Api, assert_problem, custom_api
from tests.factories import customer, event

# --- loading templates -------------------------------------------------------------------------

def test_the_shipped_templates_load() -> None:
    templates = load_templates()
    assert {"support", "sales", "collections"} <= set(templates.roles)
    collections = templates.roles["collections"]
    assert collections.records[0] == "invoice"
    assert "overdue_invoice" in collections.badges
    assert templates.roles["support"].title == {"es": "Atención al cliente",
                                                "en": "Customer support"}
    for role in templates.roles.values():
        assert set(role.badges) <= set(templates.badges)
        assert set(role.fields) <= set(templates.fields)
        assert set(role.indicators) <= set(templates.indicators)
    assert load_templates(DEFAULT_TEMPLATES).roles.keys() == templates.roles.keys()


def _shipped() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_TEMPLATES.read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "my_cards.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_copy_of_the_shipped_file_loads(tmp_path: Path) -> None:
    templates = load_templates(_write(tmp_path, _shipped()))
    assert set(templates.roles) == set(load_templates().roles)


def test_a_rule_that_does_not_compile_names_the_file_and_the_badge(tmp_path: Path) -> None:
    data = _shipped()
    data["badges"]["vip"]["when"] = 'traits.tier == "vip" &&'
    path = _write(tmp_path, data)
    with pytest.raises(TemplateError) as info:
        load_templates(path)
    message = str(info.value)
    assert str(path) in message
    assert "badges.vip.when" in message


def test_a_badge_without_a_rule_is_refused(tmp_path: Path) -> None:
    data = _shipped()
    del data["badges"]["vip"]["when"]
    path = _write(tmp_path, data)
    with pytest.raises(TemplateError, match=r"badges\.vip"):
        load_templates(path)


@pytest.mark.parametrize(("kind", "name"), [
    ("badges", "flying_pig"), ("fields", "shoe_size"), ("indicators", "moon_phase"),
])
def test_a_role_referencing_something_unknown_is_refused(tmp_path: Path, kind: str,
                                                         name: str) -> None:
    data = _shipped()
    data["roles"]["sales"][kind] = [*data["roles"]["sales"][kind], name]
    path = _write(tmp_path, data)
    with pytest.raises(TemplateError) as info:
        load_templates(path)
    message = str(info.value)
    assert str(path) in message
    assert f"roles.sales.{kind}" in message
    assert name in message


def test_a_label_needs_both_languages(tmp_path: Path) -> None:
    data = _shipped()
    data["fields"]["tier"]["label"] = {"es": "Nivel"}
    path = _write(tmp_path, data)
    with pytest.raises(TemplateError, match=r"fields\.tier"):
        load_templates(path)


def test_a_file_without_roles_or_unreadable_is_refused(tmp_path: Path) -> None:
    data = _shipped()
    data["roles"] = {}
    with pytest.raises(TemplateError, match="no roles"):
        load_templates(_write(tmp_path, data))
    with pytest.raises(TemplateError, match="cannot read"):
        load_templates(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("roles: [unclosed", encoding="utf-8")
    with pytest.raises(TemplateError, match=str(broken)):
        load_templates(broken)


def test_a_rule_that_fails_to_evaluate_counts_as_false() -> None:
    templates = load_templates()
    # at_risk reads indicators.unsatisfied_contacts, missing here: an error, so no badge.
    badges = evaluate_badges(templates, ("at_risk", "vip"), {"tier": "vip"},
                             {"lifetime_value": 0.0}, {"id": "x", "age_days": 400}, "en")
    assert [b["code"] for b in badges] == ["vip"]


@pytest.fixture
def templated_api(database: Database, clock: FixedClock, tmp_path: Path) -> Iterator[Api]:
    data = _shipped()
    data["badges"]["gold"] = {"label": {"es": "Oro", "en": "Gold"}, "tone": "gold",
                              "when": 'traits.tier == "gold"'}
    data["roles"]["retention"] = {
        "title": {"es": "Retención", "en": "Retention"}, "fields": ["tier"],
        "indicators": ["contacts_30d"], "badges": ["gold"], "records": ["subscription"],
        "history": 1,
    }
    with custom_api(database, clock, card_templates=_write(tmp_path, data)) as api:
        yield api


def test_the_app_uses_the_configured_templates(templated_api: Api) -> None:
    custom = templated_api
    custom.send(customer("CRM-1", phone="600123456", tier="gold"),
                    event(at=NOW, ago=timedelta(hours=2), identifiers={"phone": "600123456"}),
                    event(at=NOW, ago=timedelta(hours=1), identifiers={"phone": "600123456"}))
    card = custom.card(lang="en", phone="600123456", role="retention")["card"]
    assert card["role_title"] == "Retention"
    assert card["badges"] == [{"code": "gold", "label": "Gold", "tone": "gold"}]
    assert [f["key"] for f in card["fields"]] == ["tier"]
    assert len(card["history"]) == 1


# --- cards by role -----------------------------------------------------------------------------

def _debtor(api: Api) -> None:
    ids = {"external_ids": {"crm": "CRM-7"}}
    body = api.send(
        customer("CRM-7", phone="600 777 888", first_name="Jaime", last_name="Gil",
                 segment="professional", company="Talleres Gil"),
        event("invoice.issued", source="billing", at=NOW, ago=timedelta(days=40),
              identifiers=ids, properties={"invoice_id": "F-2026-1", "amount": 240.0,
                                           "currency": "EUR", "status": "overdue"}),
        event("invoice.issued", source="billing", at=NOW, ago=timedelta(days=35),
              identifiers=ids, properties={"invoice_id": "F-2026-0", "amount": 99.0,
                                           "status": "paid"}),
        event("dispute.opened", source="billing", at=NOW, ago=timedelta(days=60),
              identifiers=ids, properties={"dispute_id": "D-1", "amount": 240.0}),
        event("order.placed", source="shop", at=NOW, ago=timedelta(hours=3),
              identifiers=ids, properties={"order_id": "O-1", "amount": 30.0}),
        event("call.completed", at=NOW, ago=timedelta(hours=2), identifiers=ids,
              channel="voice", properties={"reason": "pregunta por la factura"}),
    )
    assert len({r["customer_id"] for r in body["results"]}) == 1


def test_collections_sees_the_overdue_invoice_first(api: Api) -> None:
    _debtor(api)
    card = api.card(phone="600777888", role="collections")["card"]
    assert card["role"] == "collections"
    assert card["role_title"] == "Cobros"
    codes = [b["code"] for b in card["badges"]]
    assert codes[0] == "overdue_invoice"
    assert "open_dispute" in codes
    kinds = [r["kind"] for r in card["open_records"]]
    # Invoices before disputes (the role's order, not the age); orders not shown.
    assert kinds == ["invoice", "dispute"]
    invoice = card["open_records"][0]
    assert (invoice["key"], invoice["status"], invoice["status_label"]) == (
        "F-2026-1", "overdue", "Vencida")
    assert invoice["kind_label"] == "Factura"
    open_items = next(i for i in card["indicators"] if i["key"] == "open_records")["value"]
    assert {(i["kind"], i["count"]) for i in open_items} == {
        ("invoice", 1), ("dispute", 1), ("order", 1)}
    assert card["history"][0]["reason"] == "pregunta por la factura"


def test_support_does_not_see_the_invoice(api: Api) -> None:
    _debtor(api)
    card = api.card(phone="600777888", role="support")["card"]
    codes = [b["code"] for b in card["badges"]]
    assert "overdue_invoice" not in codes
    assert "open_dispute" in codes
    assert [r["kind"] for r in card["open_records"]] == ["dispute", "order"]


def test_sales_sees_orders_and_the_professional_badge(api: Api) -> None:
    _debtor(api)
    card = api.card(phone="600777888", role="sales")["card"]
    assert [r["kind"] for r in card["open_records"]] == ["order"]
    assert "professional" in [b["code"] for b in card["badges"]]
    fields = {f["key"]: f["value"] for f in card["fields"]}
    assert fields["company"] == "Talleres Gil"
    ltv = next(i for i in card["indicators"] if i["key"] == "lifetime_value")
    assert ltv["value"] == pytest.approx(30.0)


def test_an_unknown_role_is_a_422_problem(api: Api) -> None:
    _debtor(api)
    response = api.get("/v1/cards", params={"phone": "600777888", "role": "astrologer"})
    body = assert_problem(response, 422, "validation_failed")
    [error] = body["errors"]
    assert error["field"] == "role"
    assert error["code"] == "unknown_role"
    assert "collections" in error["detail"]
    assert "astrologer" in body["detail"]


@pytest.mark.parametrize("params", [
    {},
    {"role": "support"},
    {"phone": ""},
    {"phone": "600777888", "email": "jaime@example.es"},
    {"phone": "600777888", "customer_id": "abc"},
])
def test_exactly_one_identifier_is_needed(api: Api, params: dict[str, str]) -> None:
    body = assert_problem(api.get("/v1/cards", params=params), 422, "validation_failed")
    assert body["errors"][0]["field"] == "query"
    assert body["errors"][0]["code"] == "one_identifier"


def test_an_invalid_phone_in_the_query_is_a_422_problem(api: Api) -> None:
    body = assert_problem(api.get("/v1/cards", params={"phone": "12"}), 422, "validation_failed")
    assert body["errors"][0]["field"] == "phone"


def test_a_withheld_number_gets_a_new_caller_card(api: Api) -> None:
    _debtor(api)
    for withheld in ("anonymous", "000000000"):
        body = api.card(phone=withheld)
        assert body["match"] == "none"
        assert body["card"]["badges"][0]["code"] == "new_caller"


def test_lookup_by_every_kind_of_identifier(api: Api) -> None:
    _debtor(api)
    customer_id = api.card(phone="600777888")["card"]["customer_id"]
    assert api.card(external_id="crm:CRM-7")["card"]["customer_id"] == customer_id
    assert api.card(customer_id=customer_id)["card"]["customer_id"] == customer_id
    assert api.card(external_id="crm:CRM-8")["match"] == "none"


# --- languages ---------------------------------------------------------------------------------

def test_spanish_and_english_labels(api: Api) -> None:
    api.send(customer("CRM-1", phone="600123456", first_name="María", last_name="López",
                      title="Sra.", tier="gold", language="es"),
             event("call.completed", at=NOW, ago=timedelta(hours=1), channel="voice",
                   identifiers={"phone": "600123456"}))
    es = api.card(lang="es-ES,es;q=0.9", phone="600123456")["card"]
    en = api.card(lang="en", phone="600123456")["card"]
    assert (es["language"], en["language"]) == ("es", "en")
    assert (es["role_title"], en["role_title"]) == ("Atención al cliente", "Customer support")
    es_fields = {f["key"]: f["label"] for f in es["fields"]}
    en_fields = {f["key"]: f["label"] for f in en["fields"]}
    assert es_fields["tier"] == "Nivel" and en_fields["tier"] == "Tier"
    assert es_fields["title"] == "Tratamiento" and en_fields["title"] == "Title"
    assert es_fields["language"] == "Idioma" and en_fields["language"] == "Language"
    es_ind = {i["key"]: i["label"] for i in es["indicators"]}
    en_ind = {i["key"]: i["label"] for i in en["indicators"]}
    assert es_ind["contacts_7d"] == "Contactos (7 días)"
    assert en_ind["contacts_7d"] == "Contacts (7 days)"
    assert es_ind["abandoned_calls_today"] == "Llamadas abandonadas hoy"
    assert en_ind["abandoned_calls_today"] == "Abandoned calls today"
    # Values do not depend on the language.
    assert [i["value"] for i in es["indicators"]] == [i["value"] for i in en["indicators"]]
    assert {f["key"]: f["value"] for f in es["fields"]} == {
        f["key"]: f["value"] for f in en["fields"]}
    assert (es["history"][0]["channel_label"], en["history"][0]["channel_label"]) != (
        None, None)
    assert es["greeting"] == en["greeting"] == "Sra. López"


def test_an_unsupported_language_falls_back_to_spanish(api: Api) -> None:
    api.send(customer("CRM-1", phone="600123456", tier="gold"))
    card = api.card(lang="fr-FR,de;q=0.8", phone="600123456")["card"]
    assert card["language"] == "es"
    assert {f["key"]: f["label"] for f in card["fields"]}["tier"] == "Nivel"
    new = api.card(lang="en", phone="611000111")["card"]
    assert new["badges"][0]["label"] != api.card(lang="es", phone="611000111")["card"][
        "badges"][0]["label"]


@pytest.fixture
def screen_pop_api(database: Database, clock: FixedClock) -> Iterator[Api]:
    urls = {"crm": "https://crm.example.com/contacts/{crm}",
            "hubspot": "https://app.hubspot.com/contacts/99/record/0-1/{hubspot}",
            "circulo": "https://desk.example.com/customers/{customer_id}"}
    with custom_api(database, clock, screen_pop_urls=urls) as api:
        yield api


def test_s4_the_card_carries_a_screen_pop_link_per_crm(screen_pop_api: Api) -> None:
    api = screen_pop_api
    api.send(customer("C/1 Ñ", phone="600123456", first_name="María"))
    card = api.card(phone="600123456")["card"]
    assert card["links"] == {
        "crm": "https://crm.example.com/contacts/C%2F1%20%C3%91",
        "circulo": f"https://desk.example.com/customers/{card['customer_id']}",
    }  # no hubspot link: this customer has no hubspot id
    api.send(event("customer.updated", source="hubspot",
                   identifiers={"phone": "600123456", "external_ids": {"hubspot": "5501"}}))
    links = api.card(phone="600123456")["card"]["links"]
    assert links["hubspot"] == "https://app.hubspot.com/contacts/99/record/0-1/5501"


@pytest.mark.parametrize("template", ["ftp://crm/{crm}", "https://crm/static", "https://x/{a b}"])
def test_screen_pop_templates_are_checked_at_start(template: str) -> None:
    with pytest.raises(ValueError, match=r"screen_pop_urls\.crm"):
        Settings(screen_pop_urls={"crm": template})
